"""The inbox of updates (update_inbox): stored before they are acknowledged, marked done once
handled, their bodies cleared then, their ids kept for two days to know a redelivery.

The statements are built once, so SQLAlchemy compiles each once: building one per call (a
VALUES list of the batch) cost more than the insert itself (docs/performance.md). A conflict is
skipped, not raised: the id is just not among those RETURNING gives back.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, null, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.store.models import InboxUpdate

KEEP_FOR = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours


@dataclass(frozen=True)
class Received:
    """One update as it arrived: its id, the person (or chat) it is from, its JSON body."""

    update_id: int
    user_id: int | None
    body: dict[str, Any]


_TABLE = InboxUpdate.__table__  # type: ignore[attr-defined]

_STORES = {
    dialect: insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["update_id"])
    .returning(_TABLE.c.update_id)
    for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}


def _finish_statement(insert: Any) -> Any:
    """Mark done, if not done yet: an id never stored (an update handed to the Application
    some other way) is recorded as done; one already done is not returned."""
    statement = insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=["update_id"],
        set_={"done_at": statement.excluded.done_at, "body": null()},
        where=_TABLE.c.done_at.is_(None),
    ).returning(_TABLE.c.update_id)


_FINISHES = {
    dialect: _finish_statement(insert)
    for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}


async def store_updates(
    session: AsyncSession, *, received: Sequence[Received], now: datetime
) -> set[int]:
    """Store the updates not stored before; returns their ids (the rest are redeliveries)."""
    if not received:
        return set()
    rows: dict[int, dict[str, Any]] = {}
    for item in received:  # the same id twice in one batch: the first one is stored
        rows.setdefault(
            item.update_id,
            {
                "update_id": item.update_id,
                "user_id": item.user_id,
                "body": item.body,
                "received_at": now,
                "done_at": None,
            },
        )
    connection = await session.connection()
    result = await connection.execute(
        _STORES[connection.dialect.name], [rows[uid] for uid in sorted(rows)]
    )
    return set(result.scalars())


async def finish_updates(
    session: AsyncSession, *, update_ids: Collection[int], now: datetime
) -> set[int]:
    """Mark the updates done and clear their bodies; returns the ids that were not done yet
    (an id not returned was handled by someone else)."""
    if not update_ids:
        return set()
    connection = await session.connection()
    rows = [
        {"update_id": uid, "user_id": None, "body": None, "received_at": now, "done_at": now}
        for uid in sorted(set(update_ids))
    ]
    result = await connection.execute(_FINISHES[connection.dialect.name], rows)
    return set(result.scalars())


async def unfinished_updates(session: AsyncSession) -> list[tuple[int, dict[str, Any]]]:
    """The updates stored and not done, oldest first: what a stopped process left."""
    result = await session.exec(
        select(InboxUpdate.update_id, InboxUpdate.body)
        .where(col(InboxUpdate.done_at).is_(None), col(InboxUpdate.body).is_not(None))
        .order_by(col(InboxUpdate.update_id))
    )
    return [(uid, dict(body)) for uid, body in result.all() if body is not None]


async def prune_updates(session: AsyncSession, *, now: datetime) -> None:
    cutoff = now - KEEP_FOR
    await session.exec(delete(InboxUpdate).where(col(InboxUpdate.received_at) < cutoff))


async def erase_person_updates(session: AsyncSession, *, user_id: int, now: datetime) -> None:
    """/deleteme: the person's stored updates lose their bodies and their id; each stays as a
    bare update id (so a redelivery is still known), done."""
    await session.exec(
        update(InboxUpdate)
        .where(col(InboxUpdate.user_id) == user_id)
        .values(body=null(), user_id=None, done_at=func.coalesce(InboxUpdate.done_at, now))
    )
