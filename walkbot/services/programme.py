"""The programme on the user row: the decision after each rated walk, /level choices, the
starting level from the screening, and the next-morning knee check.

Every move of user.level is recorded as a LevelChange row (from, to, reason, walk). Reasons:
"step_up:<why>" / "step_down:<why>" from the rule, "chose_repeat" and "chose_back" from /level,
"start" from the screening, "knee_morning" when a worse morning takes back a step up.
A "chose_repeat" row keeps the level (from == to) but starts the count of walks afresh.

The rule reads every rated walk since the level last changed, custom /walk plans included:
those never move the level or count towards a step up, but their warning signs (see
domain.RatedWalk.warning_sign) start the count again, as the pain advice promises.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from walkbot.domain import programme as domain
from walkbot.domain.profile import mask_to_days
from walkbot.domain.screening import any_yes
from walkbot.services.users import zone_of
from walkbot.store.models import LevelChange, User, Walk

Choice = Literal["repeat", "back"]
RECENT_WALKS = 10  # walks at the level: enough history for the rule, which reads two or three
OTHER_WALKS = 50  # custom walks (and walks at other levels) read among them, newest first


async def _record(
    session: AsyncSession,
    *,
    user: User,
    to_level: int,
    reason: str,
    now: datetime,
    walk_id: int | None = None,
) -> None:
    session.add(
        LevelChange(
            user_id=user.telegram_id,
            changed_at=now,
            from_level=user.level,
            to_level=to_level,
            reason=reason,
            walk_id=walk_id,
        )
    )
    user.level, user.updated_at = to_level, now
    session.add(user)


async def _latest_change(session: AsyncSession, *, user_id: int) -> LevelChange | None:
    statement = (
        select(LevelChange)
        .where(LevelChange.user_id == user_id)
        .order_by(col(LevelChange.changed_at).desc(), col(LevelChange.id).desc())
    )
    return (await session.exec(statement)).first()


async def _walked_since(session: AsyncSession, *, user_id: int, since: datetime) -> bool:
    statement = select(func.count()).where(
        Walk.user_id == user_id, Walk.status == "ended", col(Walk.started_at) >= since
    )
    return bool((await session.exec(statement)).one())


async def _last_step_up_at(session: AsyncSession, *, user_id: int) -> datetime | None:
    """When the programme last moved up, or started lower after a screening yes: the weekly
    cap for flagged screening counts from there."""
    statement = select(func.max(LevelChange.changed_at)).where(
        LevelChange.user_id == user_id,
        or_(
            col(LevelChange.to_level) > col(LevelChange.from_level),
            col(LevelChange.reason) == "start",
        ),
    )
    value = (await session.exec(statement)).one()
    return value if isinstance(value, datetime) else None


def _rated_walks() -> SelectOfScalar[Walk]:
    """Rated walks: a walk counts once effort and knee pain are in (pain may be skipped); the
    note is optional."""
    return select(Walk).where(
        Walk.status == "ended",
        col(Walk.effort).is_not(None),
        or_(col(Walk.rating_step).is_(None), col(Walk.rating_step) == "note"),
    )


def _newest_first(statement: SelectOfScalar[Walk]) -> SelectOfScalar[Walk]:
    return statement.order_by(col(Walk.ended_at).desc(), col(Walk.id).desc())


async def _walks_here(
    session: AsyncSession, *, user_id: int, level: int, since: datetime | None
) -> list[Walk]:
    """Rated walks at `level` since the level last changed, newest first."""
    statement = _rated_walks().where(Walk.user_id == user_id, Walk.level == level)
    if since is not None:
        statement = statement.where(col(Walk.ended_at) > since)
    return list((await session.exec(_newest_first(statement).limit(RECENT_WALKS))).all())


async def _walks_since(
    session: AsyncSession, *, user_id: int, level: int, since: datetime | None
) -> list[Walk]:
    """Every rated walk the rule reads, newest first: the latest RECENT_WALKS at `level` since
    the level last changed, and the custom walks and walks at other levels among them.

    Other walks are fetched only as far back as the walks at the level reach (the count never
    goes further), at most OTHER_WALKS of them: someone who walks only custom plans must not
    load their whole history at every rating, and fifty custom walks between two walks at the
    level is far past any real week."""
    here = await _walks_here(session, user_id=user_id, level=level, since=since)
    statement = _rated_walks().where(
        Walk.user_id == user_id, or_(col(Walk.level).is_(None), col(Walk.level) != level)
    )
    reach = here[-1].ended_at if len(here) == RECENT_WALKS else since
    if reach is not None:
        statement = statement.where(col(Walk.ended_at) > reach)
    others = list((await session.exec(_newest_first(statement).limit(OTHER_WALKS))).all())
    return sorted([*here, *others], key=_end_order, reverse=True)


def _end_order(walk: Walk) -> tuple[datetime, int]:
    assert walk.ended_at is not None and walk.id is not None  # ended and stored
    return walk.ended_at, walk.id


def _rated(walk: Walk, *, level: int) -> domain.RatedWalk:
    assert walk.effort is not None
    return domain.RatedWalk(
        effort=walk.effort,
        knee_pain=walk.knee_pain,
        end_reason=walk.end_reason or "stopped",
        knee_morning_worse=walk.knee_morning_worse,
        at_level=walk.level == level,
    )


# --- after a walk is rated -------------------------------------------------------------------


async def after_rating(
    session: AsyncSession, *, walk: Walk, now: datetime
) -> domain.Decision | None:
    """Once effort and knee pain (or Skip) are in: book the knee check if needed, then apply the
    programme's decision. None for a custom /walk plan (walk.level None) or when the person
    has moved level since the walk was planned (their choice stands): such walks never move
    the level, though the rule reads their warning signs at the next walk at the level.

    Called when the pain answer arrives rather than after the optional note, so the programme
    moves even if the note question is never answered."""
    user = await session.get(User, walk.user_id)
    if user is None or walk.effort is None:
        return None
    schedule_knee_check(walk=walk, user=user, now=now)
    if walk.level is None or walk.level != user.level:
        return None
    latest_change = await _latest_change(session, user_id=user.telegram_id)
    since = latest_change.changed_at if latest_change else None
    others = [
        w
        for w in await _walks_since(
            session, user_id=user.telegram_id, level=user.level, since=since
        )
        if w.id != walk.id and (w.ended_at or now) <= (walk.ended_at or now)
    ]
    decision = domain.decide(
        level=user.level,
        latest=_rated(walk, level=user.level),
        previous=[_rated(w, level=user.level) for w in others],
        now=now,
        screening_flagged=any_yes(user.screening),
        last_step_up_at=await _last_step_up_at(session, user_id=user.telegram_id),
    )
    if decision.level != user.level:
        reason = f"{decision.kind}:{decision.reason}"
        await _record(
            session, user=user, to_level=decision.level, reason=reason, now=now, walk_id=walk.id
        )
    return decision


def schedule_knee_check(*, walk: Walk, user: User, now: datetime) -> None:
    """Knee pain above 3: ask the next morning. Not booked when that morning has already passed
    (a walk rated a day late), nor twice."""
    if walk.knee_check_at is not None or not domain.needs_knee_check(walk.knee_pain):
        return
    at = domain.knee_check_at(
        ended_at=walk.ended_at or now,
        zone=zone_of(user),
        reminder_days=mask_to_days(user.reminder_days),
        reminder_time=user.reminder_time,
    )
    if at > now:
        walk.knee_check_at = at


# --- the knee answer -------------------------------------------------------------------------


@dataclass(frozen=True)
class KneeAnswer:
    accepted: bool
    text: str | None = None
    worse: bool = False


async def record_knee_answer(
    session: AsyncSession, *, user: User, walk_id: int, score: int, now: datetime
) -> KneeAnswer:
    """Record the morning score once, for one's own walk that was asked about.

    Worse (see domain.knee_morning_worse) blocks the next step up: the rule reads
    walk.knee_morning_worse, for a custom walk too; and a step up already made since this walk
    ended is taken back (reason "knee_morning"), see `_take_back_step_up`."""
    walk = await session.get(Walk, walk_id)
    if (
        walk is None
        or walk.user_id != user.telegram_id
        or walk.knee_check_at is None
        or walk.knee_morning is not None
        or walk.knee_pain is None
        or isinstance(score, bool)
        or not 0 <= score <= 10
    ):
        return KneeAnswer(accepted=False)
    worse = domain.knee_morning_worse(morning=score, after_walk=walk.knee_pain)
    walk.knee_morning, walk.knee_morning_worse = score, worse
    session.add(walk)
    held_at = await _take_back_step_up(session, user=user, walk=walk, now=now) if worse else None
    text = domain.knee_answer_line(morning=score, after_walk=walk.knee_pain, held_at=held_at)
    return KneeAnswer(accepted=True, text=text, worse=worse)


async def _take_back_step_up(
    session: AsyncSession, *, user: User, walk: Walk, now: datetime
) -> int | None:
    """Undo the latest level change when it is a step up by the rule made after `walk` ended,
    so made without this answer: by this walk, or by a later one that paired with it or came
    while the knee was already worse (a walk early the next morning, before the check).
    Not when the level has moved again, or a walk at the new level has been rated since:
    that walk was then judged at the new level, and the count there starts afresh."""
    latest = await _latest_change(session, user_id=user.telegram_id)
    if (
        latest is None
        or not latest.reason.startswith("step_up")
        or latest.to_level <= latest.from_level
        or walk.ended_at is None
        or latest.changed_at < walk.ended_at
        or user.level != latest.to_level
    ):
        return None
    if await _walks_here(
        session, user_id=user.telegram_id, level=user.level, since=latest.changed_at
    ):
        return None
    await _record(session, user=user, to_level=latest.from_level, reason="knee_morning", now=now)
    return user.level


# --- /level ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelView:
    level: int
    current: str  # "6 x 30 s backward"
    plan: str  # the whole session in words
    next: str | None  # None at the top
    can_step_back: bool
    towards_step_up: int  # 0-2: full, easy walks here the next walk would pair with
    flagged: bool


async def level_view(session: AsyncSession, *, user: User) -> LevelView:
    level = domain.clamp_level(user.level)
    latest = await _latest_change(session, user_id=user.telegram_id)
    walks = await _walks_since(
        session,
        user_id=user.telegram_id,
        level=level,
        since=latest.changed_at if latest else None,
    )
    return LevelView(
        level=level,
        current=domain.describe_level(level),
        plan=domain.level_plan(level).describe(),
        next=domain.describe_level(level + 1) if level < domain.TOP_LEVEL else None,
        can_step_back=level > domain.FIRST_LEVEL,
        towards_step_up=domain.walks_towards_step_up([_rated(w, level=level) for w in walks]),
        flagged=any_yes(user.screening),
    )


async def choose(
    session: AsyncSession, *, user: User, choice: str, expected_level: int, now: datetime
) -> int | None:
    """Repeat (stay, and count walks afresh) or step back one level. Refused (None) when the
    level has changed since the buttons were shown, or there is no level below."""
    if user.level != expected_level:
        return None
    if choice == "repeat":
        latest = await _latest_change(session, user_id=user.telegram_id)
        replayed = (
            latest is not None
            and latest.reason == "chose_repeat"
            and latest.to_level == user.level
            and not await _walked_since(session, user_id=user.telegram_id, since=latest.changed_at)
        )
        if not replayed:  # a replay would only restart a count that has not begun
            await _record(session, user=user, to_level=user.level, reason="chose_repeat", now=now)
        return user.level
    if choice == "back" and user.level > domain.FIRST_LEVEL:
        await _record(session, user=user, to_level=user.level - 1, reason="chose_back", now=now)
        return user.level
    return None


# --- screening -------------------------------------------------------------------------------


async def apply_screening(session: AsyncSession, *, user: User, now: datetime) -> int | None:
    """After the safety questions (onboarding or a re-screen in /settings): set the starting
    level, one lower if any answer was yes, but only while the person has no rated walk yet.

    Once someone has rated a walk their level reflects how walks felt, and a settings change
    must not silently undo that; a yes still caps progression to a step a week from then on,
    because the rule reads the current answers, and /level lets them step back themselves.
    Returns the new level when it changed."""
    rated = select(func.count()).where(
        Walk.user_id == user.telegram_id, col(Walk.effort).is_not(None)
    )
    if (await session.exec(rated)).one():
        return None
    level = domain.starting_level(screening_flagged=any_yes(user.screening))
    if level == user.level:
        return None
    await _record(session, user=user, to_level=level, reason="start", now=now)
    return level
