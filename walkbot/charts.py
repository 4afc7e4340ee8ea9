"""The weekly chart as a PNG: backward minutes per day as bars with effort as a line, and a small
12-week trend of backward minutes underneath.

Import this module lazily (it loads matplotlib) and call `week_chart` through
`asyncio.to_thread`: drawing is CPU work. It uses matplotlib's object API with the Agg canvas,
never pyplot, so no global figure state is shared; a lock keeps drawing to one thread at a
time all the same (matplotlib's font and text caches are not documented as thread-safe).
"""

from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from walkbot.domain.summary import WeekReportData
from walkbot.domain.wording import quantity

_LOCK = threading.Lock()
BAR = "#4C8BF5"
BAR_PAST = "#B7CCF2"
LINE = "#E8710A"
TEXT = "#333333"


def week_chart(data: WeekReportData) -> bytes:
    with _LOCK:
        return _draw(data)


def _draw(data: WeekReportData) -> bytes:
    # Fixed margins rather than a layout engine: the layout engine draws everything twice.
    figure = Figure(figsize=(6.4, 5.0), dpi=100)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(
        2,
        1,
        gridspec_kw={
            "height_ratios": [3, 1.4],
            "left": 0.09,
            "right": 0.91,
            "top": 0.93,
            "bottom": 0.06,
            "hspace": 0.42,
        },
    )

    days = data.days
    labels = [f"{d.day:%a}\n{d.day.day}" for d in days]
    minutes = [d.backward_s / 60 for d in days]
    positions = list(range(len(days)))
    top.bar(positions, minutes, color=BAR, width=0.6, label="Backward minutes")
    top.set_xticks(positions, labels, fontsize=9, color=TEXT)
    top.set_ylabel("Backward min", color=BAR, fontsize=9)
    top.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    top.set_ylim(0, max([5.0, *minutes]) * 1.2)
    top.spines[["top"]].set_visible(False)
    head = "This week so far" if data.which == "this" else "Last week"
    target = max(data.target, 1)
    top.set_title(
        f"{head}: {data.totals.walks} of {quantity(target, 'walk')}",
        fontsize=11,
        color=TEXT,
        loc="left",
    )

    effort = top.twinx()
    rated = [
        (x, d.effort_avg) for x, d in zip(positions, days, strict=True) if d.effort_avg is not None
    ]
    if rated:
        xs, ys = zip(*rated, strict=True)
        effort.plot(xs, ys, color=LINE, marker="o", linewidth=2, label="Effort (0-10)")
    effort.set_ylim(0, 10.5)
    effort.set_ylabel("Effort 0-10", color=LINE, fontsize=9)
    effort.tick_params(axis="y", colors=LINE, labelsize=8)
    effort.spines[["top"]].set_visible(False)

    weeks = data.trend
    trend_minutes = [seconds / 60 for _, seconds in weeks]
    colours = [BAR_PAST] * max(0, len(weeks) - 1) + [BAR] * min(1, len(weeks))
    bottom.bar(range(len(weeks)), trend_minutes, color=colours, width=0.7)
    ticks = [i for i in range(len(weeks)) if i % 3 == len(weeks) % 3 or i == len(weeks) - 1]
    bottom.set_xticks(
        sorted(set(ticks)),
        [f"{weeks[i][0].day} {weeks[i][0]:%b}" for i in sorted(set(ticks))],
        fontsize=8,
        color=TEXT,
    )
    bottom.set_ylim(0, max([5.0, *trend_minutes]) * 1.25)
    bottom.set_title(
        f"Backward minutes, last {len(weeks)} weeks", fontsize=9, color=TEXT, loc="left"
    )
    bottom.tick_params(axis="y", labelsize=8)
    bottom.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    bottom.spines[["top", "right"]].set_visible(False)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
