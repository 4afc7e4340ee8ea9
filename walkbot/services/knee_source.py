"""The next-morning knee check as a source of the dispatch queue (services/dispatch.py).

Due rows: walks.knee_check_at <= now, not yet asked, of active people (set after a walk rated
with knee pain above 3; see services/programme.py). A check more than two hours late is
dropped (asking about "this morning" in the evening is noise); either way it is marked asked.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.clock import utc
from walkbot.domain.schedule import catch_up_decision
from walkbot.ports import Outcome
from walkbot.services import users
from walkbot.services.dispatch import Claim, Outgoing, Source, skip_locked
from walkbot.store.models import User, Walk

log = logging.getLogger(__name__)


class KneeCheckSender(Protocol):
    async def knee_check(self, chat_id: int, walk_id: int) -> Outcome:
        """How does your knee feel this morning, 0-10, about walk `walk_id`; silently."""
        ...


class KneeCheckSource(Source[int]):
    """Items carry the walk asked about."""

    name = "knee"

    def __init__(self, sender: KneeCheckSender) -> None:
        self._sender = sender

    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[int]:
        claimed: Claim[int] = Claim()
        statement = (
            select(Walk)
            .join(User, col(User.telegram_id) == col(Walk.user_id))
            .where(
                col(Walk.knee_check_at) <= now,
                col(Walk.knee_check_sent_at).is_(None),
                User.active == True,  # noqa: E712
            )
            .order_by(col(Walk.knee_check_at))
        )
        for walk in (await session.exec(skip_locked(statement, limit=limit, of=Walk))).all():
            assert walk.knee_check_at is not None and walk.id is not None
            due = utc(walk.knee_check_at)
            walk.knee_check_sent_at = now
            session.add(walk)
            if catch_up_decision(due, now) == "skip":
                log.info("knee check for walk %s skipped: due %s, now %s", walk.id, due, now)
                claimed.skip("late")
                continue
            claimed.send.append(self.outgoing(walk.user_id, due, walk.id, user_id=walk.user_id))
        return claimed

    async def deliver(self, item: Outgoing[int]) -> Outcome:
        return await self._sender.knee_check(item.chat_id, item.payload)

    async def blocked(self, session: AsyncSession, *, item: Outgoing[int], now: datetime) -> None:
        await users.mark_blocked(session, telegram_id=item.chat_id, now=now)
