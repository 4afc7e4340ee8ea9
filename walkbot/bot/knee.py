"""The next-morning knee check: one question with 0-10 buttons, data `k:<walk_id>:<score>`.

The dispatcher sends it silently when walks.knee_check_at is due; bot/level.py handles the tap.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from walkbot.bot import callbacks
from walkbot.bot.scales import scale_rows

KNEE_CHECK_QUESTION = (
    "Good morning. After your last walk you noted some knee pain.\n"
    "How does your knee feel this morning, 0 to 10? 0 is no pain, 10 the worst you can imagine."
)


def knee_check_message(walk_id: int) -> tuple[str, InlineKeyboardMarkup]:
    rows = scale_rows(str, lambda n: callbacks.data(callbacks.KNEE, walk_id, n), per_row=6)
    return KNEE_CHECK_QUESTION, InlineKeyboardMarkup(rows)
