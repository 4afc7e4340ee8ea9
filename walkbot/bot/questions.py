"""How each question looks: its text and its buttons. Button data is `a:<step>:<value>`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from walkbot.bot import callbacks, texts
from walkbot.domain import programme, timezones
from walkbot.domain.onboarding import SCREENING_STEPS
from walkbot.domain.profile import (
    BOARD_NAME_LABELS,
    COMMON_TIMES,
    DAY_NAMES,
    DAY_NAMES_LONG,
    EXPERIENCE_LABELS,
    GOAL_LABELS,
    UNIT_LABELS,
    describe_days,
    format_clock_time,
    mask_to_days,
)
from walkbot.domain.screening import QUESTIONS, flagged
from walkbot.domain.walk_copy import format_duration
from walkbot.services.onboarding import ZoneChoice
from walkbot.store.models import User

Rendered = tuple[str, InlineKeyboardMarkup]


def _button(label: str, step: str, value: str) -> InlineKeyboardButton:
    return callbacks.button(label, callbacks.ANSWER, step, value)


def _rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def _times(step: str) -> list[list[InlineKeyboardButton]]:
    labels = [format_clock_time(t) for t in COMMON_TIMES]
    return _rows([_button(label, step, label.replace(":", "")) for label in labels], 4)


def render(
    step: str, user: User, *, editing: bool, zone_choices: tuple[ZoneChoice, ...] = ()
) -> Rendered:
    text, rows = _body(step, user, zone_choices)
    if editing:
        rows.append([callbacks.button(texts.BACK, callbacks.SETTINGS, "back")])
    return text, InlineKeyboardMarkup(rows)


def _body(
    step: str, user: User, zone_choices: tuple[ZoneChoice, ...]
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    if step in SCREENING_STEPS:
        index = SCREENING_STEPS.index(step)
        head = texts.SCREENING_INTRO.format(n=index + 1, total=len(SCREENING_STEPS))
        yes_no = [_button("Yes", step, "y"), _button("No", step, "n")]
        return f"{head}\n\n{QUESTIONS[index].text}", [yes_no]
    if step == "exp":
        buttons = [_button(label, step, key.value) for key, label in EXPERIENCE_LABELS.items()]
        return texts.ASK_EXPERIENCE, _rows(buttons, 1)
    if step == "goal":
        buttons = [_button(label, step, key.value) for key, label in GOAL_LABELS.items()]
        return texts.ASK_GOAL, _rows(buttons, 2)
    if step == "tz":
        options = zone_choices or tuple(ZoneChoice(z, label) for label, z in timezones.COMMON_ZONES)
        buttons = [_button(choice.label, step, choice.zone) for choice in options]
        return texts.ASK_ZONE, _rows(buttons, 1 if zone_choices else 2)
    if step == "days":
        chosen = mask_to_days(user.reminder_days)
        buttons = [
            _button(("✅ " if day in chosen else "") + DAY_NAMES[day], step, str(day))
            for day in range(7)
        ]
        rows = _rows(buttons, 4)
        rows.append([_button(texts.DONE, step, "ok")])
        return f"{texts.ASK_DAYS}\nNow: {describe_days(user.reminder_days)}.", rows
    if step == "time":
        return texts.ASK_TIME, _times(step)
    if step == "sday":
        buttons = [_button(DAY_NAMES[day], step, str(day)) for day in range(7)]
        return texts.ASK_SUMMARY_DAY, _rows(buttons, 4)
    if step == "stime":
        return texts.ASK_SUMMARY_TIME, _times(step)
    if step == "units":
        buttons = [_button(label, step, key.value) for key, label in UNIT_LABELS.items()]
        return texts.ASK_UNITS, [buttons]
    if step == "board":
        buttons = [_button(label, step, key) for key, label in BOARD_NAME_LABELS.items()]
        return texts.ASK_BOARD_NAME, [buttons]
    raise ValueError(f"no question called {step!r}")


def profile_lines(user: User, now: datetime) -> list[str]:
    zone = timezones.describe_zone(user.timezone, now) if user.timezone else "not set"
    concerns = flagged(user.screening)
    safety = "no concerns" if not concerns else "; ".join(q.short for q in concerns)
    return [
        f"Time zone: {zone}",
        f"Reminders: {describe_days(user.reminder_days)} "
        f"at {format_clock_time(user.reminder_time)}",
        f"Weekly summary: {DAY_NAMES_LONG[user.summary_day]} at "
        f"{format_clock_time(user.summary_time)}",
        f"Units: {_label(UNIT_LABELS, user.units)}",
        f"Experience: {_label(EXPERIENCE_LABELS, user.experience)}",
        f"Goal: {_label(GOAL_LABELS, user.goal)}",
        f"Safety answers: {safety}",
    ]


def _label(labels: Mapping[Any, str], value: str | None) -> str:
    for key, label in labels.items():
        if key.value == value:
            return label
    return "not set"


SETTINGS_BUTTONS = (
    ("Time zone", "tz"),
    ("Reminder days", "days"),
    ("Reminder time", "time"),
    ("Summary day", "sday"),
    ("Summary time", "stime"),
    ("Units", "units"),
    ("Experience", "exp"),
    ("Goal", "goal"),
    ("Safety answers", "s0"),
    ("Name on group boards", "board"),
)


def settings_view(user: User, now: datetime) -> Rendered:
    board = BOARD_NAME_LABELS.get(user.board_name, BOARD_NAME_LABELS["name"])
    lines = [*profile_lines(user, now), f"Name on group boards: {board}"]
    text = texts.SETTINGS_HEAD + "\n\n" + "\n".join(lines)
    buttons = [
        callbacks.button(label, callbacks.SETTINGS, step) for label, step in SETTINGS_BUTTONS
    ]
    return text, InlineKeyboardMarkup(_rows(buttons, 3))


def first_session(level: int) -> str:
    plan = programme.level_plan(level)
    return texts.SUMMARY_FIRST_SESSION.format(
        total_min=(plan.total_s + 30) // 60,  # half a minute rounds up
        warmup_min=plan.warmup_s // 60,
        rounds=plan.rounds,
        backward_s=plan.backward_s,
        forward=format_duration(plan.forward_s),
        cooldown_min=plan.cooldown_s // 60,
    )


def onboarding_summary(user: User, now: datetime) -> Rendered:
    head = texts.with_name(texts.SUMMARY_HEAD, user.first_name)
    body = "\n".join(profile_lines(user, now))
    text = f"{head}\n\n{body}\n\n{first_session(user.level)}"
    if flagged(user.screening):
        text += f"\n{texts.GENTLER_START}" if user.level < programme.STANDARD_START else ""
        text += "\n\nRemember: check with your doctor or physio first, and start with support."
    markup = InlineKeyboardMarkup([[callbacks.button(texts.CHANGE, callbacks.SETTINGS, "menu")]])
    return text, markup
