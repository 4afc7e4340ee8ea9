"""When a person's reminders and weekly summary come next, and the use cases that move them:
settings changes and finishing onboarding (`reschedule`), /pause and /resume, a reminder's
Snooze and Not today.

The instants live on the users row (next_nudge_at, next_summary_at) and the dispatch queue
(services/dispatch.py with services/nudge_source.py and services/summary_source.py) sends
whatever falls due; this module only says when that is. services/pauses.py turns these into
the small results the handlers put into words.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.clock import utc
from walkbot.domain import nudges
from walkbot.domain.profile import mask_to_days
from walkbot.domain.schedule import local_date, local_day_bounds, next_nudge_at, snooze_until
from walkbot.store.models import RestPeriod, User

log = logging.getLogger(__name__)

SnoozeOutcome = Literal["snoozed", "already", "stale"]


async def current_pause(session: AsyncSession, *, user_id: int, now: datetime) -> RestPeriod | None:
    """The rest period covering `now`, or one starting later; the latest-ending if several."""
    statement = (
        select(RestPeriod)
        .where(RestPeriod.user_id == user_id, col(RestPeriod.ends_at) > now)
        .order_by(col(RestPeriod.ends_at).desc())
    )
    return (await session.exec(statement)).first()


async def reschedule(session: AsyncSession, *, user: User, now: datetime) -> None:
    """Recompute the next nudge and summary from the person's choices, zone and pause.

    Called whenever one of those changes, at the end of onboarding and on reactivation. Only an
    active, onboarded person with a zone has instants; anyone else has none (never due).
    """
    if not user.active or user.onboarding_step is not None or user.timezone is None:
        user.next_nudge_at, user.next_summary_at, user.nudge_snoozed = None, None, False
        session.add(user)
        return
    pause = await current_pause(session, user_id=user.telegram_id, now=now)
    set_next_nudge(user, now, paused_until=utc(pause.ends_at) if pause is not None else None)
    user.next_summary_at = next_summary(user, now)
    session.add(user)


def set_next_nudge(user: User, now: datetime, *, paused_until: datetime | None) -> None:
    """The person's next regular nudge after `now` (and after any rest), not snoozed; never
    another one on a local day that already had its nudge (sent, or dismissed: Not today)."""
    assert user.timezone is not None
    if user.nudged_on is not None and user.nudged_on == local_date(now, user.timezone):
        _, tomorrow = local_day_bounds(now, user.timezone)
        paused_until = max(paused_until or tomorrow, tomorrow)
    user.next_nudge_at = next_nudge_at(
        now=now,
        zone=user.timezone,
        days=mask_to_days(user.reminder_days),
        at=user.reminder_time,
        paused_until=paused_until,
    )
    user.nudge_snoozed = False


def next_summary(user: User, now: datetime) -> datetime:
    """The person's next weekly summary slot after `now`, never for a week already reported."""
    assert user.timezone is not None
    return nudges.next_summary_slot(
        now=now,
        zone=user.timezone,
        day=user.summary_day,
        at=user.summary_time,
        reported=user.summarised_week,
    )


async def schedule_unscheduled(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """People set up before reminders existed (or by a script): give them their instants.
    Every active, onboarded person has a next summary, so a NULL there means never scheduled.
    Returns how many rows were given instants; fewer than `limit` means none are left.

    Not part of every claim: blocked people also have NULL instants, and with many of them the
    search costs a scan (measured: 54 ms on SQLite, 151 ms on PostgreSQL with 250,000 blocked
    of 1,000,000), so the dispatcher runs it at start-up and hourly instead (the nudge
    source's sweep)."""
    scheduled = 0
    statement = (
        select(User)
        .where(
            User.active == True,  # noqa: E712
            col(User.next_summary_at).is_(None),
            col(User.onboarding_step).is_(None),
            col(User.timezone).is_not(None),
        )
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    for user in (await session.exec(statement)).all():
        try:
            await reschedule(session, user=user, now=now)
        except Exception:  # a zone tzdata no longer knows: they can set it again in /settings
            log.exception("cannot schedule %s in %r; zone cleared", user.telegram_id, user.timezone)
            user.timezone = None
            session.add(user)
        scheduled += 1
    return scheduled


async def pause(
    session: AsyncSession, *, user: User, now: datetime, until: nudges.PauseUntil
) -> RestPeriod:
    """Rest until `until`: one row per rest (a second /pause moves its end), then reschedule."""
    period = await current_pause(session, user_id=user.telegram_id, now=now)
    if period is None:
        period = RestPeriod(
            user_id=user.telegram_id, starts_at=now, ends_at=until.ends_at, created_at=now
        )
    else:
        period.ends_at = until.ends_at
    session.add(period)
    await session.flush()
    await reschedule(session, user=user, now=now)
    return period


async def resume(session: AsyncSession, *, user: User, now: datetime) -> bool:
    """End any rest now. False when there was none."""
    period = await current_pause(session, user_id=user.telegram_id, now=now)
    if period is None:
        return False
    if utc(period.starts_at) >= now:
        await session.delete(period)  # never began: leave no trace
    else:
        period.ends_at = now
        session.add(period)
    await session.flush()
    await reschedule(session, user=user, now=now)
    return True


async def snooze(
    session: AsyncSession, *, user: User, now: datetime, day: date
) -> tuple[SnoozeOutcome, datetime | None]:
    """Bring today's nudge back in 30 minutes, once. `day` is the nudge's local date."""
    if not user.active or user.timezone is None or local_date(now, user.timezone) != day:
        return "stale", None
    if user.nudge_snoozed or user.snoozed_on == day:  # once a day, whatever the buttons say
        return "already", user.next_nudge_at
    user.next_nudge_at, user.nudge_snoozed, user.snoozed_on = snooze_until(now), True, day
    session.add(user)
    return "snoozed", user.next_nudge_at


async def not_today(
    session: AsyncSession, *, user: User, now: datetime, day: date
) -> tuple[bool, datetime | None]:
    """No more nudges today (a pending snooze is dropped). Returns (accepted, next nudge)."""
    if not user.active or user.timezone is None or local_date(now, user.timezone) != day:
        return False, None
    user.nudged_on = day
    pause_row = await current_pause(session, user_id=user.telegram_id, now=now)
    set_next_nudge(user, now, paused_until=utc(pause_row.ends_at) if pause_row else None)
    session.add(user)
    return True, user.next_nudge_at
