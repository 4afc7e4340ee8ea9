"""What /pause, /resume and a reminder's Snooze and Not today buttons decide, as small results
the handlers turn into words. The instants themselves move in services/reminders.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain import nudges as domain
from walkbot.domain.schedule import local_date
from walkbot.services import reminders
from walkbot.services.users import get_user
from walkbot.store.models import User

PauseKind = Literal[
    "need_start", "finish_setup", "help", "status", "refused", "paused", "resumed", "not_paused"
]
NudgeKind = Literal["gone", "stale", "already", "snoozed", "resting"]


@dataclass(frozen=True)
class PauseResult:
    kind: PauseKind
    day: str = ""  # status and paused: the day reminders come back, described
    reason: str = ""  # refused: why the argument was not taken
    # resumed: the next reminder described; None when reminders are off
    next_reminder: str | None = None


@dataclass(frozen=True)
class NudgeResult:
    kind: NudgeKind
    at: str = ""  # snoozed: the local time the reminder comes back
    # resting: the next reminder described; None when reminders are off
    next_reminder: str | None = None

    @property
    def done(self) -> bool:
        return self.kind in {"snoozed", "resting"}


async def _ready_user(session: AsyncSession, telegram_id: int) -> User | PauseResult:
    """The person when they have finished setting up, else the refusal to give."""
    user = await get_user(session, telegram_id=telegram_id)
    if user is None:
        return PauseResult("need_start")
    if user.onboarding_step is not None or user.timezone is None:
        return PauseResult("finish_setup")
    return user


def _next_reminder(user: User, following: datetime | None, now: datetime) -> str | None:
    if following is None or user.timezone is None:
        return None
    return domain.describe_instant(following, now=now, zone=user.timezone)


async def pause(
    session: AsyncSession, *, telegram_id: int, argument: str, now: datetime
) -> PauseResult:
    """/pause with its argument: rest, end a rest, show the current one, or say why not."""
    user = await _ready_user(session, telegram_id)
    if isinstance(user, PauseResult):
        return user
    assert user.timezone is not None  # _ready_user refuses anyone without a zone
    zone, today = user.timezone, local_date(now, user.timezone)
    request = domain.parse_pause(argument, now=now, zone=zone)
    if request is None:
        current = await reminders.current_pause(session, user_id=user.telegram_id, now=now)
        if current is None:
            return PauseResult("help")
        day = domain.describe_date(local_date(current.ends_at, zone), today=today)
        return PauseResult("status", day=day)
    if isinstance(request, domain.PauseRefused):
        return PauseResult("refused", reason=request.reason)
    if isinstance(request, domain.PauseOff):
        return await _resume(session, user, now)
    await reminders.pause(session, user=user, now=now, until=request)
    return PauseResult("paused", day=domain.describe_date(request.resume_on, today=today))


async def resume(session: AsyncSession, *, telegram_id: int, now: datetime) -> PauseResult:
    """/resume: end any rest now."""
    user = await _ready_user(session, telegram_id)
    if isinstance(user, PauseResult):
        return user
    return await _resume(session, user, now)


async def _resume(session: AsyncSession, user: User, now: datetime) -> PauseResult:
    if not await reminders.resume(session, user=user, now=now):
        return PauseResult("not_paused")
    return PauseResult("resumed", next_reminder=_next_reminder(user, user.next_nudge_at, now))


async def snooze(
    session: AsyncSession, *, telegram_id: int, now: datetime, day: date
) -> NudgeResult:
    """Snooze 30 min on the reminder for local date `day`."""
    user = await get_user(session, telegram_id=telegram_id)
    if user is None:
        return NudgeResult("gone")
    outcome, until = await reminders.snooze(session, user=user, now=now, day=day)
    if outcome != "snoozed":
        return NudgeResult(outcome)
    # reminders.snooze only snoozes a person with a zone, to a set instant
    assert until is not None and user.timezone is not None
    return NudgeResult("snoozed", at=domain.local_clock(until, user.timezone))


async def not_today(
    session: AsyncSession, *, telegram_id: int, now: datetime, day: date
) -> NudgeResult:
    """Not today on the reminder for local date `day`."""
    user = await get_user(session, telegram_id=telegram_id)
    if user is None:
        return NudgeResult("gone")
    accepted, following = await reminders.not_today(session, user=user, now=now, day=day)
    if not accepted:
        return NudgeResult("stale")
    return NudgeResult("resting", next_reminder=_next_reminder(user, following, now))
