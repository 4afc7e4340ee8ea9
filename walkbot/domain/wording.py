"""Small pieces of English shared by every message."""

from __future__ import annotations


def quantity(count: int, noun: str) -> str:
    """A count with its noun agreeing: "1 walk", "0 walks", "3 walks"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# Bidi controls reorder what follows them on screen (U+202E makes "gpj.exe" read "exe.jpg"):
# they have no place in a note. Other format characters stay: ZWJ joins emoji, for one.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
ECHO_LIMIT = 40


def clean_text(text: str) -> str:
    """Free text fit to store: control characters (NUL, BEL...; PostgreSQL refuses NUL), bidi
    controls and lone surrogates removed; line breaks and tabs kept, CRLF as one line break."""
    text = text.replace("\r\n", "\n")
    return "".join(ch for ch in text if _kept(ch))


def _kept(ch: str) -> bool:
    if ch in "\n\t":
        return True
    code = ord(ch)
    if code < 0x20 or 0x7F <= code <= 0x9F:  # C0 and C1 controls, DEL
        return False
    return ch not in _BIDI_CONTROLS and not 0xD800 <= code <= 0xDFFF


def bounded(text: str, limit: int = ECHO_LIMIT) -> str:
    """User input quoted back in a reply: cleaned, on one line, at most `limit` characters
    (an ellipsis marks the cut), so a reply can never outgrow Telegram's 4,096."""
    flat = " ".join(clean_text(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
