"""The 0-10 rating grid that effort, knee-pain and knee-check questions share."""

from __future__ import annotations

from collections.abc import Callable

from telegram import InlineKeyboardButton

SCALE = range(11)


def scale_rows(
    label: Callable[[int], str], data: Callable[[int], str], *, per_row: int
) -> list[list[InlineKeyboardButton]]:
    """Buttons 0..10 in rows of `per_row` (the last row takes what is left). Effort labels are
    long, so they go three to a row; bare numbers fit six."""
    buttons = [InlineKeyboardButton(label(n), callback_data=data(n)) for n in SCALE]
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
