"""`settlewatch sources check` and `settlewatch sources add`."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlparse

import click
import yaml

from settlewatch.autolist import detect_listing
from settlewatch.cli.commands import sources
from settlewatch.cli.root import App, echo_json, pass_app
from settlewatch.errors import SourceDeclError, UsageError
from settlewatch.models import ListingRule
from settlewatch.probe import probe_listing
from settlewatch.source import load_source


def _limits(app: App) -> tuple[str, float, int]:
    return (
        app.config.get("user_agent"),
        float(app.config.get("download_timeout")),
        app.config.get_int("max_response_bytes"),
    )


@sources.command("check")
@click.argument("source_ids", nargs=-1, metavar="[SOURCE_ID]...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per listing.")
@pass_app
def sources_check(app: App, source_ids: tuple[str, ...], as_json: bool) -> None:
    """Fetch each listing live now and report whether its selectors still match.

    For the user's network: it needs the real sites. Exits 1 when any listing is not ok.
    """
    decls = app.decls()
    unknown = [s for s in source_ids if s not in decls]
    if unknown:
        raise UsageError(f"unknown source id(s): {', '.join(unknown)}")
    ua, timeout, cap = _limits(app)
    rows = []
    for sid in source_ids or tuple(sorted(decls)):
        decl = decls[sid]
        for rule in decl.listings:
            p = probe_listing(rule, ua, timeout, cap, decl.encoding)
            rows.append(
                {
                    "id": sid,
                    "url": p.url,
                    "state": p.state,
                    "reason": p.reason,
                    "first": p.entries[0].title if p.entries else None,
                }
            )
            if not as_json:
                first = f" — first: {p.entries[0].title}" if p.entries else ""
                click.echo(f"{sid:<24} {p.state:<11} {p.reason}{first}\n    {p.url}")
    if as_json:
        echo_json(rows)
    bad = [r for r in rows if r["state"] != "ok"]
    if bad and not as_json:
        offline = sum(1 for r in bad if r["state"] == "unreachable")
        click.echo(
            f"{len(bad)} of {len(rows)} listing(s) not ok"
            + (f"; {offline} unreachable — is this machine online?" if offline else ""),
            err=True,
        )
    if bad:
        raise SystemExit(1)


def _source_id(url: str) -> str:
    host = urlparse(url).hostname or "source"
    parts = [p for p in host.split(".") if p not in ("www", "com", "cn", "org", "gov", "net")]
    return re.sub(r"[^a-z0-9_]", "_", "_".join(parts or [host]).lower())[:40]


@sources.command("add")
@click.argument("url")
@click.option("--id", "source_id", help="Source id (default: from the host name).")
@click.option("--name", help="Display name (default: the page title).")
@click.option(
    "--kind",
    type=click.Choice(["regulator", "scheme", "clearing", "acquirer"]),
    default="acquirer",
    show_default=True,
)
@click.option("--authority", help="Publisher id merchants refer to (default: the source id).")
@click.option("--force", is_flag=True, help="Overwrite an existing declaration.")
@pass_app
def sources_add(
    app: App,
    url: str,
    source_id: str | None,
    name: str | None,
    kind: str,
    authority: str | None,
    force: bool,
) -> None:
    """Find the notice list on URL, write a declaration for it and show the notices found."""
    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).hostname:
        raise UsageError(
            f"URL {url!r} is not an http(s) URL (fix: give the full listing URL, "
            "e.g. https://www.example.com/notices/)"
        )
    sid = source_id or _source_id(url)
    folder = app.sources_dir()
    path = folder / f"{sid}.yaml"
    if path.exists() and not force:
        raise UsageError(f"{path} exists (fix: choose another --id or pass --force)")
    ua, timeout, cap = _limits(app)
    auto = probe_listing(ListingRule(url=url), ua, timeout, cap)
    if auto.state != "ok":
        raise UsageError(f"{url}: {auto.state}: {auto.reason} (nothing was written)")
    rule = detect_listing(url, auto.text, dt.date.today())
    assert rule is not None  # the probe found entries, so detection succeeded
    title = re.search(r"<title[^>]*>(.*?)</title>", auto.text, re.I | re.S)
    data = {
        "id": sid,
        "name": name or (" ".join(title.group(1).split()) if title else sid),
        "authority": authority or sid,
        "kind": kind,
        "listings": [
            {
                k: v
                for k, v in (
                    ("url", url),
                    ("item", rule.item),
                    ("link", rule.link),
                    ("date", rule.date),
                )
                if v
            }
        ],
    }
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{sid}.yaml.tmp"
    tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        load_source(tmp.rename(path))
    except SourceDeclError:
        path.unlink(missing_ok=True)
        raise
    click.echo(f"wrote {path} — {len(auto.entries)} notices found:")
    for e in auto.entries[:20]:
        click.echo(f"  {e.date or '          '}  {e.title}\n      {e.url}")
