"""Geometry for the dashboard's server-rendered SVG charts (pure; templates draw it)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

from settlewatch.web.dashboard_data import Event

PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
    "#393b79",
    "#ad494a",
)
MAX_ROWS = 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str  # class: the event kind, or a category id
    fill: str = ""
    title: str = ""
    href: str = ""
    label: str = ""


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    major: bool = False


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    label_width: int
    top: int
    row_height: int
    today_x: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    hidden: int  # events beyond MAX_ROWS, listed in the agenda only


def timeline(
    events: list[Event], today: dt.date, days: int, total: int, width: int = 1000
) -> Timeline:
    label_w, top, row_h = 300, 34, 22
    day_w = (width - label_w - 12) / days
    horizon = today + dt.timedelta(days=days - 1)
    bars = []
    for i, e in enumerate(events[:MAX_ROWS]):
        start, end = max(e.start, today), min(e.end, horizon)
        x = label_w + (start - today).days * day_w
        when = e.start_text + (f" → {e.end_text}" if e.end_text else "")
        bars.append(
            Bar(
                x=round(x, 1),
                y=top + i * row_h + 4,
                width=round(max(day_w, ((end - start).days + 1) * day_w), 1),
                height=row_h - 8,
                css=e.kind + (" single" if e.start == e.end else ""),
                title=f"{e.label}: {when} — {e.title}",
                href=f"/findings/{e.finding_id}",
                label=e.title,
            )
        )
    ticks = []
    for d in range(days):
        day = today + dt.timedelta(days=d)
        if day.weekday() == 0 and d >= 5:  # the first days carry the "today" label
            ticks.append(Tick(round(label_w + d * day_w, 1), f"{day:%m-%d}", day.day <= 7))
    height = top + max(1, min(len(events), MAX_ROWS)) * row_h + 8
    return Timeline(
        width=width,
        height=height,
        label_width=label_w,
        top=top,
        row_height=row_h,
        today_x=label_w,
        bars=tuple(bars),
        ticks=tuple(ticks),
        hidden=max(0, total - MAX_ROWS),
    )


@dataclass(frozen=True)
class Weekly:
    width: int
    height: int
    left: int
    plot_top: int
    plot_bottom: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]  # x axis: week starts
    grid: tuple[tuple[float, int], ...]  # (y, value)
    legend: tuple[tuple[str, str, str], ...]  # (category id, label, colour)
    empty: bool


def _nice_max(value: int) -> int:
    if value <= 4:
        return 4
    step = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * step:
            return int(m * step) if m * step >= 4 else 4
    return value


def weekly(
    starts: list[dt.date],
    counts: dict[dt.date, Counter[str]],
    categories: list[tuple[str, str]],
    width: int = 1000,
    height: int = 240,
) -> Weekly:
    """Stacked bars: one per week, one colour per category (taxonomy order)."""
    left, right, plot_top, plot_bottom = 40, 10, 10, height - 30
    colour = {cid: PALETTE[i % len(PALETTE)] for i, (cid, _) in enumerate(categories)}
    label = dict(categories)
    top = _nice_max(max([sum(c.values()) for c in counts.values()] + [0]))
    scale = (plot_bottom - plot_top) / top
    slot = (width - left - right) / max(1, len(starts))
    bars, ticks = [], []
    for i, start in enumerate(starts):
        x = left + i * slot + slot * 0.15
        y = float(plot_bottom)
        for cid, _ in categories:
            n = counts[start].get(cid, 0)
            if not n:
                continue
            h = n * scale
            y -= h
            bars.append(
                Bar(
                    x=round(x, 1),
                    y=round(y, 1),
                    width=round(slot * 0.7, 1),
                    height=round(h, 1),
                    css=cid,
                    fill=colour[cid],
                    title=f"week of {start:%Y-%m-%d}: {n} × {label[cid]}",
                    href=f"/queue?status=all&category={cid}&since={start}"
                    f"&until={start + dt.timedelta(days=6)}",
                )
            )
        ticks.append(Tick(round(left + i * slot + slot / 2, 1), f"{start:%m-%d}"))
    grid = tuple(
        (round(plot_bottom - v * scale, 1), v) for v in range(0, top + 1, max(1, top // 4))
    )
    used = {b.css for b in bars}
    legend = tuple((cid, label[cid], colour[cid]) for cid, _ in categories if cid in used)
    return Weekly(
        width,
        height,
        left,
        plot_top,
        plot_bottom,
        tuple(bars),
        tuple(ticks),
        grid,
        legend,
        not bars,
    )
