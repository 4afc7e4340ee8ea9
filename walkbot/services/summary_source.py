"""The weekly summary as a source of the dispatch queue (services/dispatch.py).

Due rows: users.next_summary_at <= now, for active people. A slot more than a day late
(SUMMARY_CATCH_UP_LIMIT) or for a week already reported is skipped; otherwise the week is
marked reported and the row moves to the next slot. The report itself is gathered and drawn
at delivery, in its own short transaction, so no lock is held while the chart is drawn.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.clock import utc
from walkbot.domain import nudges
from walkbot.domain.schedule import catch_up_decision
from walkbot.ports import Outcome
from walkbot.services import reminders, users
from walkbot.services.dispatch import Claim, Outgoing, Source, due_people
from walkbot.services.summaries import WeeklyReport, gather_week, report_from
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import User

log = logging.getLogger(__name__)


class ReportSender(Protocol):
    async def weekly_report(self, chat_id: int, report: WeeklyReport) -> Outcome:
        """The week's report (a chart with its text), silently."""
        ...


class SummarySource(Source[nudges.Week]):
    """Items carry which week to report ("this" or "last")."""

    name = "summary"

    def __init__(self, sender: ReportSender, sessions: SessionFactory) -> None:
        self._sender, self._sessions = sender, sessions

    async def claim(
        self, session: AsyncSession, *, now: datetime, limit: int
    ) -> Claim[nudges.Week]:
        claimed: Claim[nudges.Week] = Claim()
        statement = due_people(User.next_summary_at, now=now, limit=limit)
        for user in (await session.exec(statement)).all():
            try:
                self._decide(user, now, claimed)
            except Exception:  # as for nudges: one bad row must not stop the dispatcher
                log.exception("summary for %s could not be scheduled; off", user.telegram_id)
                user.next_summary_at = None
            session.add(user)
        return claimed

    def _decide(self, user: User, now: datetime, into: Claim[nudges.Week]) -> None:
        assert user.next_summary_at is not None
        due, zone = utc(user.next_summary_at), user.timezone
        if zone is None:
            user.next_summary_at = None
            return
        monday = nudges.reported_monday(due, zone)
        reported = user.summarised_week is not None and user.summarised_week >= monday
        late = catch_up_decision(due, now, max_late=nudges.SUMMARY_CATCH_UP_LIMIT) == "skip"
        if not (late or reported):
            user.summarised_week = monday
        user.next_summary_at = reminders.next_summary(user, now)
        if late:
            into.skip("late")
        if reported:
            into.skip("reported")
        if not (late or reported):
            week = nudges.summary_week(due, zone)
            into.send.append(self.outgoing(user.telegram_id, due, week, user_id=user.telegram_id))

    async def deliver(self, item: Outgoing[nudges.Week]) -> Outcome:
        async with transaction(self._sessions) as session:
            user = await session.get(User, item.chat_id)
            if user is None:  # erased (/deleteme) since the claim: nobody to write to
                return Outcome("failed", "person deleted")
            data = await gather_week(session, user=user, now=item.due_at, week=item.payload)
        report = await report_from(data)  # drawn after the transaction: no connection held
        return await self._sender.weekly_report(item.chat_id, report)

    async def blocked(
        self, session: AsyncSession, *, item: Outgoing[nudges.Week], now: datetime
    ) -> None:
        await users.mark_blocked(session, telegram_id=item.chat_id, now=now)
