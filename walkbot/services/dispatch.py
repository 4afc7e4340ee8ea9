"""The dispatch queue on the rows: claiming what is due, advancing it, recording what happened.
The use cases that move the queue (settings, /pause, /resume, Snooze, Not today) are in
services/reminders.py.

The queue is three columns: users.next_nudge_at, users.next_summary_at and
walks.knee_check_at (with knee_check_sent_at). A row is due when its instant is <= now.

Claiming (`claim_due`) locks a small batch with SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL;
SQLite ignores it and is single-process), decides each row (send, or skip: too late, already
walked that day, resting), advances it to its next instant, and returns what to send. The caller
commits at once, before sending: a second dispatcher (another process) then never sees the row
as due, and no lock is held during the slow HTTP part. Results are written afterwards by
`record_results` (403: inactive and unscheduled; given up: a FailedDelivery row). Why this shape
is at-most-once, and how a restart loses nothing: see walkbot/scheduling/dispatch.py.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from walkbot.clock import utc
from walkbot.domain import nudges
from walkbot.domain.programme import describe_level
from walkbot.domain.schedule import (
    catch_up_decision,
    local_date,
    local_day_bounds,
)
from walkbot.services import reminders, users
from walkbot.store.models import FailedDelivery, RestPeriod, User, Walk

log = logging.getLogger(__name__)

Kind = Literal["nudge", "summary", "knee"]
Outcome = Literal["sent", "blocked", "failed"]
BATCH_SIZE = 50
# The detail of a claimed message not yet known to be sent. A row still saying this after its
# batch (seconds; minutes under flood control) is a message a stopped process never sent.
IN_FLIGHT = "in flight: claimed, not confirmed sent (left so, the bot stopped mid-send)"


@dataclass(frozen=True)
class Outgoing:
    """One message the dispatcher owes someone, decided and already advanced on its row."""

    kind: Kind
    user_id: int
    due_at: datetime
    text: str = ""
    # Nudges: the person's local date (stale-button check) and whether Snooze is offered.
    day: date | None = None
    snoozable: bool = False
    # Summaries: which week to report.
    week: nudges.Week | None = None
    # Knee checks: the walk asked about.
    walk_id: int | None = None
    # Its "in flight" FailedDelivery row, written with the claim and cleared by the result.
    ledger_id: int | None = None


@dataclass
class Claimed:
    send: list[Outgoing] = field(default_factory=list)
    late: int = 0  # skipped: the bot was down too long
    walked: int = 0  # skipped: they already walked that day
    resting: int = 0  # skipped: inside a /pause
    reported: int = 0  # skipped: a summary of that week already went out

    @property
    def rows(self) -> int:
        return len(self.send) + self.late + self.walked + self.resting + self.reported


@dataclass(frozen=True)
class Result:
    item: Outgoing
    outcome: Outcome
    detail: str = ""


# ---- claiming -------------------------------------------------------------------------------


async def claim_due(session: AsyncSession, *, now: datetime, limit: int = BATCH_SIZE) -> Claimed:
    """Lock, decide and advance up to `limit` due rows of each kind. Commit right after.

    Each message to send is also written down as "in flight" (a FailedDelivery row that
    record_results clears or fills in): if the process dies between this commit and the
    result, the person who missed a message is on record, not just lost."""
    claimed = Claimed()
    await _claim_nudges(session, now=now, limit=limit, into=claimed)
    await _claim_summaries(session, now=now, limit=limit, into=claimed)
    await _claim_knee_checks(session, now=now, limit=limit, into=claimed)
    ledger = [
        FailedDelivery(
            user_id=o.user_id, kind=o.kind, due_at=o.due_at, failed_at=now, detail=IN_FLIGHT
        )
        for o in claimed.send
    ]
    if ledger:
        session.add_all(ledger)
        await session.flush()
        claimed.send = [
            replace(o, ledger_id=row.id) for o, row in zip(claimed.send, ledger, strict=True)
        ]
    return claimed


def _due_users(column: Any, now: datetime, limit: int) -> SelectOfScalar[User]:
    return (
        select(User)
        .where(User.active == True, col(column) <= now)  # noqa: E712
        .order_by(col(column))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def _claim_nudges(session: AsyncSession, *, now: datetime, limit: int, into: Claimed) -> None:
    statement = _due_users(User.next_nudge_at, now, limit)
    due_users = list((await session.exec(statement)).all())
    if not due_users:
        return
    ids = [u.telegram_id for u in due_users]
    earliest = min(utc(u.next_nudge_at) for u in due_users if u.next_nudge_at is not None)
    walks = await _walk_starts(session, ids, since=earliest - timedelta(days=2))
    pauses = await _pauses(session, ids, since=earliest - timedelta(days=1))
    for user in due_users:
        try:
            _decide_nudge(user, now, walks, pauses, into)
        except Exception:  # one bad row (a zone tzdata no longer knows) must not stop the rest
            log.exception("nudge for %s could not be scheduled; reminders off", user.telegram_id)
            user.next_nudge_at, user.nudge_snoozed = None, False
        session.add(user)


def _decide_nudge(
    user: User,
    now: datetime,
    walks: dict[int, list[datetime]],
    pauses: dict[int, list[tuple[datetime, datetime]]],
    into: Claimed,
) -> None:
    assert user.next_nudge_at is not None
    due, snoozed, zone = utc(user.next_nudge_at), user.nudge_snoozed, user.timezone
    if zone is None:  # cannot happen through reschedule(); never loop on such a row
        user.next_nudge_at, user.nudge_snoozed = None, False
        return
    resting_until = _resting_until(pauses.get(user.telegram_id, []), due)
    reminders.set_next_nudge(
        user, now, paused_until=_pause_end(pauses.get(user.telegram_id, []), now)
    )
    day_start, day_end = local_day_bounds(due, zone)
    if catch_up_decision(due, now) == "skip":
        into.late += 1
    elif resting_until is not None:
        into.resting += 1
    elif any(day_start <= s < day_end for s in walks.get(user.telegram_id, [])):
        into.walked += 1
    else:
        user.nudged_on = local_date(due, zone)
        text = nudges.nudge_text(describe_level(user.level), snoozed=snoozed)
        into.send.append(
            Outgoing(
                "nudge",
                user.telegram_id,
                due,
                text=text,
                day=local_date(due, zone),
                snoozable=not snoozed,
            )
        )


async def _claim_summaries(
    session: AsyncSession, *, now: datetime, limit: int, into: Claimed
) -> None:
    statement = _due_users(User.next_summary_at, now, limit)
    due_users = list((await session.exec(statement)).all())
    for user in due_users:
        try:
            _decide_summary(user, now, into)
        except Exception:  # as for nudges: one bad row must not stop the dispatcher
            log.exception("summary for %s could not be scheduled; off", user.telegram_id)
            user.next_summary_at = None
        session.add(user)


def _decide_summary(user: User, now: datetime, into: Claimed) -> None:
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
    if late or reported:
        into.late += late
        into.reported += reported
        return
    week = nudges.summary_week(due, zone)
    into.send.append(Outgoing("summary", user.telegram_id, due, week=week))


async def _claim_knee_checks(
    session: AsyncSession, *, now: datetime, limit: int, into: Claimed
) -> None:
    statement = (
        select(Walk)
        .join(User, col(User.telegram_id) == col(Walk.user_id))
        .where(
            col(Walk.knee_check_at) <= now,
            col(Walk.knee_check_sent_at).is_(None),
            User.active == True,  # noqa: E712
        )
        .order_by(col(Walk.knee_check_at))
        .limit(limit)
        .with_for_update(skip_locked=True, of=Walk)
    )
    for walk in (await session.exec(statement)).all():
        assert walk.knee_check_at is not None and walk.id is not None
        due = utc(walk.knee_check_at)
        walk.knee_check_sent_at = now
        session.add(walk)
        if catch_up_decision(due, now) == "skip":
            # Asking about "this morning" in the evening is noise: the question is dropped.
            log.info("knee check for walk %s skipped: due %s, now %s", walk.id, due, now)
            into.late += 1
            continue
        into.send.append(Outgoing("knee", walk.user_id, due, walk_id=walk.id))


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


# ---- recording ------------------------------------------------------------------------------


async def record_results(session: AsyncSession, *, now: datetime, results: list[Result]) -> None:
    """After sending: clear the in-flight marks of what arrived; a 403 stops everything for
    that person; a give-up turns its mark into the reason (or leaves a new row)."""
    settled = [r.item.ledger_id for r in results if r.outcome != "failed" and r.item.ledger_id]
    if settled:
        await session.exec(delete(FailedDelivery).where(col(FailedDelivery.id).in_(settled)))
    for result in results:
        item = result.item
        if result.outcome == "blocked":
            await users.mark_blocked(session, telegram_id=item.user_id, now=now)
        elif result.outcome == "failed":
            await _record_failure(session, item=item, detail=result.detail, now=now)


async def _record_failure(
    session: AsyncSession, *, item: Outgoing, detail: str, now: datetime
) -> None:
    mark = await session.get(FailedDelivery, item.ledger_id) if item.ledger_id else None
    if mark is None:
        if await session.get(User, item.user_id) is None:  # erased since the claim
            return
        mark = FailedDelivery(
            user_id=item.user_id, kind=item.kind, due_at=item.due_at, failed_at=now
        )
    mark.failed_at, mark.detail = now, detail[:256]
    session.add(mark)
