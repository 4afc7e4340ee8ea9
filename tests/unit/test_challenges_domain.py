"""Challenge windows in the group's zone (across clock changes), the posting calendar, ranking
with shared ties, and the words and bars a board is made of."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walkbot.domain.challenges import (
    BOARD_CATCH_UP,
    Entry,
    board_decision,
    display_name,
    first_board_at,
    last_call_at,
    most_improved,
    next_board_at,
    progress_bar,
    ranked,
    score_text,
    window,
    window_from,
    winners,
)

LONDON = "Europe/London"
TZ = ZoneInfo(LONDON)
POST = time(19, 0)


def london(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A London wall-clock time, as the UTC instant the services store."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


# --- windows ---------------------------------------------------------------------------------


def test_a_monday_window_across_spring_forward_is_167_hours_of_local_midnights() -> None:
    # Clocks go forward in London on Sunday 28 March 2027.
    w = window(london(2027, 3, 18, 10, 0), days=7, start="monday", zone=LONDON)
    assert w.starts_at == london(2027, 3, 22, 0, 0)
    assert w.ends_at == london(2027, 3, 29, 0, 0)
    assert hours(w.ends_at - w.starts_at) == 167
    assert len(w.day_starts) == 7
    assert [d.astimezone(TZ).time() for d in w.day_starts] == [time(0, 0)] * 7
    assert [d.astimezone(TZ).date() for d in w.day_starts] == [
        date(2027, 3, 22) + timedelta(days=i) for i in range(7)
    ]


def test_a_window_across_autumn_is_169_hours() -> None:
    # Clocks go back in London on Sunday 25 October 2026.
    w = window(london(2026, 10, 14, 9, 0), days=7, start="monday", zone=LONDON)
    assert w.starts_at == london(2026, 10, 19, 0, 0)
    assert hours(w.ends_at - w.starts_at) == 169
    assert w.day_starts[6] == london(2026, 10, 25, 0, 0)
    assert hours(w.ends_at - w.day_starts[6]) == 25


def test_a_now_window_starts_now_and_ends_at_the_midnight_after_day_n() -> None:
    now = london(2026, 6, 3, 15, 30)  # a Wednesday
    w = window(now, days=14, start="now", zone=LONDON)
    assert w.starts_at == now
    assert w.day_starts[0] == now
    assert w.day_starts[1] == london(2026, 6, 4, 0, 0)
    assert w.ends_at == london(2026, 6, 17, 0, 0)
    assert len(w.day_starts) == 14


def test_monday_means_the_next_monday_even_on_a_monday() -> None:
    on_monday = london(2026, 6, 1, 8, 0)
    w = window(on_monday, days=7, start="monday", zone=LONDON)
    assert w.starts_at == london(2026, 6, 8, 0, 0)


def test_monday_is_in_the_groups_zone_not_utc() -> None:
    # Sunday 23:30 UTC is already Monday in Auckland: the next Monday there is a week later.
    now = datetime(2026, 6, 7, 23, 30, tzinfo=UTC)
    w = window(now, days=7, start="monday", zone="Pacific/Auckland")
    assert w.starts_at.astimezone(ZoneInfo("Pacific/Auckland")).date() == date(2026, 6, 15)


def test_day_index_at_the_boundaries() -> None:
    w = window(london(2026, 6, 1, 8, 0), days=7, start="monday", zone=LONDON)
    assert w.day_index(w.starts_at) == 0
    assert w.day_index(w.starts_at - timedelta(microseconds=1)) is None
    assert w.day_index(w.ends_at) is None
    assert w.day_index(w.ends_at - timedelta(microseconds=1)) == 6
    assert w.day_index(w.day_starts[3]) == 3
    assert w.day_index(w.day_starts[3] - timedelta(seconds=1)) == 2


def test_days_left_counts_today_and_is_zero_after() -> None:
    w = window(london(2026, 6, 1, 8, 0), days=7, start="monday", zone=LONDON)
    assert w.days_left(w.starts_at - timedelta(days=2)) == 7
    assert w.days_left(w.starts_at) == 7
    assert w.days_left(w.day_starts[4] + timedelta(hours=5)) == 3
    assert w.days_left(w.ends_at - timedelta(seconds=1)) == 1
    assert w.days_left(w.ends_at) == 0


def test_week_starts_are_every_seventh_local_midnight() -> None:
    w = window(london(2027, 3, 10, 8, 0), days=28, start="monday", zone=LONDON)
    assert w.week_starts() == (w.day_starts[0], w.day_starts[7], w.day_starts[14], w.day_starts[21])
    assert [d.astimezone(TZ).weekday() for d in w.week_starts()] == [0, 0, 0, 0]


def test_a_stored_window_is_rebuilt_the_same() -> None:
    w = window(london(2026, 10, 20, 13, 0), days=14, start="now", zone=LONDON)
    assert window_from(w.starts_at, days=14, zone=LONDON) == w


@given(
    # Hypothesis takes naive bounds and attaches the zone itself.
    now=st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001
        max_value=datetime(2035, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    days=st.sampled_from((7, 14, 28)),
    start=st.sampled_from(("now", "monday")),
    zone=st.sampled_from((LONDON, "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")),
)
def test_every_window_is_days_of_consecutive_local_days(
    now: datetime, days: int, start: str, zone: str
) -> None:
    w = window(now, days=days, start=start, zone=zone)  # type: ignore[arg-type]
    tz = ZoneInfo(zone)
    assert len(w.day_starts) == days
    assert list(w.day_starts) == sorted(set(w.day_starts))
    assert w.starts_at >= now if start == "monday" else w.starts_at == now
    dates = [d.astimezone(tz).date() for d in (*w.day_starts, w.ends_at)]
    assert all(b - a == timedelta(days=1) for a, b in pairwise(dates))
    assert w.ends_at.astimezone(tz).time() == time(0, 0)
    for i, begins in enumerate(w.day_starts):
        assert w.day_index(begins) == i
    assert w.days_left(w.starts_at) == days


# --- the posting calendar --------------------------------------------------------------------


def test_daily_boards_skip_the_last_call_day_and_stop_at_the_end() -> None:
    launched = london(2026, 5, 28, 12, 0)
    w = window(launched, days=7, start="monday", zone=LONDON)
    posts = []
    at = first_board_at(w, POST, after=launched)
    while at is not None:
        posts.append(at)
        at = next_board_at(w, POST, after=at)
    assert posts == [london(2026, 6, d, 19, 0) for d in (1, 2, 3, 4, 6, 7)]
    assert last_call_at(w, POST) == london(2026, 6, 5, 19, 0)  # 3 days left: 5, 6, 7 June
    assert w.days_left(last_call_at(w, POST)) == 3


def test_no_board_before_a_monday_start_nor_before_a_now_launch() -> None:
    launched = london(2026, 6, 3, 20, 0)  # after today's post time
    w = window(launched, days=7, start="now", zone=LONDON)
    assert first_board_at(w, POST, after=launched) == london(2026, 6, 4, 19, 0)
    earlier = london(2026, 6, 3, 9, 0)
    w2 = window(earlier, days=7, start="now", zone=LONDON)
    assert first_board_at(w2, POST, after=earlier) == london(2026, 6, 3, 19, 0)
    assert next_board_at(w2, POST, after=w2.ends_at) is None


def test_a_post_time_keeps_its_wall_clock_across_the_clock_change() -> None:
    w = window(london(2027, 3, 18, 10, 0), days=7, start="monday", zone=LONDON)
    saturday = next_board_at(w, POST, after=london(2027, 3, 27, 12, 0))
    sunday = next_board_at(w, POST, after=saturday or w.ends_at)
    assert saturday == datetime(2027, 3, 27, 19, 0, tzinfo=UTC)  # GMT
    assert sunday == datetime(2027, 3, 28, 18, 0, tzinfo=UTC)  # BST: still 19:00 on the wall


def test_board_decision_sends_within_the_catch_up_and_skips_after() -> None:
    due = london(2026, 6, 1, 19, 0)
    assert board_decision(due, due) == "send"
    assert board_decision(due, due + BOARD_CATCH_UP) == "send"
    assert board_decision(due, due + BOARD_CATCH_UP + timedelta(seconds=1)) == "skip"


# --- ranking ---------------------------------------------------------------------------------


def test_ties_share_a_rank_and_the_next_rank_skips() -> None:
    entries = [Entry(1, "Cara", 10), Entry(2, "Ann", 30), Entry(3, "Bob", 30), Entry(4, "Dan", 5)]
    placed = ranked(entries)
    assert [(p.rank, p.entry.name, p.shared) for p in placed] == [
        (1, "Ann", True),
        (1, "Bob", True),
        (3, "Cara", False),
        (4, "Dan", False),
    ]


def test_everyone_on_nothing_shares_first_place_but_nobody_wins() -> None:
    entries = [Entry(1, "Ann", 0), Entry(2, "Bob", 0)]
    assert [(p.rank, p.shared) for p in ranked(entries)] == [(1, True), (1, True)]
    assert winners(entries) == []
    assert ranked([]) == [] and winners([]) == []


def test_winners_share_the_top_score() -> None:
    entries = [Entry(1, "Bob", 12), Entry(2, "Ann", 12), Entry(3, "Cy", 3)]
    assert [e.name for e in winners(entries)] == ["Ann", "Bob"]


def test_most_improved_is_against_their_own_first_week() -> None:
    beginner = Entry(1, "Ann", 20, first_week=2, best_later_week=18)
    regular = Entry(2, "Bob", 90, first_week=40, best_later_week=50)
    steady = Entry(3, "Cy", 30, first_week=15, best_later_week=15)
    assert most_improved([beginner, regular, steady]) == [beginner]
    assert most_improved([steady]) == []
    twin = Entry(4, "Di", 16, first_week=0, best_later_week=16)
    assert most_improved([beginner, twin]) == [beginner, twin]


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=30))
def test_a_rank_is_one_more_than_the_number_strictly_ahead(scores: list[int]) -> None:
    entries = [Entry(i, f"P{i}", s) for i, s in enumerate(scores)]
    for p in ranked(entries):
        assert p.rank == 1 + sum(s > p.entry.score for s in scores)
        assert p.shared == (scores.count(p.entry.score) > 1)


# --- words and bars --------------------------------------------------------------------------


def test_display_names_are_bounded_initialled_and_never_empty() -> None:
    assert display_name("Ann", "name") == "Ann"
    assert display_name("  Mary\nAnn ", "name") == "Mary Ann"
    long = display_name("Bartholomew-Maximilian the Third", "name")
    assert len(long) == 20 and long.endswith("…")
    assert display_name("mary ann", "initials") == "M. A."
    assert display_name("Ann", "initials") == "A."
    assert display_name("", "name") == "Walker"
    assert display_name("   ", "initials") == "Walker"
    assert display_name("🙂", "initials") == "Walker"


def test_progress_bar() -> None:
    assert progress_bar(0, 100) == "░" * 10
    assert progress_bar(42, 100) == "▓▓▓▓░░░░░░"
    assert progress_bar(250, 100) == "▓" * 10
    assert progress_bar(5, 0) == "░" * 10
    assert progress_bar(1, 3, width=3) == "▓░░"


@pytest.mark.parametrize(
    ("measure", "value", "text"),
    [
        ("minutes", 42, "42 min"),
        ("minutes", 1, "1 min"),
        ("walks", 1, "1 walk"),
        ("walks", 3, "3 walks"),
        ("walks", 0, "0 walks"),
        ("days", 1, "1 day"),
        ("days", 5, "5 days"),
    ],
)
def test_score_text(measure: str, value: int, text: str) -> None:
    assert score_text(measure, value) == text  # type: ignore[arg-type]
