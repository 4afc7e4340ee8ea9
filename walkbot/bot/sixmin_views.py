"""Buttons and prompts of a six-minute walk test. Data: `6m:new:<direction>` to choose, and
`6m:<test>:<action>[:<value>]` for the rest; checked against the test's owner and state."""

from __future__ import annotations

from collections.abc import Mapping

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from walkbot.bot import callbacks
from walkbot.bot.scales import scale_rows
from walkbot.domain import sixmin as domain
from walkbot.domain.walks import effort_button

Rendered = tuple[str, InlineKeyboardMarkup]
STOP_LABEL = "⏹ Stop"


def _data(test_id: int, action: str, value: str | None = None) -> str:
    return callbacks.data(callbacks.SIXMIN, test_id, action, *([] if value is None else [value]))


def _button(
    label: str, test_id: int, action: str, value: str | None = None
) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=_data(test_id, action, value))


def choose(latest: Mapping[domain.Direction, domain.Result], units: str) -> Rendered:
    lines = [
        "📏 The six-minute walk test: how far you can walk in 6 minutes. Done now and then, "
        "forward or backward, it shows your progress.",
    ]
    if latest:
        done = ", ".join(
            f"{direction} {domain.format_distance(result.metres, units)}"
            for direction, result in sorted(latest.items())
        )
        lines.append(f"Your latest: {done}.")
    lines.append("Which way today?")
    markup = InlineKeyboardMarkup(
        [
            [
                callbacks.button("▶️ Forward", callbacks.SIXMIN, "new", "forward"),
                callbacks.button("⏪ Backward", callbacks.SIXMIN, "new", "backward"),
            ]
        ]
    )
    return "\n".join(lines), markup


def _effort_rows(test_id: int, action: str) -> list[list[InlineKeyboardButton]]:
    return scale_rows(effort_button, lambda n: _data(test_id, action, str(n)), per_row=3)


def setup_card(test_id: int, direction: domain.Direction, *, needs_support: bool) -> Rendered:
    text = f"{domain.setup_card(direction, needs_support=needs_support)}\n\n"
    text += domain.EFFORT_BEFORE_QUESTION
    rows = [*_effort_rows(test_id, "eb"), [_button("Not today", test_id, "cancel")]]
    return text, InlineKeyboardMarkup(rows)


def ready(test_id: int) -> Rendered:
    markup = InlineKeyboardMarkup(
        [[_button("▶ Start", test_id, "start"), _button("Not today", test_id, "cancel")]]
    )
    return domain.READY_TEXT, markup


def stop_button(test_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(STOP_LABEL, test_id, "stop")]])


def distance_prompt(test_id: int, units: str, *, stopped_early: bool) -> Rendered:
    markup = InlineKeyboardMarkup([[_button("I didn't measure it", test_id, "dist", "skip")]])
    return domain.distance_question(units, stopped_early=stopped_early), markup


def effort_after_prompt(test_id: int) -> Rendered:
    rows = [*_effort_rows(test_id, "ea"), [_button("Skip", test_id, "ea", "skip")]]
    return domain.EFFORT_AFTER_QUESTION, InlineKeyboardMarkup(rows)


def symptoms_prompt(test_id: int) -> Rendered:
    markup = InlineKeyboardMarkup([[_button("None", test_id, "sym", "none")]])
    return domain.SYMPTOMS_QUESTION, markup


def prompt_for(test_id: int, step: str | None, units: str, *, stopped_early: bool) -> Rendered:
    """The question a test owes, to ask again."""
    if step == "distance":
        return distance_prompt(test_id, units, stopped_early=stopped_early)
    if step == "effort_after":
        return effort_after_prompt(test_id)
    return symptoms_prompt(test_id)
