"""Reading what the bot stored, straight from the database, as a test's independent witness;
and when, by the bot's own clock, a timed thing started and each of its messages went out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from time import monotonic
from typing import Any

from sqlalchemy import create_engine, text

from walkbot.sandbox import FakeBotApi, FakeMessage
from walkbot.store.db import sync_url

# Which column names the person in each table; table names never come from test input.
_OWNER = {"users": "telegram_id", "walks": "user_id", "six_minute_tests": "user_id"}


def latest_row(database_url: str, table: str, owner_id: int) -> dict[str, object]:
    """The newest row of `table` belonging to one person, or {} when there is none."""
    owner, order = _OWNER[table], "telegram_id" if table == "users" else "id DESC"
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            statement = text(f"SELECT * FROM {table} WHERE {owner} = :id ORDER BY {order}")  # noqa: S608
            row = connection.execute(statement, {"id": owner_id}).mappings().first()
    finally:
        engine.dispose()
    return dict(row) if row else {}


async def row_when(
    database_url: str,
    table: str,
    owner_id: int,
    ready: Callable[[dict[str, object]], bool],
    *,
    timeout: float = 10.0,
) -> dict[str, object]:
    """The newest row once `ready` holds for it. The bot writes in the background, and how soon
    depends on the machine's load, so a fixed sleep before reading is a race."""
    deadline = monotonic() + timeout
    while not ready(row := latest_row(database_url, table, owner_id)):
        assert monotonic() < deadline, f"{table} row for {owner_id} never got there: {row}"
        await asyncio.sleep(0.1)
    return row


async def no_jobs_left(job_queue: Any, prefix: str, *, timeout: float = 5.0) -> None:
    """Waits until no job whose name starts with `prefix` is scheduled. The bot removes a
    walk's or test's jobs right after committing its row (the row is the truth), so a test that
    has just seen the row change must not expect the jobs gone in the same instant."""
    deadline = monotonic() + timeout

    def left() -> list[str]:
        return [j.name for j in job_queue.jobs() if j.name and j.name.startswith(prefix)]

    while names := left():
        assert monotonic() < deadline, f"jobs still scheduled: {names}"
        await asyncio.sleep(0.05)


def as_utc(value: object) -> datetime | None:
    """A timestamp column as an aware UTC datetime (SQLite hands raw SQL results back as text,
    and naive)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def started_at(database_url: str, table: str, owner_id: int) -> datetime:
    """When the bot started the newest walk or six-minute test, by its own clock (the system
    clock in these tests): what its cues are timed from. A time the test takes itself before
    the Start tap would add the tap's handling, which a loaded machine can stretch."""
    row = await row_when(database_url, table, owner_id, lambda r: r.get("started_at") is not None)
    when = as_utc(row["started_at"])
    assert when is not None
    return when


def call_index(api: FakeBotApi, message: FakeMessage) -> int:
    """Where, in the fake Bot API's calls, is the one that made `message`."""
    for index, call in enumerate(api.calls):
        result = call.response.get("result")
        if call.status == 200 and isinstance(result, dict):
            made = (result.get("message_id"), result.get("chat", {}).get("id"))
            if made == (message.message_id, message.chat_id):
                return index
    raise AssertionError(f"no call made message {message.message_id} in {message.chat_id}")


def sent_at(api: FakeBotApi, message: FakeMessage) -> datetime:
    """When the fake Bot API received the call that made `message` (system clock)."""
    return api.calls[call_index(api, message)].wall


async def sleep_until(instant: datetime) -> None:
    """Real time: until the system clock (the bot's, in these tests) reaches `instant`."""
    await asyncio.sleep(max(0.0, (instant - datetime.now(UTC)).total_seconds()))
