"""The live screen's hold on chat cues and its hand-over (domain/live.py, services/live.py,
scheduling/live.py and the gate in scheduling/cues.py), with a clock moved by hand and a
notifier that records: no real time is waited for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes import FixedClock, RecordingNotifier
from tests.unit.walk_jobs import ALICE, NOW, walk_row, walk_started
from walkbot.context import WalkbotApp, runtime_of
from walkbot.domain import live as rule
from walkbot.domain.walks import WalkPlan, status_at
from walkbot.scheduling import cues
from walkbot.scheduling import live as live_jobs
from walkbot.services import live as live_service
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import Walk

T = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
S = timedelta(seconds=1)


# ---- the rule, pure ----


def test_cues_are_held_while_the_last_visible_heartbeat_is_at_most_five_seconds_old() -> None:
    assert rule.cue_gate(None, T) == "send"
    assert rule.cue_gate(T, T) == "hold"
    assert rule.cue_gate(T - 5 * S, T) == "hold"  # "at most 5 s": inclusive
    assert rule.cue_gate(T - 5 * S - timedelta(microseconds=1), T) == "take_over"
    assert rule.cue_gate(T + 3 * S, T) == "hold"  # a heartbeat ahead of us (clock step)


def test_the_watchdog_looks_just_after_the_timeout() -> None:
    at = rule.watchdog_at(T)
    assert at > T + rule.LIVE_HEARTBEAT_TIMEOUT
    assert rule.cue_gate(T, at) == "take_over"
    assert at - T < 6 * S


def test_the_hand_over_says_where_the_walk_is() -> None:
    plan = WalkPlan(warmup_s=60, rounds=6, backward_s=30, forward_s=60, cooldown_s=60)
    in_round_3 = status_at(plan, T, (), T + (60 + 2 * 90 + 12) * S)
    assert rule.handover_text(plan, in_round_3) == (
        "📱 Live screen closed. Walking BACKWARD: 18 s left, round 3 of 6."
    )
    near_switch = status_at(plan, T, (), T + (60 + 2 * 90 + 25) * S)
    assert rule.handover_text(plan, near_switch).endswith("Then forward again for 1 min.")
    warm = status_at(plan, T, (), T + 10 * S)
    assert "Warm-up, walking forward: 50 s left." in rule.handover_text(plan, warm)


def test_the_phases_for_the_screen_cover_the_whole_walk() -> None:
    plan = WalkPlan(warmup_s=60, rounds=2, backward_s=30, forward_s=60, cooldown_s=60)
    phases = rule.live_phases(plan)
    assert [(p.kind, p.round, p.start_s) for p in phases] == [
        ("warmup", None, 0),
        ("backward", 1, 60),
        ("forward", 1, 90),
        ("backward", 2, 150),
        ("forward", 2, 180),
        ("cooldown", None, 240),
    ]
    assert phases[-1].start_s + phases[-1].duration_s == plan.total_s


# ---- the gate on a real row, with the clock moved by hand ----


def clock_of(app: WalkbotApp) -> FixedClock:
    clock = runtime_of(app).clock
    assert isinstance(clock, FixedClock)
    return clock


async def beat(app: WalkbotApp, walk_id: int, *, visible: bool, at: datetime) -> bool:
    rt = runtime_of(app)
    async with rt.transaction() as session:
        walk = await session.get(Walk, walk_id)
        assert walk is not None
        result = await live_service.heartbeat(
            session, walk=walk, visible=visible, now=at, screens=rt.live
        )
    return result.hand_over


async def test_a_cue_due_while_the_screen_is_live_is_claimed_but_not_sent(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="2x30/30", ago=30 * S, last_cue=0)
    await beat(app, walk_id, visible=True, at=NOW - 2 * S)
    await cues.fire_due_cue(app, walk_id)  # "Forward" is due at 30 s
    assert notifier.calls == []
    assert (await walk_row(sessions, walk_id)).last_cue_index == 1  # the index moved on


async def test_a_cue_finding_the_screen_quiet_takes_over_once_with_the_hand_over_line(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="2x30/30", ago=30 * S, last_cue=0)
    await beat(app, walk_id, visible=True, at=NOW - 6 * S)
    await cues.fire_due_cue(app, walk_id)
    [(method, _, details)] = notifier.calls
    assert method == "walk_cue"
    assert details["text"].startswith("📱 Live screen closed.\n▶️ Forward again")
    row = await walk_row(sessions, walk_id)
    assert (row.live_seen_at, row.last_cue_index) == (None, 1)
    # Released: the watchdog finds nothing more to say.
    await live_jobs.check_screen(app, walk_id)
    assert len(notifier.calls) == 1


async def test_without_a_screen_cues_go_as_before(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="2x30/30", ago=30 * S, last_cue=0)
    await cues.fire_due_cue(app, walk_id)
    assert notifier.calls[0][2]["text"].startswith("▶️ Forward again")


async def test_the_finish_is_never_held(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    """The walk must end and the rating be asked whatever the screen does."""
    walk_id = await walk_started(sessions, ALICE, plan="1x10/10", ago=20 * S, last_cue=1)
    await beat(app, walk_id, visible=True, at=NOW)
    await cues.fire_due_cue(app, walk_id)
    assert notifier.to(ALICE) == ["walk_ended", "rating_prompt"]
    assert (await walk_row(sessions, walk_id)).status == "ended"


async def test_the_watchdog_hands_over_when_heartbeats_stop(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="6x30/60", ago=(2 * 90 + 12) * S)
    clock = clock_of(app)
    await beat(app, walk_id, visible=True, at=NOW)
    for later in (S, 5 * S):  # still live: nothing said
        clock.at = NOW + later
        await live_jobs.check_screen(app, walk_id)
        assert notifier.calls == []
    clock.at = NOW + 5 * S + timedelta(milliseconds=1)  # quiet for more than 5 s
    await live_jobs.check_screen(app, walk_id)
    [(method, _, details)] = notifier.calls
    assert method == "walk_cue" and details["sound"]
    assert details["text"] == "📱 Live screen closed. Walking BACKWARD: 13 s left, round 3 of 6."
    await live_jobs.check_screen(app, walk_id)  # said once
    assert len(notifier.calls) == 1
    assert (await walk_row(sessions, walk_id)).live_seen_at is None


async def test_a_watchdog_finding_the_screen_live_comes_back_after_the_newest_heartbeat(
    app: WalkbotApp,
    notifier: RecordingNotifier,
    sessions: SessionFactory,
    request: pytest.FixtureRequest,
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="6x30/60", ago=60 * S)
    assert app.job_queue is not None
    scheduler = app.job_queue.scheduler
    scheduler.start(paused=True)  # jobs are stored (and replaced by id) but never run here
    request.addfinalizer(lambda: scheduler.shutdown(wait=False))
    await beat(app, walk_id, visible=True, at=NOW)
    live_jobs.arm_watchdog(app.job_queue, walk_id, NOW)
    await beat(app, walk_id, visible=True, at=NOW + 4 * S)
    live_jobs.arm_watchdog(app.job_queue, walk_id, NOW + 4 * S)  # one already waits: kept
    [job] = app.job_queue.get_jobs_by_name(live_jobs.watchdog_name(walk_id))
    assert job.job.trigger.run_date == rule.watchdog_at(NOW)
    clock_of(app).at = rule.watchdog_at(NOW)
    await live_jobs.check_screen(app, walk_id)  # the job's own look: live, so later
    assert notifier.calls == []
    [job] = app.job_queue.get_jobs_by_name(live_jobs.watchdog_name(walk_id))
    assert job.job.trigger.run_date == rule.watchdog_at(NOW + 4 * S)


async def test_hidden_hands_over_at_once_and_only_once(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="6x30/60", ago=60 * S)
    await beat(app, walk_id, visible=True, at=NOW)
    assert await beat(app, walk_id, visible=False, at=NOW + S)
    assert not await beat(app, walk_id, visible=False, at=NOW + 2 * S)  # a second "hidden"
    assert (await walk_row(sessions, walk_id)).live_seen_at is None


async def test_hidden_while_paused_or_without_a_screen_hands_nothing_over(
    app: WalkbotApp, sessions: SessionFactory
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="6x30/60", ago=60 * S, paused_for=10 * S)
    assert not await beat(app, walk_id, visible=False, at=NOW)  # never live
    await beat(app, walk_id, visible=True, at=NOW)
    assert not await beat(app, walk_id, visible=False, at=NOW + S)  # paused: no cues due


async def test_a_heartbeat_for_a_walk_not_under_way_changes_nothing(
    app: WalkbotApp, sessions: SessionFactory
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="6x30/60", ago=60 * S)
    async with transaction(sessions) as session:
        walk = await session.get(Walk, walk_id)
        assert walk is not None
        walk.status = "ended"
    async with transaction(sessions) as session:
        walk = await session.get(Walk, walk_id)
        assert walk is not None
        result = await live_service.heartbeat(
            session, walk=walk, visible=True, now=NOW, screens=runtime_of(app).live
        )
    assert not result.hold
    assert (await walk_row(sessions, walk_id)).live_seen_at is None


async def test_a_dropped_heads_up_finding_the_screen_quiet_still_says_where_the_walk_is(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    """A heads-up due 9 s ago has under 3 s of use left and is dropped; the screen that went
    quiet is released by it, so the hand-over line must come from it."""
    # 6x30/60: the heads-up before round 2's switch is at 80 s; now is 88 s in.
    walk_id = await walk_started(sessions, ALICE, plan="6x30/60", ago=88 * S, last_cue=1)
    await beat(app, walk_id, visible=True, at=NOW - 10 * S)
    await cues.fire_due_cue(app, walk_id)
    [(_, _, details)] = notifier.calls
    assert details["text"] == (
        "📱 Live screen closed. Walking forward: 2 s left, round 1 of 6.\n"
        "Then turn around, walk BACKWARD for 30 s."
    )


async def test_heartbeats_are_kept_in_memory_and_the_row_is_written_once_a_minute(
    app: WalkbotApp, notifier: RecordingNotifier, sessions: SessionFactory
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="2x30/30", ago=30 * S, last_cue=0)
    await beat(app, walk_id, visible=True, at=NOW - 50 * S)
    await beat(app, walk_id, visible=True, at=NOW - 2 * S)
    assert (await walk_row(sessions, walk_id)).live_seen_at == NOW - 50 * S  # not rewritten
    await cues.fire_due_cue(app, walk_id)  # the memory's 2 s-old heartbeat holds it
    assert notifier.calls == []
    await beat(app, walk_id, visible=True, at=NOW + 10 * S)  # a minute after the write
    assert (await walk_row(sessions, walk_id)).live_seen_at == NOW + 10 * S


@pytest.mark.parametrize(("seen_ago", "sent"), [(2, []), (30, ["walk_cue"])])
async def test_after_a_restart_the_row_says_whether_a_screen_was_showing(
    app: WalkbotApp,
    notifier: RecordingNotifier,
    sessions: SessionFactory,
    seen_ago: int,
    sent: list[str],
) -> None:
    walk_id = await walk_started(sessions, ALICE, plan="2x30/30", ago=30 * S, last_cue=0)
    await beat(app, walk_id, visible=True, at=NOW - seen_ago * S)
    runtime_of(app).live = live_service.LiveScreens()  # what a new process knows: nothing
    await cues.fire_due_cue(app, walk_id)
    assert notifier.to(ALICE) == sent
    if sent:
        assert notifier.calls[0][2]["text"].startswith("📱 Live screen closed.\n")
        assert (await walk_row(sessions, walk_id)).live_seen_at is None
