"""Walk sessions: preparing, starting, pausing, stopping, cueing and rating, on the walk row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain import programme as programme_domain
from walkbot.domain import walks as domain
from walkbot.domain.screening import needs_support
from walkbot.domain.wording import clean_text
from walkbot.services import challenges, programme, sixmin
from walkbot.services.users import get_user
from walkbot.store.claims import compare_and_set
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


WalkCardKind = Literal["need_start", "finish_setup", "testing", "open", "over", "new"]


@dataclass(frozen=True)
class WalkCard:
    """What /walk shows, as a result the handler puts into words."""

    kind: WalkCardKind
    id: int = 0  # the walk (over: the one to wrap up); testing: the six-minute test under way
    plan: str = ""  # new: the plan described
    needs_support: bool = False  # new: the safety card for someone who flagged a risk
    status: str = ""  # open: where the walk stands now
    paused: bool = False  # open


async def request_walk(
    session: AsyncSession, *, telegram_id: int, plan: domain.WalkPlan | None, now: datetime
) -> WalkCard:
    """/walk: a new walk behind the safety card, or the one already under way. No walk while a
    six-minute test runs (one timed thing at a time) or before setup is done."""
    user = await get_user(session, telegram_id=telegram_id)
    test = await sixmin.running_test(session, user_id=telegram_id)
    if test is not None and test.id is not None:
        return WalkCard("testing", id=test.id)
    if user is None:
        return WalkCard("need_start")
    if user.onboarding_step is not None:
        return WalkCard("finish_setup")
    walk, is_new = await prepare(session, user=user, plan=plan, now=now)
    assert walk.id is not None  # flushed by prepare
    if not is_new and is_over(walk, now):  # its finish is due or failed: wrap it up first
        return WalkCard("over", id=walk.id)
    if not is_new:
        status = status_of(walk, now).text()
        return WalkCard("open", id=walk.id, status=status, paused=is_paused(walk))
    support = needs_support(user.screening)
    return WalkCard("new", id=walk.id, plan=plan_of(walk).describe(), needs_support=support)


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
    # Compare-and-set: of a Stop tap, the finish cue, the overdue sweep and a second process,
    # each of which may have read the walk active, only the first to write ends it (and asks
    # for the rating); the others find it ended and send nothing.
    if not await _claim(session, walk, status="ended", same_cue=False):
        return None
    summary = domain.summarize_walk(plan_of(walk), walk.started_at, pauses_of(walk), now)
    walk.status, walk.ended_at, walk.end_reason = "ended", now, reason
    walk.backward_s, walk.forward_s = summary.backward_s, summary.forward_s
    walk.active_s, walk.rounds_done = summary.active_s, summary.rounds_completed
    walk.rating_step = None if reason == "blocked" else "effort"
    session.add(walk)
    # The person's group boards owe an edit; in this transaction, so a walk is never on a
    # board before it is stored, nor stored without its board knowing.
    await challenges.walk_ended(session, user_id=walk.user_id, now=now)
    return summary


@dataclass(frozen=True)
class Controlled:
    """A walk button or /stop: the walk it touched, whether it took, and what was done."""

    walk: Walk | None
    done: bool = False
    summary: domain.WalkSummary | None = None  # stopped: the walk summed up


async def control(
    session: AsyncSession, *, user_id: int, walk_id: int | None, action: str, now: datetime
) -> Controlled:
    """Start, Pause, Resume, Not now, Stop or "I need to stop" (`need`): only on one's own
    walk, and only when the walk is in a state that allows it."""
    walk = None if walk_id is None else await owned_walk(session, user_id=user_id, walk_id=walk_id)
    if walk is None:
        return Controlled(None)
    return await _act(session, walk, action, now)


async def stop_open(session: AsyncSession, *, user_id: int, now: datetime) -> Controlled:
    """/stop: end the walk under way, or put away a card not yet started."""
    walk = await open_walk(session, user_id=user_id)
    if walk is None:
        return Controlled(None)
    return await _act(session, walk, "stop" if walk.status == "active" else "cancel", now)


async def _act(session: AsyncSession, walk: Walk, action: str, now: datetime) -> Controlled:
    if action == "start":
        return Controlled(walk, await start(session, walk=walk, now=now))
    if action == "pause":
        return Controlled(walk, await pause(session, walk=walk, now=now))
    if action == "resume":
        return Controlled(walk, await resume(session, walk=walk, now=now))
    if action == "cancel":
        return Controlled(walk, await cancel(session, walk=walk))
    if action in {"stop", "need"}:
        reason: EndReason = "need_to_stop" if action == "need" else "stopped"
        summary = await end(session, walk=walk, now=now, reason=reason)
        return Controlled(walk, summary is not None, summary)
    return Controlled(walk)


async def claim_cues(session: AsyncSession, *, walk: Walk, last_index: int) -> bool:
    """Record the cues up to `last_index` as handled, if nobody has since `walk` was read and it
    is still active: an UPDATE ... WHERE last_cue_index = <as read> AND status = 'active'. True
    means this caller sends them. A cue job racing a Stop tap, another cue job, the overdue
    sweep or a second process on the same database gets False and sends nothing, so no cue
    comes after Stop and none twice."""
    if last_index <= walk.last_cue_index:
        return False
    return await _claim(session, walk, last_cue_index=last_index)


async def _claim(
    session: AsyncSession, walk: Walk, *, same_cue: bool = True, **values: object
) -> bool:
    """Set `values` on the walk's row only if it is still active and, with `same_cue`, its
    cue index is still as read. (Ending it does not ask the latter: a cue sent meanwhile must
    not make a Stop tap fail.)"""
    assert walk.id is not None
    still = [col(Walk.id) == walk.id, col(Walk.status) == "active"]
    if same_cue:
        still.append(col(Walk.last_cue_index) == walk.last_cue_index)
    return await compare_and_set(session, walk, still, **values)


async def active_walks(session: AsyncSession) -> list[Walk]:
    """Every walk under way, for rebuilding cue jobs at start-up."""
    statement = select(Walk).where(Walk.status == "active")
    return list((await session.exec(statement)).all())


def is_over(walk: Walk, now: datetime, grace: timedelta = timedelta(0)) -> bool:
    """An active walk whose timeline ended more than `grace` ago: its finish cue is due (or
    failed: the database down over the end). A paused walk has no end yet."""
    if walk.status != "active" or walk.started_at is None:
        return False
    ends_at = timeline_of(walk).ends_at
    return ends_at is not None and ends_at + grace <= now


def is_abandoned(walk: Walk, now: datetime) -> bool:
    """An active walk paused for longer than the domain allows (domain.PAUSE_TIMEOUT)."""
    return walk.status == "active" and domain.paused_too_long(pauses_of(walk), now)


@dataclass(frozen=True)
class Overdue:
    over: list[int]  # past their end by more than the grace: the finish is owed
    abandoned: list[int]  # paused too long: to end as timed out


async def overdue_walks(session: AsyncSession, *, now: datetime, grace: timedelta) -> Overdue:
    """Active walks the sweep must close: past their end by more than `grace`, or paused too
    long. Few walks are active at once, so they are judged here, by their timelines."""
    statement = select(Walk).where(Walk.status == "active", col(Walk.started_at).is_not(None))
    walks = [w for w in (await session.exec(statement)).all() if w.id is not None]
    return Overdue(
        over=[w.id for w in walks if w.id is not None and is_over(w, now, grace)],
        abandoned=[w.id for w in walks if w.id is not None and is_abandoned(w, now)],
    )


async def time_out(
    session: AsyncSession, *, walk_id: int, now: datetime
) -> tuple[Walk, domain.WalkSummary] | None:
    """End a walk paused too long as "timed_out"; None when it is not (any more)."""
    walk = await session.get(Walk, walk_id)
    if walk is None or not is_abandoned(walk, now):
        return None
    summary = await end(session, walk=walk, now=now, reason="timed_out")
    return None if summary is None else (walk, summary)


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
    next_step: RatingStep | None
    if step == "effort":
        if not isinstance(value, int) or not 0 <= value <= 10:
            return Rated(accepted=False)
        walk.effort, next_step = value, "pain"
    elif step == "pain":
        if value is not None and (not isinstance(value, int) or not 0 <= value <= 10):
            return Rated(accepted=False)
        walk.knee_pain, next_step = value, "note"
    elif step == "note":
        walk.note = None if value is None else clean_text(str(value)).strip()[:500] or None
        next_step = None
    else:
        return Rated(accepted=False)
    walk.rating_step = next_step
    walk.rated_at = now
    session.add(walk)
    advice = domain.pain_advice(value) if step == "pain" and isinstance(value, int) else None
    decision = await programme.after_rating(session, walk=walk, now=now) if step == "pain" else None
    return Rated(
        accepted=True,
        next_step=next_step,
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
