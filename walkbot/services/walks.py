"""Walk sessions: preparing, starting, pausing, stopping, cueing and rating, on the walk row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain import programme as programme_domain
from walkbot.domain import walks as domain
from walkbot.services import programme, sixmin
from walkbot.store.models import User, Walk

OPEN_STATUSES = ("ready", "active")
EndReason = Literal["finished", "stopped", "need_to_stop", "timed_out", "blocked"]
RatingStep = Literal["effort", "pain", "note"]


def counted(user_id: int) -> tuple[ColumnElement[bool], ...]:
    """The walks that count in /history, /summary, /stats and the weekly report: ended after
    some walking. Start tapped and stopped at once is not a walk, in any of them."""
    return (
        col(Walk.user_id) == user_id,
        col(Walk.status) == "ended",
        col(Walk.active_s) > 0,
        col(Walk.started_at).is_not(None),
    )


def plan_of(walk: Walk) -> domain.WalkPlan:
    return domain.WalkPlan.from_dict(walk.plan)


def pauses_of(walk: Walk) -> tuple[domain.Pause, ...]:
    return tuple(domain.Pause.from_dict(p) for p in walk.pauses)


def timeline_of(walk: Walk) -> domain.Timeline:
    assert walk.started_at is not None
    return domain.build_timeline(plan_of(walk), walk.started_at, pauses_of(walk))


def status_of(walk: Walk, now: datetime) -> domain.WalkStatus:
    return timeline_of(walk).status_at(now)


def is_paused(walk: Walk) -> bool:
    return domain.is_paused(pauses_of(walk))


async def open_walk(session: AsyncSession, *, user_id: int) -> Walk | None:
    """The walk someone is on (or about to start): at most one at a time."""
    statement = (
        select(Walk)
        .where(Walk.user_id == user_id, col(Walk.status).in_(OPEN_STATUSES))
        .order_by(col(Walk.id).desc())
    )
    return (await session.exec(statement)).first()


async def prepare(
    session: AsyncSession, *, user: User, plan: domain.WalkPlan | None, now: datetime
) -> tuple[Walk, bool]:
    """A new walk waiting behind the safety card, or the open one. Returns (walk, is_new).
    No plan: the person's programme level (walk.level records it; a custom plan leaves it
    None and does not move the programme)."""
    existing = await open_walk(session, user_id=user.telegram_id)
    if existing is not None:
        if existing.status == "active":
            return existing, False
        await session.delete(existing)  # an unstarted card is replaced by the new request
    level = None
    if plan is None:
        level = programme_domain.clamp_level(user.level)
        plan = programme_domain.level_plan(level)
    walk = Walk(
        user_id=user.telegram_id, plan=plan.to_dict(), status="ready", created_at=now, level=level
    )
    session.add(walk)
    await session.flush()
    return walk, True


async def owned_walk(session: AsyncSession, *, user_id: int, walk_id: int) -> Walk | None:
    """A walk only its owner may touch; None for anyone else's or a missing one."""
    walk = await session.get(Walk, walk_id)
    if walk is None or walk.user_id != user_id:
        return None
    return walk


async def start(session: AsyncSession, *, walk: Walk, now: datetime) -> bool:
    """Ready -> active; refused while the person is in a six-minute test (one timed thing at a
    time: two interleaved sets of cues would be unsafe to follow)."""
    if walk.status != "ready":
        return False
    if await sixmin.running_test(session, user_id=walk.user_id) is not None:
        return False
    walk.status, walk.started_at = "active", now
    session.add(walk)
    return True


async def cancel(session: AsyncSession, *, walk: Walk) -> bool:
    """'Not now' on the safety card: an unstarted walk leaves no trace."""
    if walk.status != "ready":
        return False
    await session.delete(walk)
    return True


async def pause(session: AsyncSession, *, walk: Walk, now: datetime) -> bool:
    if walk.status != "active" or is_paused(walk):
        return False
    walk.pauses = [p.to_dict() for p in domain.pause_walk(pauses_of(walk), now)]
    session.add(walk)
    return True


async def resume(session: AsyncSession, *, walk: Walk, now: datetime) -> bool:
    if walk.status != "active" or not is_paused(walk):
        return False
    walk.pauses = [p.to_dict() for p in domain.resume_walk(pauses_of(walk), now)]
    # Cues whose moment passed during the pause are covered by the reply to Resume.
    walk.last_cue_index = max(walk.last_cue_index, domain.last_due_index(timeline_of(walk), now))
    session.add(walk)
    return True


async def end(
    session: AsyncSession, *, walk: Walk, now: datetime, reason: EndReason
) -> domain.WalkSummary | None:
    """Close an active walk, record what was done, and open the rating questions."""
    if walk.status != "active" or walk.started_at is None:
        return None
    summary = domain.summarize_walk(plan_of(walk), walk.started_at, pauses_of(walk), now)
    walk.status, walk.ended_at, walk.end_reason = "ended", now, reason
    walk.backward_s, walk.forward_s = summary.backward_s, summary.forward_s
    walk.active_s, walk.rounds_done = summary.active_s, summary.rounds_completed
    walk.rating_step = None if reason == "blocked" else "effort"
    session.add(walk)
    return summary


async def mark_cues_sent(session: AsyncSession, *, walk: Walk, last_index: int) -> None:
    if last_index > walk.last_cue_index:
        walk.last_cue_index = last_index
        session.add(walk)


async def active_walks(session: AsyncSession) -> list[Walk]:
    """Every walk under way, for rebuilding cue jobs at start-up."""
    statement = select(Walk).where(Walk.status == "active")
    return list((await session.exec(statement)).all())


async def walks_owing_rating(session: AsyncSession) -> list[Walk]:
    statement = select(Walk).where(
        Walk.status == "ended",
        col(Walk.rating_step).is_not(None),
        Walk.rating_reminded == False,  # noqa: E712
    )
    return list((await session.exec(statement)).all())


@dataclass(frozen=True)
class Rated:
    accepted: bool
    next_step: RatingStep | None = None
    advice: str | None = None
    decision: programme_domain.Decision | None = None  # the programme's move, once pain is in


async def rate(
    session: AsyncSession, *, walk: Walk, step: str, value: int | str | None, now: datetime
) -> Rated:
    """Record one rating answer (None means Skip). Only the question owed is accepted, once."""
    if walk.status != "ended" or walk.rating_step != step:
        return Rated(accepted=False)
    if step == "effort":
        if not isinstance(value, int) or not 0 <= value <= 10:
            return Rated(accepted=False)
        walk.effort, walk.rating_step = value, "pain"
    elif step == "pain":
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 10):
            return Rated(accepted=False)
        walk.knee_pain, walk.rating_step = value, "note"
    elif step == "note":
        walk.note = None if value is None else str(value).strip()[:500] or None
        walk.rating_step = None
    else:
        return Rated(accepted=False)
    walk.rated_at = now
    session.add(walk)
    advice = domain.pain_advice(value) if step == "pain" and isinstance(value, int) else None
    decision = await programme.after_rating(session, walk=walk, now=now) if step == "pain" else None
    return Rated(
        accepted=True,
        next_step=walk.rating_step,  # type: ignore[arg-type]
        advice=advice,
        decision=decision,
    )


async def owed_rating(session: AsyncSession, *, user_id: int) -> Walk | None:
    """The latest walk still waiting for a rating answer."""
    statement = (
        select(Walk)
        .where(Walk.user_id == user_id, Walk.status == "ended", col(Walk.rating_step).is_not(None))
        .order_by(col(Walk.ended_at).desc())
    )
    return (await session.exec(statement)).first()


@dataclass(frozen=True)
class History:
    walks: list[Walk]
    count: int
    backward_s: int
    active_s: int


async def history(session: AsyncSession, *, user_id: int, limit: int = 10) -> History:
    ended = counted(user_id)
    recent = select(Walk).where(*ended).order_by(col(Walk.started_at).desc()).limit(limit)
    totals = select(
        func.count(),
        func.coalesce(func.sum(Walk.backward_s), 0),
        func.coalesce(func.sum(Walk.active_s), 0),
    ).where(*ended)
    count, backward, active = (await session.exec(totals)).one()
    return History(list((await session.exec(recent)).all()), int(count), int(backward), int(active))
