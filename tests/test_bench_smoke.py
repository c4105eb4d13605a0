"""bench/ stays runnable: the site generator, its server and one tiny measured crawl.

No timings are asserted (this machine is shared); what is asserted is behaviour: the site has
what the benchmarks rely on, the server answers 304 to its own ETag, noise changes every page's
bytes, and a crawl of 2 sources × 3 notices is measured, tracked and scored against the truth.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench import sitegen
from bench.corpus import CATEGORIES
from bench.crawlbench import crawl_once, list_changes, score
from bench.history import aged_copy
from bench.sitepages import all_pages
from bench.siteserver import ServerProcess
from settlewatch.taxonomy import load_taxonomy

pytestmark = pytest.mark.slow


def test_corpus_covers_the_taxonomy() -> None:
    assert sorted(CATEGORIES) == sorted(c.id for c in load_taxonomy().categories)


def test_site_pages_noise_and_mutation() -> None:
    site = sitegen.generate(3, 4, seed=5)
    assert [s.layout for s in site.sources] == ["article", "trs", "html5"]
    gbk = all_pages(site, site.sources[1])
    body = gbk[sitegen.notice_path(site.sources[1].notices[0])].body
    assert body.decode("gbk") and not _is_utf8(body)  # really GBK bytes
    noisy = sitegen.touch(site)
    for before, after in zip(site.sources, noisy.sources, strict=True):
        old, new = all_pages(site, before), all_pages(noisy, after)
        assert all(old[p].body != new[p].body for p in old if p != "/robots.txt")
    mutated, truth = sitegen.mutate(site, 4, seed=3)
    assert [t.kind for t in truth] == ["new", "edited", "edited", "edited"]
    assert len({t.path for t in truth}) == 4
    assert mutated.epoch == site.epoch + 1


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_tiny_crawl_is_measured_and_scored(tmp_path: Path) -> None:
    site_dir, decls = tmp_path / "site", tmp_path / "decls"
    site = sitegen.generate(2, 3, seed=1)
    sitegen.save(site, site_dir)
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    with ServerProcess(site_dir) as server:
        assert sorted(server.bases) == ["bench_s000", "bench_s001"]
        assert {b.split(":")[1] for b in server.bases.values()} == {"//127.0.0.2", "//127.0.0.3"}
        url = server.bases["bench_s000"] + "/list/index.html"
        etag = urllib.request.urlopen(url, timeout=5).headers["ETag"]
        with pytest.raises(urllib.error.HTTPError) as not_modified:
            urllib.request.urlopen(urllib.request.Request(url, headers={"If-None-Match": etag}))
        assert not_modified.value.code == 304

        sitegen.write_decls(site, decls, server.bases)
        first = crawl_once("first", db, decls, tmp_path, server, timeout=120)
        assert first.error == ""
        assert first.pages == 2 * (1 + 3)  # one listing page and three notices per source
        assert first.changes == {"baseline": 6}
        assert first.fetch_wall_s > 0 and first.peak_rss_mb > 0  # the crawler child was seen

        mutated, truth = sitegen.mutate(site, 2, seed=4)
        sitegen.save(mutated, site_dir)
        server.reload()
        second = crawl_once("changes", db, decls, tmp_path, server, timeout=120)
        found = [c for c in list_changes(db, tmp_path) if not c["baseline"]]
    precision, recall, missed, extra = score(found, truth)
    assert (precision, recall, missed, extra) == (1.0, 1.0, [], [])
    assert second.changes == {"edited": 2}


def test_an_aged_store_crawls_as_the_fresh_one(tmp_path: Path) -> None:
    """bench.history adds past unchanged crawls and digests; a re-crawl then finds exactly
    what it finds on the fresh store: no change, no tracked row, a 304 for every page."""
    site_dir, decls = tmp_path / "site", tmp_path / "decls"
    site = sitegen.generate(2, 3, seed=1)
    sitegen.save(site, site_dir)
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    with ServerProcess(site_dir) as server:
        sitegen.write_decls(site, decls, server.bases)
        assert crawl_once("first", db, decls, tmp_path, server, timeout=120).error == ""
        added = aged_copy(tmp_path / "bench.db", tmp_path / "aged.db", crawls=5, digests=30)
        assert added == {"crawl_runs": 10, "snapshots": 5 * 8, "outbox": 30}
        aged = f"sqlite:///{tmp_path / 'aged.db'}"
        fresh = crawl_once("unchanged", db, decls, tmp_path, server, timeout=120)
        old = crawl_once("history", aged, decls, tmp_path, server, timeout=120)
    for fig in (fresh, old):
        assert fig.error == "" and fig.changes == {}
        assert fig.pages == 8 and fig.new_rows["snapshots"] == 8 and fig.responses["304"] == 8
        assert sum(n for t, n in fig.new_rows.items() if t != "snapshots") == 0
