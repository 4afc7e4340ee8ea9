"""Every button's callback data in one place: the views build it with `data`, the features
register their handlers with `pattern`, so a prefix cannot drift between the two.

Data is `prefix:field:field...`, at most 64 bytes (Telegram refuses more). No prefix or field
contains the separator, so `^prefix:` matches data built under that prefix and no other.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton

CONSENT = "consent"  # consent:yes|no
ANSWER = "a"  # a:<step>:<value>, an onboarding or settings answer
SETTINGS = "set"  # set:<step>|back|menu
DELETE = "deleteme"  # deleteme:yes|no
WALK = "w"  # w:<walk>:<action>
RATE = "r"  # r:<walk>:<step>:<value>
SIXMIN = "6m"  # 6m:new:<direction>, 6m:<test>:<action>[:<value>]
LEVEL = "lv"  # lv:<choice>:<level>
KNEE = "k"  # k:<walk>:<score>
NUDGE = "n"  # n:<action>:<yyyymmdd>
CHALLENGE = "ch"  # ch:<challenge>:<step>:<value> (the wizard), ch:<challenge>:join

PREFIXES = (
    CONSENT,
    ANSWER,
    SETTINGS,
    DELETE,
    WALK,
    RATE,
    SIXMIN,
    LEVEL,
    KNEE,
    NUDGE,
    CHALLENGE,
)

SEPARATOR = ":"
MAX_BYTES = 64


def data(prefix: str, *fields: str | int) -> str:
    """Callback data for a button; ValueError rather than a button Telegram would refuse."""
    parts = [prefix, *(str(field) for field in fields)]
    if any(SEPARATOR in part for part in parts):
        raise ValueError(f"callback data fields may not contain {SEPARATOR!r}: {parts!r}")
    text = SEPARATOR.join(parts)
    if len(text.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {text!r}")
    return text


def fits(data: str) -> bool:
    """Data a button of ours could carry: at most MAX_BYTES (longer is forged)."""
    return len(data.encode()) <= MAX_BYTES


def button(label: str, prefix: str, *fields: str | int) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data(prefix, *fields))


def pattern(prefix: str, *choices: str) -> str:
    """The CallbackQueryHandler pattern for data under `prefix`; with `choices`, only data that is
    exactly one of them after the prefix."""
    head = "^" + re.escape(prefix + SEPARATOR)
    if not choices:
        return head
    return head + "(" + "|".join(re.escape(choice) for choice in choices) + ")$"
