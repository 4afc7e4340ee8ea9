"""The challenges service on a migrated database: the wizard, joining and leaving, scores for
each measure and kind in the group's zone, the group's life (removal, migration) and the hooks
other features call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.people import add_onboarded_person
from walkbot.domain.challenges import DEFAULT_ZONE, Measure, most_improved, winners
from walkbot.domain.walks import WalkPlan
from walkbot.services import challenges as service
from walkbot.services import walks
from walkbot.services.challenges import Board, Draft
from walkbot.services.privacy import export_user
from walkbot.services.users import Person, create_user, delete_user
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import (
    Challenge,
    ChallengeMember,
    FailedDelivery,
    GroupChat,
    User,
    Walk,
)

LONDON = "Europe/London"
TZ = ZoneInfo(LONDON)
GROUP, OTHER_GROUP, SUPERGROUP = -1001, -1002, -1_001_000_000_001
ALICE, BOB, CARA, DAN = 7_200_000_001, 7_200_000_002, 7_200_000_003, 7_200_000_004


def london(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


# A Thursday; "monday" windows start on 1 June 2026.
LAUNCH = london(2026, 5, 28, 12)
JUNE_1 = london(2026, 6, 1, 0)


async def _people(session: AsyncSession, *names: tuple[int, str]) -> None:
    for telegram_id, name in names:
        await add_onboarded_person(session, telegram_id, name, now=LAUNCH - timedelta(days=30))


async def _launch(
    session: AsyncSession,
    *,
    chat_id: int = GROUP,
    measure: Measure = "minutes",
    kind: str = "ranking",
    target: int | None = None,
    days: int = 7,
    start: str = "monday",
    now: datetime = LAUNCH,
) -> Board:
    """A challenge launched through the wizard's steps, as the buttons would."""
    await service.group_seen(session, chat_id=chat_id, kind="group", title="Walking club", now=now)
    draft = await service.open_draft(
        session, chat_id=chat_id, thread_id=None, created_by=ALICE, creator_zone=LONDON, now=now
    )
    assert isinstance(draft, Draft)
    answers = [("measure", measure), ("kind", kind)]
    if target is not None:
        answers.append(("target", str(target)))
    answers += [("days", str(days)), ("start", start)]
    result: Draft | Board | None = draft
    for step, value in answers:
        result = await service.choose(
            session,
            challenge_id=draft.challenge_id,
            chat_id=chat_id,
            step=step,
            value=value,
            now=now,
        )
    assert isinstance(result, Board)
    return result


def _walk(
    user_id: int,
    started_at: datetime,
    *,
    backward_s: int = 600,
    active_s: int = 900,
    status: str = "ended",
) -> Walk:
    return Walk(
        user_id=user_id,
        plan={"warmup_s": 0, "rounds": 1, "backward_s": 60, "forward_s": 60},
        status=status,
        created_at=started_at,
        started_at=started_at,
        ended_at=started_at + timedelta(minutes=20) if status == "ended" else None,
        backward_s=backward_s,
        active_s=active_s,
        effort=9,
        knee_pain=6,
        note="private",
    )


async def _join(session: AsyncSession, board: Board, *people: int, now: datetime = LAUNCH) -> None:
    for person in people:
        joined = await service.join(
            session, challenge_id=board.challenge_id, chat_id=board.chat_id, user_id=person, now=now
        )
        assert joined.kind == "joined"


def _scores(board: Board | None) -> dict[int, int]:
    assert board is not None
    return {e.user_id: e.score for e in board.entries}


# --- the wizard ------------------------------------------------------------------------------


async def test_the_wizard_walks_through_its_steps_and_launches(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"))
        await service.group_seen(session, chat_id=GROUP, kind="group", title="Club", now=LAUNCH)
        draft = await service.open_draft(
            session, chat_id=GROUP, thread_id=7, created_by=ALICE, creator_zone=LONDON, now=LAUNCH
        )
        assert isinstance(draft, Draft) and draft.step == "measure"
        steps = []
        for step, value in [
            ("measure", "walks"),
            ("kind", "goal"),
            ("target", "50"),
            ("days", "14"),
        ]:
            answer = await service.choose(
                session,
                challenge_id=draft.challenge_id,
                chat_id=GROUP,
                step=step,
                value=value,
                now=LAUNCH,
            )
            assert isinstance(answer, Draft)
            steps.append(answer.step)
        assert steps == ["kind", "target", "days", "start"]
        board = await service.choose(
            session,
            challenge_id=draft.challenge_id,
            chat_id=GROUP,
            step="start",
            value="monday",
            now=LAUNCH,
        )
    assert isinstance(board, Board)
    assert (board.status, board.measure, board.kind, board.target, board.days) == (
        "running", "walks", "goal", 50, 14,
    )  # fmt: skip
    assert (board.starts_at, board.ends_at, board.zone) == (JUNE_1, london(2026, 6, 15, 0), LONDON)
    assert (board.thread_id, board.title, board.day, board.days_left) == (7, "Club", 0, 14)
    async with transaction(sessions) as session:
        row = await session.get(Challenge, board.challenge_id)
        group = await session.get(GroupChat, GROUP)
    assert row is not None and group is not None
    assert group.timezone == LONDON  # the creator's zone, for a group with none yet
    assert row.next_board_at == london(2026, 6, 1, 19)
    assert row.last_call_at == london(2026, 6, 12, 19)  # day 12 of 14: 3 days left
    assert row.results_at == board.ends_at
    assert row.board_edit_at is None


async def test_a_second_challenge_while_one_runs_returns_its_board(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        board = await _launch(session)
        again = await service.open_draft(
            session, chat_id=GROUP, thread_id=None, created_by=BOB, creator_zone=None, now=LAUNCH
        )
    assert isinstance(again, Board) and again.challenge_id == board.challenge_id


async def test_wrong_group_stale_and_bad_answers_change_nothing(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        draft = await service.open_draft(
            session, chat_id=GROUP, thread_id=None, created_by=None, creator_zone=None, now=LAUNCH
        )
        assert isinstance(draft, Draft)

        async def answer(step: str, value: str, chat_id: int = GROUP) -> Draft | Board | None:
            return await service.choose(
                session,
                challenge_id=draft.challenge_id,
                chat_id=chat_id,
                step=step,
                value=value,
                now=LAUNCH,
            )

        assert await answer("measure", "walks", chat_id=OTHER_GROUP) is None
        assert await answer("measure", "steps") is None
        assert await answer("kind", "race") is None
        assert await answer("target", "50") is None  # not a goal
        assert await answer("days", "10") is None
        assert await answer("start", "tomorrow") is None
        assert await answer("kind", "goal") is not None
        assert await answer("start", "now") is None  # a goal needs its target first
        assert await answer("target", "51") is None  # not one of the offered targets
        assert await answer("kind", "improved") is not None
        assert await answer("days", "7") is None  # most improved needs two weeks
        assert await answer("nonsense", "x") is None
        row = await session.get(Challenge, draft.challenge_id)
        assert row is not None
        assert (row.measure, row.kind, row.most_improved, row.days) == (
            "minutes",
            "ranking",
            True,
            14,
        )
        # A newer /challenge archives the older draft: its buttons stop working.
        newer = await service.open_draft(
            session, chat_id=GROUP, thread_id=None, created_by=None, creator_zone=None, now=LAUNCH
        )
        assert isinstance(newer, Draft) and newer.challenge_id != draft.challenge_id
        assert await answer("days", "14") is None
        assert (
            await service.cancel_draft(
                session, challenge_id=newer.challenge_id, chat_id=OTHER_GROUP
            )
            is False
        )
        assert await service.cancel_draft(session, challenge_id=newer.challenge_id, chat_id=GROUP)
    async with transaction(sessions) as session:
        assert await service.current(session, chat_id=GROUP) is None
        assert (await service.group_settings(session, chat_id=GROUP)).zone == DEFAULT_ZONE


# --- joining and leaving ---------------------------------------------------------------------


async def test_join_marks_the_card_for_a_redraw_and_checks_the_group(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"))
        board = await _launch(session)
        cid = board.challenge_id
        moment = LAUNCH + timedelta(minutes=5)
        wrong = await service.join(
            session, challenge_id=cid, chat_id=OTHER_GROUP, user_id=ALICE, now=moment
        )
        assert wrong.kind == "wrong_group"
        missing = await service.join(
            session, challenge_id=cid + 99, chat_id=GROUP, user_id=ALICE, now=moment
        )
        assert missing.kind == "unknown"
        stranger = await service.join(
            session, challenge_id=cid, chat_id=GROUP, user_id=BOB, now=moment
        )
        assert (stranger.kind, stranger.code, stranger.title) == (
            "need_start",
            board.code,
            "Walking club",
        )
        joined = await service.join(
            session, challenge_id=cid, chat_id=GROUP, user_id=ALICE, now=moment
        )
        assert joined.kind == "joined"
        again = await service.join(
            session, challenge_id=cid, chat_id=GROUP, user_id=ALICE, now=moment
        )
        assert again.kind == "already"
        row = await session.get(Challenge, cid)
        assert row is not None and row.board_edit_at == moment
        now_board = await service.board(session, challenge_id=cid, now=moment)
    assert now_board is not None and [e.name for e in now_board.entries] == ["Alice"]


async def test_a_deep_link_joiner_waits_for_onboarding_then_joins(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        board = await _launch(session)
        assert (
            await service.join_by_code(session, code="nope", user_id=BOB, now=LAUNCH)
        ).kind == "unknown"
        need = await service.join_by_code(session, code=board.code, user_id=BOB, now=LAUNCH)
        assert need.kind == "need_start"
        # The bot asks Telegram whether they are in the link's group before joining them.
        assert await service.chat_of_code(session, code=board.code) == GROUP
        assert await service.chat_of_code(session, code="nope") is None
        await create_user(session, person=Person(BOB, "Bob"), now=LAUNCH)  # consented, not done
        waiting = await service.join_by_code(session, code=board.code, user_id=BOB, now=LAUNCH)
        assert (waiting.kind, waiting.challenge_id) == ("pending", board.challenge_id)
        assert await service.pending(session, user_id=BOB) == ("Walking club",)
        still = await service.board(session, challenge_id=board.challenge_id, now=LAUNCH)
        assert still is not None and still.members == 0  # pending: on no board yet
    async with transaction(sessions) as session:
        done = LAUNCH + timedelta(minutes=10)
        assert await service.complete_pending(session, user_id=BOB, now=done) == ("Walking club",)
        assert await service.pending(session, user_id=BOB) == ()
        assert await service.complete_pending(session, user_id=BOB, now=done) == ()
        row = await session.get(Challenge, board.challenge_id)
        assert row is not None and row.board_edit_at == done
        after = await service.board(session, challenge_id=board.challenge_id, now=done)
    assert after is not None and [e.user_id for e in after.entries] == [BOB]


async def test_leave_in_the_group_or_everywhere_from_private(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"), (BOB, "Bob"))
        first = await _launch(session)
        second = await _launch(session, chat_id=OTHER_GROUP)
        await _join(session, first, ALICE, BOB)
        await _join(session, second, ALICE)
    async with transaction(sessions) as session:
        assert await service.leave(session, user_id=BOB, chat_id=OTHER_GROUP, now=LAUNCH) == ()
        assert await service.leave(session, user_id=BOB, chat_id=GROUP, now=LAUNCH) == (
            "Walking club",
        )
        assert await service.leave(session, user_id=ALICE, chat_id=None, now=LAUNCH) == (
            "Walking club",
            "Walking club",
        )
        left = await service.board(session, challenge_id=first.challenge_id, now=LAUNCH)
    assert left is not None and left.members == 0


async def test_nobody_joins_an_ended_challenge(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"))
        board = await _launch(session)
        late = board.ends_at
        assert (
            await service.join_by_code(session, code=board.code, user_id=ALICE, now=late)
        ).kind == "closed"
        assert await service.end_early(session, chat_id=GROUP, now=LAUNCH) is not None
        closed = await service.join(
            session, challenge_id=board.challenge_id, chat_id=GROUP, user_id=ALICE, now=LAUNCH
        )
    assert closed.kind == "closed"


# --- scores ----------------------------------------------------------------------------------


async def _scored(
    sessions: SessionFactory,
    measure: Measure,
    walks_: list[Walk],
    *,
    now: datetime,
    **launch: object,
) -> Board:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara"))
        board = await _launch(session, measure=measure, **launch)  # type: ignore[arg-type]
        await _join(session, board, ALICE, BOB, CARA)
        session.add_all(walks_)
    async with transaction(sessions) as session:
        scored = await service.board(session, challenge_id=board.challenge_id, now=now)
    assert scored is not None
    return scored


def _uncounted() -> list[Walk]:
    """Walks of Cara's that never count: before, at the end of and after the window, not
    finished, and stopped before any walking."""
    return [
        _walk(CARA, JUNE_1 - timedelta(seconds=1)),
        _walk(CARA, london(2026, 6, 8, 0)),  # at ends_at: outside
        _walk(CARA, london(2026, 6, 3, 9), status="active"),
        _walk(CARA, london(2026, 6, 3, 10), active_s=0, backward_s=0),
    ]


async def test_minutes_are_backward_seconds_summed_in_the_window(sessions: SessionFactory) -> None:
    board = await _scored(
        sessions,
        "minutes",
        [
            _walk(ALICE, JUNE_1, backward_s=600),  # at starts_at: inside
            _walk(ALICE, london(2026, 6, 4, 9), backward_s=659),
            _walk(BOB, london(2026, 6, 7, 23, 59), backward_s=120),
            *_uncounted(),
        ],
        now=london(2026, 6, 8, 1),
    )
    assert _scores(board) == {ALICE: 20, BOB: 2, CARA: 0}  # 1259 s is 20 whole minutes
    assert (board.total, board.members, board.day, board.days_left) == (22, 3, 7, 0)


async def test_walks_are_counted(sessions: SessionFactory) -> None:
    board = await _scored(
        sessions,
        "walks",
        [_walk(ALICE, london(2026, 6, 2, 9)), _walk(ALICE, london(2026, 6, 2, 18)), *_uncounted()],
        now=london(2026, 6, 5, 12),
    )
    assert _scores(board) == {ALICE: 2, BOB: 0, CARA: 0}
    assert (board.total, board.day, board.days_left) == (2, 5, 3)


async def test_a_walk_not_yet_started_by_now_does_not_count(sessions: SessionFactory) -> None:
    board = await _scored(
        sessions, "walks", [_walk(ALICE, london(2026, 6, 6, 9))], now=london(2026, 6, 5, 12)
    )
    assert _scores(board)[ALICE] == 0


async def test_active_days_are_local_days_in_the_groups_zone(sessions: SessionFactory) -> None:
    board = await _scored(
        sessions,
        "days",
        [
            # Two walks on one local day: one day.
            _walk(ALICE, london(2026, 6, 2, 8)),
            _walk(ALICE, london(2026, 6, 2, 21)),
            # Just before and just after local midnight (22:59 and 23:01 UTC): two days.
            _walk(BOB, london(2026, 6, 2, 23, 59)),
            _walk(BOB, london(2026, 6, 3, 0, 1)),
            *_uncounted(),
        ],
        now=london(2026, 6, 8, 1),
    )
    assert _scores(board) == {ALICE: 1, BOB: 2, CARA: 0}
    assert board.total == 3


async def test_active_days_across_the_autumn_clock_change(sessions: SessionFactory) -> None:
    # The window is Mon 19 to Sun 25 October 2026; the 25th is 25 hours long in London.
    launched = london(2026, 10, 15, 12)
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara"))
        board = await _launch(session, measure="days", now=launched)
        await _join(session, board, ALICE, BOB, CARA, now=launched)
        assert board.ends_at - board.starts_at == timedelta(hours=169)
        session.add_all(
            [
                _walk(ALICE, london(2026, 10, 24, 12)),
                # 00:30 BST on the 25th is 23:30 UTC on the 24th: UTC days would merge these.
                _walk(ALICE, london(2026, 10, 25, 0, 30)),
                _walk(BOB, london(2026, 10, 25, 23, 30)),  # the last hour of the long day
                _walk(CARA, london(2026, 10, 26, 0, 30)),  # after the window's last midnight
            ]
        )
    async with transaction(sessions) as session:
        scored = await service.board(
            session, challenge_id=board.challenge_id, now=london(2026, 10, 26, 9)
        )
    assert _scores(scored) == {ALICE: 2, BOB: 1, CARA: 0}


async def test_a_late_joiner_keeps_the_walks_they_did_in_the_window(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"))
        board = await _launch(session, measure="walks")
        session.add(_walk(ALICE, london(2026, 6, 2, 9)))
    async with transaction(sessions) as session:
        await _join(session, board, ALICE, now=london(2026, 6, 4, 12))
        scored = await service.board(
            session, challenge_id=board.challenge_id, now=london(2026, 6, 4, 12)
        )
    assert _scores(scored) == {ALICE: 1}


async def test_most_improved_compares_weeks_in_sql(sessions: SessionFactory) -> None:
    week2 = london(2026, 6, 8, 9)
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara"))
        board = await _launch(session, measure="walks", kind="improved", days=14)
        assert board.most_improved and board.days == 14
        await _join(session, board, ALICE, BOB, CARA)
        session.add_all(
            [
                *[_walk(ALICE, JUNE_1 + timedelta(hours=9 + i)) for i in range(5)],  # 5 then 5
                *[_walk(ALICE, week2 + timedelta(hours=i)) for i in range(5)],
                _walk(BOB, london(2026, 6, 2, 9)),  # 1 then 4
                *[_walk(BOB, week2 + timedelta(days=i)) for i in range(4)],
                *[_walk(CARA, week2 + timedelta(days=i)) for i in range(4)],  # 0 then 4
            ]
        )
    async with transaction(sessions) as session:
        scored = await service.board(
            session, challenge_id=board.challenge_id, now=london(2026, 6, 15, 1)
        )
    assert scored is not None
    weeks = {e.user_id: (e.score, e.first_week, e.best_later_week) for e in scored.entries}
    assert weeks == {ALICE: (10, 5, 5), BOB: (5, 1, 4), CARA: (4, 0, 4)}
    assert [e.name for e in most_improved(scored.entries)] == ["Cara"]
    assert [e.name for e in winners(scored.entries)] == ["Alice"]


async def test_a_goal_board_totals_the_group(sessions: SessionFactory) -> None:
    board = await _scored(
        sessions,
        "minutes",
        [_walk(ALICE, london(2026, 6, 2, 9), backward_s=3000), _walk(BOB, london(2026, 6, 3, 9))],
        now=london(2026, 6, 4, 9),
        kind="goal",
        target=100,
    )
    assert (board.kind, board.target, board.total) == ("goal", 100, 60)


async def test_a_board_holds_no_health_data(sessions: SessionFactory) -> None:
    board = await _scored(
        sessions, "walks", [_walk(ALICE, london(2026, 6, 2, 9))], now=london(2026, 6, 4, 9)
    )
    text = repr(board)
    assert "private" not in text and "effort" not in text and "knee" not in text


# --- the group's life ------------------------------------------------------------------------


async def test_removing_the_bot_archives_open_challenges(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        board = await _launch(session)
        assert await service.group_left(session, chat_id=GROUP, now=LAUNCH) == 1
        row = await session.get(Challenge, board.challenge_id)
        group = await session.get(GroupChat, GROUP)
        assert row is not None and group is not None
        assert row.status == "archived" and not group.active
        assert (row.next_board_at, row.last_call_at, row.results_at) == (None, None, None)
        assert await service.current(session, chat_id=GROUP) is None
        assert await service.group_left(session, chat_id=GROUP, now=LAUNCH) == 0
        await service.group_seen(session, chat_id=GROUP, kind="group", title="Back", now=LAUNCH)
        assert group.active and group.title == "Back"
        fresh = await service.open_draft(
            session, chat_id=GROUP, thread_id=None, created_by=None, creator_zone=None, now=LAUNCH
        )
    assert isinstance(fresh, Draft)


async def test_migration_to_a_supergroup_moves_everything_once(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        board = await _launch(session)
        await service.set_post_time(session, chat_id=GROUP, at=time(8, 30), now=LAUNCH)
        session.add(FailedDelivery(chat_id=GROUP, kind="challenge-daily", failed_at=LAUNCH))
    async with transaction(sessions) as session:
        assert await service.migrate_group(
            session, old_chat_id=GROUP, new_chat_id=SUPERGROUP, now=LAUNCH
        )
    async with transaction(sessions) as session:
        assert not await service.migrate_group(
            session, old_chat_id=GROUP, new_chat_id=SUPERGROUP, now=LAUNCH
        )
        assert await session.get(GroupChat, GROUP) is None
        group = await session.get(GroupChat, SUPERGROUP)
        assert group is not None
        assert (group.kind, group.title, group.post_time) == (
            "supergroup",
            "Walking club",
            time(8, 30),
        )
        moved = await service.current(session, chat_id=SUPERGROUP)
        assert moved is not None and moved.id == board.challenge_id
        failed = (await session.exec(select(FailedDelivery))).one()
        assert failed.chat_id == SUPERGROUP


async def test_migration_when_the_supergroup_was_seen_first(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await _launch(session)
        await service.set_group_zone(session, chat_id=GROUP, zone="Europe/Paris", now=LAUNCH)
        await service.group_seen(
            session, chat_id=SUPERGROUP, kind="supergroup", title="Walking club", now=LAUNCH
        )
    async with transaction(sessions) as session:
        assert await service.migrate_group(
            session, old_chat_id=GROUP, new_chat_id=SUPERGROUP, now=LAUNCH
        )
    async with transaction(sessions) as session:
        assert await session.get(GroupChat, GROUP) is None
        settings = await service.group_settings(session, chat_id=SUPERGROUP)
        assert settings.zone == "Europe/Paris" and settings.zone_chosen
        assert await service.current(session, chat_id=SUPERGROUP) is not None


async def test_end_early_makes_the_results_due_now(sessions: SessionFactory) -> None:
    ended = london(2026, 6, 3, 12)
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"))
        board = await _launch(session, measure="walks")
        await _join(session, board, ALICE)
        session.add_all([_walk(ALICE, london(2026, 6, 2, 9)), _walk(ALICE, london(2026, 6, 4, 9))])
    async with transaction(sessions) as session:
        assert await service.end_early(session, chat_id=OTHER_GROUP, now=ended) is None
        result = await service.end_early(session, chat_id=GROUP, now=ended)
        assert result is not None and result.status == "ended"
        row = await session.get(Challenge, board.challenge_id)
        assert row is not None
        assert (row.results_at, row.next_board_at, row.last_call_at) == (ended, None, None)
        assert await service.current(session, chat_id=GROUP) is None
        assert await service.end_early(session, chat_id=GROUP, now=ended) is None
        # A walk after the early end does not count, even inside the original window.
        later = await service.board(
            session, challenge_id=board.challenge_id, now=london(2026, 6, 9, 9)
        )
    assert _scores(later) == {ALICE: 1}


async def test_a_walk_ending_owes_an_edit_only_on_running_boards_in_their_window(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"), (BOB, "Bob"))
        board = await _launch(session)
        other = await _launch(session, chat_id=OTHER_GROUP)
        await _join(session, board, ALICE)
        await _join(session, other, ALICE)
        await service.end_early(session, chat_id=OTHER_GROUP, now=LAUNCH)
        for cid in (board.challenge_id, other.challenge_id):
            row = await session.get(Challenge, cid)
            assert row is not None
            row.board_edit_at = None
    async with transaction(sessions) as session:
        # Before the window: nothing owed.
        assert await service.walk_ended(session, user_id=ALICE, now=LAUNCH) == 0
        first, second = london(2026, 6, 2, 9), london(2026, 6, 2, 10)
        assert await service.walk_ended(session, user_id=BOB, now=first) == 0  # not a member
        assert await service.walk_ended(session, user_id=ALICE, now=first) == 1
        assert await service.walk_ended(session, user_id=ALICE, now=second) == 1
    async with transaction(sessions) as session:
        row = await session.get(Challenge, board.challenge_id)
        ended = await session.get(Challenge, other.challenge_id)
    assert row is not None and ended is not None
    assert row.board_edit_at == first  # the earliest owed instant is kept
    assert ended.board_edit_at is None


async def test_ending_a_walk_marks_the_board(sessions: SessionFactory) -> None:
    """The hook in services.walks.end, in the walk's own transaction."""
    started = london(2026, 6, 2, 9)
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"))
        board = await _launch(session)
        await _join(session, board, ALICE)
        row = await session.get(Challenge, board.challenge_id)
        assert row is not None
        row.board_edit_at = None
    async with transaction(sessions) as session:
        alice = await session.get(User, ALICE)
        assert alice is not None
        plan = WalkPlan(warmup_s=0, rounds=1, backward_s=60, forward_s=60, cooldown_s=0)
        walk, _ = await walks.prepare(session, user=alice, plan=plan, now=started)
        assert await walks.start(session, walk=walk, now=started)
        assert await walks.end(
            session, walk=walk, now=started + timedelta(minutes=3), reason="finished"
        )
    async with transaction(sessions) as session:
        row = await session.get(Challenge, board.challenge_id)
        scored = await service.board(
            session, challenge_id=board.challenge_id, now=started + timedelta(hours=1)
        )
    assert row is not None and row.board_edit_at == started + timedelta(minutes=3)
    assert _scores(scored) == {ALICE: 1}


async def test_past_challenges_list_shared_winners(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara"))
        board = await _launch(session, measure="walks")
        await _join(session, board, ALICE, BOB, CARA)
        session.add_all([_walk(ALICE, london(2026, 6, 2, 9)), _walk(BOB, london(2026, 6, 3, 9))])
        row = await session.get(Challenge, board.challenge_id)
        assert row is not None
        row.status, row.ended_at = "ended", board.ends_at  # as the results post leaves it
        goal = await _launch(session, measure="walks", kind="goal", target=20, now=board.ends_at)
        await service.end_early(session, chat_id=GROUP, now=board.ends_at + timedelta(days=1))
        assert await service.past(session, chat_id=OTHER_GROUP) == ()
    async with transaction(sessions) as session:
        found = await service.past(session, chat_id=GROUP)
    assert [(p.challenge_id, p.winners, p.total) for p in found] == [
        (goal.challenge_id, (), 0),
        (board.challenge_id, ("Alice", "Bob"), 2),
    ]


async def test_a_new_post_time_moves_the_coming_posts_not_the_window(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        board = await _launch(session)
        # Monday 1 June 12:00: today's 19:00 board has not gone out; it moves to 08:00 tomorrow.
        await service.set_post_time(
            session, chat_id=GROUP, at=time(8, 0), now=london(2026, 6, 1, 12)
        )
        row = await session.get(Challenge, board.challenge_id)
        assert row is not None
        assert row.next_board_at == london(2026, 6, 2, 8)
        assert row.last_call_at == london(2026, 6, 5, 8)
        assert (row.starts_at, row.ends_at) == (board.starts_at, board.ends_at)
        # Tuesday 20:00: Tuesday's board went out at 08:00 and the daily source moved on to
        # Wednesday. Moving the time to 21:00 must not bring a second board tonight.
        row.next_board_at = london(2026, 6, 3, 8)
        await service.set_post_time(
            session, chat_id=GROUP, at=time(21, 0), now=london(2026, 6, 2, 20)
        )
        assert row.next_board_at == london(2026, 6, 3, 21)
        assert (await service.group_settings(session, chat_id=GROUP)).post_time == time(21, 0)


# --- privacy ---------------------------------------------------------------------------------


async def test_export_has_memberships_and_deleteme_takes_them_and_the_creator_id(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "Alice"), (BOB, "Bob"))
        board = await _launch(session)  # created by Alice
        await _join(session, board, ALICE, BOB)
        raw = await export_user(session, telegram_id=ALICE, now=LAUNCH)
    assert raw is not None
    data = json.loads(raw)
    assert data["profile"]["board_name"] == "name"
    assert data["challenge_members"] == [
        {
            "challenge_id": board.challenge_id,
            "group_title": "Walking club",
            "joined_at": LAUNCH.isoformat(),
            "created_at": LAUNCH.isoformat(),
        }
    ]
    async with transaction(sessions) as session:
        assert await delete_user(session, telegram_id=ALICE, now=LAUNCH)
    async with transaction(sessions) as session:
        row = await session.get(Challenge, board.challenge_id)
        members = (await session.exec(select(ChallengeMember.user_id))).all()
        left = await service.board(session, challenge_id=board.challenge_id, now=LAUNCH)
    assert row is not None and row.created_by is None and row.status == "running"
    assert list(members) == [BOB]
    assert left is not None and [e.name for e in left.entries] == ["Bob"]


async def test_initials_on_the_board_when_chosen(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await _people(session, (ALICE, "alice mary"))
        user = await session.get(User, ALICE)
        assert user is not None
        user.board_name = "initials"
        board = await _launch(session)
        await _join(session, board, ALICE)
        shown = await service.board(session, challenge_id=board.challenge_id, now=LAUNCH)
    assert shown is not None and [e.name for e in shown.entries] == ["A. M."]
