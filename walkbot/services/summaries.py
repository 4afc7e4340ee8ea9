"""Weekly summaries (/summary, and the dispatcher's weekly message) and all-time /stats.

Every number comes from SQL aggregates over the (user_id, started_at) index, so the cost does
not grow with a person's history:

- The week's totals and the 12-week trend: ONE query. The 13 week boundaries are computed here
  in the person's zone (weeks across a clock change are 167 or 169 hours) and passed to SQL as a
  CASE that buckets `started_at`; the range scan touches only the last 12 weeks' rows.
- Per-day bars: the reported week's own rows (a handful) are loaded and bucketed by local day.
- The streak: the 12 weeks already fetched are read newest first; only if all of them met the
  target (or were rest weeks) does it look further back, 52 weeks per query, and it stops at
  the first missed week or at the week of the first walk. A five-year streak costs five small
  grouped queries; a broken one costs none beyond the first.
- /stats' best week: all-time, so it must visit every week once; it does so in 52-week CASE
  windows from the first walk (one grouped range query per year of history, returning at most
  52 rows), never loading walks into Python.

A walk counts when it ended with some active time (stopping early is never a failure).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import case, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from walkbot.domain import summary as domain
from walkbot.domain.programme import describe_level
from walkbot.domain.schedule import local_date, monday_of
from walkbot.domain.summary import LevelMove, TestResult, Totals, WeekWindow
from walkbot.services.users import zone_of
from walkbot.services.walks import counted
from walkbot.store.models import LevelChange, RestPeriod, SixMinuteTest, User, Walk

log = logging.getLogger(__name__)

STREAK_WINDOW_WEEKS = 52
MAX_STREAK_WINDOWS = 60  # a safety bound: sixty years of unbroken weeks
STATS_LEVEL_MOVES = 8
STATS_TESTS = 6


@dataclass(frozen=True)
class WeeklyReport:
    text: str
    chart: bytes | None  # PNG, or None when it could not be drawn
    data: domain.WeekReportData


@dataclass(frozen=True)
class AllTimeStats:
    text: str
    data: domain.StatsData


# --- queries ---------------------------------------------------------------------------------


async def weekly_totals(
    session: AsyncSession, *, user_id: int, windows: list[WeekWindow]
) -> list[Totals]:
    """Totals for each of `windows` (consecutive, oldest first) in one grouped range query."""
    if not windows:
        return []
    bounds = domain.boundaries(windows)
    started = col(Walk.started_at)
    bucket = case(*[(started < end, i) for i, end in enumerate(bounds[1:])], else_=-1)
    rows = (
        Select(
            bucket.label("week"),
            col(Walk.backward_s).label("backward_s"),
            col(Walk.active_s).label("active_s"),
            col(Walk.effort).label("effort"),
            col(Walk.knee_pain).label("knee_pain"),
        )
        .where(*counted(user_id), started >= bounds[0], started < bounds[-1])
        .subquery()
    )
    # sqlmodel's select() is typed for up to four columns; for more it builds this same Select,
    # and the annotation states the row shape that the SQL returns.
    columns: Select[int, int, int, int, int, int, int, int] = Select(
        rows.c.week,
        func.count(),
        func.coalesce(func.sum(rows.c.backward_s), 0),
        func.coalesce(func.sum(rows.c.active_s), 0),
        func.coalesce(func.sum(rows.c.effort), 0),
        func.count(rows.c.effort),
        func.coalesce(func.sum(rows.c.knee_pain), 0),
        func.count(rows.c.knee_pain),
    )
    grouped = columns.group_by(rows.c.week)
    found = [Totals() for _ in windows]
    for week, *values in (await session.exec(grouped)).all():
        if 0 <= week < len(windows):
            found[week] = Totals(*(int(v) for v in values))
    return found


async def rest_periods(
    session: AsyncSession, *, user_id: int, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    statement = select(RestPeriod.starts_at, RestPeriod.ends_at).where(
        RestPeriod.user_id == user_id, RestPeriod.starts_at < end, RestPeriod.ends_at > start
    )
    return [(a, b) for a, b in (await session.exec(statement)).all()]


async def first_walk_at(session: AsyncSession, *, user_id: int) -> datetime | None:
    statement = (
        select(Walk.started_at).where(*counted(user_id)).order_by(col(Walk.started_at)).limit(1)
    )
    return (await session.exec(statement)).first()


async def week_rows(
    session: AsyncSession, *, user_id: int, window: WeekWindow
) -> list[domain.WalkRow]:
    started = col(Walk.started_at)
    columns: Select[datetime | None, int, int, int | None, int | None] = Select(
        started,
        col(Walk.backward_s),
        col(Walk.active_s),
        col(Walk.effort),
        col(Walk.knee_pain),
    )
    statement = columns.where(*counted(user_id), started >= window.start, started < window.end)
    return [
        domain.WalkRow(s, b, a, e, k)
        for s, b, a, e, k in (await session.exec(statement)).all()
        if s is not None
    ]


async def level_moves(
    session: AsyncSession,
    *,
    user_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    latest: int | None = None,
) -> list[LevelMove]:
    statement = select(LevelChange).where(LevelChange.user_id == user_id)
    if start is not None:
        statement = statement.where(LevelChange.changed_at >= start)
    if end is not None:
        statement = statement.where(LevelChange.changed_at < end)
    statement = statement.order_by(col(LevelChange.changed_at).desc())
    if latest is not None:
        statement = statement.limit(latest)
    rows = (await session.exec(statement)).all()
    moves = [LevelMove(r.changed_at, r.from_level, r.to_level, r.reason) for r in rows]
    return moves[::-1]


async def done_tests(session: AsyncSession, *, user_id: int, latest: int) -> list[TestResult]:
    statement = (
        select(SixMinuteTest)
        .where(
            SixMinuteTest.user_id == user_id,
            SixMinuteTest.status == "done",
            col(SixMinuteTest.metres).is_not(None),
        )
        .order_by(col(SixMinuteTest.started_at).desc())
        .limit(latest)
    )
    rows = (await session.exec(statement)).all()
    results = [
        TestResult(r.ended_at or r.started_at or r.created_at, r.direction, float(r.metres or 0))
        for r in rows
    ]
    return results[::-1]


# --- the streak ------------------------------------------------------------------------------


async def _states(
    session: AsyncSession,
    *,
    user: User,
    windows: list[WeekWindow],
    totals: list[Totals],
    now: datetime,
) -> list[domain.WeekState]:
    """Each window's state, newest first."""
    rests = await rest_periods(
        session, user_id=user.telegram_id, start=windows[0].start, end=windows[-1].end
    )
    target = user.weekly_target or domain.DEFAULT_TARGET
    return [
        domain.week_state(
            t.walks,
            target,
            rested=domain.rested_week(w, rests),
            in_progress=now < w.end,
        )
        for w, t in zip(reversed(windows), reversed(totals), strict=True)
    ]


async def streak_weeks(
    session: AsyncSession,
    *,
    user: User,
    windows: list[WeekWindow],
    totals: list[Totals],
    now: datetime,
) -> int:
    """Weeks in a row on target, ending with the newest of `windows` (whose totals are known),
    looking further back one 52-week window at a time only while the streak holds."""
    zone = zone_of(user)
    streak = domain.count_streak(
        await _states(session, user=user, windows=windows, totals=totals, now=now)
    )
    if streak.broken:
        return streak.weeks
    first = await first_walk_at(session, user_id=user.telegram_id)
    if first is None:
        return streak.weeks
    first_monday = monday_of(local_date(first, zone))
    oldest = windows[0].monday
    for _ in range(MAX_STREAK_WINDOWS):
        if oldest <= first_monday:
            break  # no walks before this: the streak began here
        newest = oldest - timedelta(weeks=1)
        count = min(STREAK_WINDOW_WEEKS, (newest - first_monday).days // 7 + 1)
        earlier = domain.windows_back(newest, count, zone)
        earlier_totals = await weekly_totals(session, user_id=user.telegram_id, windows=earlier)
        states = await _states(session, user=user, windows=earlier, totals=earlier_totals, now=now)
        streak = domain.count_streak(states, carried=streak.weeks)
        if streak.broken:
            break
        oldest = earlier[0].monday
    return streak.weeks


# --- the weekly report -----------------------------------------------------------------------


def _next_plan(level: int) -> str | None:
    try:
        return f"level {level}, {describe_level(level)}"
    except (KeyError, ValueError, IndexError):  # a level the programme no longer has
        return None


async def gather_week(
    session: AsyncSession, *, user: User, now: datetime, week: domain.Which
) -> domain.WeekReportData:
    """The SQL part of a weekly report: every value the text and the chart need."""
    zone = zone_of(user)
    window = domain.report_window(now, zone, week)
    windows = domain.windows_back(window.monday, domain.TREND_WEEKS, zone)
    totals = await weekly_totals(session, user_id=user.telegram_id, windows=windows)
    rows = await week_rows(session, user_id=user.telegram_id, window=window)
    streak = await streak_weeks(session, user=user, windows=windows, totals=totals, now=now)
    moves = await level_moves(session, user_id=user.telegram_id, start=window.start, end=window.end)
    tests = await done_tests(session, user_id=user.telegram_id, latest=1)
    this_week = totals[-1]
    before = domain.total(totals[-1 - domain.KNEE_BASELINE_WEEKS : -1])
    return domain.WeekReportData(
        which=week,
        zone=zone,
        window=window,
        target=user.weekly_target or domain.DEFAULT_TARGET,
        totals=this_week,
        days=domain.per_day(rows, window, zone),
        trend=[(w.monday, t.backward_s) for w, t in zip(windows, totals, strict=True)],
        streak=streak,
        knee=domain.knee_line(this_week, before),
        level=user.level,
        level_moves=moves,
        latest_test=tests[-1] if tests else None,
        next_plan=_next_plan(user.level),
        units=user.units,
    )


def _draw(data: domain.WeekReportData) -> bytes:
    from walkbot import charts  # matplotlib loads on first use, in the worker thread

    return charts.week_chart(data)


async def draw_chart(data: domain.WeekReportData) -> bytes | None:
    """The week's chart as PNG, drawn off the event loop; None if it cannot be drawn."""
    try:
        return await asyncio.to_thread(_draw, data)
    except Exception:  # a missing font or library must never cost the person their summary
        log.exception("could not draw the weekly chart")
        return None


async def report_from(data: domain.WeekReportData) -> WeeklyReport:
    """The text and chart for gathered data: no database, so a handler can close its
    transaction before drawing."""
    return WeeklyReport(domain.summary_text(data), await draw_chart(data), data)


async def weekly_report(
    session: AsyncSession, *, user: User, now: datetime, week: Literal["this", "last"]
) -> WeeklyReport:
    """This week so far, or last week, as a message text and a PNG chart (None if the chart
    could not be drawn)."""
    return await report_from(await gather_week(session, user=user, now=now, week=week))


# --- /stats ----------------------------------------------------------------------------------


async def all_time_totals(session: AsyncSession, *, user_id: int) -> Totals:
    columns: Select[int, int, int, int, int, int, int] = Select(
        func.count(),
        func.coalesce(func.sum(Walk.backward_s), 0),
        func.coalesce(func.sum(Walk.active_s), 0),
        func.coalesce(func.sum(Walk.effort), 0),
        func.count(col(Walk.effort)),
        func.coalesce(func.sum(Walk.knee_pain), 0),
        func.count(col(Walk.knee_pain)),
    )
    statement = columns.where(*counted(user_id))
    row = (await session.exec(statement)).one()
    return Totals(*(int(v) for v in row))


async def best_week(
    session: AsyncSession, *, user: User, first: datetime, now: datetime
) -> domain.BestWeek | None:
    """The week with most backward time, from the first walk's week to this one, one 52-week
    grouped query at a time."""
    zone = zone_of(user)
    monday = monday_of(local_date(first, zone))
    last_monday = monday_of(local_date(now, zone))
    best: domain.BestWeek | None = None
    while monday <= last_monday:
        count = min(STREAK_WINDOW_WEEKS, (last_monday - monday).days // 7 + 1)
        newest = monday + timedelta(weeks=count - 1)
        windows = domain.windows_back(newest, count, zone)
        totals = await weekly_totals(session, user_id=user.telegram_id, windows=windows)
        for window, week_totals in zip(windows, totals, strict=True):
            if week_totals.walks:
                best = domain.better_week(best, domain.BestWeek(window.monday, week_totals))
        monday = newest + timedelta(weeks=1)
    return best


async def all_time_stats(session: AsyncSession, *, user: User, now: datetime) -> AllTimeStats:
    user_id = user.telegram_id
    totals = await all_time_totals(session, user_id=user_id)
    first = await first_walk_at(session, user_id=user_id) if totals.walks else None
    best = await best_week(session, user=user, first=first, now=now) if first else None
    # One more than shown, to know whether to say these are only the latest.
    moves = await level_moves(session, user_id=user_id, latest=STATS_LEVEL_MOVES + 1)
    tests = await done_tests(session, user_id=user_id, latest=STATS_TESTS + 1)
    data = domain.StatsData(
        zone=zone_of(user),
        totals=totals,
        first_walk=first,
        best=best,
        level=user.level,
        level_moves=moves[-STATS_LEVEL_MOVES:],
        tests=tests[-STATS_TESTS:],
        units=user.units,
        earlier_moves=len(moves) > STATS_LEVEL_MOVES,
        earlier_tests=len(tests) > STATS_TESTS,
    )
    return AllTimeStats(domain.stats_text(data), data)
