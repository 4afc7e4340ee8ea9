"""People: creating them on consent, reading and changing only their own row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain.wording import clean_text
from walkbot.services.challenges import forget_creator, leave
from walkbot.services.reminders import reschedule
from walkbot.services.updates import erase_person_updates
from walkbot.store.models import FailedDelivery, SixMinuteTest, User, Walk


@dataclass(frozen=True)
class Person:
    """Who sent an update, as the service layer needs it (no telegram types here)."""

    telegram_id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None


async def get_user(session: AsyncSession, *, telegram_id: int) -> User | None:
    return await session.get(User, telegram_id)


ReadinessKind = Literal["need_start", "finish_setup", "ready"]


@dataclass(frozen=True)
class Readiness:
    """How far someone has come: never started (no row), still setting up, or ready."""

    kind: ReadinessKind
    user: User | None = None  # None only for need_start


async def readiness(session: AsyncSession, *, telegram_id: int) -> Readiness:
    """One primary-key read. A service that reads the same person again in this transaction gets
    the row from the session's identity map, without another query."""
    user = await get_user(session, telegram_id=telegram_id)
    if user is None:
        return Readiness("need_start")
    return Readiness("finish_setup" if user.onboarding_step is not None else "ready", user)


async def create_user(session: AsyncSession, *, person: Person, now: datetime) -> User:
    user = User(
        telegram_id=person.telegram_id,
        first_name=clean_text(person.first_name)[:128],
        username=person.username,
        language_code=person.language_code,
        consented_at=now,
        onboarding_step="s0",
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def touch_user(session: AsyncSession, *, user: User, person: Person, now: datetime) -> None:
    """Keep names current and bring back someone who had blocked the bot and returned."""
    if user.first_name != clean_text(person.first_name)[:128] or user.username != person.username:
        user.first_name, user.username = clean_text(person.first_name)[:128], person.username
        user.updated_at = now
        session.add(user)
    await mark_unblocked(session, user=user, now=now)


async def mark_unblocked(session: AsyncSession, *, user: User, now: datetime) -> bool:
    """They are back (unblocked the bot, or wrote to it): reminders and summaries resume from
    now on. Returns whether anything changed."""
    if user.active:
        return False
    user.active, user.blocked_at, user.updated_at = True, None, now
    session.add(user)
    await reschedule(session, user=user, now=now)
    return True


async def set_blocked(
    session: AsyncSession, *, telegram_id: int, blocked: bool, now: datetime
) -> None:
    """Telegram said they blocked or unblocked the bot. Unknown people are ignored."""
    user = await session.get(User, telegram_id)
    if user is None:
        return
    if blocked:
        await mark_blocked(session, telegram_id=telegram_id, now=now)
    else:
        await mark_unblocked(session, user=user, now=now)


async def mark_blocked(session: AsyncSession, *, telegram_id: int, now: datetime) -> None:
    user = await session.get(User, telegram_id)
    if user is not None and user.active:
        user.active, user.blocked_at, user.updated_at = False, now, now
        # Nothing more is due for them until a /start brings them back.
        user.next_nudge_at, user.next_summary_at, user.nudge_snoozed = None, None, False
        session.add(user)


@dataclass(frozen=True)
class Erased:
    """What /deleteme took that has timed jobs in memory: the caller removes every job about
    these walks and tests (the rows are gone, so the jobs would only find nothing, but a job
    left naming them is still data about the person)."""

    walk_ids: tuple[int, ...]
    test_ids: tuple[int, ...]


async def delete_user(session: AsyncSession, *, telegram_id: int, now: datetime) -> Erased | None:
    """Erase everything walkbot holds about a person. None when there was nothing."""
    result = await session.exec(select(User.telegram_id).where(User.telegram_id == telegram_id))
    if result.first() is None:
        return None
    walks = await session.exec(select(Walk.id).where(Walk.user_id == telegram_id))
    tests = await session.exec(select(SixMinuteTest.id).where(SixMinuteTest.user_id == telegram_id))
    erased = Erased(
        walk_ids=tuple(i for i in walks.all() if i is not None),
        test_ids=tuple(i for i in tests.all() if i is not None),
    )
    # Challenges they created carry on without their id. They leave running ones as /leave
    # does, so each group's live board is edited without them soon, not at its next post;
    # their other memberships go with the row (ON DELETE CASCADE).
    await forget_creator(session, user_id=telegram_id)
    await leave(session, user_id=telegram_id, chat_id=None, now=now)
    # A message a dispatcher claimed for them and has not confirmed (an in-flight record) is
    # theirs and goes with the row by the cascade; one recorded only under their private chat
    # (user_id unset) is theirs too, since a private chat's id is the person's id.
    await session.exec(delete(FailedDelivery).where(col(FailedDelivery.chat_id) == telegram_id))
    # Their stored updates keep only their numbers (so a redelivery is still known), done.
    await erase_person_updates(session, user_id=telegram_id, now=now)
    await session.exec(delete(User).where(col(User.telegram_id) == telegram_id))
    return erased


def zone_of(user: User) -> str:
    """The person's zone; UTC until they have chosen one (only possible mid-onboarding)."""
    return user.timezone or "UTC"
