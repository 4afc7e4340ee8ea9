"""Small pieces of English shared by every message."""

from __future__ import annotations


def quantity(count: int, noun: str) -> str:
    """A count with its noun agreeing: "1 walk", "0 walks", "3 walks"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
