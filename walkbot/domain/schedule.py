"""When the next reminder ("nudge") and weekly summary are due, as aware UTC instants.

People choose wall-clock times in their own zone; the rows store the next UTC instant
(`next_nudge_at`, `next_summary_at`) and one dispatch job sends whatever is due. Everything here
is pure: `now` is always passed in, zones are IANA names read with zoneinfo.

Daylight saving:
- A wall time that does not exist (01:30 on the night the clocks go forward) fires at the first
  moment after the gap (02:00 local), so the reminder comes late rather than not at all.
- A wall time that happens twice (01:30 on the night the clocks go back) fires once, at the
  first occurrence. Each day has exactly one candidate instant, so "next after the first 01:30"
  is the next chosen day, never the second 01:30.

How a service uses this:
- After a settings change or a pause, and for a row with no stored instant (at start-up):
  `next_nudge_at(now=now, ...)`.
- When the dispatcher claims a due row: `catch_up_decision(due_at, now)` says whether to send
  (a little late is fine) or skip (the bot was down too long), and either way the row advances
  to `next_nudge_at(now=now, ...)`. Computing from `now`, not from `due_at`, is what prevents a
  burst of missed nudges after down-time.
- "No nudge if they already walked today" is decided at send time by the dispatcher, with
  `same_local_day(last_walk_at, due_at, zone)`: whether they walked is only known then.
- Snooze: store `snooze_until(now)` as the next instant; after it is sent the row advances as
  usual.
"""

from __future__ import annotations

import math
from collections.abc import Set
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from walkbot.domain.profile import DEFAULT_SUMMARY_DAY, DEFAULT_SUMMARY_TIME

CATCH_UP_LIMIT = timedelta(hours=2)
DEFAULT_SNOOZE_MINUTES = 30
# Days to look ahead: a week, plus slack for dates a zone skipped entirely (Samoa lost
# 30 December 2011) and for a clock change that moves the local date back across midnight.
_SEARCH_DAYS = 15

CatchUp = Literal["send", "skip"]


def require_aware(value: datetime, name: str = "the time") -> datetime:
    """Every instant the domain takes is aware; a naive one is a bug upstream, said loudly."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
    return value


def _require_wall_time(at: time) -> None:
    # A wall-clock time with its own tzinfo would mean two zones at once.
    if at.tzinfo is not None:
        raise ValueError(f"at must be a local wall-clock time without tzinfo, got {at!r}")


def _require_days(days: Set[int]) -> None:
    if any(not 0 <= day <= 6 for day in days):
        raise ValueError(f"days must be 0 (Monday) to 6 (Sunday), got {sorted(days)}")


def local_date(instant: datetime, zone: str) -> date:
    """The calendar date on the person's wall at `instant`."""
    require_aware(instant, "instant")
    return instant.astimezone(ZoneInfo(zone)).date()


def same_local_day(a: datetime, b: datetime, zone: str) -> bool:
    return local_date(a, zone) == local_date(b, zone)


def wall_time_instant(day: date, at: time, zone: str) -> datetime:
    """The UTC instant of `at` on `day` in `zone`: the first one if it happens twice, the end of
    the gap if it does not happen at all."""
    _require_wall_time(at)
    tz = ZoneInfo(zone)
    wall = datetime.combine(day, at, tzinfo=tz)  # fold=0: the first of two occurrences
    instant = wall.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return instant
    return _end_of_gap(wall)


def _end_of_gap(wall: datetime) -> datetime:
    """The transition that skipped `wall`, by bisection over whole seconds (tzdata transitions
    are whole seconds; zoneinfo has no public list of them).

    Read with the new offset (fold=1) `wall` lands before the jump, read with the old offset
    (fold=0) after it, so the transition lies between the two readings.
    """
    tz = wall.tzinfo
    before = math.floor(wall.replace(fold=1).timestamp())
    after = math.ceil(wall.replace(fold=0).timestamp())
    new_offset = datetime.fromtimestamp(after, tz).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == new_offset:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def _first_occurrence(
    start: datetime, zone: str, days: Set[int], at: time, *, inclusive: bool
) -> datetime | None:
    require_aware(start, "start")
    _require_wall_time(at)
    _require_days(days)
    if not days:
        return None
    start = start.astimezone(UTC)
    first_day = local_date(start, zone) - timedelta(days=1)
    for offset in range(_SEARCH_DAYS):
        day = first_day + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        candidate = wall_time_instant(day, at, zone)
        if candidate > start or (inclusive and candidate == start):
            return candidate
    return None  # unreachable for real zones: some chosen weekday exists within two weeks


def next_local_occurrence(after: datetime, zone: str, days: Set[int], at: time) -> datetime | None:
    """The first instant strictly after `after` on one of `days` (0=Monday) at local `at`.
    None when no days are chosen."""
    return _first_occurrence(after, zone, days, at, inclusive=False)


def next_nudge_at(
    *,
    now: datetime,
    zone: str,
    days: Set[int],
    at: time,
    paused_until: datetime | None = None,
) -> datetime | None:
    """The next reminder strictly after `now`, skipping any due before `paused_until`.

    A reminder exactly at `paused_until` is sent: "paused until Monday 08:00" includes it.
    None when no days are chosen (reminders off).
    """
    require_aware(now, "now")
    if paused_until is not None:
        require_aware(paused_until, "paused_until")
        if paused_until > now:
            return _first_occurrence(paused_until, zone, days, at, inclusive=True)
    return next_local_occurrence(now, zone, days, at)


def snooze_until(now: datetime, minutes: int = DEFAULT_SNOOZE_MINUTES) -> datetime:
    require_aware(now, "now")
    if minutes <= 0:
        raise ValueError(f"snooze minutes must be positive, got {minutes}")
    return now.astimezone(UTC) + timedelta(minutes=minutes)


def catch_up_decision(
    due_at: datetime, now: datetime, *, max_late: timedelta = CATCH_UP_LIMIT
) -> CatchUp:
    """Whether a nudge the dispatcher finds due is still worth sending.

    A nudge missed while the bot was down is sent once if at most `max_late` late; older ones
    are skipped, since "time for your walk" at the wrong time of day is noise. Either way the
    caller advances from `now`, so a long outage never becomes a burst.
    """
    require_aware(due_at, "due_at")
    require_aware(now, "now")
    if now < due_at:
        raise ValueError(f"not due yet: due {due_at.isoformat()}, now {now.isoformat()}")
    return "send" if now - due_at <= max_late else "skip"


def next_summary_at(
    *,
    now: datetime,
    zone: str,
    day: int = DEFAULT_SUMMARY_DAY,
    at: time = DEFAULT_SUMMARY_TIME,
) -> datetime:
    """The next weekly summary slot strictly after `now` (Sunday 18:00 local by default)."""
    instant = next_local_occurrence(now, zone, frozenset({day}), at)
    assert instant is not None  # one chosen weekday always recurs within the search window
    return instant


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_span(monday: date, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of the local week starting on `monday`: Monday 00:00 to the next Monday
    00:00, as UTC. Across a clock change the week is 167 or 169 hours long, not 168."""
    if monday.weekday() != 0:
        raise ValueError(f"a week starts on a Monday, got {monday} ({monday:%A})")
    start = wall_time_instant(monday, time(0, 0), zone)
    end = wall_time_instant(monday + timedelta(days=7), time(0, 0), zone)
    return start, end


def week_bounds(instant: datetime, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of the local week holding `instant` (see week_span)."""
    return week_span(monday_of(local_date(instant, zone)), zone)


def local_day_bounds(instant: datetime, zone: str) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar day holding `instant`, as UTC: 23, 24 or 25 hours
    across a clock change. A midnight that a zone skips starts the day when the gap ends."""
    day = local_date(instant, zone)
    start = wall_time_instant(day, time(0, 0), zone)
    end = wall_time_instant(day + timedelta(days=1), time(0, 0), zone)
    return start, end
