"""A group challenge's posts as sources of the dispatch queue (services/dispatch.py).

Four kinds, each at an instant on the `challenges` row (see docs/architecture.md):
- BoardEdits ("challenge-board"): the card edited in place after walks, joins and leaves,
  at most once per `Settings.board_edit_gap_seconds`, so edits and posts together stay well
  inside Telegram's 20 messages a minute per group (edits count too);
- DailyBoards ("challenge-daily"): the board at the group's post time, skipped when found
  more than BOARD_CATCH_UP late (yesterday's board at breakfast is noise);
- LastCalls ("challenge-last-call"): "3 days left", the same catch-up rule;
- Results ("challenge-results"): the final post; it ends the challenge and is sent however
  late, since nothing replaces it.
Each item's payload is the challenge id; the board is read at delivery in a short transaction
of its own, so it shows the scores as they are when the post leaves. Group posts concern no
one person: `user_id=None`, and their records keep only the chat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.clock import Clock, utc
from walkbot.domain import challenges as domain
from walkbot.ports import Outcome
from walkbot.services import challenges
from walkbot.services.challenges import Board
from walkbot.services.dispatch import Claim, Outgoing, Source, skip_locked
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import Challenge, GroupChat

log = logging.getLogger(__name__)

Occasion = Literal["card", "daily", "last_call", "results"]
GONE = "gone"  # edit_board's detail when the message to edit no longer exists
DEFAULT_EDIT_GAP = timedelta(seconds=30)


@dataclass(frozen=True)
class GroupPost:
    """One board to show in a group, and why it is shown."""

    chat_id: int
    thread_id: int | None  # the forum topic the challenge lives in; None: the main chat
    board: Board
    occasion: Occasion


@dataclass(frozen=True)
class Posted:
    """A new board message's fate, and its id when it arrived (to edit it later)."""

    outcome: Outcome
    message_id: int | None = None


class ChallengePoster(Protocol):
    """What the challenge sources send; bot/notifier.py renders and sends it, silently."""

    async def post_board(self, post: GroupPost) -> Posted:
        """A new silent message with the board (and a Join button while one may join)."""
        ...

    async def edit_board(self, post: GroupPost, message_id: int) -> Outcome:
        """The board message `message_id` edited in place. "Message is not modified" is sent;
        a message Telegram no longer has (deleted, too old) is failed with detail GONE."""
        ...


class _ChallengeSource(Source[int]):
    """What the four share: items carry the challenge id; the board is read at delivery; a
    migrated group's rows move; a group that refuses the bot has its challenge archived."""

    def __init__(self, poster: ChallengePoster, sessions: SessionFactory, clock: Clock) -> None:
        self._poster, self._sessions, self._clock = poster, sessions, clock

    async def _due(
        self, session: AsyncSession, column: object, *, now: datetime, limit: int, status: str
    ) -> list[Challenge]:
        statement = (
            select(Challenge)
            .where(col(Challenge.status) == status, col(column) <= now)
            .order_by(col(column))
        )
        return list((await session.exec(skip_locked(statement, limit=limit))).all())

    def _broken(self, challenge: Challenge, column: str) -> None:
        """One bad row must not stop the dispatcher: its instant is dropped, and logged."""
        log.exception("challenge %s: %s could not be scheduled; off", challenge.id, self.name)
        setattr(challenge, column, None)

    async def deliver(self, item: Outgoing[int]) -> Outcome:
        async with transaction(self._sessions) as session:
            board = await challenges.board(
                session, challenge_id=item.payload, now=self._clock.now()
            )
        if board is None:  # the group's data was erased since the claim
            return Outcome("failed", "challenge gone")
        outcome = await self._send(board)
        if outcome.migrated_to is not None:
            await self._migrated(board.chat_id, outcome.migrated_to)
        return outcome

    async def _send(self, board: Board) -> Outcome:
        raise NotImplementedError

    def _post(self, board: Board, occasion: Occasion) -> GroupPost:
        return GroupPost(board.chat_id, board.thread_id, board, occasion)

    async def _migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup (the message already went to the new id): the
        challenge and its schedule move with it, in a short transaction of their own."""
        async with transaction(self._sessions) as session:
            await challenges.migrate_group(
                session, old_chat_id=old_chat_id, new_chat_id=new_chat_id, now=self._clock.now()
            )

    async def blocked(self, session: AsyncSession, *, item: Outgoing[int], now: datetime) -> None:
        # The group removed the bot. Its challenge's chat, not the item's: the send may have
        # followed a migration to a new id before being refused there.
        challenge = await session.get(Challenge, item.payload)
        chat_id = challenge.chat_id if challenge is not None else item.chat_id
        archived = await challenges.group_left(session, chat_id=chat_id, now=now)
        log.info("group %s refused the bot: %d challenge(s) archived", chat_id, archived)


class BoardEdits(_ChallengeSource):
    """The card edited in place when walks, joins or leaves changed it, at most once per
    `gap`. Due at the claim: the board shows every walk ended by the time it is read."""

    name = "challenge-board"

    def __init__(
        self,
        poster: ChallengePoster,
        sessions: SessionFactory,
        clock: Clock,
        *,
        gap: timedelta = DEFAULT_EDIT_GAP,
    ) -> None:
        super().__init__(poster, sessions, clock)
        self._gap = gap

    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[int]:
        claimed: Claim[int] = Claim()
        statement = (
            select(Challenge)
            .where(
                col(Challenge.status) == "running",
                col(Challenge.board_edit_at) <= now,
                col(Challenge.card_message_id).is_not(None),
                or_(
                    col(Challenge.board_edited_at).is_(None),
                    col(Challenge.board_edited_at) <= now - self._gap,
                ),
            )
            .order_by(col(Challenge.board_edit_at))
        )
        for challenge in (await session.exec(skip_locked(statement, limit=limit))).all():
            assert challenge.id is not None
            challenge.board_edit_at, challenge.board_edited_at = None, now
            session.add(challenge)
            claimed.send.append(self.outgoing(challenge.chat_id, now, challenge.id, user_id=None))
        return claimed

    async def _send(self, board: Board) -> Outcome:
        post = self._post(board, "card")
        if board.card_message_id is None:  # claimed with one; the row changed since
            return await self._replace(post)
        outcome = await self._poster.edit_board(post, board.card_message_id)
        if outcome.status == "failed" and outcome.detail == GONE:
            # An admin deleted the card (or Telegram will not edit it any more): a new card
            # takes its place and is the one edited from now on.
            moved = outcome.migrated_to
            replaced = await self._replace(replace(post, chat_id=moved or post.chat_id))
            return replace(replaced, migrated_to=moved or replaced.migrated_to)
        return outcome

    async def _replace(self, post: GroupPost) -> Outcome:
        posted = await self._poster.post_board(post)
        if posted.outcome.sent and posted.message_id is not None:
            async with transaction(self._sessions) as session:
                await challenges.set_card(
                    session, challenge_id=post.board.challenge_id, message_id=posted.message_id
                )
        return posted.outcome


class DailyBoards(_ChallengeSource):
    """The board at the group's post time each day of the window (the "3 days left" day
    excepted: that post is LastCalls'), skipped when found more than BOARD_CATCH_UP late."""

    name = "challenge-daily"

    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[int]:
        claimed: Claim[int] = Claim()
        for challenge in await self._due(
            session, Challenge.next_board_at, now=now, limit=limit, status="running"
        ):
            try:
                await self._decide(session, challenge, now, claimed)
            except Exception:
                self._broken(challenge, "next_board_at")
            session.add(challenge)
        return claimed

    async def _decide(
        self, session: AsyncSession, challenge: Challenge, now: datetime, into: Claim[int]
    ) -> None:
        assert challenge.next_board_at is not None and challenge.starts_at is not None
        assert challenge.id is not None
        due = utc(challenge.next_board_at)
        group = await session.get(GroupChat, challenge.chat_id)
        post_time = group.post_time if group is not None else domain.DEFAULT_POST_TIME
        w = domain.window_from(utc(challenge.starts_at), days=challenge.days, zone=challenge.zone)
        # From now, not from `due`: after down time, the boards missed meanwhile are not
        # sent one after another.
        challenge.next_board_at = domain.next_board_at(w, post_time, after=now)
        if domain.board_decision(due, now) == "skip":
            log.info("challenge %s: daily board due %s skipped at %s", challenge.id, due, now)
            into.skip("late")
            return
        into.send.append(self.outgoing(challenge.chat_id, due, challenge.id, user_id=None))

    async def _send(self, board: Board) -> Outcome:
        return (await self._poster.post_board(self._post(board, "daily"))).outcome


class LastCalls(_ChallengeSource):
    """ "3 days left", once, skipped when found more than BOARD_CATCH_UP late."""

    name = "challenge-last-call"

    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[int]:
        claimed: Claim[int] = Claim()
        for challenge in await self._due(
            session, Challenge.last_call_at, now=now, limit=limit, status="running"
        ):
            assert challenge.last_call_at is not None and challenge.id is not None
            due = utc(challenge.last_call_at)
            challenge.last_call_at = None
            session.add(challenge)
            if domain.board_decision(due, now) == "skip":
                claimed.skip("late")
                continue
            claimed.send.append(self.outgoing(challenge.chat_id, due, challenge.id, user_id=None))
        return claimed

    async def _send(self, board: Board) -> Outcome:
        return (await self._poster.post_board(self._post(board, "last_call"))).outcome


class Results(_ChallengeSource):
    """The final post: ends the challenge (nothing more is owed) and is sent however late,
    since nothing else would tell the group who won. The card then loses its Join button."""

    name = "challenge-results"

    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[int]:
        claimed: Claim[int] = Claim()
        statement = (
            select(Challenge)
            .where(
                col(Challenge.status).in_(("running", "ended")),
                col(Challenge.results_at) <= now,
            )
            .order_by(col(Challenge.results_at))
        )
        for challenge in (await session.exec(skip_locked(statement, limit=limit))).all():
            assert challenge.results_at is not None and challenge.id is not None
            due = utc(challenge.results_at)
            challenge.status = "ended"
            challenge.ended_at = challenge.ended_at or now
            challenge.results_at = challenge.next_board_at = challenge.last_call_at = None
            challenge.board_edit_at = None
            session.add(challenge)
            claimed.send.append(self.outgoing(challenge.chat_id, due, challenge.id, user_id=None))
        return claimed

    async def _send(self, board: Board) -> Outcome:
        posted = await self._poster.post_board(self._post(board, "results"))
        outcome = posted.outcome
        if outcome.sent and board.card_message_id is not None:
            # Best effort: a Join button on a finished challenge only earns a "closed" answer.
            chat_id = outcome.migrated_to or board.chat_id
            card = replace(self._post(board, "card"), chat_id=chat_id)
            closed = await self._poster.edit_board(card, board.card_message_id)
            if not closed.sent:
                log.info("challenge %s: card not closed: %s", board.challenge_id, closed.detail)
        return outcome


def sources(
    poster: ChallengePoster,
    sessions: SessionFactory,
    clock: Clock,
    *,
    board_edit_gap: timedelta = DEFAULT_EDIT_GAP,
) -> tuple[_ChallengeSource, ...]:
    """The four, as app.queue_sources registers them."""
    return (
        BoardEdits(poster, sessions, clock, gap=board_edit_gap),
        DailyBoards(poster, sessions, clock),
        LastCalls(poster, sessions, clock),
        Results(poster, sessions, clock),
    )
