"""The reminders ("time for your walk") as a source of the dispatch queue (services/dispatch.py).

Due rows: users.next_nudge_at <= now, for active people. Each is decided at claim time, in the
person's zone: skipped when the bot was down too long (catch_up_decision), inside a /pause,
when they already walked that local day, or when that day already had its reminder (a
settings change racing the claim); otherwise sent, with Snooze unless it is the
snoozed one coming back. Either way the row moves to the next reminder day (never a second
reminder the same local day). The sweep gives instants to people who have none yet.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.clock import utc
from walkbot.domain import nudges
from walkbot.domain.programme import describe_level
from walkbot.domain.schedule import catch_up_decision, local_date, local_day_bounds
from walkbot.ports import Outcome
from walkbot.services import reminders, users
from walkbot.services.dispatch import Claim, Outgoing, Source, due_people
from walkbot.store.models import RestPeriod, User, Walk

log = logging.getLogger(__name__)


class NudgeSender(Protocol):
    async def nudge(self, chat_id: int, *, day: date, text: str, snoozable: bool) -> Outcome:
        """The reminder, with Start now, Snooze (when `snoozable`) and Not today for `day`."""
        ...


@dataclass(frozen=True)
class Nudge:
    day: date  # the person's local date: a button from another day is stale
    text: str
    snoozable: bool


class NudgeSource(Source[Nudge]):
    name = "nudge"

    def __init__(self, sender: NudgeSender) -> None:
        self._sender = sender

    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[Nudge]:
        claimed: Claim[Nudge] = Claim()
        due_users = list(
            (await session.exec(due_people(User.next_nudge_at, now=now, limit=limit))).all()
        )
        if not due_users:
            return claimed
        ids = [u.telegram_id for u in due_users]
        earliest = min(utc(u.next_nudge_at) for u in due_users if u.next_nudge_at is not None)
        walks = await _walk_starts(session, ids, since=earliest - timedelta(days=2))
        pauses = await _pauses(session, ids, since=earliest - timedelta(days=1))
        for user in due_users:
            try:
                self._decide(user, now, walks, pauses, claimed)
            except Exception:  # one bad row (a zone tzdata no longer knows) must not stop the rest
                log.exception(
                    "nudge for %s could not be scheduled; reminders off", user.telegram_id
                )
                user.next_nudge_at, user.nudge_snoozed = None, False
            session.add(user)
        return claimed

    def _decide(
        self,
        user: User,
        now: datetime,
        walks: dict[int, list[datetime]],
        pauses: dict[int, list[tuple[datetime, datetime]]],
        into: Claim[Nudge],
    ) -> None:
        assert user.next_nudge_at is not None
        due, snoozed, zone = utc(user.next_nudge_at), user.nudge_snoozed, user.timezone
        if zone is None:  # cannot happen through reschedule(); never loop on such a row
            user.next_nudge_at, user.nudge_snoozed = None, False
            return
        rests = pauses.get(user.telegram_id, [])
        resting_until = _resting_until(rests, due)
        reminders.set_next_nudge(user, now, paused_until=_pause_end(rests, now))
        day_start, day_end = local_day_bounds(due, zone)
        if catch_up_decision(due, now) == "skip":
            into.skip("late")
        elif resting_until is not None:
            into.skip("resting")
        elif any(day_start <= s < day_end for s in walks.get(user.telegram_id, [])):
            into.skip("walked")
        elif not snoozed and user.nudged_on == local_date(due, zone):
            # That local day already had its reminder (or "Not today"). Only a stale write can
            # bring one back: /settings that read the row before this day's claim and saved a
            # later time after it (tests/unit/test_reminder_race.py). The row is locked here,
            # so this check sees every committed claim: one reminder a day whatever the race.
            into.skip("nudged")
        else:
            day = local_date(due, zone)
            user.nudged_on = day
            text = nudges.nudge_text(describe_level(user.level), snoozed=snoozed)
            nudge = Nudge(day=day, text=text, snoozable=not snoozed)
            into.send.append(self.outgoing(user.telegram_id, due, nudge, user_id=user.telegram_id))

    async def deliver(self, item: Outgoing[Nudge]) -> Outcome:
        nudge = item.payload
        return await self._sender.nudge(
            item.chat_id, day=nudge.day, text=nudge.text, snoozable=nudge.snoozable
        )

    async def blocked(self, session: AsyncSession, *, item: Outgoing[Nudge], now: datetime) -> None:
        await users.mark_blocked(session, telegram_id=item.chat_id, now=now)

    async def sweep(self, session: AsyncSession, *, now: datetime, limit: int) -> int:
        """People without instants get their next reminder and summary (see reminders)."""
        return await reminders.schedule_unscheduled(session, now=now, limit=limit)


async def _walk_starts(
    session: AsyncSession, user_ids: list[int], *, since: datetime
) -> dict[int, list[datetime]]:
    statement = select(Walk.user_id, Walk.started_at).where(
        col(Walk.user_id).in_(user_ids), col(Walk.started_at) >= since
    )
    starts: dict[int, list[datetime]] = defaultdict(list)
    for user_id, started_at in (await session.exec(statement)).all():
        if started_at is not None:
            starts[user_id].append(utc(started_at))
    return starts


async def _pauses(
    session: AsyncSession, user_ids: list[int], *, since: datetime
) -> dict[int, list[tuple[datetime, datetime]]]:
    statement = select(RestPeriod.user_id, RestPeriod.starts_at, RestPeriod.ends_at).where(
        col(RestPeriod.user_id).in_(user_ids), col(RestPeriod.ends_at) > since
    )
    found: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for user_id, starts_at, ends_at in (await session.exec(statement)).all():
        found[user_id].append((utc(starts_at), utc(ends_at)))
    return found


def _resting_until(periods: list[tuple[datetime, datetime]], instant: datetime) -> datetime | None:
    ends = [end for start, end in periods if start <= instant < end]
    return max(ends) if ends else None


def _pause_end(periods: list[tuple[datetime, datetime]], now: datetime) -> datetime | None:
    """When the rest that covers `now` (or starts later) is over; None when there is none."""
    ends = [end for _start, end in periods if end > now]
    return max(ends) if ends else None
