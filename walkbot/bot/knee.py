"""The next-morning knee check: one question with 0-10 buttons, data `k:<walk_id>:<score>`.

The dispatcher sends it silently when walks.knee_check_at is due; bot/level.py handles the tap.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

KNEE_CHECK_QUESTION = (
    "Good morning. After your last walk you noted some knee pain.\n"
    "How does your knee feel this morning, 0 to 10? 0 is no pain, 10 the worst you can imagine."
)


def knee_check_message(walk_id: int) -> tuple[str, InlineKeyboardMarkup]:
    buttons = [InlineKeyboardButton(str(n), callback_data=f"k:{walk_id}:{n}") for n in range(11)]
    return KNEE_CHECK_QUESTION, InlineKeyboardMarkup([buttons[:6], buttons[6:]])
