"""A group challenge's posts through the dispatch queue, on a migrated database, with a poster
that only records: each source sends once and advances its row; a late daily board is
skipped and late results still go; results end the challenge; edits are throttled; a lost
card is replaced; a group that removed the bot has its challenge archived; a migrated group's
rows follow it; nothing is left in flight."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from tests.fakes import RecordingNotifier, real_sources
from tests.people import add_onboarded_person
from walkbot.ports import Outcome
from walkbot.runtime import Runtime
from walkbot.sandbox import TEST_TOKEN
from walkbot.scheduling.dispatch import DispatchStats, dispatch_once
from walkbot.services import challenge_posts, challenges
from walkbot.services.challenge_posts import GONE, GroupPost, Posted
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import Challenge, FailedDelivery, GroupChat, Walk

# Monday 7 December 2026, 08:00 in London (GMT). A 7-day challenge launched now runs to
# Monday 14th 00:00; boards at 19:00 each day but Friday's, which is "3 days left".
LAUNCH = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
GROUP, SUPERGROUP, TOPIC = -100_500, -1_000_000_100_500, 7
ANN, BEN = 7_000_000_401, 7_000_000_402
CARD = 500


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=UTC)


@dataclass
class MovableClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


class Poster(RecordingNotifier):
    """Records as RecordingNotifier; `edit_answer` / `post_answer`, when set, answer those."""

    edit_answer: Outcome | None = None
    post_answer: Outcome | None = None

    async def post_board(self, post: GroupPost) -> Posted:
        posted = await super().post_board(post)
        if self.post_answer is None:
            return posted
        return Posted(self.post_answer, posted.message_id if self.post_answer.sent else None)

    async def edit_board(self, post: GroupPost, message_id: int) -> Outcome:
        outcome = await super().edit_board(post, message_id)
        return self.edit_answer or outcome


@dataclass
class World:
    sessions: SessionFactory
    clock: MovableClock
    poster: Poster
    challenge_id: int

    def source(self, name: str, gap_s: float = 30) -> challenge_posts._ChallengeSource:
        sources = challenge_posts.sources(
            self.poster, self.sessions, self.clock, board_edit_gap=timedelta(seconds=gap_s)
        )
        return next(s for s in sources if s.name == name)

    async def dispatch(self, when: datetime, *names: str, gap_s: float = 30) -> DispatchStats:
        self.clock.at = when
        runtime = Runtime(
            settings=Settings(telegram_bot_token=TEST_TOKEN, _env_file=None),
            sessions=self.sessions,
            clock=self.clock,
            notifier=RecordingNotifier(),
            sources=(),
        )
        sources = [self.source(name, gap_s) for name in names]
        return await dispatch_once(runtime, sources=sources, rate=1000)

    async def row(self) -> Challenge:
        async with transaction(self.sessions) as session:
            challenge = await session.get(Challenge, self.challenge_id)
            assert challenge is not None
            return challenge

    async def walk(self, user_id: int, started: datetime, minutes: int) -> None:
        ended = started + timedelta(minutes=minutes)
        async with transaction(self.sessions) as session:
            session.add(
                Walk(
                    user_id=user_id,
                    plan={},
                    status="ended",
                    created_at=started,
                    started_at=started,
                    ended_at=ended,
                    backward_s=minutes * 60,
                    active_s=minutes * 60,
                )
            )
            await challenges.walk_ended(session, user_id=user_id, now=ended)

    def posts(self) -> list[tuple[str, int, str, int | None]]:
        return [
            (method, chat, details["occasion"], details["thread_id"])
            for method, chat, details in self.poster.calls
        ]


async def in_flight(sessions: SessionFactory) -> list[FailedDelivery]:
    async with transaction(sessions) as session:
        return list((await session.exec(select(FailedDelivery))).all())


async def world(sessions: SessionFactory, *, thread_id: int | None = TOPIC) -> World:
    """A running 7-day ranking of backward minutes in a forum topic, Ann and Ben joined, its
    card posted as message CARD, the edit their joining owed already made."""
    async with transaction(sessions) as session:
        await challenges.group_seen(
            session, chat_id=GROUP, kind="supergroup", title="Walking club", now=LAUNCH
        )
        for user_id, name in ((ANN, "Ann"), (BEN, "Ben")):
            await add_onboarded_person(session, user_id, name, now=LAUNCH - timedelta(days=1))
        draft = await challenges.open_draft(
            session,
            chat_id=GROUP,
            thread_id=thread_id,
            created_by=ANN,
            creator_zone=None,
            now=LAUNCH,
        )
        assert isinstance(draft, challenges.Draft)
        for step, value in (("measure", "minutes"), ("kind", "ranking"), ("days", "7")):
            assert await challenges.choose(
                session,
                challenge_id=draft.challenge_id,
                chat_id=GROUP,
                step=step,
                value=value,
                now=LAUNCH,
            )
        launched = await challenges.choose(
            session,
            challenge_id=draft.challenge_id,
            chat_id=GROUP,
            step="start",
            value="now",
            now=LAUNCH,
        )
        assert isinstance(launched, challenges.Board)
        await challenges.set_card(session, challenge_id=draft.challenge_id, message_id=CARD)
        for user_id in (ANN, BEN):
            joined = await challenges.join(
                session,
                challenge_id=draft.challenge_id,
                chat_id=GROUP,
                user_id=user_id,
                now=LAUNCH,
            )
            assert joined.kind == "joined"
        challenge = await session.get(Challenge, draft.challenge_id)
        assert challenge is not None
        challenge.board_edit_at = None  # the joins' edit: not what these tests are about
        session.add(challenge)
    return World(sessions, MovableClock(LAUNCH), Poster(), draft.challenge_id)


async def test_the_daily_board_is_posted_once_in_its_topic_and_advanced(
    sessions: SessionFactory,
) -> None:
    w = await world(sessions)
    await w.walk(ANN, at(7, 12), 20)
    assert (await w.row()).next_board_at == at(7, 19)
    stats = await w.dispatch(at(7, 19, 0, 5), "challenge-daily")
    assert stats.sent == {"challenge-daily": 1}
    assert w.posts() == [("post_board", GROUP, "daily", TOPIC)]
    board = w.poster.calls[0][2]["board"]
    assert {(e.name, e.score) for e in board.entries} == {("Ann", 20), ("Ben", 0)}
    assert (board.day, board.total) == (1, 20)
    assert (await w.row()).next_board_at == at(8, 19)
    again = await w.dispatch(at(7, 19, 0, 6), "challenge-daily")
    assert again.batches == 0 and len(w.poster.calls) == 1
    assert await in_flight(sessions) == []


async def test_a_late_daily_board_is_skipped_and_the_next_one_is_kept(
    sessions: SessionFactory,
) -> None:
    w = await world(sessions)
    stats = await w.dispatch(at(7, 21, 30), "challenge-daily")  # 2.5 h late: noise by now
    assert stats.skipped == {"late": 1} and w.poster.calls == []
    assert (await w.row()).next_board_at == at(8, 19)


async def test_down_time_skips_the_missed_boards_without_a_burst(sessions: SessionFactory) -> None:
    w = await world(sessions)
    stats = await w.dispatch(at(9, 19, 30), "challenge-daily")  # back on Wednesday evening
    assert stats.skipped == {"late": 1} and stats.total_sent == 0
    assert (await w.row()).next_board_at == at(10, 19)


async def test_the_last_call_replaces_that_days_board(sessions: SessionFactory) -> None:
    w = await world(sessions)
    w.clock.at = at(10, 18)
    async with transaction(sessions) as session:  # Thursday's board is the next one
        challenge = await session.get(Challenge, w.challenge_id)
        assert challenge is not None
        challenge.next_board_at = at(10, 19)
        session.add(challenge)
    assert (await w.row()).last_call_at == at(11, 19)
    await w.dispatch(at(10, 19, 1), "challenge-daily", "challenge-last-call")
    assert (await w.row()).next_board_at == at(12, 19)  # Friday's board is the last call
    stats = await w.dispatch(at(11, 19, 1), "challenge-daily", "challenge-last-call")
    assert stats.sent == {"challenge-last-call": 1}
    assert w.posts()[-1] == ("post_board", GROUP, "last_call", TOPIC)
    assert w.poster.calls[-1][2]["board"].days_left == 3
    assert (await w.row()).last_call_at is None
    assert await in_flight(sessions) == []


async def test_a_late_last_call_is_skipped(sessions: SessionFactory) -> None:
    w = await world(sessions)
    stats = await w.dispatch(at(11, 22), "challenge-last-call")
    assert stats.skipped == {"late": 1} and w.poster.calls == []
    assert (await w.row()).last_call_at is None


async def test_late_results_are_still_sent_and_end_the_challenge(sessions: SessionFactory) -> None:
    w = await world(sessions)
    await w.walk(ANN, at(8, 9), 30)
    await w.walk(BEN, at(9, 9), 30)
    await w.walk(BEN, at(14, 9), 30)  # after the window: does not count
    names = ("challenge-board", "challenge-daily", "challenge-last-call", "challenge-results")
    stats = await w.dispatch(at(14, 10), *names)  # ten hours after the end
    assert stats.sent["challenge-results"] == 1
    results = [c for c in w.poster.calls if c[2]["occasion"] == "results"]
    [(method, chat, details)] = results
    assert (method, chat, details["thread_id"]) == ("post_board", GROUP, TOPIC)
    board = details["board"]
    assert board.status == "ended"
    assert sorted((e.name, e.score) for e in board.entries) == [("Ann", 30), ("Ben", 30)]
    # The card loses its Join button: edited once more, as the finished board.
    assert ("edit_board", GROUP, "card", TOPIC) in w.posts()
    row = await w.row()
    assert (row.status, row.ended_at) == ("ended", at(14, 10))
    assert (row.results_at, row.next_board_at, row.last_call_at, row.board_edit_at) == (None,) * 4
    calls = len(w.poster.calls)
    again = await w.dispatch(at(15, 19), *names)
    assert again.total_sent == 0 and len(w.poster.calls) == calls
    assert await in_flight(sessions) == []


async def test_ending_early_posts_the_results_at_once(sessions: SessionFactory) -> None:
    w = await world(sessions)
    async with transaction(sessions) as session:
        assert await challenges.end_early(session, chat_id=GROUP, now=at(9, 12))
    stats = await w.dispatch(at(9, 12, 0, 10), "challenge-daily", "challenge-results")
    assert stats.sent == {"challenge-results": 1}
    assert w.posts()[0] == ("post_board", GROUP, "results", TOPIC)


async def test_board_edits_are_throttled(sessions: SessionFactory) -> None:
    w = await world(sessions)
    await w.walk(ANN, at(7, 9), 10)  # ends 09:10
    stats = await w.dispatch(at(7, 9, 10, 1), "challenge-board")
    assert stats.sent == {"challenge-board": 1}
    [(method, chat, details)] = w.poster.calls
    assert (method, chat, details["message_id"], details["thread_id"]) == (
        "edit_board",
        GROUP,
        CARD,
        TOPIC,
    )
    assert [(e.name, e.score) for e in details["board"].entries if e.score] == [("Ann", 10)]
    row = await w.row()
    assert (row.board_edit_at, row.board_edited_at) == (None, at(7, 9, 10, 1))

    await w.walk(BEN, at(7, 9, 0, 5), 10)  # ends 09:10:05: owed, but only 4 s after the last
    assert (await w.dispatch(at(7, 9, 10, 5), "challenge-board")).batches == 0
    assert (await w.dispatch(at(7, 9, 10, 30), "challenge-board")).batches == 0
    stats = await w.dispatch(at(7, 9, 10, 31), "challenge-board")  # 30 s after the last edit
    assert stats.sent == {"challenge-board": 1}
    assert len(w.poster.calls) == 2
    # Twenty walks ending within one minute, the dispatcher looking each time: two edits.
    for second in range(0, 60, 3):
        await w.walk(ANN, at(7, 9, 59, second), 1)  # ends at 10:00:<second>
        await w.dispatch(at(7, 10, 0, second), "challenge-board")
    assert len(w.poster.calls) == 4
    assert (await w.row()).board_edited_at == at(7, 10, 0, 30)
    assert await in_flight(sessions) == []


async def test_a_lost_card_is_replaced_by_a_new_one(sessions: SessionFactory) -> None:
    w = await world(sessions)
    await w.walk(ANN, at(7, 9), 10)
    w.poster.edit_answer = Outcome("failed", GONE)
    stats = await w.dispatch(at(7, 9, 11), "challenge-board")
    assert stats.sent == {"challenge-board": 1} and stats.failed == 0
    assert w.posts() == [("edit_board", GROUP, "card", TOPIC), ("post_board", GROUP, "card", TOPIC)]
    assert (await w.row()).card_message_id == w.poster.next_message_id != CARD
    assert await in_flight(sessions) == []


async def test_a_group_that_removed_the_bot_has_its_challenge_archived(
    sessions: SessionFactory,
) -> None:
    w = await world(sessions)
    w.poster.answers[GROUP] = Outcome("blocked", "forbidden")
    stats = await w.dispatch(at(7, 19, 1), "challenge-daily")
    assert stats.blocked == 1
    row = await w.row()
    assert row.status == "archived"
    assert (row.next_board_at, row.last_call_at, row.results_at) == (None, None, None)
    async with transaction(sessions) as session:
        group = await session.get(GroupChat, GROUP)
        assert group is not None and not group.active
    assert await in_flight(sessions) == []
    calls = len(w.poster.calls)
    names = ("challenge-board", "challenge-daily", "challenge-last-call", "challenge-results")
    assert (await w.dispatch(at(14, 1), *names)).total_sent == 0
    assert len(w.poster.calls) == calls


async def test_a_migrated_group_takes_its_challenge_and_schedule_along(
    sessions: SessionFactory,
) -> None:
    w = await world(sessions, thread_id=None)
    w.poster.post_answer = Outcome("sent", migrated_to=SUPERGROUP)
    stats = await w.dispatch(at(7, 19, 1), "challenge-daily")
    assert stats.sent == {"challenge-daily": 1}
    row = await w.row()
    assert (row.chat_id, row.next_board_at) == (SUPERGROUP, at(8, 19))
    async with transaction(sessions) as session:
        assert await session.get(GroupChat, GROUP) is None
        moved = await session.get(GroupChat, SUPERGROUP)
        assert moved is not None and (moved.kind, moved.title) == ("supergroup", "Walking club")
    assert await in_flight(sessions) == []
    w.poster.post_answer = None
    await w.dispatch(at(8, 19, 1), "challenge-daily")
    assert w.posts()[-1] == ("post_board", SUPERGROUP, "daily", None)


async def test_a_migration_found_by_an_edit_moves_the_rows_too(sessions: SessionFactory) -> None:
    w = await world(sessions)
    await w.walk(ANN, at(7, 9), 10)
    w.poster.edit_answer = Outcome("sent", migrated_to=SUPERGROUP)
    await w.dispatch(at(7, 9, 11), "challenge-board")
    assert (await w.row()).chat_id == SUPERGROUP


async def test_the_app_registers_the_four_sources(sessions: SessionFactory) -> None:
    names = {source.name for source in real_sources(sessions)}
    assert {
        "challenge-board",
        "challenge-daily",
        "challenge-last-call",
        "challenge-results",
    } <= names
