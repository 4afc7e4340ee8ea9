"""Group challenges on the rows: groups, the /challenge wizard, members, boards and results.

Every score is a SQL aggregate: members are outer-joined to their walks over the
(user_id, started_at) index and grouped in the database, so a board costs one query whatever
the members' histories (and one more, rows per member and week, for most improved). Days and
weeks are bucketed with a CASE over the window's local-midnight instants, computed in the
domain in the group's zone: portable between SQLite and PostgreSQL, and right across a clock
change.

A walk counts for a challenge when it ended with some active time and started inside the
window (and before an early end), for every member, whenever they joined: a late joiner is not
penalised for walking before they found the card.

Nothing here ever reads or returns effort, pain, notes or screening answers: a Board is safe to
post in a group.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, and_, case, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain import challenges as domain
from walkbot.domain.challenges import (
    DEFAULT_POST_TIME,
    DEFAULT_ZONE,
    GOAL_TARGETS,
    IMPROVED_LENGTHS,
    LENGTHS,
    MEASURES,
    STARTS,
    Entry,
    Kind,
    Measure,
    Window,
)
from walkbot.domain.schedule import local_date
from walkbot.domain.wording import clean_text
from walkbot.store.models import Challenge, ChallengeMember, FailedDelivery, GroupChat, User, Walk

TITLE_LIMIT = 128
OPEN = ("draft", "running")

# --- results handed to the bot -----------------------------------------------------------------


@dataclass(frozen=True)
class Board:
    """Everything a board view needs; NO health data in it."""

    challenge_id: int
    chat_id: int
    thread_id: int | None
    code: str
    title: str
    status: str
    measure: Measure
    kind: Kind
    most_improved: bool
    target: int | None
    days: int
    starts_at: datetime
    ends_at: datetime
    zone: str
    day: int  # day number now (1-based; 0 before the start; `days` once over)
    days_left: int
    entries: tuple[Entry, ...]  # joined members (pending excluded), unranked
    total: int  # the group's combined score (for "days": the sum of member days)
    members: int
    card_message_id: int | None


@dataclass(frozen=True)
class GroupSettings:
    zone: str  # the group's zone, or DEFAULT_ZONE until one is chosen
    post_time: time
    zone_chosen: bool = False


Step = Literal["measure", "kind", "target", "days", "start"]
STEPS: tuple[Step, ...] = ("measure", "kind", "target", "days", "start")
# The kind step's answers: a ranking, a ranking that also shows most improved, or a goal.
KIND_VALUES = ("ranking", "improved", "goal")


@dataclass(frozen=True)
class Draft:
    """A challenge an admin is still choosing; `step` is the question to ask next."""

    challenge_id: int
    measure: Measure
    kind: Kind
    most_improved: bool
    target: int | None
    days: int
    step: Step


JoinKind = Literal["joined", "already", "pending", "need_start", "closed", "wrong_group", "unknown"]


@dataclass(frozen=True)
class JoinResult:
    kind: JoinKind
    title: str = ""
    code: str = ""
    challenge_id: int | None = None


@dataclass(frozen=True)
class PastChallenge:
    challenge_id: int
    title: str
    measure: Measure
    kind: Kind
    days: int
    starts_at: datetime
    ends_at: datetime
    winners: tuple[str, ...]  # display names; empty for a goal, or when nobody scored
    total: int
    target: int | None = None


# --- groups ----------------------------------------------------------------------------------


async def _group(session: AsyncSession, chat_id: int, now: datetime) -> GroupChat:
    """The group's row, created (as a plain group) when the bot has not seen it yet."""
    group = await session.get(GroupChat, chat_id)
    if group is None:
        group = GroupChat(id=chat_id, kind="group", created_at=now, updated_at=now)
        session.add(group)
        await session.flush()
    return group


async def group_seen(
    session: AsyncSession, *, chat_id: int, kind: str, title: str, now: datetime
) -> None:
    """The bot is in this group (added, or any update from it): keep its row current."""
    group = await _group(session, chat_id, now)
    group.kind, group.title = kind[:16], clean_text(title)[:TITLE_LIMIT]
    group.active, group.updated_at = True, now
    session.add(group)


async def group_left(session: AsyncSession, *, chat_id: int, now: datetime) -> int:
    """The bot was removed: nothing more goes there. Open challenges are archived with every
    post they still owed; returns how many."""
    group = await session.get(GroupChat, chat_id)
    if group is not None:
        group.active, group.updated_at = False, now
        session.add(group)
    result = await session.exec(
        update(Challenge)
        .where(col(Challenge.chat_id) == chat_id, col(Challenge.status).in_(OPEN))
        .values(
            status="archived",
            ended_at=now,
            board_edit_at=None,
            next_board_at=None,
            last_call_at=None,
            results_at=None,
        )
    )
    return result.rowcount


async def migrate_group(
    session: AsyncSession, *, old_chat_id: int, new_chat_id: int, now: datetime
) -> bool:
    """A group became a supergroup: its row, challenges and failure records move to the new
    id. Idempotent (the service message and a ChatMigrated on a send may both report it):
    returns whether anything moved."""
    moved = False
    old = await session.get(GroupChat, old_chat_id)
    new = await session.get(GroupChat, new_chat_id)
    if old is not None and new is None:
        await session.exec(
            update(GroupChat)
            .where(col(GroupChat.id) == old_chat_id)
            .values(id=new_chat_id, kind="supergroup", updated_at=now)
        )
        session.expunge(old)
        moved = True
    elif old is not None and new is not None:
        # The supergroup was seen first: it keeps its title, takes the settings chosen before.
        new.timezone = old.timezone or new.timezone
        new.post_time, new.kind, new.updated_at = old.post_time, "supergroup", now
        session.add(new)
        await session.delete(old)
        moved = True
    for model in (Challenge, FailedDelivery):
        chat = cast(Any, model).chat_id
        result = await session.exec(
            update(model).where(chat == old_chat_id).values(chat_id=new_chat_id)
        )
        moved = moved or result.rowcount > 0
    await session.flush()
    return moved


async def group_settings(session: AsyncSession, *, chat_id: int) -> GroupSettings:
    group = await session.get(GroupChat, chat_id)
    if group is None:
        return GroupSettings(zone=DEFAULT_ZONE, post_time=DEFAULT_POST_TIME)
    return GroupSettings(
        zone=group.timezone or DEFAULT_ZONE,
        post_time=group.post_time,
        zone_chosen=group.timezone is not None,
    )


async def set_group_zone(session: AsyncSession, *, chat_id: int, zone: str, now: datetime) -> None:
    """The zone of challenges launched from now on (a running one keeps its window)."""
    group = await _group(session, chat_id, now)
    group.timezone, group.updated_at = zone, now
    session.add(group)


async def set_post_time(session: AsyncSession, *, chat_id: int, at: time, now: datetime) -> None:
    """The daily board's local time. A running challenge's coming posts follow it; its window
    does not move, and a day whose board already went out does not get a second one."""
    group = await _group(session, chat_id, now)
    group.post_time, group.updated_at = at, now
    session.add(group)
    challenge = await current(session, chat_id=chat_id)
    if challenge is None or challenge.starts_at is None:
        return
    w = _window(challenge)
    after = now
    old_next = challenge.next_board_at
    if old_next is not None and local_date(old_next, w.zone) > local_date(now, w.zone):
        # Today's board has been posted (or skipped): the new time starts tomorrow.
        today = w.day_index(now)
        if today is not None and today + 1 < w.days:
            after = w.day_starts[today + 1] - timedelta(microseconds=1)
    challenge.next_board_at = domain.next_board_at(w, at, after=after)
    if challenge.last_call_at is not None:
        challenge.last_call_at = domain.last_call_at(w, at)
    session.add(challenge)


# --- the wizard ------------------------------------------------------------------------------


def _window(challenge: Challenge) -> Window:
    assert challenge.starts_at is not None
    return domain.window_from(challenge.starts_at, days=challenge.days, zone=challenge.zone)


def _new_code() -> str:
    # 8 characters of A-Za-z0-9_-: 48 random bits, so a guessed link finds nothing.
    return secrets.token_urlsafe(6)


def _draft(challenge: Challenge, step: Step) -> Draft:
    assert challenge.id is not None
    return Draft(
        challenge_id=challenge.id,
        measure=cast(Measure, challenge.measure),
        kind=cast(Kind, challenge.kind),
        most_improved=challenge.most_improved,
        target=challenge.target,
        days=challenge.days,
        step=step,
    )


async def current(session: AsyncSession, *, chat_id: int) -> Challenge | None:
    """The group's running challenge (launched: before or inside its window), if any."""
    statement = (
        select(Challenge)
        .where(Challenge.chat_id == chat_id, Challenge.status == "running")
        .order_by(col(Challenge.id).desc())
    )
    return (await session.exec(statement)).first()


async def open_draft(
    session: AsyncSession,
    *,
    chat_id: int,
    thread_id: int | None,
    created_by: int | None,
    creator_zone: str | None,
    now: datetime,
) -> Draft | Board:
    """/challenge: the running challenge's Board (one at a time per group), or a fresh draft
    (an older draft of the group is archived). A group with no zone yet takes the creator's."""
    running = await current(session, chat_id=chat_id)
    if running is not None:
        board_now = await _board(session, running, now)
        if board_now is not None:
            return board_now
    await session.exec(
        update(Challenge)
        .where(col(Challenge.chat_id) == chat_id, col(Challenge.status) == "draft")
        .values(status="archived", ended_at=now)
    )
    group = await _group(session, chat_id, now)
    if group.timezone is None and creator_zone:
        group.timezone, group.updated_at = creator_zone, now
        session.add(group)
    challenge = Challenge(
        chat_id=chat_id,
        thread_id=thread_id,
        code=_new_code(),
        status="draft",
        zone=group.timezone or DEFAULT_ZONE,
        created_by=created_by,
        created_at=now,
    )
    session.add(challenge)
    await session.flush()
    return _draft(challenge, "measure")


async def _own_draft(session: AsyncSession, challenge_id: int, chat_id: int) -> Challenge | None:
    challenge = await session.get(Challenge, challenge_id)
    if challenge is None or challenge.chat_id != chat_id or challenge.status != "draft":
        return None
    return challenge


async def choose(
    session: AsyncSession, *, challenge_id: int, chat_id: int, step: str, value: str, now: datetime
) -> Draft | Board | None:
    """One wizard answer; the returned Draft's step is the next question. None: not this
    group's draft, not a draft any more, or a bad value. The "start" answer launches it.

    Answers are taken in any order (an admin may tap an earlier message's button): each sets
    its own field and moves on from there, and launching checks the whole is valid."""
    challenge = await _own_draft(session, challenge_id, chat_id)
    if challenge is None:
        return None
    if step == "measure" and value in MEASURES:
        if challenge.measure != value:
            challenge.target = None  # targets are per measure
        challenge.measure = value
        following: Step = "kind"
    elif step == "kind" and value in KIND_VALUES:
        challenge.kind = "goal" if value == "goal" else "ranking"
        challenge.most_improved = value == "improved"
        if value != "goal":
            challenge.target = None
        if challenge.most_improved and challenge.days not in IMPROVED_LENGTHS:
            challenge.days = IMPROVED_LENGTHS[0]
        following = "target" if value == "goal" else "days"
    elif step == "target" and challenge.kind == "goal" and _is_target(challenge, value):
        challenge.target = int(value)
        following = "days"
    elif step == "days" and value.isdigit() and _allowed_days(challenge, int(value)):
        challenge.days = int(value)
        following = "start"
    elif step == "start" and value in STARTS:
        return await _launch(session, challenge, value, now)
    else:
        return None
    session.add(challenge)
    return _draft(challenge, following)


def _is_target(challenge: Challenge, value: str) -> bool:
    targets = GOAL_TARGETS[cast(Measure, challenge.measure)]
    return value.isdigit() and int(value) in targets


def _allowed_days(challenge: Challenge, days: int) -> bool:
    return days in (IMPROVED_LENGTHS if challenge.most_improved else LENGTHS)


async def _launch(
    session: AsyncSession, challenge: Challenge, start: domain.Start, now: datetime
) -> Board | None:
    if challenge.kind == "goal" and challenge.target is None:
        return None
    if challenge.most_improved and challenge.days not in IMPROVED_LENGTHS:
        return None
    if await current(session, chat_id=challenge.chat_id) is not None:
        return None  # launched from another draft meanwhile: one at a time
    settings = await group_settings(session, chat_id=challenge.chat_id)
    w = domain.window(now, days=challenge.days, start=start, zone=settings.zone)
    challenge.status, challenge.zone = "running", w.zone
    challenge.starts_at, challenge.ends_at = w.starts_at, w.ends_at
    challenge.next_board_at = domain.first_board_at(w, settings.post_time, after=now)
    challenge.last_call_at = domain.last_call_at(w, settings.post_time)
    challenge.results_at = w.ends_at
    session.add(challenge)
    await session.flush()
    return await _board(session, challenge, now)


async def cancel_draft(session: AsyncSession, *, challenge_id: int, chat_id: int) -> bool:
    challenge = await _own_draft(session, challenge_id, chat_id)
    if challenge is None:
        return False
    challenge.status = "archived"
    session.add(challenge)
    return True


async def set_card(session: AsyncSession, *, challenge_id: int, message_id: int) -> None:
    """The message the card (then the live board) lives in, edited in place from now on."""
    await session.exec(
        update(Challenge)
        .where(col(Challenge.id) == challenge_id)
        .values(card_message_id=message_id)
    )


async def end_early(session: AsyncSession, *, chat_id: int, now: datetime) -> Board | None:
    """/challenge end: the results are due now; no more daily boards. None: nothing running."""
    challenge = await current(session, chat_id=chat_id)
    if challenge is None:
        return None
    challenge.status, challenge.ended_at, challenge.results_at = "ended", now, now
    challenge.next_board_at = challenge.last_call_at = challenge.board_edit_at = None
    session.add(challenge)
    await session.flush()
    return await _board(session, challenge, now)


# --- members ---------------------------------------------------------------------------------


def _mark_edit(challenge: Challenge, now: datetime) -> None:
    """A board edit is owed (kept at the earliest instant, so the throttle sees the wait)."""
    if challenge.board_edit_at is None:
        challenge.board_edit_at = now


async def _title(session: AsyncSession, chat_id: int) -> str:
    group = await session.get(GroupChat, chat_id)
    return group.title if group is not None else ""


def _open_for_joining(challenge: Challenge, now: datetime) -> bool:
    return challenge.status == "running" and (challenge.ends_at is None or now < challenge.ends_at)


async def _join(
    session: AsyncSession, challenge: Challenge, user_id: int, now: datetime
) -> JoinResult:
    assert challenge.id is not None
    title = await _title(session, challenge.chat_id)

    def result(kind: JoinKind) -> JoinResult:
        return JoinResult(kind, title=title, code=challenge.code, challenge_id=challenge.id)

    if not _open_for_joining(challenge, now):
        return result("closed")
    user = await session.get(User, user_id)
    if user is None:
        return result("need_start")  # the bot answers with the deep link
    member = await session.get(ChallengeMember, (challenge.id, user_id))
    ready = user.onboarding_step is None
    if member is not None and member.joined_at is not None:
        return result("already")
    if member is None:
        member = ChallengeMember(challenge_id=challenge.id, user_id=user_id, created_at=now)
    if not ready:
        session.add(member)
        return result("pending")  # on the board once consent and screening are done
    member.joined_at = now
    session.add(member)
    _mark_edit(challenge, now)
    session.add(challenge)
    return result("joined")


async def join(
    session: AsyncSession, *, challenge_id: int, chat_id: int, user_id: int, now: datetime
) -> JoinResult:
    """The Join button, checked against the group it was pressed in."""
    challenge = await session.get(Challenge, challenge_id)
    if challenge is None:
        return JoinResult("unknown")
    if challenge.chat_id != chat_id:
        return JoinResult("wrong_group")
    return await _join(session, challenge, user_id, now)


async def chat_of_code(session: AsyncSession, *, code: str) -> int | None:
    """The group a deep link's challenge lives in (None: no such code), so the bot can ask
    Telegram whether the person opening the link is in that group before joining them."""
    statement = select(Challenge.chat_id).where(Challenge.code == code[:16])
    return (await session.exec(statement)).first()


async def join_by_code(
    session: AsyncSession, *, code: str, user_id: int, now: datetime
) -> JoinResult:
    """The deep link (/start c<code>)."""
    statement = select(Challenge).where(Challenge.code == code[:16])
    challenge = (await session.exec(statement)).first()
    if challenge is None:
        return JoinResult("unknown")
    return await _join(session, challenge, user_id, now)


async def pending(session: AsyncSession, *, user_id: int) -> tuple[str, ...]:
    """The groups whose challenges the person is waiting to join (onboarding unfinished)."""
    statement = (
        select(Challenge.chat_id)
        .join(ChallengeMember, col(ChallengeMember.challenge_id) == col(Challenge.id))
        .where(
            ChallengeMember.user_id == user_id,
            col(ChallengeMember.joined_at).is_(None),
            Challenge.status == "running",
        )
        .order_by(col(Challenge.id))
    )
    return tuple([await _title(session, chat) for chat in (await session.exec(statement)).all()])


async def complete_pending(
    session: AsyncSession, *, user_id: int, now: datetime
) -> tuple[str, ...]:
    """At the end of onboarding: the challenges joined by deep link are joined now. Returns
    their groups' titles. A challenge that closed meanwhile drops the pending row."""
    statement = (
        select(ChallengeMember, Challenge)
        .join(Challenge, col(ChallengeMember.challenge_id) == col(Challenge.id))
        .where(ChallengeMember.user_id == user_id, col(ChallengeMember.joined_at).is_(None))
        .order_by(col(Challenge.id))
    )
    titles = []
    for member, challenge in (await session.exec(statement)).all():
        if not _open_for_joining(challenge, now):
            await session.delete(member)
            continue
        member.joined_at = now
        session.add(member)
        _mark_edit(challenge, now)
        session.add(challenge)
        titles.append(await _title(session, challenge.chat_id))
    return tuple(titles)


async def leave(
    session: AsyncSession, *, user_id: int, chat_id: int | None, now: datetime
) -> tuple[str, ...]:
    """/leave: in a group, its running challenge; in private (chat_id None), every running one.
    Returns the groups' titles left (empty: was in none)."""
    statement = (
        select(ChallengeMember, Challenge)
        .join(Challenge, col(ChallengeMember.challenge_id) == col(Challenge.id))
        .where(ChallengeMember.user_id == user_id, Challenge.status == "running")
        .order_by(col(Challenge.id))
    )
    if chat_id is not None:
        statement = statement.where(Challenge.chat_id == chat_id)
    titles = []
    for member, challenge in (await session.exec(statement)).all():
        if member.joined_at is not None:
            _mark_edit(challenge, now)
            session.add(challenge)
        await session.delete(member)
        titles.append(await _title(session, challenge.chat_id))
    return tuple(titles)


async def walk_ended(session: AsyncSession, *, user_id: int, now: datetime) -> int:
    """A member's walk ended (services.walks.end, same transaction): a board edit is owed on
    their running challenges whose window holds `now`. Returns how many."""
    theirs = select(ChallengeMember.challenge_id).where(
        ChallengeMember.user_id == user_id, col(ChallengeMember.joined_at).is_not(None)
    )
    result = await session.exec(
        update(Challenge)
        .where(
            col(Challenge.id).in_(theirs),
            col(Challenge.status) == "running",
            col(Challenge.starts_at) <= now,
            col(Challenge.ends_at) > now,
        )
        .values(board_edit_at=func.coalesce(col(Challenge.board_edit_at), now))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- boards ----------------------------------------------------------------------------------


def _counts(challenge: Challenge, w: Window, now: datetime) -> ColumnElement[bool]:
    """The join condition of a member's walks that count for this challenge."""
    until = w.ends_at if challenge.ended_at is None else min(w.ends_at, challenge.ended_at)
    return and_(
        col(Walk.user_id) == col(ChallengeMember.user_id),
        col(Walk.status) == "ended",
        col(Walk.active_s) > 0,
        col(Walk.started_at).is_not(None),
        col(Walk.started_at) >= w.starts_at,
        col(Walk.started_at) < until,
        col(Walk.started_at) <= now,
    )


def _bucket(starts: tuple[datetime, ...], ends: datetime) -> ColumnElement[int]:
    """Which of the consecutive periods beginning at `starts` (the last one ending at `ends`)
    holds the walk. NULL when there is no walk (a member outer-joined to none), so
    count(DISTINCT ...) counts only real days."""
    started = col(Walk.started_at)
    bounds = (*starts[1:], ends)
    whens = [(started < later, i) for i, later in enumerate(bounds)]
    return cast(ColumnElement[int], case(*whens, else_=None))


def _score(measure: str, day: ColumnElement[int]) -> ColumnElement[int]:
    if measure == "minutes":
        return cast(ColumnElement[int], func.coalesce(func.sum(col(Walk.backward_s)), 0))
    if measure == "walks":
        return cast(ColumnElement[int], func.count(col(Walk.id)))
    return cast(ColumnElement[int], func.count(day.distinct()))


def _scale(measure: str, raw: int) -> int:
    return int(raw) // 60 if measure == "minutes" else int(raw)


async def _board(session: AsyncSession, challenge: Challenge, now: datetime) -> Board | None:
    if challenge.starts_at is None or challenge.ends_at is None or challenge.id is None:
        return None
    w = _window(challenge)
    day = _bucket(w.day_starts, w.ends_at)
    joined = and_(
        col(ChallengeMember.challenge_id) == challenge.id,
        col(ChallengeMember.joined_at).is_not(None),
    )
    people = (col(User.telegram_id), col(User.first_name), col(User.board_name))
    statement = (
        select(*people, _score(challenge.measure, day).label("score"))
        .select_from(ChallengeMember)
        .join(User, col(User.telegram_id) == col(ChallengeMember.user_id))
        .outerjoin(Walk, _counts(challenge, w, now))
        .where(joined)
        .group_by(*people)
    )
    rows = (await session.exec(statement)).all()
    weekly: dict[int, tuple[int, int]] = {}
    if challenge.most_improved and challenge.kind == "ranking":
        weekly = await _weekly(session, challenge, w, now)
    entries = tuple(
        Entry(
            user_id=user_id,
            name=domain.display_name(first_name, board_name),
            score=_scale(challenge.measure, score),
            first_week=weekly.get(user_id, (0, 0))[0],
            best_later_week=weekly.get(user_id, (0, 0))[1],
        )
        for user_id, first_name, board_name, score in rows
    )
    index = w.day_index(now)
    day_number = 0 if now < w.starts_at else (w.days if index is None else index + 1)
    return Board(
        challenge_id=challenge.id,
        chat_id=challenge.chat_id,
        thread_id=challenge.thread_id,
        code=challenge.code,
        title=await _title(session, challenge.chat_id),
        status=challenge.status,
        measure=cast(Measure, challenge.measure),
        kind=cast(Kind, challenge.kind),
        most_improved=challenge.most_improved,
        target=challenge.target,
        days=challenge.days,
        starts_at=w.starts_at,
        ends_at=w.ends_at,
        zone=w.zone,
        day=day_number,
        days_left=w.days_left(now),
        entries=entries,
        total=sum(e.score for e in entries),
        members=len(entries),
        card_message_id=challenge.card_message_id,
    )


async def _weekly(
    session: AsyncSession, challenge: Challenge, w: Window, now: datetime
) -> dict[int, tuple[int, int]]:
    """Per member: (first week's score, best later week's score), from rows per member and
    week grouped in SQL."""
    week = _bucket(w.week_starts(), w.ends_at).label("week")
    day = _bucket(w.day_starts, w.ends_at)
    statement = (
        select(col(ChallengeMember.user_id), week, _score(challenge.measure, day).label("score"))
        .select_from(ChallengeMember)
        # An outer join, so the members drive it and their walks come by the
        # (user_id, started_at) index: as an inner join SQLite began from every ended walk
        # (ix_walks_status) instead. Buckets without a walk are dropped by the HAVING.
        .outerjoin(Walk, _counts(challenge, w, now))
        .where(
            col(ChallengeMember.challenge_id) == challenge.id,
            col(ChallengeMember.joined_at).is_not(None),
        )
        .group_by(col(ChallengeMember.user_id), week)
        .having(func.count(col(Walk.id)) > 0)
    )
    scores: dict[int, tuple[int, int]] = {}
    for user_id, index, raw in (await session.exec(statement)).all():
        first, best = scores.get(user_id, (0, 0))
        value = _scale(challenge.measure, raw)
        scores[user_id] = (value, best) if index == 0 else (first, max(best, value))
    return scores


async def board(session: AsyncSession, *, challenge_id: int, now: datetime) -> Board | None:
    """A launched challenge's board now; None for an unknown id or a draft."""
    challenge = await session.get(Challenge, challenge_id)
    if challenge is None:
        return None
    return await _board(session, challenge, now)


async def past(
    session: AsyncSession, *, chat_id: int, limit: int = 10
) -> tuple[PastChallenge, ...]:
    """/challenges: the group's ended challenges, newest first, with their winners."""
    statement = (
        select(Challenge)
        .where(Challenge.chat_id == chat_id, Challenge.status == "ended")
        .order_by(col(Challenge.ends_at).desc(), col(Challenge.id).desc())
        .limit(limit)
    )
    found = []
    for challenge in (await session.exec(statement)).all():
        # Scored as at the end: the later of the window's close and an early end.
        end = challenge.ended_at or challenge.ends_at
        assert end is not None
        result = await _board(session, challenge, max(end, challenge.ends_at or end))
        if result is None:
            continue
        names = (
            () if result.kind == "goal" else tuple(e.name for e in domain.winners(result.entries))
        )
        found.append(
            PastChallenge(
                challenge_id=result.challenge_id,
                title=result.title,
                measure=result.measure,
                kind=result.kind,
                days=result.days,
                starts_at=result.starts_at,
                ends_at=result.ends_at,
                winners=names,
                total=result.total,
                target=result.target,
            )
        )
    return tuple(found)


async def memberships(session: AsyncSession, *, user_id: int) -> list[dict[str, Any]]:
    """The person's challenge memberships for /export: no other member's data."""
    statement = (
        select(ChallengeMember, Challenge.chat_id, GroupChat.title)
        .join(Challenge, col(Challenge.id) == col(ChallengeMember.challenge_id))
        .outerjoin(GroupChat, col(GroupChat.id) == col(Challenge.chat_id))
        .where(ChallengeMember.user_id == user_id)
        .order_by(col(ChallengeMember.challenge_id))
    )
    return [
        {
            "challenge_id": member.challenge_id,
            "group_title": title or "",
            "joined_at": member.joined_at.isoformat() if member.joined_at else None,
        }
        for member, _chat, title in (await session.exec(statement)).all()
    ]


async def forget_creator(session: AsyncSession, *, user_id: int) -> None:
    """/deleteme: challenges keep running, without saying who created them."""
    await session.exec(
        update(Challenge).where(col(Challenge.created_by) == user_id).values(created_by=None)
    )
