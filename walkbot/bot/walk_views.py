"""Buttons and prompts of a walk. Data: `w:<walk>:<action>` for controls, `r:<walk>:<step>:<n>`
for ratings; both are checked against the walk's owner and state before anything changes."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from walkbot.bot import callbacks
from walkbot.bot.scales import scale_rows
from walkbot.domain import walks as domain

NEED_TO_STOP = "I need to stop"
LIVE_SCREEN = "📱 Live screen"
Rendered = tuple[str, InlineKeyboardMarkup]


def _control(label: str, walk_id: int, action: str) -> InlineKeyboardButton:
    return callbacks.button(label, callbacks.WALK, walk_id, action)


def live_link(live_url: str, walk_id: int) -> str:
    """The live screen for one walk: WEBAPP_URL?walk=<id> (the setting has no query)."""
    return f"{live_url}?walk={walk_id}"


def _live_row(walk_id: int, live_url: str | None) -> list[list[InlineKeyboardButton]]:
    """A "Live screen" button opening the Mini App on this walk; none without WEBAPP_URL."""
    if live_url is None:
        return []
    web_app = WebAppInfo(url=live_link(live_url, walk_id))
    return [[InlineKeyboardButton(LIVE_SCREEN, web_app=web_app)]]


def controls(walk_id: int, *, paused: bool, live_url: str | None = None) -> InlineKeyboardMarkup:
    first = (
        _control("▶ Resume", walk_id, "resume") if paused else _control("⏸ Pause", walk_id, "pause")
    )
    return InlineKeyboardMarkup(
        [
            [first, _control("⏹ Stop", walk_id, "stop")],
            [_control(NEED_TO_STOP, walk_id, "need")],
            *_live_row(walk_id, live_url),
        ]
    )


def start_card(walk_id: int, *, live_url: str | None = None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_control("▶ Start", walk_id, "start"), _control("Not now", walk_id, "cancel")],
            *_live_row(walk_id, live_url),
        ]
    )


def _rating_data(walk_id: int, step: str, value: str) -> str:
    return callbacks.data(callbacks.RATE, walk_id, step, value)


def _rating(label: str, walk_id: int, step: str, value: str) -> InlineKeyboardButton:
    return callbacks.button(label, callbacks.RATE, walk_id, step, value)


def effort_prompt(walk_id: int, *, reminder: bool = False) -> Rendered:
    rows = scale_rows(
        domain.effort_button, lambda n: _rating_data(walk_id, "effort", str(n)), per_row=3
    )
    head = "A gentle reminder: how did your walk feel? One tap is enough.\n\n" if reminder else ""
    return head + domain.EFFORT_QUESTION, InlineKeyboardMarkup(rows)


REMINDER_HEAD = "A gentle reminder, to finish noting your walk:\n\n"


def rating_prompt(walk_id: int, step: str, *, reminder: bool = False) -> Rendered:
    """The rating question owed at `step`; `reminder`: asked again later, once."""
    if step == "effort":
        return effort_prompt(walk_id, reminder=reminder)
    text, markup = pain_prompt(walk_id) if step == "pain" else note_prompt(walk_id)
    return (REMINDER_HEAD + text if reminder else text), markup


def pain_prompt(walk_id: int) -> Rendered:
    rows = scale_rows(str, lambda n: _rating_data(walk_id, "pain", str(n)), per_row=6)
    rows.append([_rating("Skip", walk_id, "pain", "skip")])
    return domain.PAIN_QUESTION, InlineKeyboardMarkup(rows)


def note_prompt(walk_id: int) -> Rendered:
    markup = InlineKeyboardMarkup([[_rating("Skip", walk_id, "note", "skip")]])
    return "Anything to note about this walk? Type a few words, or Skip.", markup
