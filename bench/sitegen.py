"""The synthetic notice site: N sources × M notices, its declarations, and mutations with truth.

    python -m bench.sitegen generate --out DIR [--sources 50 --notices 40 --seed 1]
    python -m bench.sitegen noise --site DIR          # every page's bytes change, nothing else
    python -m bench.sitegen mutate --site DIR --changes 20 [--seed 2]   # writes DIR/truth.json

The site is data (``DIR/site.json``); ``bench.sitepages`` renders it and ``bench.siteserver``
serves each source on its own loopback address. Every mutation bumps the noise epoch, so after
one every page's bytes (and ETag) differ; ``mutate`` also applies K meaningful changes and
records them, as (kind, source, path), in the truth file.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.corpus import CATEGORIES, make_notice
from settlewatch.models import SourceKind

LAYOUTS = ("article", "trs", "html5")  # trs pages are GBK-encoded
KINDS: tuple[SourceKind, ...] = ("regulator", "scheme", "clearing", "acquirer")
PAGE_SIZE = 20  # listing entries per page
EDITS = ("digit", "sentence", "title", "date")


@dataclass(frozen=True)
class Notice:
    slug: str
    category: str
    title: str
    published: str  # ISO date
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    layout: str
    notices: tuple[Notice, ...]  # newest first, as the listing shows them

    @property
    def charset(self) -> str:
        return "gbk" if self.layout == "trs" else "utf-8"


@dataclass(frozen=True)
class Site:
    seed: int
    epoch: int  # noise generation: bumped by every mutation
    today: str  # ISO date the publish dates are relative to
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Truth:
    """One meaningful change a mutation made; ``path`` is the notice page's URL path."""

    kind: str  # new | edited
    source: str
    path: str
    edit: str = ""  # digit | sentence | title | date, for edits

    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.source, self.path)


def notice_path(notice: Notice) -> str:
    return f"/notice/{notice.slug}.html"


def loopback_hosts(n: int) -> list[str]:
    """127.0.0.2, 127.0.0.3, …: one address per source (Linux routes all of 127/8 to lo)."""
    hosts: list[str] = []
    i = 2
    while len(hosts) < n:
        last = i % 256
        if last not in (0, 255):
            hosts.append(f"127.0.{i // 256}.{last}")
        i += 1
    return hosts


def generate(sources: int, notices: int, seed: int = 1, today: dt.date | None = None) -> Site:
    """A site whose publish dates spread over the 400 days before ``today``."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    out = []
    for s in range(sources):
        sid = f"bench_s{s:03d}"
        days = sorted(rng.randint(0, 400) for _ in range(notices))
        items = []
        for j, ago in enumerate(days):
            published = today - dt.timedelta(days=ago)
            text = make_notice(CATEGORIES[(s + j) % len(CATEGORIES)], rng, published)
            slug = f"{published:%Y%m%d}_{s:03d}{j:03d}"
            items.append(
                Notice(slug, text.category, text.title, published.isoformat(), text.paragraphs)
            )
        out.append(Source(sid, KINDS[s % len(KINDS)], LAYOUTS[s % len(LAYOUTS)], tuple(items)))
    return Site(seed, 0, today.isoformat(), tuple(out))


def touch(site: Site) -> Site:
    """Noise only: a new epoch re-draws every clock, counter, token and banner."""
    return dataclasses.replace(site, epoch=site.epoch + 1)


def _edit(notice: Notice, how: str, rng: random.Random) -> Notice:
    if how == "digit":  # one digit of a date, rate or amount, the smallest real edit
        i = next(i for i, p in enumerate(notice.paragraphs) if re.search(r"\d", p))
        para = notice.paragraphs[i]
        pos = rng.choice([m.start() for m in re.finditer(r"\d", para)])
        para = para[:pos] + str((int(para[pos]) + 1) % 10) + para[pos + 1 :]
        return dataclasses.replace(
            notice, paragraphs=(*notice.paragraphs[:i], para, *notice.paragraphs[i + 1 :])
        )
    if how == "sentence":
        extra = f"补充说明：受理时间延长至{rng.randint(17, 22)}:00，其余安排不变。"
        return dataclasses.replace(
            notice, paragraphs=(*notice.paragraphs[:-1], extra, notice.paragraphs[-1])
        )
    if how == "title":
        return dataclasses.replace(notice, title=notice.title + "（修订）")
    moved = dt.date.fromisoformat(notice.published) - dt.timedelta(days=1)
    return dataclasses.replace(notice, published=moved.isoformat())


def mutate(site: Site, k: int, seed: int = 2) -> tuple[Site, list[Truth]]:
    """K real changes (a quarter new notices, the rest edits) plus fresh noise everywhere."""
    rng = random.Random(seed)
    sources = list(site.sources)
    truth: list[Truth] = []
    n_new = k // 4
    new_in = rng.sample(range(len(sources)), min(n_new, len(sources)))
    for n, s in enumerate(new_in):
        src = sources[s]
        text = make_notice(
            CATEGORIES[rng.randrange(len(CATEGORIES))], rng, dt.date.fromisoformat(site.today)
        )
        notice = Notice(
            f"{site.today.replace('-', '')}_new{site.epoch + 1}_{n}",
            text.category,
            text.title,
            site.today,
            text.paragraphs,
        )
        sources[s] = dataclasses.replace(src, notices=(notice, *src.notices))
        truth.append(Truth("new", src.id, notice_path(notice)))
    taken = {t.path for t in truth}
    candidates = [
        (s, j)
        for s, src in enumerate(sources)
        for j, notice in enumerate(src.notices)
        if notice_path(notice) not in taken
    ]
    for n, (s, j) in enumerate(rng.sample(candidates, k - len(truth))):
        src = sources[s]
        how = EDITS[n % len(EDITS)]
        edited = _edit(src.notices[j], how, rng)
        sources[s] = dataclasses.replace(
            src, notices=(*src.notices[:j], edited, *src.notices[j + 1 :])
        )
        truth.append(Truth("edited", src.id, notice_path(edited), how))
    return dataclasses.replace(touch(site), sources=tuple(sources)), truth


def site_to_json(site: Site) -> dict[str, Any]:
    return dataclasses.asdict(site)


def site_from_json(data: dict[str, Any]) -> Site:
    return Site(
        data["seed"],
        data["epoch"],
        data["today"],
        tuple(
            Source(
                s["id"],
                s["kind"],
                s["layout"],
                tuple(Notice(**{**n, "paragraphs": tuple(n["paragraphs"])}) for n in s["notices"]),
            )
            for s in data["sources"]
        ),
    )


def save(site: Site, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "site.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(site_to_json(site), ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)  # the server may be reading it
    return path


def load(folder: Path) -> Site:
    return site_from_json(json.loads((folder / "site.json").read_text(encoding="utf-8")))


def save_truth(truth: list[Truth], folder: Path) -> Path:
    path = folder / "truth.json"
    path.write_text(
        json.dumps([dataclasses.asdict(t) for t in truth], ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    return path


def load_truth(folder: Path) -> list[Truth]:
    return [Truth(**t) for t in json.loads((folder / "truth.json").read_text(encoding="utf-8"))]


_NOTICE_RULES = {
    "article": "  body: div.body\n  title: h1\n  date: div.meta\n",
    "trs": "  body: '#zoom'\n  title: td.title\n  date: td.pubdate\n",
    "html5": "  date: time\n",  # no body selector: the main-content heuristic finds <article>
}


def write_decls(site: Site, folder: Path, bases: dict[str, str]) -> list[Path]:
    """One declaration per source; ``bases`` maps source id → http://127.0.0.x:port."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.yaml"):
        old.unlink()
    most = max((len(s.notices) for s in site.sources), default=0)
    max_pages = -(-most // PAGE_SIZE) + 2  # room for the notices a mutation adds
    paths = []
    for src in site.sources:
        path = folder / f"{src.id}.yaml"
        path.write_text(
            f"id: {src.id}\nname: 基准测试公告栏 {src.id}\nauthority: {src.id}\n"
            f"kind: {src.kind}\nlistings:\n  - url: {bases[src.id]}/list/index.html\n"
            "    item: li.row\n    link: a\n    date: span.date\n    next_page: a.next\n"
            f"    max_pages: {max_pages}\nnotice:\n{_NOTICE_RULES[src.layout]}",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sitegen")
    sub = parser.add_subparsers(dest="cmd", required=True)
    gen = sub.add_parser("generate", help="write DIR/site.json")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--sources", type=int, default=50)
    gen.add_argument("--notices", type=int, default=40)
    gen.add_argument("--seed", type=int, default=1)
    noise = sub.add_parser("noise", help="new noise on every page, nothing else")
    noise.add_argument("--site", type=Path, required=True)
    mut = sub.add_parser("mutate", help="K real changes plus noise; writes DIR/truth.json")
    mut.add_argument("--site", type=Path, required=True)
    mut.add_argument("--changes", type=int, default=20)
    mut.add_argument("--seed", type=int, default=2)
    args = parser.parse_args(argv)
    if args.cmd == "generate":
        site = generate(args.sources, args.notices, args.seed)
        print(save(site, args.out))
    elif args.cmd == "noise":
        print(save(touch(load(args.site)), args.site))
    else:
        site, truth = mutate(load(args.site), args.changes, args.seed)
        save(site, args.site)
        print(save_truth(truth, args.site))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
