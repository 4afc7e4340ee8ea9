"""Pure rules for the dispatcher: which instant comes next in a person's zone (DST both ways,
far and odd zones, day toggles, pauses, snooze), which week a summary reports, /pause input."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from walkbot.domain.nudges import (
    MAX_PAUSE_DAYS,
    PauseOff,
    PauseRefused,
    PauseUntil,
    describe_date,
    next_summary_slot,
    nudge_text,
    parse_pause,
    reported_monday,
    summary_week,
)
from walkbot.domain.schedule import (
    catch_up_decision,
    local_day_bounds,
    next_nudge_at,
    next_summary_at,
    snooze_until,
)

LONDON = "Europe/London"
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
EVERY_DAY = frozenset(range(7))


def at_utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=UTC)


def wall(instant: datetime, zone: str) -> tuple[int, int, int]:
    local = instant.astimezone(ZoneInfo(zone))
    return local.weekday(), local.hour, local.minute


def run_days(
    zone: str, days: frozenset[int], at: time, start: datetime, count: int
) -> list[datetime]:
    """The next `count` nudges, as the dispatcher advances them (from just after each send)."""
    found, now = [], start
    for _ in range(count):
        due = next_nudge_at(now=now, zone=zone, days=days, at=at)
        assert due is not None
        found.append(due)
        now = due + timedelta(seconds=3)  # sent a few seconds late by the tick
    return found


# ---- DST both ways, as the dispatcher walks through them ------------------------------------


def test_spring_forward_gap_is_sent_at_the_first_valid_minute_then_back_to_normal() -> None:
    # London, 29 March 2026: 01:00 GMT -> 02:00 BST. A 01:30 reminder fires at 02:00 BST.
    dues = run_days(LONDON, EVERY_DAY, time(1, 30), at_utc(2026, 3, 27, 12), 3)
    assert dues == [at_utc(2026, 3, 28, 1, 30), at_utc(2026, 3, 29, 1), at_utc(2026, 3, 30, 0, 30)]
    assert [wall(d, LONDON)[1:] for d in dues] == [(1, 30), (2, 0), (1, 30)]


def test_autumn_overlap_is_sent_once() -> None:
    # London, 25 October 2026: 01:30 happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT).
    dues = run_days(LONDON, EVERY_DAY, time(1, 30), at_utc(2026, 10, 24, 12), 3)
    assert dues == [
        at_utc(2026, 10, 25, 0, 30),
        at_utc(2026, 10, 26, 1, 30),
        at_utc(2026, 10, 27, 1, 30),
    ]


def test_us_spring_and_autumn_at_two_thirty() -> None:
    zone = "America/New_York"  # 8 March 2026 02:00 -> 03:00; 1 November 2026 02:00 -> 01:00
    spring = next_nudge_at(
        now=at_utc(2026, 3, 8, 5), zone=zone, days=frozenset({SUN}), at=time(2, 30)
    )
    assert spring == at_utc(2026, 3, 8, 7)  # 03:00 EDT, the end of the gap
    autumn = run_days(zone, frozenset({SUN}), time(1, 30), at_utc(2026, 10, 31, 12), 2)
    assert autumn == [at_utc(2026, 11, 1, 5, 30), at_utc(2026, 11, 8, 6, 30)]  # EDT, then EST


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Etc/GMT+12", at_utc(2026, 6, 1, 19, 30)),  # UTC-12
        ("Pacific/Pago_Pago", at_utc(2026, 6, 1, 18, 30)),  # UTC-11
        ("Pacific/Kiritimati", at_utc(2026, 5, 31, 17, 30)),  # UTC+14: Sunday in UTC
        ("Pacific/Chatham", at_utc(2026, 5, 31, 18, 45)),  # UTC+12:45
        ("Asia/Kathmandu", at_utc(2026, 6, 1, 1, 45)),  # UTC+5:45
        ("Asia/Kolkata", at_utc(2026, 6, 1, 2)),  # UTC+5:30
        ("Australia/Eucla", at_utc(2026, 5, 31, 22, 45)),  # UTC+8:45
        ("America/St_Johns", at_utc(2026, 6, 1, 10)),  # UTC-2:30 in summer
        ("Asia/Tehran", at_utc(2026, 6, 1, 4)),  # UTC+3:30
    ],
)
def test_far_and_odd_zones_monday_seven_thirty(zone: str, expected: datetime) -> None:
    # From Saturday 30 May 2026 12:00 UTC: the next Monday 07:30 on that person's wall.
    due = next_nudge_at(
        now=at_utc(2026, 5, 30, 12),
        zone=zone,
        days=frozenset({MON}),
        at=time(7, 30),
    )
    assert due == expected
    assert wall(due, zone) == (MON, 7, 30)


def test_kiritimati_and_baker_island_are_a_day_apart_for_the_same_wall_time() -> None:
    now = at_utc(2026, 6, 1)
    east = next_nudge_at(now=now, zone="Pacific/Kiritimati", days=EVERY_DAY, at=time(8, 0))
    west = next_nudge_at(now=now, zone="Etc/GMT+12", days=EVERY_DAY, at=time(8, 0))
    assert east is not None and west is not None
    assert west - east == timedelta(hours=26) - timedelta(days=1)  # 26 h apart, minus a day


@pytest.mark.parametrize(
    ("days", "expected_weekdays"),
    [
        (frozenset({MON, WED, FRI}), [WED, FRI, MON, WED]),
        (frozenset({SAT, SUN}), [SAT, SUN, SAT, SUN]),
        (frozenset({TUE}), [TUE, TUE, TUE, TUE]),
    ],
)
def test_day_toggles_through_a_fortnight(
    days: frozenset[int], expected_weekdays: list[int]
) -> None:
    dues = run_days(LONDON, days, time(18, 0), at_utc(2026, 1, 6, 19), 4)  # Tue 19:00
    assert [wall(d, LONDON)[0] for d in dues] == expected_weekdays
    assert all(wall(d, LONDON)[1:] == (18, 0) for d in dues)


def test_a_pause_pushes_the_next_nudge_past_its_end_in_the_zone() -> None:
    # /pause 7 on Monday 5 Jan 10:00 in Sydney: rest until Monday 12 Jan 00:00 local.
    zone = "Australia/Sydney"
    now = at_utc(2026, 1, 4, 23)  # Monday 10:00 AEDT
    request = parse_pause("7", now=now, zone=zone)
    assert isinstance(request, PauseUntil)
    assert request.resume_on == date(2026, 1, 12)
    assert request.ends_at == at_utc(2026, 1, 11, 13)  # 00:00 AEDT
    due = next_nudge_at(
        now=now, zone=zone, days=frozenset({MON, WED}), at=time(7, 0), paused_until=request.ends_at
    )
    assert due == at_utc(2026, 1, 11, 20)  # Monday 12 Jan 07:00 AEDT, the first after the rest


def test_snooze_then_the_row_advances_to_the_next_chosen_day() -> None:
    due = at_utc(2026, 1, 5, 8)  # Monday 08:00
    snoozed = snooze_until(due + timedelta(seconds=40))
    assert snoozed == at_utc(2026, 1, 5, 8, 30, 40)
    after = next_nudge_at(
        now=snoozed + timedelta(seconds=2), zone=LONDON, days=frozenset({MON, WED}), at=time(8)
    )
    assert after == at_utc(2026, 1, 7, 8)


def test_a_snooze_across_a_clock_change_is_thirty_real_minutes() -> None:
    # 00:45 GMT on 29 March 2026, snoozed: 30 minutes later it is 02:15 BST.
    assert snooze_until(at_utc(2026, 3, 29, 0, 45)) == at_utc(2026, 3, 29, 1, 15)


def test_down_time_within_two_hours_sends_once_longer_skips() -> None:
    due = at_utc(2026, 1, 5, 8)
    assert catch_up_decision(due, due + timedelta(minutes=119)) == "send"
    assert catch_up_decision(due, due + timedelta(minutes=121)) == "skip"


@pytest.mark.parametrize(
    ("instant", "zone", "hours"),
    [
        (at_utc(2026, 3, 29, 12), LONDON, 23),
        (at_utc(2026, 10, 25, 12), LONDON, 25),
        (at_utc(2026, 6, 1, 12), "Asia/Kathmandu", 24),
        # Santiago springs forward at midnight: 6 September 2026 begins at 01:00.
        (at_utc(2026, 9, 6, 15), "America/Santiago", 23),
    ],
)
def test_local_day_bounds(instant: datetime, zone: str, hours: int) -> None:
    start, end = local_day_bounds(instant, zone)
    assert start <= instant < end
    assert end - start == timedelta(hours=hours)


# ---- weekly summary -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "at", "week"),
    [
        (SUN, time(18, 0), "this"),
        (SAT, time(9, 0), "this"),
        (MON, time(8, 0), "last"),
        (FRI, time(19, 0), "last"),
    ],
)
def test_summary_week_rule(day: int, at: time, week: str) -> None:
    slot = next_summary_at(now=at_utc(2026, 1, 7, 12), zone="Asia/Kolkata", day=day, at=at)
    assert summary_week(slot, "Asia/Kolkata") == week


def test_summary_week_follows_the_local_day_not_utc() -> None:
    # Sunday 23:30 in Kiritimati is Sunday 09:30 UTC; Monday 00:30 there is still Sunday in UTC.
    sunday = at_utc(2026, 1, 11, 9, 30)
    monday = at_utc(2026, 1, 11, 10, 30)
    assert summary_week(sunday, "Pacific/Kiritimati") == "this"
    assert summary_week(monday, "Pacific/Kiritimati") == "last"


# ---- copy and /pause ------------------------------------------------------------------------


def test_nudge_text() -> None:
    assert nudge_text("6 x 30 s backward", snoozed=False) == (
        "Time for your backward walk: 6 x 30 s backward today. Tap to start."
    )
    assert "again" in nudge_text("6 x 30 s backward", snoozed=True)


NOW = at_utc(2026, 11, 25, 9)  # Wednesday 25 November 2026


@pytest.mark.parametrize(
    ("argument", "resume_on"),
    [
        ("7", date(2026, 12, 2)),
        ("1", date(2026, 11, 26)),
        ("7 days", date(2026, 12, 2)),
        ("10d", date(2026, 12, 5)),
        ("2 weeks", date(2026, 12, 9)),
        ("2026-12-24", date(2026, 12, 24)),
        ("  2026-12-24 ", date(2026, 12, 24)),
        (str(MAX_PAUSE_DAYS), date(2027, 2, 23)),
    ],
)
def test_pause_arguments(argument: str, resume_on: date) -> None:
    request = parse_pause(argument, now=NOW, zone=LONDON)
    assert isinstance(request, PauseUntil)
    assert request.resume_on == resume_on
    assert request.ends_at.astimezone(ZoneInfo(LONDON)).time() == time(0, 0)


@pytest.mark.parametrize("argument", ["off", "OFF", "resume", "end"])
def test_pause_off(argument: str) -> None:
    assert parse_pause(argument, now=NOW, zone=LONDON) == PauseOff()


@pytest.mark.parametrize(
    ("argument", "reason"),
    [
        ("banana", "couldn't read"),
        ("0", "at least 1 day"),
        ("91", "up to 90 days"),
        ("2027-06-01", "up to 90 days"),
        ("2026-11-01", "already passed"),
        ("2026-11-25", "That's today"),
        ("2026-02-30", "not a date"),
        ("-3", "couldn't read"),
    ],
)
def test_pause_refusals_are_friendly(argument: str, reason: str) -> None:
    request = parse_pause(argument, now=NOW, zone=LONDON)
    assert isinstance(request, PauseRefused)
    assert reason in request.reason


def test_pause_without_argument_and_today_in_a_far_zone() -> None:
    assert parse_pause("", now=NOW, zone=LONDON) is None
    # 25 Nov 11:00 UTC is already 26 Nov 01:00 in Kiritimati: "today" is the 26th there.
    late = at_utc(2026, 11, 25, 11)
    request = parse_pause("2026-11-26", now=late, zone="Pacific/Kiritimati")
    assert isinstance(request, PauseRefused)
    assert "today" in request.reason


def test_describe_date() -> None:
    today = date(2026, 11, 25)
    assert describe_date(date(2026, 12, 24), today=today) == "Thursday 24 December"
    assert describe_date(date(2027, 1, 2), today=today) == "Saturday 2 January 2027"


def test_a_summary_slot_never_reports_a_week_already_reported() -> None:
    sunday_18 = datetime(2026, 1, 11, 18, tzinfo=UTC)
    assert reported_monday(sunday_18, LONDON) == date(2026, 1, 5)  # a weekend slot: its own week
    monday_18 = datetime(2026, 1, 12, 18, tzinfo=UTC)
    assert reported_monday(monday_18, LONDON) == date(2026, 1, 5)  # a weekday slot: last week
    after = sunday_18 + timedelta(minutes=5)
    # Sunday's summary reported the week of 5 January: Monday 12th would repeat it.
    slot = next_summary_slot(
        now=after, zone=LONDON, day=MON, at=time(18), reported=date(2026, 1, 5)
    )
    assert slot == monday_18 + timedelta(days=7)
    # Nothing reported yet, or an older week: the next slot as usual.
    assert next_summary_slot(now=after, zone=LONDON, day=MON, at=time(18), reported=None) == (
        monday_18
    )
    later = next_summary_slot(
        now=after, zone=LONDON, day=SUN, at=time(20), reported=date(2026, 1, 5)
    )
    assert later == datetime(2026, 1, 18, 20, tzinfo=UTC)
