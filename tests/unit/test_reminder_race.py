"""/settings racing the dispatcher (issue 11, point 10): a handler that read the person's row
before the dispatcher claimed today's reminder, and commits its new time after that claim,
reschedules from a stale `nudged_on` and puts a second reminder on the same local day. The
interleaving is written out by hand: two transactions, the claim committed between the
handler's read and its commit."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from tests.fakes import real_sources
from tests.people import add_onboarded_person
from walkbot.services import dispatch as service
from walkbot.services import onboarding as flow
from walkbot.services.users import get_user
from walkbot.store.db import SessionFactory, transaction

ALICE = 7_000_000_001
# Monday 5 January 2026 is GMT: local time equals UTC.
MONDAY_8 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
MONDAY_19 = datetime(2026, 1, 5, 19, 0, tzinfo=UTC)


async def claim(sessions: SessionFactory, now: datetime) -> service.Claim[object]:
    async with transaction(sessions) as session:
        return await service.claim_due(session, sources=real_sources(sessions), now=now, limit=50)


async def test_a_settings_change_committed_after_the_claim_brings_no_second_reminder(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await add_onboarded_person(
            session,
            ALICE,
            "Alice",
            now=MONDAY_8 - timedelta(hours=1),
            reminder_days=frozenset(range(7)),
            reminder_time=time(8, 0),
            scheduled=True,
        )
    async with transaction(sessions) as session:  # she opened the question in /settings
        user = await get_user(session, telegram_id=ALICE)
        assert user is not None
        assert await flow.begin_edit(session, user=user, step="time", now=MONDAY_8)
    # The handler's transaction: Alice answers the reminder-time question.
    async with transaction(sessions) as handler:
        user = await get_user(handler, telegram_id=ALICE)
        assert user is not None and user.nudged_on is None
        # ...meanwhile the dispatcher claims (and commits) today's 08:00 reminder...
        first = await claim(sessions, MONDAY_8 + timedelta(seconds=2))
        assert [o.source for o in first.send] == ["nudge"]
        # ...and the handler goes on from what it read: no reminder yet today.
        outcome = await flow.answer(
            handler, user=user, step="time", given=flow.Text("19:00"), now=MONDAY_8
        )
        assert outcome.accepted
    # The stale reschedule may put an instant later today; it must not become a second nudge.
    second = await claim(sessions, MONDAY_19 + timedelta(seconds=2))
    assert [o.source for o in second.send if o.source == "nudge"] == []
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE)
        assert user is not None
        assert user.nudged_on == date(2026, 1, 5)
        assert user.next_nudge_at == MONDAY_19 + timedelta(days=1)  # tomorrow, at the new time
    third = await claim(sessions, MONDAY_19 + timedelta(days=1, seconds=2))
    assert [o.source for o in third.send if o.source == "nudge"] == ["nudge"]
