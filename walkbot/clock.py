"""The one source of "now". Everything that needs the time takes a Clock, so tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """Normalise to aware UTC; naive values (SQLite returns them) are taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class ShiftedClock:
    """Real time moved by an offset that tests (and the console) can set: time still flows, so
    scheduler jobs keep running, but "now" can jump to 07:59:58 in Sydney or over a DST change."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = timedelta(0)
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._offset = instant - datetime.now(UTC)

    def jump(self, delta: timedelta) -> None:
        self._offset += delta
