from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from walkbot.domain.schedule import (
    catch_up_decision,
    local_date,
    next_local_occurrence,
    next_nudge_at,
    next_summary_at,
    same_local_day,
    snooze_until,
    wall_time_instant,
    week_bounds,
)

LONDON = "Europe/London"
EVERY_DAY = frozenset(range(7))
MON, WED, THU, FRI, SAT, SUN = 0, 2, 3, 4, 5, 6


def at_utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


# 2026: the UK clocks go forward at 01:00 UTC on Sunday 29 March, back at 01:00 UTC on
# Sunday 25 October.
@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (at_utc(2026, 3, 27, 12), at_utc(2026, 3, 28, 8)),  # Saturday, still GMT
        (at_utc(2026, 3, 28, 12), at_utc(2026, 3, 29, 7)),  # the change day itself, BST
        (at_utc(2026, 3, 29, 12), at_utc(2026, 3, 30, 7)),
        (at_utc(2026, 10, 23, 12), at_utc(2026, 10, 24, 7)),  # Saturday, still BST
        (at_utc(2026, 10, 24, 12), at_utc(2026, 10, 25, 8)),  # the change day itself, GMT
        (at_utc(2026, 10, 25, 12), at_utc(2026, 10, 26, 8)),
    ],
)
def test_london_eight_oclock_around_both_clock_changes(after: datetime, expected: datetime) -> None:
    result = next_local_occurrence(after, LONDON, EVERY_DAY, time(8, 0))
    assert result == expected
    assert local(expected, LONDON).time() == time(8, 0)


def test_result_is_strictly_after() -> None:
    eight = at_utc(2026, 1, 5, 8)  # Monday 08:00 GMT
    assert next_local_occurrence(eight, LONDON, EVERY_DAY, time(8, 0)) == at_utc(2026, 1, 6, 8)
    just_before = eight - timedelta(microseconds=1)
    assert next_local_occurrence(just_before, LONDON, EVERY_DAY, time(8, 0)) == eight


def test_wall_time_in_the_spring_gap_fires_when_the_gap_ends() -> None:
    # 01:30 never happens on 29 March 2026 in London: 01:00 GMT jumps to 02:00 BST.
    first = next_local_occurrence(at_utc(2026, 3, 28, 12), LONDON, EVERY_DAY, time(1, 30))
    assert first == at_utc(2026, 3, 29, 1)
    assert local(first, LONDON).time() == time(2, 0)
    following = next_local_occurrence(first, LONDON, EVERY_DAY, time(1, 30))
    assert following == at_utc(2026, 3, 30, 0, 30)  # 01:30 BST the next night


def test_wall_time_in_the_autumn_overlap_fires_once() -> None:
    # 01:30 happens twice on 25 October 2026: 00:30 UTC (BST) and 01:30 UTC (GMT).
    first = next_local_occurrence(at_utc(2026, 10, 24, 12), LONDON, EVERY_DAY, time(1, 30))
    assert first == at_utc(2026, 10, 25, 0, 30)
    following = next_local_occurrence(first, LONDON, EVERY_DAY, time(1, 30))
    assert following == at_utc(2026, 10, 26, 1, 30)  # the next day, not the second 01:30
    between = next_local_occurrence(at_utc(2026, 10, 25, 1), LONDON, EVERY_DAY, time(1, 30))
    assert between == at_utc(2026, 10, 26, 1, 30)


def test_autumn_overlap_on_the_only_chosen_day_moves_to_the_next_week() -> None:
    only_sunday = frozenset({SUN})
    first = next_local_occurrence(at_utc(2026, 10, 24, 12), LONDON, only_sunday, time(1, 30))
    assert first == at_utc(2026, 10, 25, 0, 30)
    assert next_local_occurrence(first, LONDON, only_sunday, time(1, 30)) == at_utc(
        2026, 11, 1, 1, 30
    )


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        # UTC-12: Monday 08:00 local is Monday 20:00 UTC.
        ("Etc/GMT+12", at_utc(2026, 1, 4, 12), at_utc(2026, 1, 5, 20)),
        # UTC+14: Monday 08:00 local is Sunday 18:00 UTC.
        ("Pacific/Kiritimati", at_utc(2026, 1, 1, 12), at_utc(2026, 1, 4, 18)),
        ("Asia/Kolkata", at_utc(2026, 1, 4, 12), at_utc(2026, 1, 5, 2, 30)),
        ("Asia/Kathmandu", at_utc(2026, 1, 4, 12), at_utc(2026, 1, 5, 2, 15)),
        ("America/St_Johns", at_utc(2026, 1, 4, 12), at_utc(2026, 1, 5, 11, 30)),  # -3:30
        ("America/St_Johns", at_utc(2026, 7, 5, 12), at_utc(2026, 7, 6, 10, 30)),  # -2:30
        ("Australia/Lord_Howe", at_utc(2026, 1, 3, 12), at_utc(2026, 1, 4, 21)),  # +11
        ("Australia/Lord_Howe", at_utc(2026, 7, 5, 12), at_utc(2026, 7, 5, 21, 30)),  # +10:30
    ],
)
def test_monday_eight_oclock_in_odd_offsets(zone: str, after: datetime, expected: datetime) -> None:
    result = next_local_occurrence(after, zone, frozenset({MON}), time(8, 0))
    assert result == expected
    assert local(expected, zone).weekday() == MON
    assert local(expected, zone).time() == time(8, 0)


def test_lord_howe_half_hour_spring_gap() -> None:
    # 4 October 2026: 02:00 (+10:30) jumps to 02:30 (+11), so 02:15 fires at 02:30.
    result = next_local_occurrence(
        at_utc(2026, 10, 3, 12), "Australia/Lord_Howe", EVERY_DAY, time(2, 15)
    )
    assert result == at_utc(2026, 10, 3, 15, 30)
    assert local(result, "Australia/Lord_Howe").time() == time(2, 30)


def test_lord_howe_half_hour_autumn_overlap() -> None:
    # 5 April 2026: 02:00 (+11) goes back to 01:30 (+10:30), so 01:45 happens twice.
    zone = "Australia/Lord_Howe"
    first = next_local_occurrence(at_utc(2026, 4, 4, 12), zone, EVERY_DAY, time(1, 45))
    assert first == at_utc(2026, 4, 4, 14, 45)
    assert next_local_occurrence(first, zone, EVERY_DAY, time(1, 45)) == at_utc(2026, 4, 5, 15, 15)


def test_st_johns_spring_gap() -> None:
    # 8 March 2026: 02:00 NST jumps to 03:00 NDT.
    result = next_local_occurrence(
        at_utc(2026, 3, 7, 12), "America/St_Johns", EVERY_DAY, time(2, 30)
    )
    assert result == at_utc(2026, 3, 8, 5, 30)
    assert local(result, "America/St_Johns").time() == time(3, 0)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (frozenset({SUN}), at_utc(2026, 1, 11, 8)),  # from Wednesday noon to Sunday
        (EVERY_DAY, at_utc(2026, 1, 8, 8)),
        (frozenset({MON, WED, FRI}), at_utc(2026, 1, 9, 8)),
        (frozenset({WED}), at_utc(2026, 1, 14, 8)),  # today's has passed: next week
        (frozenset(), None),
    ],
)
def test_day_toggles(days: frozenset[int], expected: datetime | None) -> None:
    wednesday_noon = at_utc(2026, 1, 7, 12)
    assert next_local_occurrence(wednesday_noon, LONDON, days, time(8, 0)) == expected


def test_day_numbers_are_checked() -> None:
    with pytest.raises(ValueError, match="Monday"):
        next_local_occurrence(at_utc(2026, 1, 7), LONDON, frozenset({7}), time(8, 0))


def test_naive_datetimes_and_zoned_wall_times_are_refused() -> None:
    naive = datetime(2026, 1, 7, 12)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="aware"):
        next_local_occurrence(naive, LONDON, EVERY_DAY, time(8, 0))
    with pytest.raises(ValueError, match="wall-clock"):
        next_local_occurrence(at_utc(2026, 1, 7), LONDON, EVERY_DAY, time(8, 0, tzinfo=UTC))


def test_every_result_lands_on_a_chosen_day_at_the_chosen_time() -> None:
    # A year of starting points every 7 hours, in zones with odd offsets and shifts.
    days = frozenset({MON, THU, SAT})
    for zone in (LONDON, "Australia/Lord_Howe", "America/St_Johns", "Pacific/Kiritimati"):
        after = at_utc(2026, 1, 1)
        while after < at_utc(2027, 1, 1):
            result = next_local_occurrence(after, zone, days, time(7, 30))
            assert result is not None
            assert after < result <= after + timedelta(days=7)
            assert local(result, zone).weekday() in days
            assert local(result, zone).time() == time(7, 30)  # no zone here skips 07:30
            after += timedelta(hours=7)


# ---- next_nudge_at: pauses ------------------------------------------------------------------


def nudge(now: datetime, paused_until: datetime | None = None) -> datetime | None:
    """Reminders on Monday, Wednesday and Friday at 08:00 in London."""
    return next_nudge_at(
        now=now,
        zone=LONDON,
        days=frozenset({MON, WED, FRI}),
        at=time(8, 0),
        paused_until=paused_until,
    )


def test_next_nudge_without_pause() -> None:
    now = at_utc(2026, 1, 5, 9)  # Monday, after the 08:00 nudge
    assert nudge(now) == at_utc(2026, 1, 7, 8)


@pytest.mark.parametrize(
    ("paused_until", "expected"),
    [
        (at_utc(2026, 1, 10), at_utc(2026, 1, 12, 8)),  # pause over the weekend: Monday
        (at_utc(2026, 1, 7, 8), at_utc(2026, 1, 7, 8)),  # pause ends exactly at a nudge
        (at_utc(2026, 1, 7, 8, 1), at_utc(2026, 1, 9, 8)),  # a minute later: skipped
        (at_utc(2026, 1, 5, 8), at_utc(2026, 1, 7, 8)),  # pause already over
        (None, at_utc(2026, 1, 7, 8)),
    ],
)
def test_pause_windows_skip_nudges(paused_until: datetime | None, expected: datetime) -> None:
    now = at_utc(2026, 1, 5, 9)
    assert nudge(now, paused_until) == expected


def test_reminders_off_means_no_nudge() -> None:
    now = at_utc(2026, 1, 5, 9)
    assert next_nudge_at(now=now, zone=LONDON, days=frozenset(), at=time(8, 0)) is None
    assert (
        next_nudge_at(
            now=now, zone=LONDON, days=frozenset(), at=time(8, 0), paused_until=at_utc(2026, 2, 1)
        )
        is None
    )


# ---- snooze and down-time -----------------------------------------------------------------


def test_snooze() -> None:
    now = at_utc(2026, 1, 5, 8, 0, 12)
    assert snooze_until(now) == at_utc(2026, 1, 5, 8, 30, 12)
    assert snooze_until(now, minutes=10) == at_utc(2026, 1, 5, 8, 10, 12)
    with pytest.raises(ValueError, match="positive"):
        snooze_until(now, minutes=0)


def test_snooze_returns_utc_whatever_the_input_zone() -> None:
    now = datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo(LONDON))
    result = snooze_until(now)
    assert result.utcoffset() == timedelta(0)
    assert result == at_utc(2026, 7, 1, 8, 30)


@pytest.mark.parametrize(
    ("late", "decision"),
    [
        (timedelta(0), "send"),
        (timedelta(hours=1, minutes=59), "send"),
        (timedelta(hours=2), "send"),
        (timedelta(hours=2, minutes=1), "skip"),
        (timedelta(days=3), "skip"),
    ],
)
def test_catch_up_decision(late: timedelta, decision: str) -> None:
    due = at_utc(2026, 1, 5, 8)
    assert catch_up_decision(due, due + late) == decision


def test_catch_up_limit_is_adjustable_and_future_is_a_bug() -> None:
    due = at_utc(2026, 1, 5, 8)
    assert catch_up_decision(due, due + timedelta(minutes=20), max_late=timedelta(minutes=15)) == (
        "skip"
    )
    with pytest.raises(ValueError, match="not due"):
        catch_up_decision(due, due - timedelta(seconds=1))


def test_after_long_down_time_one_nudge_is_skipped_and_the_next_is_in_the_future() -> None:
    # Down from Monday 07:00 to Friday 12:00: Monday, Wednesday and Friday 08:00 were missed.
    due = at_utc(2026, 1, 5, 8)
    now = at_utc(2026, 1, 9, 12)
    assert catch_up_decision(due, now) == "skip"
    assert nudge(now) == at_utc(2026, 1, 12, 8)


# ---- weekly summary and weeks -------------------------------------------------------------


def test_next_summary_defaults_to_sunday_evening() -> None:
    wednesday = at_utc(2026, 1, 7, 12)
    assert next_summary_at(now=wednesday, zone=LONDON) == at_utc(2026, 1, 11, 18)
    summer_sunday_slot = at_utc(2026, 7, 5, 17)  # 18:00 BST
    assert next_summary_at(now=summer_sunday_slot, zone=LONDON) == at_utc(2026, 7, 12, 17)


def test_next_summary_on_a_chosen_slot() -> None:
    result = next_summary_at(
        now=at_utc(2026, 1, 7, 12), zone="Asia/Kolkata", day=FRI, at=time(19, 0)
    )
    assert result == at_utc(2026, 1, 9, 13, 30)


@pytest.mark.parametrize(
    ("instant", "start", "hours"),
    [
        (at_utc(2026, 1, 7, 12), at_utc(2026, 1, 5), 168),
        (at_utc(2026, 3, 26, 12), at_utc(2026, 3, 23), 167),  # clocks go forward on Sunday
        (at_utc(2026, 10, 22, 12), at_utc(2026, 10, 18, 23), 169),  # and back
        (at_utc(2026, 3, 29, 22, 59), at_utc(2026, 3, 23), 167),  # Sunday 23:59 BST
        (at_utc(2026, 3, 29, 23), at_utc(2026, 3, 29, 23), 168),  # Monday 00:00 BST
    ],
)
def test_week_bounds_in_london(instant: datetime, start: datetime, hours: int) -> None:
    begin, end = week_bounds(instant, LONDON)
    assert begin == start
    assert end - begin == timedelta(hours=hours)
    assert begin <= instant < end
    assert local(begin, LONDON).weekday() == MON
    assert local(begin, LONDON).time() == time(0, 0)


def test_week_bounds_far_east() -> None:
    # Sunday 12:00 UTC is already Monday 02:00 on Kiritimati: a new week there.
    begin, end = week_bounds(at_utc(2026, 1, 11, 12), "Pacific/Kiritimati")
    assert begin == at_utc(2026, 1, 11, 10)
    assert end == at_utc(2026, 1, 18, 10)


def test_local_dates() -> None:
    late_evening = at_utc(2026, 7, 4, 23, 30)  # Saturday 23:30 UTC, Sunday 00:30 BST
    assert local_date(late_evening, LONDON).isoformat() == "2026-07-05"
    assert local_date(late_evening, "UTC").isoformat() == "2026-07-04"
    assert same_local_day(late_evening, at_utc(2026, 7, 5, 12), LONDON)
    assert not same_local_day(late_evening, at_utc(2026, 7, 5, 12), "UTC")
    assert not same_local_day(at_utc(2026, 7, 5, 9), at_utc(2026, 7, 5, 11), "Pacific/Kiritimati")


def test_wall_time_instant() -> None:
    assert wall_time_instant(local_date(at_utc(2026, 3, 29), LONDON), time(1, 30), LONDON) == (
        at_utc(2026, 3, 29, 1)
    )
    autumn = local_date(at_utc(2026, 10, 25, 12), LONDON)
    assert wall_time_instant(autumn, time(1, 30), LONDON) == at_utc(2026, 10, 25, 0, 30)
