"""Weekly aggregation in SQL: week boundaries in the person's zone (a clock change, +14 and -11),
the streak with rest weeks and beyond the first window, all-time best week, bounded queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from tests.people import add_onboarded_person
from walkbot.domain import summary as domain
from walkbot.services import summaries
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import LevelChange, RestPeriod, User, Walk

PNG = b"\x89PNG\r\n\x1a\n"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def make_user(sessions: SessionFactory, zone: str, *, user_id: int = 1) -> None:
    async with transaction(sessions) as session:
        await add_onboarded_person(
            session, user_id, "Walker", now=utc(2020, 1, 1), zone=zone, level=3
        )


def a_walk(user_id: int, started: datetime, backward_s: int = 60, **fields: Any) -> Walk:
    values: dict[str, Any] = dict(
        user_id=user_id,
        plan={},
        status="ended",
        created_at=started,
        started_at=started,
        ended_at=started + timedelta(minutes=15),
        end_reason="finished",
        backward_s=backward_s,
        active_s=900,
        effort=5,
    )
    values.update(fields)
    return Walk(**values)


async def add(sessions: SessionFactory, *rows: Any) -> None:
    async with transaction(sessions) as session:
        session.add_all(list(rows))


async def load_user(sessions: SessionFactory, user_id: int = 1) -> User:
    async with transaction(sessions) as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user


async def report(
    sessions: SessionFactory, now: datetime, week: domain.Which = "this"
) -> summaries.WeeklyReport:
    user = await load_user(sessions)
    async with transaction(sessions) as session:
        return await summaries.weekly_report(session, user=user, now=now, week=week)


async def gathered(
    sessions: SessionFactory, now: datetime, week: domain.Which = "this"
) -> domain.WeekReportData:
    user = await load_user(sessions)
    async with transaction(sessions) as session:
        return await summaries.gather_week(session, user=user, now=now, week=week)


@contextmanager
def walk_queries(sessions: SessionFactory) -> Iterator[list[str]]:
    """The SELECTs on walks run inside the block."""
    engine = sessions.kw["bind"].sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "walks" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- week boundaries -------------------------------------------------------------------------


async def test_weekly_totals_split_at_local_midnight_across_the_spring_change(
    sessions: SessionFactory,
) -> None:
    zone = "Europe/London"
    await make_user(sessions, zone)
    await add(
        sessions,
        a_walk(1, utc(2026, 3, 22, 23, 59), 1),  # Sunday 22 March GMT: the week before
        a_walk(1, utc(2026, 3, 23, 0, 0), 10),  # Monday 00:00 GMT: the first instant
        a_walk(1, utc(2026, 3, 29, 22, 30), 20),  # Sunday 23:30 BST
        a_walk(1, utc(2026, 3, 29, 23, 0), 300),  # Monday 30 March 00:00 BST: next week
        a_walk(1, utc(2026, 3, 29, 23, 30), 400),
    )
    windows = domain.windows_back(date(2026, 3, 30), 2, zone)
    async with transaction(sessions) as session:
        totals = await summaries.weekly_totals(session, user_id=1, windows=windows)
    assert [(t.walks, t.backward_s) for t in totals] == [(2, 30), (2, 700)]


async def test_autumn_change_week_has_its_extra_hour(sessions: SessionFactory) -> None:
    zone = "Europe/London"
    await make_user(sessions, zone)
    await add(
        sessions,
        a_walk(1, utc(2026, 10, 18, 23, 30), 10),  # Monday 19 Oct 00:30 BST
        a_walk(1, utc(2026, 10, 25, 23, 30), 20),  # Sunday 25 Oct 23:30 GMT: same week
        a_walk(1, utc(2026, 10, 26, 0, 30), 40),  # Monday 26 Oct: next week
    )
    data = await gathered(sessions, utc(2026, 10, 26, 12), "last")
    assert data.window.monday == date(2026, 10, 19)
    assert (data.totals.walks, data.totals.backward_s) == (2, 30)
    assert [d.walks for d in data.days] == [1, 0, 0, 0, 0, 0, 1]


@pytest.mark.parametrize(
    ("zone", "monday_starts", "now"),
    [
        # +14: their Monday 30 November begins ten hours into the UTC Sunday; now is 14:00 there.
        ("Pacific/Kiritimati", utc(2026, 11, 29, 10), utc(2026, 11, 30, 0)),
        # -11: it begins eleven hours into the UTC Monday; now is 01:00 there.
        ("Pacific/Pago_Pago", utc(2026, 11, 30, 11), utc(2026, 11, 30, 12)),
    ],
)
async def test_far_zones_start_the_week_at_their_own_monday_midnight(
    sessions: SessionFactory, zone: str, monday_starts: datetime, now: datetime
) -> None:
    await make_user(sessions, zone)
    await add(
        sessions,
        a_walk(1, monday_starts - timedelta(minutes=30), 60),  # Sunday 23:30 on their wall
        a_walk(1, monday_starts + timedelta(minutes=30), 120),  # Monday 00:30 on their wall
    )
    this = await report(sessions, now, "this")
    assert (this.data.window.start, this.data.window.monday) == (monday_starts, date(2026, 11, 30))
    assert (this.data.totals.walks, this.data.totals.backward_s) == (1, 120)
    assert this.data.days[0].walks == 1
    assert this.chart is not None and this.chart.startswith(PNG)
    last = await gathered(sessions, now, "last")
    assert (last.totals.walks, last.totals.backward_s) == (1, 60)
    assert last.days[6].walks == 1
    assert last.trend[-1] == (date(2026, 11, 23), 60)


async def test_only_ended_walks_with_some_walking_count(sessions: SessionFactory) -> None:
    await make_user(sessions, "UTC")
    monday = utc(2026, 11, 23, 9)
    await add(
        sessions,
        a_walk(1, monday, 60),
        a_walk(1, monday + timedelta(hours=1), 0, active_s=0),  # stopped before walking
        a_walk(1, monday + timedelta(hours=2), 0, status="active", ended_at=None, active_s=0),
        a_walk(1, monday + timedelta(hours=3), 30, end_reason="need_to_stop"),  # still counts
    )
    data = await gathered(sessions, utc(2026, 11, 25, 12))
    assert (data.totals.walks, data.totals.backward_s) == (2, 90)


# --- streak ----------------------------------------------------------------------------------


def three_walks(user_id: int, monday: date, backward_s: int = 60) -> list[Walk]:
    start = datetime(monday.year, monday.month, monday.day, 9, tzinfo=UTC)
    return [a_walk(user_id, start + timedelta(days=d), backward_s) for d in (0, 2, 4)]


NOW = utc(2026, 11, 25, 12)  # Wednesday; this week is Monday 23 November (UTC user)
THIS_MONDAY = date(2026, 11, 23)


def monday_back(weeks: int) -> date:
    return THIS_MONDAY - timedelta(weeks=weeks)


async def test_a_holiday_week_neither_counts_nor_breaks_the_streak(
    sessions: SessionFactory,
) -> None:
    await make_user(sessions, "UTC")
    await add(
        sessions,
        *three_walks(1, monday_back(1)),
        # monday_back(2): on holiday, one walk only
        a_walk(1, utc(2026, 11, 10, 9)),
        *three_walks(1, monday_back(3)),
        # monday_back(4): not on holiday, nothing done: the streak ends here
        *three_walks(1, monday_back(5)),
        RestPeriod(
            user_id=1, starts_at=utc(2026, 11, 8), ends_at=utc(2026, 11, 12), created_at=NOW
        ),
    )
    this = await gathered(sessions, NOW, "this")
    assert this.streak == 2  # this week is under way (0 walks) and does not break it
    assert (await gathered(sessions, NOW, "last")).streak == 2


@pytest.mark.parametrize(
    ("rest", "streak"),
    [
        (timedelta(seconds=30), 1),  # /pause then /resume straight away: the week is missed
        (timedelta(hours=23, minutes=59), 1),
        (timedelta(days=1), 2),  # a whole day of rest: skipped, the streak runs on past it
    ],
)
async def test_only_a_whole_day_of_rest_excuses_a_missed_week(
    sessions: SessionFactory, rest: timedelta, streak: int
) -> None:
    await make_user(sessions, "UTC")
    paused = utc(2026, 11, 11, 9)  # Wednesday of monday_back(2), in which nothing was walked
    await add(
        sessions,
        *three_walks(1, monday_back(1)),
        *three_walks(1, monday_back(3)),
        RestPeriod(user_id=1, starts_at=paused, ends_at=paused + rest, created_at=paused),
    )
    assert (await gathered(sessions, NOW, "last")).streak == streak


async def test_without_the_holiday_the_short_week_breaks_it(sessions: SessionFactory) -> None:
    await make_user(sessions, "UTC")
    await add(sessions, *three_walks(1, monday_back(1)), *three_walks(1, monday_back(3)))
    assert (await gathered(sessions, NOW)).streak == 1


async def test_this_week_adds_to_the_streak_once_the_target_is_met(
    sessions: SessionFactory,
) -> None:
    await make_user(sessions, "UTC")
    await add(sessions, *three_walks(1, monday_back(1)))
    await add(sessions, *three_walks(1, THIS_MONDAY)[:2])
    assert (await gathered(sessions, NOW)).streak == 1
    await add(sessions, a_walk(1, utc(2026, 11, 25, 10)))
    assert (await gathered(sessions, NOW)).streak == 2


async def test_a_long_streak_is_followed_past_the_first_window(sessions: SessionFactory) -> None:
    await make_user(sessions, "Europe/London")  # 30 weeks include two clock changes
    walks = [w for n in range(1, 31) for w in three_walks(1, monday_back(n))]
    await add(sessions, *walks)
    with walk_queries(sessions) as queries:
        data = await gathered(sessions, NOW, "last")
    assert data.streak == 30
    # week totals + week rows + first walk + one 52-week window: not one query per week
    assert len(queries) == 4, queries


async def test_a_streak_broken_inside_the_first_window_asks_no_more(
    sessions: SessionFactory,
) -> None:
    await make_user(sessions, "UTC")
    walks = [w for n in [*range(1, 6), *range(7, 200)] for w in three_walks(1, monday_back(n))]
    await add(sessions, *walks)
    with walk_queries(sessions) as queries:
        data = await gathered(sessions, NOW, "this")
    assert data.streak == 5
    assert len(queries) == 2  # the 12-week totals and this week's rows


async def test_a_gap_beyond_the_first_window_ends_the_streak_there(
    sessions: SessionFactory,
) -> None:
    await make_user(sessions, "UTC")
    weeks = [n for n in range(1, 80) if n != 20]
    await add(sessions, *[w for n in weeks for w in three_walks(1, monday_back(n))])
    assert (await gathered(sessions, NOW, "last")).streak == 19


# --- the report and /stats -------------------------------------------------------------------


async def test_trend_has_twelve_weeks_ending_with_the_reported_one(
    sessions: SessionFactory,
) -> None:
    await make_user(sessions, "UTC")
    await add(sessions, *three_walks(1, monday_back(11), 100), *three_walks(1, THIS_MONDAY, 20))
    data = await gathered(sessions, NOW)
    assert len(data.trend) == 12
    assert data.trend[0] == (monday_back(11), 300)
    assert data.trend[-1] == (THIS_MONDAY, 60)
    assert all(seconds == 0 for _, seconds in data.trend[1:-1])


async def test_the_chart_failing_leaves_the_text(
    sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from walkbot import charts

    def broken(*_: object) -> bytes:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(charts, "week_chart", broken)
    await make_user(sessions, "UTC")
    result = await report(sessions, NOW)
    assert result.chart is None and result.text.startswith("Your week so far")


async def test_best_week_is_found_across_several_yearly_windows(sessions: SessionFactory) -> None:
    await make_user(sessions, "America/New_York")
    walks = [w for n in range(0, 130) for w in three_walks(1, monday_back(n), 60)]
    best_monday = monday_back(100)
    walks.append(a_walk(1, datetime(2024, 12, 25, 15, tzinfo=UTC), 1000))  # week of 23 Dec 2024
    await add(sessions, *walks)
    user = await load_user(sessions)
    async with transaction(sessions) as session:
        stats = await summaries.all_time_stats(session, user=user, now=NOW)
    assert best_monday == date(2024, 12, 23)
    assert stats.data.best is not None
    assert stats.data.best.monday == best_monday
    assert stats.data.best.totals.walks == 4
    assert stats.data.totals.walks == 391
    assert "Best week: Mon 23 Dec" in stats.text


async def test_stats_for_someone_without_walks(sessions: SessionFactory) -> None:
    await make_user(sessions, "UTC")
    user = await load_user(sessions)
    async with transaction(sessions) as session:
        stats = await summaries.all_time_stats(session, user=user, now=NOW)
    assert stats.data.best is None and stats.text.startswith("No walks yet")


async def test_stats_say_when_they_show_only_the_latest_level_changes(
    sessions: SessionFactory,
) -> None:
    await make_user(sessions, "UTC")

    async def add_changes(days: range) -> summaries.AllTimeStats:
        async with transaction(sessions) as session:
            for day in days:
                back = day % 2  # back and forth between levels 1 and 2, one change a day
                session.add(
                    LevelChange(
                        user_id=1,
                        changed_at=NOW - timedelta(days=40 - day),
                        from_level=1 + back,
                        to_level=2 - back,
                        reason="chose_back",
                    )
                )
        user = await load_user(sessions)
        async with transaction(sessions) as session:
            return await summaries.all_time_stats(session, user=user, now=NOW)

    cap = summaries.STATS_LEVEL_MOVES
    all_shown = await add_changes(range(cap))
    assert len(all_shown.data.level_moves) == cap
    assert "/export has them all" not in all_shown.text
    one_more = await add_changes(range(cap, cap + 1))
    assert len(one_more.data.level_moves) == cap
    assert one_more.data.level_moves[-1].changed_at == NOW - timedelta(days=40 - cap)
    assert f"Latest {cap} changes (/export has them all):" in one_more.text
