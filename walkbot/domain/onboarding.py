"""The onboarding questions, their order, and how an answer is read. Pure: no I/O.

Each question has a short id that also appears in button data (`a:<id>:<value>`), so ids stay
short and contain no colon. Settings reuse the same questions one at a time.
"""

from __future__ import annotations

import re
from datetime import time
from typing import TypeVar

from walkbot.domain.profile import Experience, Goal, Units, parse_clock_time
from walkbot.domain.screening import QUESTION_KEYS

SCREENING_STEPS = tuple(f"s{i}" for i in range(len(QUESTION_KEYS)))
ONBOARDING_STEPS: tuple[str, ...] = (*SCREENING_STEPS, "exp", "goal", "tz", "days", "time", "units")
# Questions that can be changed one at a time from /settings ("s0" walks through the screening).
SETTINGS_STEPS = ("tz", "days", "time", "sday", "stime", "units", "exp", "goal", "s0", "board")
# Steps a person may answer by typing; the rest are buttons only.
TEXT_STEPS = frozenset({"tz", "days", "time", "stime", *SCREENING_STEPS, "units"})


def next_onboarding_step(step: str) -> str | None:
    """The step after `step`, or None when onboarding is complete."""
    index = ONBOARDING_STEPS.index(step)
    return ONBOARDING_STEPS[index + 1] if index + 1 < len(ONBOARDING_STEPS) else None


def next_settings_step(step: str) -> str | None:
    """Settings edit one thing, except the screening, which is re-asked as a whole."""
    if step in SCREENING_STEPS and step != SCREENING_STEPS[-1]:
        return SCREENING_STEPS[SCREENING_STEPS.index(step) + 1]
    return None


def screening_key(step: str) -> str:
    return QUESTION_KEYS[SCREENING_STEPS.index(step)]


_YES = {"y", "yes", "yeah", "yep", "true", "1"}
_NO = {"n", "no", "nope", "false", "0"}


def parse_yes_no(value: str) -> bool | None:
    word = value.strip().lower().rstrip(".!")
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


E = TypeVar("E", Experience, Goal, Units)


def parse_enum(kind: type[E], value: str) -> E | None:
    try:
        return kind(value.strip().lower())
    except ValueError:
        return None


_UNIT_WORDS = {
    "km": Units.KM,
    "kilometres": Units.KM,
    "kilometers": Units.KM,
    "metric": Units.KM,
    "mi": Units.MILES,
    "miles": Units.MILES,
    "mile": Units.MILES,
    "imperial": Units.MILES,
}


def parse_units(value: str) -> Units | None:
    return _UNIT_WORDS.get(value.strip().lower())


_DAY_WORDS = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}


def parse_day_list(value: str) -> frozenset[int] | None:
    """'mon wed fri', 'Monday, Thursday', 'weekdays', 'every day' -> days; None if not days."""
    text = value.strip().lower()
    if text in {"every day", "everyday", "daily", "all"}:
        return frozenset(range(7))
    if text == "weekdays":
        return frozenset(range(5))
    if text == "weekends":
        return frozenset({5, 6})
    words = [w for w in re.split(r"[\s,;/&+]+|\band\b", text) if w]
    if not words or any(w not in _DAY_WORDS for w in words):
        return None
    return frozenset(_DAY_WORDS[w] for w in words)


def parse_day_index(value: str) -> int | None:
    if value.isascii() and value.isdigit() and 0 <= int(value) <= 6:  # not "²": int() raises
        return int(value)
    return _DAY_WORDS.get(value.strip().lower())


def parse_button_time(value: str) -> time | None:
    """Buttons carry times as HHMM."""
    if re.fullmatch(r"\d{4}", value):
        return parse_clock_time(f"{value[:2]}:{value[2:]}")
    return None


def parse_time_answer(value: str) -> time | None:
    return parse_button_time(value) or parse_clock_time(value)
