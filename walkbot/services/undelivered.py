"""Messages given up on outside the queue (a walk's cues and questions, a six-minute test's
phrases): written down as the queue writes its own (a FailedDelivery row), so a message that
never arrived is on record, never only in a log line."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.store.models import FailedDelivery, User


async def given_up(
    session: AsyncSession,
    *,
    user_id: int,
    kind: str,
    detail: str,
    now: datetime,
    due_at: datetime | None = None,
) -> None:
    """Record that the message `kind` (at most 32 characters) to `user_id` was given up on."""
    if await session.get(User, user_id) is None:  # erased meanwhile: nothing to keep
        return
    session.add(
        FailedDelivery(
            user_id=user_id,
            chat_id=user_id,
            kind=kind[:32],
            due_at=due_at,
            failed_at=now,
            detail=detail[:256],
        )
    )
