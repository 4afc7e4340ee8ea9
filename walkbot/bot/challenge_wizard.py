"""The /challenge wizard as one message: each step's question and buttons, with the choices so
far kept in view above it. Button data: `ch:<challenge>:<step>:<value>`."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from walkbot.bot import callbacks
from walkbot.domain import challenges as rules
from walkbot.services.challenges import Draft

CANCEL = "cancel"
KIND_LABELS = {
    "ranking": "A ranking",
    "improved": "Ranking + most improved",
    "goal": "A group goal together",
}
START_LABELS = {"now": "Now", "monday": "Next Monday"}
MEASURE_BUTTONS = {
    "minutes": "Backward minutes",
    "walks": "Walks completed",
    "days": "Active days",
}
QUESTIONS = {
    "measure": "What should count?",
    "kind": (
        "What kind of challenge? A ranking lists everyone by total (most improved also "
        "cheers whoever beats their own first week most); a group goal is one target for "
        "everyone together."
    ),
    "target": "The group goal: how much, all together?",
    "days": "How long?",
    "start": "Start now, or next Monday (times in the group's zone: /groupsettings)?",
}
STEPS_SHOWN = ("measure", "kind", "target", "days", "start")


def _button(draft: Draft, step: str, value: str | int, label: str) -> InlineKeyboardButton:
    return callbacks.button(label, callbacks.CHALLENGE, draft.challenge_id, step, value)


def _chosen(draft: Draft) -> list[str]:
    done: list[str] = []
    order = STEPS_SHOWN.index(draft.step) if draft.step in STEPS_SHOWN else len(STEPS_SHOWN)
    if order > 0:
        done.append(MEASURE_BUTTONS[draft.measure])
    if order > 1:
        kind = "improved" if draft.most_improved else draft.kind
        done.append(KIND_LABELS[kind])
        if draft.kind == "goal" and draft.target is not None and order > 2:
            done.append(f"goal {rules.score_text(draft.measure, draft.target)}")
    if order > 3:
        done.append(f"{draft.days} days")
    return done


def wizard_view(draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    step = draft.step
    rows: list[list[InlineKeyboardButton]]
    if step == "measure":
        rows = [[_button(draft, step, key, label)] for key, label in MEASURE_BUTTONS.items()]
    elif step == "kind":
        rows = [[_button(draft, step, key, label)] for key, label in KIND_LABELS.items()]
    elif step == "target":
        rows = [
            [
                _button(draft, step, value, rules.score_text(draft.measure, value))
                for value in rules.GOAL_TARGETS[draft.measure]
            ]
        ]
    elif step == "days":
        lengths = rules.IMPROVED_LENGTHS if draft.most_improved else rules.LENGTHS
        rows = [[_button(draft, step, days, f"{days} days") for days in lengths]]
    else:
        rows = [[_button(draft, "start", key, label) for key, label in START_LABELS.items()]]
    rows.append([callbacks.button("Cancel", callbacks.CHALLENGE, draft.challenge_id, CANCEL)])
    chosen = _chosen(draft)
    head = "🏁 New challenge" + (": " + " · ".join(chosen) if chosen else "")
    return f"{head}\n\n{QUESTIONS.get(step, QUESTIONS['start'])}", InlineKeyboardMarkup(rows)
