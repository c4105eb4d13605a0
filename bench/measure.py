"""Measure a command's process tree: wall time, CPU time and peak RSS, per process and in all.

The totals are exact: ``os.wait4`` returns the rusage of the child and of every descendant it
reaped (CPU summed, ru_maxrss the largest single process). The per-process split (the
`settlewatch` process that tracks, and the `python -m crawler.run` child that fetches) comes
from sampling /proc every few milliseconds: a process's VmHWM is its own peak RSS and only
grows, and its utime+stime only grow, so the last sample before it exits is a close lower
bound. No psutil: /proc is all there is to read.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import signal
import sqlite3
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

TICK = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


@dataclass
class ProcSample:
    pid: int
    ppid: int
    cmdline: str
    first_seen: float
    last_seen: float
    cpu_s: float = 0.0
    hwm_kb: int = 0


@dataclass(frozen=True)
class ProcUsage:
    pid: int
    cmdline: str
    wall_s: float  # from first to last sample
    cpu_s: float
    peak_rss_mb: float
    started_s: float  # after the root process started


@dataclass(frozen=True)
class Measured:
    returncode: int
    timed_out: bool
    wall_s: float
    cpu_s: float  # user + system of the whole tree
    peak_rss_mb: float  # the largest single process of the tree
    together_rss_mb: float  # the largest sum of the tree's RSS at one sampling moment
    procs: tuple[ProcUsage, ...] = field(default=())
    stdout: str = ""
    stderr: str = ""

    def proc(self, needle: str) -> ProcUsage | None:
        """The sampled processes whose command line contains ``needle``, as one: from the
        first one's start to the last one's end, CPU summed, RSS of the largest."""
        found = [p for p in self.procs if needle in p.cmdline]
        if not found:
            return None
        start = min(p.started_s for p in found)
        end = max(p.started_s + p.wall_s for p in found)
        return ProcUsage(
            pid=found[0].pid,
            cmdline=found[0].cmdline,
            wall_s=end - start,
            cpu_s=sum(p.cpu_s for p in found),
            peak_rss_mb=max(p.peak_rss_mb for p in found),
            started_s=start,
        )


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        out.extend(int(c) for c in _read(f"/proc/{pid}/task/{tid}/children").split())
    return out


def _sample(pid: int, seen: dict[int, ProcSample], now: float) -> int:
    """Sample one process; returns its current RSS in kB."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return 0
    fields = stat.rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    hwm = rss = 0
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
        elif line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    # re-read: a child sampled between fork and exec still shows its parent's command line
    cmd = _read(f"/proc/{pid}/cmdline").replace("\0", " ").strip()
    s = seen.get(pid)
    if s is None:
        s = seen[pid] = ProcSample(pid, int(fields[1]), cmd, now, now)
    s.cmdline = cmd or s.cmdline
    s.last_seen, s.cpu_s, s.hwm_kb = now, max(s.cpu_s, cpu), max(s.hwm_kb, hwm)
    return rss


def _sampler(
    root: int, seen: dict[int, ProcSample], peak: list[int], stop: threading.Event, every: float
) -> None:
    """Sample the tree until stopped; ``peak[0]``: the largest RSS of all its processes at
    one moment, in kB (pages forked workers share with their parent count twice)."""
    while not stop.is_set():
        now = time.perf_counter()
        todo, total = [root], 0
        while todo:
            pid = todo.pop()
            total += _sample(pid, seen, now)
            todo.extend(_children(pid))
        peak[0] = max(peak[0], total)
        stop.wait(every)


def run_measured(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600.0,
    every: float = 0.02,
) -> Measured:
    """Run ``cmd`` to completion (killing its process group after ``timeout`` s)."""
    out_path = Path(cwd or ".") / ".bench-stdout"
    err_path = Path(cwd or ".") / ".bench-stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True
        )
        seen: dict[int, ProcSample] = {}
        together = [0]
        stop = threading.Event()
        sampler = threading.Thread(target=_sampler, args=(proc.pid, seen, together, stop, every))
        sampler.start()
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the group this call started, nothing else

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            stop.set()
            sampler.join()
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # we reaped it; tell Popen
    procs = tuple(
        ProcUsage(
            s.pid,
            s.cmdline,
            s.last_seen - s.first_seen,
            s.cpu_s,
            s.hwm_kb / 1024,
            s.first_seen - start,
        )
        for s in sorted(seen.values(), key=lambda s: s.first_seen)
    )
    return Measured(
        returncode=proc.returncode,
        timed_out=timed_out.is_set(),
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        together_rss_mb=together[0] / 1024,
        procs=procs,
        stdout=out_path.read_text(encoding="utf-8", errors="replace"),
        stderr=err_path.read_text(encoding="utf-8", errors="replace"),
    )


@dataclass(frozen=True)
class Timed:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float  # of this whole process, so far


def timed(fn: Callable[[], T]) -> tuple[T, Timed]:
    """Call ``fn`` in this process; wall and CPU time of the call, and this process's peak RSS."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result, Timed(wall, cpu, peak)


def system_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (all processes, all cores)."""
    fields = _read("/proc/stat").splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


def busy_fraction(window: float = 1.0) -> float:
    """How busy the machine's cores are right now, 0..1, over ``window`` seconds."""
    cpu0, t0 = system_cpu_s(), time.perf_counter()
    time.sleep(window)
    cores = len(os.sched_getaffinity(0))
    return (system_cpu_s() - cpu0) / ((time.perf_counter() - t0) * cores)


def wait_quiet(max_busy: float, max_wait: float) -> float:
    """Wait (up to ``max_wait`` s) until other work leaves the cores mostly idle.

    Several engineers share this machine; a measurement taken while a test suite runs is a
    measurement of the test suite. Returns the busy fraction last seen.
    """
    deadline = time.monotonic() + max_wait
    busy = busy_fraction()
    while busy > max_busy and time.monotonic() < deadline:
        time.sleep(3)
        busy = busy_fraction()
    return busy


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "kernel": platform.release(),
        "sqlite": sqlite3.sqlite_version,
        "scrapy": version("scrapy"),
        "sqlalchemy": version("sqlalchemy"),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
