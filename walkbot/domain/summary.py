"""Weekly summaries and all-time stats as pure values: week windows in the person's zone, per-day
buckets, the streak rule, the knee-pain trend wording and the message text.

No Telegram, no database, no clock: `now` is passed in (aware UTC), zones are IANA names.

Weeks run Monday 00:00 to the next Monday 00:00 on the person's wall (`schedule.week_bounds`),
so a week holding a clock change is 167 or 169 hours long, and a zone far from UTC
(Pacific/Kiritimati +14, Pacific/Pago_Pago -11) has weeks that start on a Sunday or a Monday
in UTC. A walk belongs to the local day and week its `started_at` falls in.

Streak rule: weeks in a row meeting the weekly target. A week that falls short but has rest
periods (holiday, /pause) covering at least a whole day of it (REST_WEEK_MIN, summed over the
rests, only the part inside the week) is skipped: neither counted nor breaking. A shorter rest,
such as a /pause ended again a few minutes later, does not excuse the week. A rest week in which
the target was met anyway counts, since the walks were done. The current week, while it is not
over, never breaks the streak: it adds to it once the target is met.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Literal

from walkbot.domain.schedule import local_date, monday_of, week_span
from walkbot.domain.sixmin import format_distance
from walkbot.domain.walk_copy import format_duration
from walkbot.domain.walks import EFFORT_LABELS, PAIN_LIMIT
from walkbot.domain.wording import quantity

Which = Literal["this", "last"]
WeekState = Literal["met", "missed", "rest", "open"]

DEFAULT_TARGET = 3
TREND_WEEKS = 12  # the small trend chart, and the first window the streak looks at
KNEE_BASELINE_WEEKS = 4  # the knee trend compares this week with the average of the 4 before
KNEE_CHANGE = 0.5  # an average moving less than this is "steady"
CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption
# A week short of its target is excused only by at least this much rest inside it: otherwise
# /pause then /resume seconds later would turn any missed week into a rest week.
REST_WEEK_MIN = timedelta(days=1)


# --- week windows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekWindow:
    """One local week: `monday` on the person's wall, [start, end) as aware UTC."""

    monday: date
    start: datetime
    end: datetime

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def week_window(monday: date, zone: str) -> WeekWindow:
    return WeekWindow(monday, *week_span(monday, zone))


def report_window(now: datetime, zone: str, which: Which) -> WeekWindow:
    """This week so far, or the previous full week, in the person's zone."""
    monday = monday_of(local_date(now, zone))
    if which == "last":
        monday -= timedelta(days=7)
    return week_window(monday, zone)


def windows_back(last_monday: date, count: int, zone: str) -> list[WeekWindow]:
    """`count` consecutive weeks ending with the week of `last_monday`, oldest first."""
    return [week_window(last_monday - timedelta(weeks=count - 1 - i), zone) for i in range(count)]


def boundaries(windows: Sequence[WeekWindow]) -> list[datetime]:
    """The instants separating consecutive windows: start of the first, then each end."""
    if not windows:
        return []
    for earlier, later in pairwise(windows):
        if earlier.end != later.start:
            raise ValueError("windows must be consecutive")
    return [windows[0].start, *(w.end for w in windows)]


# --- aggregates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    """Sums over some walks, as SQL returns them (averages are derived, never summed)."""

    walks: int = 0
    backward_s: int = 0
    active_s: int = 0
    effort_sum: int = 0
    effort_count: int = 0
    pain_sum: int = 0
    pain_count: int = 0

    @property
    def effort_avg(self) -> float | None:
        return self.effort_sum / self.effort_count if self.effort_count else None

    @property
    def pain_avg(self) -> float | None:
        return self.pain_sum / self.pain_count if self.pain_count else None

    def __add__(self, other: Totals) -> Totals:
        return Totals(
            self.walks + other.walks,
            self.backward_s + other.backward_s,
            self.active_s + other.active_s,
            self.effort_sum + other.effort_sum,
            self.effort_count + other.effort_count,
            self.pain_sum + other.pain_sum,
            self.pain_count + other.pain_count,
        )


def total(items: Iterable[Totals]) -> Totals:
    result = Totals()
    for item in items:
        result = result + item
    return result


@dataclass(frozen=True)
class WalkRow:
    """What the per-day chart needs of one walk in the reported week."""

    started_at: datetime
    backward_s: int
    active_s: int
    effort: int | None
    knee_pain: int | None


@dataclass(frozen=True)
class DayPoint:
    day: date
    walks: int
    backward_s: int
    effort_avg: float | None


def per_day(rows: Iterable[WalkRow], window: WeekWindow, zone: str) -> list[DayPoint]:
    """Monday to Sunday of `window`, each walk on the local day it started."""
    buckets: dict[date, list[WalkRow]] = {day: [] for day in window.days}
    for row in rows:
        day = local_date(row.started_at, zone)
        if day in buckets:
            buckets[day].append(row)
    points = []
    for day, walks in buckets.items():
        efforts = [w.effort for w in walks if w.effort is not None]
        points.append(
            DayPoint(
                day,
                len(walks),
                sum(w.backward_s for w in walks),
                sum(efforts) / len(efforts) if efforts else None,
            )
        )
    return points


# --- streak ----------------------------------------------------------------------------------


def rest_within(window: WeekWindow, rests: Iterable[tuple[datetime, datetime]]) -> timedelta:
    """How much of the week the rest periods [start, end) cover, each clipped to the week.
    Rests that overlap each other are counted once, so two overlapping pauses of half a day
    do not add up to a whole one."""
    parts = sorted(
        (max(start, window.start), min(end, window.end))
        for start, end in rests
        if start < window.end and end > window.start
    )
    covered, reach = timedelta(0), window.start
    for start, end in parts:
        start = max(start, reach)
        if end > start:
            covered += end - start
            reach = end
    return covered


def rested_week(window: WeekWindow, rests: Iterable[tuple[datetime, datetime]]) -> bool:
    """Enough rest in the week to excuse it from the streak (see the module docstring)."""
    return rest_within(window, rests) >= REST_WEEK_MIN


def week_state(walks: int, target: int, *, rested: bool, in_progress: bool) -> WeekState:
    if walks >= max(target, 1):
        return "met"
    if in_progress:
        return "open"
    return "rest" if rested else "missed"


@dataclass(frozen=True)
class Streak:
    weeks: int
    broken: bool  # False: every week looked at met the target or was skipped; look further back


def count_streak(states_newest_first: Iterable[WeekState], *, carried: int = 0) -> Streak:
    """Weeks in a row meeting the target, newest first, until the first missed week.
    `carried` continues a count from a newer window."""
    weeks = carried
    for state in states_newest_first:
        if state == "met":
            weeks += 1
        elif state == "missed":
            return Streak(weeks, True)
    return Streak(weeks, False)


# --- knee trend ------------------------------------------------------------------------------


def knee_line(this_week: Totals, before: Totals) -> str | None:
    """One glanceable line on knee pain: this week's average against the weeks before."""
    now_avg, was = this_week.pain_avg, before.pain_avg
    if now_avg is None:
        return None
    if was is None:
        trend = f"{now_avg:.1f}/10 on average"
    elif now_avg <= was - KNEE_CHANGE:
        trend = f"easing, {now_avg:.1f}/10 (was {was:.1f})"
    elif now_avg >= was + KNEE_CHANGE:
        trend = f"up a little, {now_avg:.1f}/10 (was {was:.1f})"
    else:
        trend = f"steady, {now_avg:.1f}/10"
    line = f"🦵 Knee pain: {trend}"
    if now_avg > PAIN_LIMIT:
        line += ". Above 5: hold the level, and see a clinician if it persists"
    return line


# --- the weekly message ----------------------------------------------------------------------


@dataclass(frozen=True)
class LevelMove:
    changed_at: datetime
    from_level: int
    to_level: int
    reason: str


@dataclass(frozen=True)
class TestResult:
    when: datetime
    direction: str
    metres: float


@dataclass(frozen=True)
class WeekReportData:
    which: Which
    zone: str
    window: WeekWindow
    target: int
    totals: Totals
    days: list[DayPoint]
    trend: list[tuple[date, int]]  # (monday, backward seconds), oldest first, ends with `window`
    streak: int
    knee: str | None
    level: int
    level_moves: list[LevelMove] = field(default_factory=list)
    latest_test: TestResult | None = None
    next_plan: str | None = None
    units: str = "km"


def _day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _minutes(seconds: int) -> str:
    return format_duration(seconds - seconds % 60) if seconds >= 60 else format_duration(seconds)


def effort_words(avg: float) -> str:
    return EFFORT_LABELS[min(10, max(0, round(avg)))]


def _target_line(walks: int, target: int, which: Which) -> str:
    target = max(target, 1)
    done = f"{walks} of {quantity(target, 'walk')}"
    if walks >= target:
        return f"✅ {done}: target met. Well done!"
    left = target - walks
    if which == "this":
        more = "one more" if left == 1 else f"{left} more"
        return f"🚶 {done} so far: {more} to reach your target."
    if walks == 0:
        return f"🌱 {done}. A fresh week is a fresh start."
    return f"🚶 {done}. Every walk counts."


def _move_words(move: LevelMove) -> str:
    if move.to_level > move.from_level:
        verb = "stepped up"
    elif move.to_level < move.from_level:
        verb = "stepped back"
    else:
        verb = "repeated"
    return f"{move.from_level} → {move.to_level} ({verb})"


def summary_text(data: WeekReportData) -> str:
    first, last = data.window.days[0], data.window.days[-1]
    head = "Your week so far" if data.which == "this" else "Last week"
    lines = [f"{head} ({_day_label(first)} – {_day_label(last)})"]
    t = data.totals
    lines.append(_target_line(t.walks, data.target, data.which))
    if t.walks:
        lines.append(f"⏪ Backward: {_minutes(t.backward_s)} · In all: {_minutes(t.active_s)}")
        if t.effort_avg is not None:
            lines.append(
                f"💪 Effort: {t.effort_avg:.1f}/10 on average ({effort_words(t.effort_avg)})"
            )
        if data.knee:
            lines.append(data.knee)
    if data.streak >= 1:
        weeks = "week" if data.streak == 1 else "weeks in a row"
        lines.append(f"🔥 Streak: {data.streak} {weeks} on target")
    if data.level_moves:
        lines.append("📈 Level " + "; ".join(_move_words(m) for m in data.level_moves))
    if data.latest_test is not None:
        test = data.latest_test
        when = local_date(test.when, data.zone)
        lines.append(
            f"⏱ Latest 6-minute test: {format_distance(test.metres, data.units)} "
            f"{test.direction}, {_day_label(when)}"
        )
    if data.next_plan:
        label = "This week's plan" if data.which == "last" else "Next week"
        lines.append(f"🗓 {label}: {data.next_plan}")
    return "\n".join(lines)


# --- all-time stats --------------------------------------------------------------------------


@dataclass(frozen=True)
class BestWeek:
    monday: date
    totals: Totals


def better_week(a: BestWeek | None, b: BestWeek) -> BestWeek:
    """Most backward time; on a tie, more walks; then the more recent week."""
    if a is None:
        return b
    key_a = (a.totals.backward_s, a.totals.walks, a.monday)
    key_b = (b.totals.backward_s, b.totals.walks, b.monday)
    return b if key_b > key_a else a


@dataclass(frozen=True)
class StatsData:
    zone: str
    totals: Totals
    first_walk: datetime | None
    best: BestWeek | None
    level: int
    level_moves: list[LevelMove]
    tests: list[TestResult]
    units: str = "km"
    # More level changes or tests exist than the lists hold: the text says these are the latest.
    earlier_moves: bool = False
    earlier_tests: bool = False


def stats_text(data: StatsData) -> str:
    t = data.totals
    if t.walks == 0:
        lines = ["No walks yet. /walk starts your first one."]
    else:
        assert data.first_walk is not None
        since = _day_label(local_date(data.first_walk, data.zone))
        lines = [
            f"Your walking since {since}",
            f"🚶 {quantity(t.walks, 'walk')} · "
            f"⏪ {_minutes(t.backward_s)} backward · {_minutes(t.active_s)} in all",
        ]
        if t.effort_avg is not None:
            lines.append(f"💪 Effort: {t.effort_avg:.1f}/10 on average")
        if data.best is not None:
            b = data.best
            lines.append(
                f"🏆 Best week: {_day_label(b.monday)}, {_minutes(b.totals.backward_s)} backward "
                f"in {quantity(b.totals.walks, 'walk')}"
            )
    lines.append(f"📈 Level now: {data.level}")
    if data.earlier_moves:
        lines.append(f"  Latest {len(data.level_moves)} changes (/export has them all):")
    for move in data.level_moves:
        when = _day_label(local_date(move.changed_at, data.zone))
        lines.append(f"  {when}: level {_move_words(move)}")
    if data.tests:
        latest = f" (latest {len(data.tests)}; /export has them all)" if data.earlier_tests else ""
        lines.append(f"⏱ Six-minute tests{latest}:")
        for test in data.tests:
            when = _day_label(local_date(test.when, data.zone))
            lines.append(f"  {when}: {format_distance(test.metres, data.units)} {test.direction}")
    return "\n".join(lines)
