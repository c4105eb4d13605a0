"""In-process benchmarks: classification, merchant digests and the review-queue page.

Each returns plain dicts of figures (one per repetition) for ``bench.report``. They call the
same functions the product calls: ``classify``; ``load_inputs`` + ``build_contexts`` +
``render_digest`` (what ``write_digests`` does, without the file writes); and the Flask app's
``GET /queue`` through its test client, logged in as an officer.
"""

from __future__ import annotations

import importlib.util
import re
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.measure import timed
from bench.seed import change_cases, classify_case, merchants, seed_findings, seed_merchants
from settlewatch.store.db import begin_write, open_store, utcnow
from settlewatch.taxonomy import load_taxonomy

Figures = dict[str, Any]


def bench_classify(n: int, repeat: int, progress: Any = print) -> list[Figures]:
    """``n`` changes through classify(), single-threaded: changes per CPU-second = per core."""
    taxonomy = load_taxonomy()
    now = utcnow()
    cases = change_cases(n, now.date())
    for c in cases[:50]:  # warm the regex caches, as a long-running tracker would be
        classify_case(taxonomy, c, now)
    out = []
    for r in range(repeat):
        _, t = timed(lambda: [classify_case(taxonomy, c, now) for c in cases])
        fig = {
            "n": n,
            "wall_s": t.wall_s,
            "cpu_s": t.cpu_s,
            "peak_rss_mb": t.peak_rss_mb,
            "per_core": n / t.cpu_s if t.cpu_s else 0.0,
        }
        progress(
            f"classify rep {r}: {n} changes in {t.cpu_s:.2f} s CPU ({fig['per_core']:.0f}/s/core)"
        )
        out.append(fig)
    return out


def bench_digests(
    workdir: Path, n_merchants: int, n_findings: int, repeat: int, progress: Any = print
) -> list[Figures]:
    """Digests of one period for ``n_merchants`` from ``n_findings`` approved findings."""
    from settlewatch.digest_build import build_contexts, current_period, load_inputs

    taxonomy = load_taxonomy()
    now = utcnow()
    engine = open_store(f"sqlite:///{workdir / 'digests.db'}")
    seed_findings(engine, taxonomy, n_findings, status="approved", now=now)
    seed_merchants(engine, merchants(n_merchants, taxonomy))
    period = current_period(now)
    out = []
    for r in range(repeat):
        with engine.connect() as conn:
            inputs, t_load = timed(partial(load_inputs, conn, period))
        contexts, t_build = timed(partial(build_contexts, inputs, now, taxonomy))
        html_bytes, t_render = timed(partial(_render_all, contexts))
        entries = sum(len(c.entries) for c in contexts)
        fig = {
            "merchants": len(contexts),
            "findings": len(inputs.rows),
            "entries": entries,
            "html_bytes": html_bytes,
            "load_s": t_load.wall_s,
            "build_s": t_build.wall_s,
            "render_s": t_render.wall_s,
            "wall_s": t_load.wall_s + t_build.wall_s + t_render.wall_s,
            "cpu_s": t_load.cpu_s + t_build.cpu_s + t_render.cpu_s,
            "peak_rss_mb": t_render.peak_rss_mb,
        }
        progress(
            f"digests rep {r}: {len(contexts)} merchants, {entries} entries in "
            f"{fig['wall_s']:.2f} s (load {t_load.wall_s:.2f}, build {t_build.wall_s:.2f}, "
            f"render {t_render.wall_s:.2f})"
        )
        out.append(fig)
    engine.dispose()
    return out


def _render_all(contexts: list[Any]) -> int:
    """Render every digest and keep only the size, as write_digests keeps only the files."""
    from settlewatch.digest import render_digest

    return sum(len(html) for html, _text in map(render_digest, contexts))


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def web_available() -> bool:
    try:
        return importlib.util.find_spec("settlewatch.web.app") is not None
    except ModuleNotFoundError:
        return False


def bench_queue(workdir: Path, n_pending: int, repeat: int, progress: Any = print) -> list[Figures]:
    """GET /queue (first and a deep page) with ``n_pending`` pending findings; [] if no app."""
    if not web_available():
        progress("queue: settlewatch.web.app is not there yet: pending")
        return []
    from settlewatch.users import add_user
    from settlewatch.web.app import create_app

    taxonomy = load_taxonomy()
    now = utcnow()
    url = f"sqlite:///{workdir / 'queue.db'}"
    engine = open_store(url)
    written = seed_findings(engine, taxonomy, n_pending, status="pending", now=now)
    with begin_write(engine) as conn:
        add_user(conn, "bench", "officer", "bench-password", now)
    engine.dispose()
    app = create_app(url, secret_key="bench", testing=True, crawl_log_dir=workdir / "crawl-logs")
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    m = _CSRF.search(page)
    token = (m.group(1) or m.group(2)) if m else ""
    resp = client.post(
        "/login", data={"name": "bench", "password": "bench-password", "csrf_token": token}
    )
    if resp.status_code not in (302, 303):
        raise RuntimeError(f"bench login failed: HTTP {resp.status_code}")
    pages = max(1, written // 50)
    out = []
    cold = _get(client, "/queue")
    for r in range(repeat):
        first = _get(client, "/queue")
        deep = _get(client, f"/queue?page={pages // 2 or 1}")
        fig = {
            "pending": written,
            "first_ms": first[0],
            "deep_ms": deep[0],
            "cold_ms": cold[0],
            "status": first[1],
            "bytes": first[2],
        }
        progress(
            f"queue rep {r}: /queue {first[0]:.0f} ms, deep page {deep[0]:.0f} ms (HTTP {first[1]})"
        )
        out.append(fig)
    return out


def _get(client: Any, path: str) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    resp = client.get(path)
    body = resp.get_data()
    ms = (time.perf_counter() - t0) * 1000
    if resp.status_code != 200:
        raise RuntimeError(f"GET {path}: HTTP {resp.status_code}")
    return ms, resp.status_code, len(body)
