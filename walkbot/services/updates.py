"""Update de-duplication by update_id."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.store.models import ProcessedUpdate

KEEP_FOR = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours

# Built once, so SQLAlchemy compiles each once: building the statement per call (a VALUES list
# of the batch) cost more than the insert itself. A conflict is skipped, not raised: the id just
# is not among those RETURNING gives back.
_INSERTS = {
    dialect: insert(ProcessedUpdate)
    .on_conflict_do_nothing(index_elements=["update_id"])
    .returning(col(ProcessedUpdate.update_id))
    for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}


async def record_updates(
    session: AsyncSession, *, update_ids: Collection[int], now: datetime
) -> set[int]:
    """Record the ids; returns those not seen before (the rest are duplicates)."""
    if not update_ids:
        return set()
    connection = await session.connection()
    rows = [{"update_id": uid, "received_at": now} for uid in sorted(set(update_ids))]
    result = await connection.execute(_INSERTS[connection.dialect.name], rows)
    return set(result.scalars())


async def prune_updates(session: AsyncSession, *, now: datetime) -> None:
    cutoff = now - KEEP_FOR
    await session.exec(delete(ProcessedUpdate).where(col(ProcessedUpdate.received_at) < cutoff))
