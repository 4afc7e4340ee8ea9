"""People a test starts with: someone who finished onboarding earlier, written straight to the
database (onboarding has its own tests), so every test seeds them the same way."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, time, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.clock import SystemClock
from walkbot.domain.profile import days_to_mask
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.services.reminders import reschedule
from walkbot.services.users import Person, create_user, get_user
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import User

LONDON = "Europe/London"


@asynccontextmanager
async def person_in(
    sessions: SessionFactory, telegram_id: int
) -> AsyncIterator[tuple[AsyncSession, User]]:
    """One transaction with a seeded person's row loaded, for tests that act as them."""
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=telegram_id)
        assert user is not None
        yield session, user


async def add_onboarded_person(
    session: AsyncSession,
    telegram_id: int,
    name: str,
    *,
    now: datetime,
    zone: str = LONDON,
    level: int | None = None,
    screening: dict[str, bool] | None = None,
    reminder_days: Iterable[int] | None = None,
    reminder_time: time | None = None,
    scheduled: bool = False,
) -> User:
    """Consented at `now` and done with onboarding, in `zone`; any choice not given keeps the
    default a new person gets. `reminder_days` counts Monday as 0.

    `scheduled`: their next reminder and summary are set from `now`, as finishing onboarding
    does. Left unscheduled, nothing of theirs ever falls due, so a test about something else
    is never interrupted by a reminder."""
    user = await create_user(session, person=Person(telegram_id, name), now=now)
    user.onboarding_step, user.timezone = None, zone
    if level is not None:
        user.level = level
    if screening is not None:
        user.screening = screening
    if reminder_days is not None:
        user.reminder_days = days_to_mask(frozenset(reminder_days))
    if reminder_time is not None:
        user.reminder_time = reminder_time
    if scheduled:
        await reschedule(session, user=user, now=now)
    return user


async def onboarded_chat(
    api: FakeBotApi,
    sessions: SessionFactory,
    name: str,
    *,
    now: datetime | None = None,
    greeted: bool = False,
    level: int | None = None,
    screening: dict[str, bool] | None = None,
    scheduled: bool = False,
) -> FakeUser:
    """A person in the fake Bot API who finished onboarding (see add_onboarded_person); `now`
    defaults to the real time.

    `greeted`: they have written to the bot already, so it may write first (Telegram refuses a
    bot's first word); what it answered is skipped, so the test's next wait sees only what
    comes after."""
    user = api.user(name)
    if greeted:
        user.send("/help")
        await user.wait_for_text("")
    async with transaction(sessions) as session:
        await add_onboarded_person(
            session,
            user.id,
            name,
            now=now or SystemClock().now(),
            level=level,
            screening=screening,
            scheduled=scheduled,
        )
    user.skip_to_end()
    return user


def people_due_a_reminder(
    ids: Iterable[int], *, now: datetime, zone: str, due_for: timedelta
) -> list[User]:
    """Many onboarded people whose reminder fell due `due_for` ago and whose summary is days
    away, so a fan-out sends exactly one reminder each. Built as plain rows, not one
    create_user flush at a time, as a fan-out wants hundreds at once."""
    return [
        User(
            telegram_id=telegram_id,
            first_name=f"P{n}",
            consented_at=now,
            timezone=zone,
            next_nudge_at=now - due_for,
            next_summary_at=now + timedelta(days=3),
            created_at=now,
            updated_at=now,
        )
        for n, telegram_id in enumerate(ids)
    ]
