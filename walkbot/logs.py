"""Logging that holds no personal data at any level and never shows the bot token.

Three leaks are closed here, whatever LOG_LEVEL says:
- database errors quote what was being written (SQLAlchemy's parameters, PostgreSQL's
  "Failing row contains (...)" and "Key (...)=(...)" details): their messages are withheld
  from tracebacks, keeping the class, the SQLSTATE, the constraint and the SQL;
- libraries that log bodies at DEBUG (PTB: every update and every call's parameters; SQLAlchemy
  and aiosqlite: rows) stay at INFO or above, and data quoted in PTB's own warnings is withheld;
- the token (and the webhook secret) are replaced wherever they appear.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Mapping
from typing import IO

# Loggers that say too much below these levels: bodies, rows, URLs with the token.
QUIET = {
    "telegram": logging.INFO,  # DEBUG: every update's JSON and every call's parameters
    "sqlalchemy": logging.WARNING,  # INFO: statements and parameters; DEBUG: rows
    "aiosqlite": logging.INFO,  # DEBUG: each call and its result
    "psycopg": logging.INFO,
    "httpx": logging.WARNING,  # INFO: every request URL, and Bot API URLs carry the token
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "uvicorn": logging.INFO,  # DEBUG: connection and protocol details of each request
}
# Exceptions raised by these packages may quote stored values in their messages.
_DATABASE_PACKAGES = frozenset({"sqlalchemy", "sqlite3", "aiosqlite", "psycopg", "asyncpg"})
WITHHELD = "<withheld>"


def _is_database_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in _DATABASE_PACKAGES


def _database_summary(exc: BaseException) -> str:
    """What a database error may say in a log: its kind and where, never the values."""
    orig = getattr(exc, "orig", None) or exc
    parts = [type(orig).__name__]
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    if code:
        parts.append(f"({code})")
    diag = getattr(orig, "diag", None)  # psycopg: names only, never the row
    for name in ("table_name", "column_name", "constraint_name"):
        value = getattr(diag, name, None) if diag is not None else None
        if value:
            parts.append(f"{name.split('_')[0]}={value}")
    statement = getattr(exc, "statement", None)
    if statement:
        parts.append(f"[SQL: {' '.join(str(statement).split())[:500]}]")
    parts.append("(message withheld: it may quote stored data)")
    return " ".join(parts)


def exception_text(exc: BaseException) -> str:
    """A traceback like Python's, its chain included, with database errors' messages replaced
    by a summary that carries no values."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and not any(current is seen for seen in chain):
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        else:
            current = None if current.__suppress_context__ else current.__context__
    lines: list[str] = []
    for index, item in enumerate(reversed(chain)):
        if index:
            lines.append("\nThe above exception led to the following:\n\n")
        if item.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        kind = type(item)
        builtin = kind.__module__ == "builtins"
        name = kind.__qualname__ if builtin else f"{kind.__module__}.{kind.__qualname__}"
        message = _database_summary(item) if _is_database_error(item) else str(item)
        lines.append(f"{name}: {message}\n" if message else f"{name}\n")
    return "".join(lines).rstrip("\n")


def _withheld(arg: object) -> object:
    """Numbers and short words stay (an endpoint, an id); anything that may be a body goes."""
    if arg is None or isinstance(arg, int | float):
        return arg
    if isinstance(arg, str) and len(arg) <= 64 and not any(ch.isspace() for ch in arg):
        return arg
    return WITHHELD


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        if record.name.split(".")[0] == "telegram" and record.args:
            # PTB's warnings quote what arrived ("Received data was %r"): keep the words.
            record = logging.makeLogRecord(record.__dict__)
            if isinstance(record.args, Mapping):
                record.args = {key: _withheld(value) for key, value in record.args.items()}
            else:
                record.args = tuple(_withheld(arg) for arg in record.args or ())
        cached, record.exc_text = record.exc_text, None  # another handler's unscrubbed text
        try:
            text = super().format(record)
        finally:
            record.exc_text = cached
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def formatException(self, ei: object) -> str:
        exc = ei[1] if isinstance(ei, tuple) else None
        if isinstance(exc, BaseException):
            return exception_text(exc)
        return super().formatException(ei)  # type: ignore[arg-type]


def configure_logging(level: str, *, secrets: list[str], stream: IO[str] | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, floor in QUIET.items():
        logging.getLogger(name).setLevel(max(floor, root.level))
