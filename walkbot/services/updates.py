"""Update de-duplication by update_id."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.store.models import ProcessedUpdate

KEEP_FOR = timedelta(days=2)  # Telegram keeps undelivered updates for 24 hours


async def record_update(session: AsyncSession, *, update_id: int, now: datetime) -> None:
    """Insert the id; raises IntegrityError when it was seen before."""
    session.add(ProcessedUpdate(update_id=update_id, received_at=now))
    await session.flush()


async def prune_updates(session: AsyncSession, *, now: datetime) -> None:
    cutoff = now - KEEP_FOR
    await session.exec(delete(ProcessedUpdate).where(col(ProcessedUpdate.received_at) < cutoff))
