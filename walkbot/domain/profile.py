"""What a person tells walkbot about themselves, as plain values."""

from __future__ import annotations

from datetime import time
from enum import StrEnum


class Experience(StrEnum):
    NEVER = "never"
    LITTLE = "little"
    REGULAR = "regular"


class Goal(StrEnum):
    KNEES = "knees"
    BALANCE = "balance"
    FITNESS = "fitness"
    BRAIN = "brain"


class Units(StrEnum):
    KM = "km"
    MILES = "mi"


EXPERIENCE_LABELS = {
    Experience.NEVER: "Never tried it",
    Experience.LITTLE: "A little",
    Experience.REGULAR: "Regularly",
}
GOAL_LABELS = {
    Goal.KNEES: "Knees and legs",
    Goal.BALANCE: "Balance",
    Goal.FITNESS: "Heart and fitness",
    Goal.BRAIN: "A workout for the brain",
}
UNIT_LABELS = {Units.KM: "Kilometres", Units.MILES: "Miles"}

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_NAMES_LONG = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_REMINDER_DAYS = frozenset({0, 2, 4})  # Mon, Wed, Fri: three a week with rest between
DEFAULT_REMINDER_TIME = time(8, 0)
DEFAULT_SUMMARY_DAY = 6  # Sunday
DEFAULT_SUMMARY_TIME = time(18, 0)
COMMON_TIMES = (
    time(7, 0),
    time(8, 0),
    time(9, 0),
    time(12, 0),
    time(17, 0),
    time(18, 0),
    time(19, 0),
)


def days_to_mask(days: frozenset[int] | set[int]) -> int:
    """Monday is bit 0; stored as one small integer."""
    mask = 0
    for day in days:
        if not 0 <= day <= 6:
            raise ValueError(f"day {day} is not 0 (Monday) to 6 (Sunday)")
        mask |= 1 << day
    return mask


def mask_to_days(mask: int) -> frozenset[int]:
    return frozenset(day for day in range(7) if mask & (1 << day))


def toggle_day(mask: int, day: int) -> int:
    if not 0 <= day <= 6:
        raise ValueError(f"day {day} is not 0 (Monday) to 6 (Sunday)")
    return mask ^ (1 << day)


def describe_days(mask: int) -> str:
    days = sorted(mask_to_days(mask))
    if not days:
        return "no days"
    if len(days) == 7:
        return "every day"
    if days == [0, 1, 2, 3, 4]:
        return "weekdays"
    return ", ".join(DAY_NAMES[d] for d in days)


def parse_clock_time(text: str) -> time | None:
    """'7:30', '07:30', '19.30', '7am', '7.30pm' -> time; None when it is not a time of day."""
    raw = text.strip().lower().replace(" ", "")
    suffix = None
    for marker in ("am", "pm"):
        if raw.endswith(marker):
            suffix, raw = marker, raw[: -len(marker)]
    raw = raw.replace(".", ":")
    if ":" in raw:
        hours_text, _, minutes_text = raw.partition(":")
    else:
        hours_text, minutes_text = raw, "0"
    digits = f"{hours_text}{minutes_text}"
    if not (digits.isascii() and hours_text.isdigit() and minutes_text.isdigit()):
        return None  # isascii: "²" and "٣" pass isdigit, then int() raises or misreads
    if len(minutes_text) > 2:
        return None
    if len(hours_text) > 2:
        return None
    hours, minutes = int(hours_text), int(minutes_text)
    if suffix is not None:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if suffix == "pm" else 0)
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        return None
    return time(hours, minutes)


def format_clock_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


# How a person appears on group challenge boards (users.board_name).
BOARD_NAME_LABELS: dict[str, str] = {"name": "First name", "initials": "Initials"}
