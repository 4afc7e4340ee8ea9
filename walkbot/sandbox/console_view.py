"""Terminal rendering of the bot's messages for the interactive console.

Pure functions, so the console's look can be tested without a terminal: a message is its text,
then its inline buttons numbered in reading order ("  [1] Yes   [2] No"); typing a number
picks the button with that number.
"""

from __future__ import annotations

from walkbot.sandbox.server import FakeMessage, InlineButton


def numbered_buttons(message: FakeMessage) -> list[InlineButton]:
    """The inline buttons in the order they are numbered: row by row, left to right."""
    return message.flat_buttons


def render_message(message: FakeMessage) -> str:
    """The message as the console prints it: attachments, text, then numbered buttons."""
    lines = [f"[{kind}]" for kind in _attachments(message)]
    if message.body:
        lines.append(message.body)
    if message.edits or message.deleted:
        lines.append("(deleted)" if message.deleted else "(edited)")
    number = 0
    for row in message.buttons:
        cells = []
        for button in row:
            number += 1
            link = f" -> {button.url}" if button.url else ""
            cells.append(f"[{number}] {button.text}{link}")
        lines.append("  " + "   ".join(cells))
    if message.keyboard:
        lines.append("  keyboard: " + " | ".join(" ".join(row) for row in message.keyboard))
    return "\n".join(lines)


def pick_button(message: FakeMessage, choice: str) -> InlineButton | None:
    """The button numbered ``choice`` (as typed, 1-based), or None if it is not one."""
    typed = choice.strip()
    if not typed.isdigit():
        return None
    buttons = numbered_buttons(message)
    index = int(typed) - 1
    return buttons[index] if 0 <= index < len(buttons) else None


def _attachments(message: FakeMessage) -> list[str]:
    kinds = []
    if "photo" in message.content:
        size = f", {len(message.photo)} bytes" if message.photo is not None else ""
        kinds.append(f"photo{size}")
    if message.document is not None:
        kinds.append(f"document {message.document.filename or ''}, {message.document.size} bytes")
    kinds += [kind for kind in ("location", "sticker", "contact") if kind in message.content]
    return kinds
