"""Reminders ("nudges"), the weekly summary's week, and /pause arguments: pure rules.

Nothing here reads the clock or a database: `now` and the person's zone are passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from walkbot.domain.profile import DAY_NAMES_LONG
from walkbot.domain.schedule import local_date, monday_of, next_summary_at, wall_time_instant
from walkbot.domain.wording import bounded

Week = Literal["this", "last"]

MAX_PAUSE_DAYS = 90
# A weekly summary missed while the bot was down is still worth a day later (it reports its own
# week, chosen from the slot); a reminder is not (schedule.CATCH_UP_LIMIT, 2 hours).
SUMMARY_CATCH_UP_LIMIT = timedelta(hours=24)

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# ---- nudge copy -----------------------------------------------------------------------------


def nudge_text(plan: str, *, snoozed: bool) -> str:
    """The reminder. `plan` is today's session in a few words ("6 x 30 s backward")."""
    if snoozed:
        return f"Here's your reminder again: {plan} today. Tap to start, or take a rest day."
    return f"Time for your backward walk: {plan} today. Tap to start."


def summary_week(slot: datetime, zone: str) -> Week:
    """Which week a weekly summary sent at `slot` reports.

    A slot at the weekend (Saturday or Sunday, local) closes its own week, so it reports "this"
    week; a weekday slot (say Monday 08:00) looks back at the previous full week.
    """
    return "this" if local_date(slot, zone).weekday() >= 5 else "last"


def reported_monday(slot: datetime, zone: str) -> date:
    """The Monday of the week a summary sent at `slot` reports (see `summary_week`)."""
    monday = monday_of(local_date(slot, zone))
    return monday if summary_week(slot, zone) == "this" else monday - timedelta(days=7)


def next_summary_slot(
    *, now: datetime, zone: str, day: int, at: time, reported: date | None
) -> datetime:
    """The next summary slot after `now` whose week has not been reported yet.

    `reported`: the Monday of the week the last summary covered. Moving the slot from Sunday
    18:00 to 20:00 after the 18:00 summary went out must not report the same week twice; a
    weekly slot reports a later week each time, so one step past it is enough."""
    slot = next_summary_at(now=now, zone=zone, day=day, at=at)
    if reported is not None and reported_monday(slot, zone) <= reported:
        slot = next_summary_at(now=slot, zone=zone, day=day, at=at)
    return slot


def describe_date(day: date, *, today: date) -> str:
    """'Thursday 24 December', with the year when it is not this year's."""
    text = f"{DAY_NAMES_LONG[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}"
    return text if day.year == today.year else f"{text} {day.year}"


def describe_instant(instant: datetime, *, now: datetime, zone: str) -> str:
    """'Thursday 24 December at 08:00' on the person's wall; the year as describe_date gives it."""
    local = instant.astimezone(ZoneInfo(zone))
    return (
        f"{describe_date(local.date(), today=local_date(now, zone))} at {local.strftime('%H:%M')}"
    )


def local_clock(instant: datetime, zone: str) -> str:
    """'08:30' on the person's wall."""
    return instant.astimezone(ZoneInfo(zone)).strftime("%H:%M")


# ---- /pause ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PauseUntil:
    """Rest until local midnight at the start of `resume_on`."""

    ends_at: datetime
    resume_on: date


@dataclass(frozen=True)
class PauseOff:
    pass


@dataclass(frozen=True)
class PauseRefused:
    reason: str


PauseRequest = PauseUntil | PauseOff | PauseRefused

PAUSE_HELP = (
    "/pause 7 rests your reminders for 7 days (today included).\n"
    "/pause 2026-12-24 rests them until that date.\n"
    "/pause off (or /resume) ends a pause."
)
_DAYS = re.compile(r"^(\d{1,4})\s*(d|day|days)?$")
_WEEKS = re.compile(r"^(\d{1,2})\s*(w|wk|wks|week|weeks)$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_OFF = frozenset({"off", "end", "stop", "cancel", "no", "resume"})


def parse_pause(argument: str, *, now: datetime, zone: str) -> PauseRequest | None:
    """Read the text after /pause. None when there is none (show the help).

    A number of days N rests today and the N-1 days after it: reminders come back at local
    midnight N days from today. A date rests up to that date: reminders come back on it.
    """
    raw = " ".join(argument.lower().split())
    if not raw:
        return None
    if raw in _OFF:
        return PauseOff()
    today = local_date(now, zone)
    if match := _DAYS.match(raw):
        return _for_days(int(match.group(1)), today, zone)
    if match := _WEEKS.match(raw):
        return _for_days(7 * int(match.group(1)), today, zone)
    if match := _ISO_DATE.match(raw):
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return PauseRefused(f"“{bounded(argument, 20)}” is not a date on the calendar.")
        return _until(day, today, zone)
    return PauseRefused(f"I couldn't read “{bounded(argument, 20)}”.")


def _for_days(days: int, today: date, zone: str) -> PauseRequest:
    if days < 1:
        return PauseRefused("A pause needs at least 1 day.")
    if days > MAX_PAUSE_DAYS:
        return PauseRefused(f"A pause can last up to {MAX_PAUSE_DAYS} days.")
    return _until(today + timedelta(days=days), today, zone)


def _until(day: date, today: date, zone: str) -> PauseRequest:
    if day < today:
        return PauseRefused("That date has already passed.")
    if day == today:
        return PauseRefused("That's today. /pause 1 rests today and starts again tomorrow.")
    if day > today + timedelta(days=MAX_PAUSE_DAYS):
        return PauseRefused(f"A pause can last up to {MAX_PAUSE_DAYS} days.")
    return PauseUntil(ends_at=wall_time_instant(day, time(0, 0), zone), resume_on=day)
