"""How the runs of one crawl are shared out between crawler processes (pure functions).

A crawler process is CPU-bound on Scrapy's per-request work, so a crawl of many sources uses
one process per core. Runs whose sources share a host stay in one process, so that host sees
the per-host concurrency limit once, not once per process.
"""

from __future__ import annotations

import math
import os
from urllib.parse import urlsplit

MAX_AUTO = 4  # processes when crawl_processes is 0 (auto)
RUNS_PER_PROCESS = 8  # auto mode: a process must have this much work to pay its start-up


def cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or url).lower()


def process_count(setting: int, runs: int, hosts: int, cores: int) -> int:
    """How many crawler processes for ``runs`` runs on ``hosts`` distinct hosts.

    ``setting`` > 0 is taken as given; 0 (auto) means one per core (at most MAX_AUTO), as long
    as each gets RUNS_PER_PROCESS runs. Never more than there are hosts: runs of one host share
    a process.
    """
    if runs <= 0:
        return 1
    wanted = setting if setting > 0 else min(cores, MAX_AUTO, math.ceil(runs / RUNS_PER_PROCESS))
    return max(1, min(wanted, hosts, runs))


def partition_runs(hosts: dict[int, str], processes: int) -> list[list[int]]:
    """Split run ids into at most ``processes`` groups, keeping runs of one host together.

    Largest host groups first, each to the process with the fewest runs so far; the result is
    deterministic (ties go to the lower run id and the earlier process).
    """
    by_host: dict[str, list[int]] = {}
    for run_id in sorted(hosts):
        by_host.setdefault(hosts[run_id], []).append(run_id)
    groups = sorted(by_host.values(), key=lambda g: (-len(g), g[0]))
    bins: list[list[int]] = [[] for _ in range(max(1, min(processes, len(groups))))]
    for group in groups:
        min(bins, key=len).extend(group)
    return [sorted(b) for b in bins if b]
