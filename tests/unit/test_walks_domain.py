"""The pure walk domain: plans, parsing, cue timelines, pauses, status, late policy, summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walkbot.domain.walk_copy import format_duration
from walkbot.domain.walks import (
    CATCH_UP_AFTER_S,
    EFFORT_LABELS,
    HEADS_UP_LEAD_S,
    LATE_GRACE_S,
    Cue,
    Pause,
    Phase,
    PlanError,
    Timeline,
    WalkPlan,
    active_elapsed,
    build_timeline,
    closed_pause_time,
    due_cues,
    effort_button,
    last_due_index,
    open_pause_since,
    pain_above_limit,
    pain_advice,
    parse_custom_plan,
    pause_walk,
    pending_cues,
    resume_walk,
    safety_card,
    starting_plan,
    status_at,
    summarize_walk,
)

T0 = datetime(2025, 3, 30, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def paused(start_s: float, end_s: float | None) -> Pause:
    return Pause(at(start_s), at(end_s) if end_s is not None else None)


def cue_by_offset(timeline: Timeline, offset_s: int, kind: str = "phase") -> Cue:
    return next(c for c in timeline.cues if c.offset_s == offset_s and c.kind == kind)


# --- durations and plans ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (30, "30 s"),
        (60, "1 min"),
        (90, "1 min 30 s"),
        (120, "2 min"),
        (3900, "1 h 5 min"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_duration_rejects_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_duration(-1)


def test_starting_plan_phases_add_up_to_25_minutes() -> None:
    plan = starting_plan()
    phases = plan.phases()
    assert phases[0] == Phase("warmup", 300, None)
    assert phases[1:13] == tuple(
        phase for r in range(1, 7) for phase in (Phase("backward", 30, r), Phase("forward", 120, r))
    )
    assert phases[13] == Phase("cooldown", 300, None)
    assert len(phases) == 14
    assert plan.total_s == 25 * 60 == sum(p.duration_s for p in phases)
    assert plan.backward_total_s == 180


def test_describe() -> None:
    assert starting_plan().describe() == (
        "6 x 30 s backward / 2 min forward, 5 min warm-up and cool-down"
    )
    assert WalkPlan(0, 6, 30, 120, 0).describe() == "6 x 30 s backward / 2 min forward"
    assert WalkPlan(300, 10, 60, 90, 180).describe() == (
        "10 x 1 min backward / 1 min 30 s forward, 5 min warm-up, 3 min cool-down"
    )


def test_plan_round_trips_through_a_json_dict() -> None:
    plan = WalkPlan(120, 4, 45, 90, 0)
    data = plan.to_dict()
    assert all(isinstance(v, int) for v in data.values())
    assert WalkPlan.from_dict({**data, "added_later": True}) == plan


def test_plan_from_a_broken_dict_is_refused() -> None:
    with pytest.raises(ValueError, match="missing"):
        WalkPlan.from_dict({"rounds": 6})
    with pytest.raises(TypeError):
        WalkPlan.from_dict({**starting_plan().to_dict(), "rounds": "6"})
    with pytest.raises(ValueError, match="rounds"):
        WalkPlan(0, 0, 30, 120, 0)


# --- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "plan"),
    [
        ("6x30/120", WalkPlan(0, 6, 30, 120, 0)),
        ("/walk 6x30/120", WalkPlan(0, 6, 30, 120, 0)),
        ("/walk@walkbot 6x30/120", WalkPlan(0, 6, 30, 120, 0)),
        ("6x30s/2m", WalkPlan(0, 6, 30, 120, 0)),
        ("6x1m/2m", WalkPlan(0, 6, 60, 120, 0)),
        ("6×30/120", WalkPlan(0, 6, 30, 120, 0)),
        ("6 x 30 / 120", WalkPlan(0, 6, 30, 120, 0)),
        ("4X1m30s/2min", WalkPlan(0, 4, 90, 120, 0)),
        ("w5 6x30/120 c3", WalkPlan(300, 6, 30, 120, 180)),
        ("c3 6x30/120 w5", WalkPlan(300, 6, 30, 120, 180)),
        ("6x30/120 w5", WalkPlan(300, 6, 30, 120, 0)),
        ("  W 10  6x30/120  ", WalkPlan(600, 6, 30, 120, 0)),
        ("1x10/30m", WalkPlan(0, 1, 10, 1800, 0)),
        ("30x10/10 w30 c1", WalkPlan(1800, 30, 10, 10, 60)),
        ("w5m 6x30/120 c5min", WalkPlan(300, 6, 30, 120, 300)),
    ],
)
def test_parse_valid_forms(text: str, plan: WalkPlan) -> None:
    assert parse_custom_plan(text) == plan


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Tell me the rounds and times"),
        ("/walk", "Tell me the rounds and times"),
        ("hello", 'didn\'t understand "hello"'),
        ("6x30", 'couldn\'t read "6x30"'),
        ("6x30/", 'couldn\'t read "6x30/"'),
        ("0x30/120", "Rounds go from 1 to 30 (you wrote 0)"),
        ("31x30/120", "Rounds go from 1 to 30 (you wrote 31)"),
        ("6x9/120", "10 s to 30 min (you wrote 9 s)"),
        ("6x30/31m", "10 s to 30 min (you wrote 31 min)"),
        ("6x30/0", "(you wrote 0 s)"),
        ("6x30/1.5m", 'couldn\'t read the time "1.5m"'),
        ("6xab/120", 'couldn\'t read the time "ab"'),
        ("w5", "I need the intervals too"),
        ("w0 6x30/120", "Warm-up goes from 1 to 30 min (you wrote 0)"),
        ("6x30/120 c31", "Cool-down goes from 1 to 30 min (you wrote 31)"),
        ("w5 w3 6x30/120", "Give the warm-up only once"),
        ("6x30/120 4x30/60", "Give one set of intervals"),
        ("-6x30/120", 'didn\'t understand "-6x30/120"'),
        ("99999999999999999999x30/120", 'couldn\'t read "99999999999999999999x30/120"'),
    ],
)
def test_parse_errors_explain_the_format(text: str, problem: str) -> None:
    with pytest.raises(PlanError) as caught:
        parse_custom_plan(text)
    assert problem in caught.value.message
    assert "/walk 6x30/120" in caught.value.message  # every error carries the example
    assert "w5" in caught.value.message


# --- cue timeline ----------------------------------------------------------------------------


def test_starting_plan_cues_order_instants_and_sound() -> None:
    timeline = build_timeline(starting_plan(), T0)
    cues = timeline.cues
    # 14 phase cues, heads-ups before each turn (after warm-up and forwards 1-5), one finish.
    assert [c.kind for c in cues].count("phase") == 14
    assert [c.offset_s for c in cues if c.kind == "heads_up"] == [290, 440, 590, 740, 890, 1040]
    assert cues[-1].kind == "finish"
    assert len(cues) == timeline.cue_count == 21
    assert [c.index for c in cues] == list(range(21))
    assert [c.at for c in cues] == sorted(c.at for c in cues)
    assert all(c.at == at(c.offset_s) for c in cues)
    assert cues[-1].at == timeline.ends_at == at(1500)
    assert all(c.sound for c in cues if c.kind != "heads_up")
    assert not any(c.sound for c in cues if c.kind == "heads_up")


def test_phase_cues_say_what_to_do_and_for_how_long() -> None:
    timeline = build_timeline(starting_plan(), T0)
    first_backward = cue_by_offset(timeline, 300)
    assert first_backward.text.startswith("⏪ Turn around: walk BACKWARD for 30 s")
    assert "Round 1 of 6" in first_backward.text
    assert cue_by_offset(timeline, 330).text.startswith("▶️ Forward again for 2 min")
    assert "5 min" in cue_by_offset(timeline, 0).text
    assert "Cool-down" in cue_by_offset(timeline, 1200).text
    for cue in timeline.cues:
        assert len(cue.text) <= 140
        assert len(cue.text.splitlines()) <= 3


def test_heads_up_says_what_comes_next_and_when() -> None:
    timeline = build_timeline(starting_plan(), T0)
    heads_up = cue_by_offset(timeline, 440, "heads_up")
    assert heads_up.text == f"⏳ In {HEADS_UP_LEAD_S} s: turn around, walk BACKWARD for 30 s"
    assert heads_up.phase_index == 2  # sent during round 1's forward phase


def test_tips_vary_and_are_deterministic() -> None:
    timeline = build_timeline(starting_plan(), T0)
    backward_tips = [
        c.text.splitlines()[-1]
        for c in timeline.cues
        if c.kind == "phase" and "BACKWARD for" in c.text
    ]
    assert len(set(backward_tips)) == 6
    assert build_timeline(starting_plan(), T0).cues == timeline.cues


def test_halfway_and_last_round_notes_are_folded_into_phase_cues() -> None:
    timeline = build_timeline(starting_plan(), T0)
    halfway = [c for c in timeline.cues if "Halfway" in c.text]
    assert [c.offset_s for c in halfway] == [750]  # 1500 / 2: round 4's backward cue
    last_round = [c for c in timeline.cues if "Last round" in c.text]
    assert [c.offset_s for c in last_round] == [1050]


def test_finish_cue_summarises_the_plan() -> None:
    finish = build_timeline(starting_plan(), T0).cues[-1]
    assert finish.text == "🏁 Well done! 3 min backward, 25 min in all, 6 rounds."


def test_short_phases_get_no_heads_up() -> None:
    timeline = build_timeline(parse_custom_plan("6x30/40"), T0)
    assert [c.kind for c in timeline.cues] == ["phase"] * 12 + ["finish"]
    starts = [offset for r in range(6) for offset in (70 * r, 70 * r + 30)]
    assert [c.offset_s for c in timeline.cues] == [*starts, 420]
    assert timeline.cues[0].text.startswith("⏪ Let's go: walk BACKWARD for 30 s")


def test_heads_up_only_before_a_change_of_direction() -> None:
    timeline = build_timeline(parse_custom_plan("2x60/60 c5"), T0)
    kinds = [(c.kind, c.offset_s) for c in timeline.cues]
    assert kinds == [
        ("phase", 0),
        ("heads_up", 50),
        ("phase", 60),
        ("heads_up", 110),
        ("phase", 120),
        ("heads_up", 170),
        ("phase", 180),
        ("phase", 240),  # forward into cool-down: no turn, so no heads-up
        ("finish", 540),
    ]


# --- pauses ----------------------------------------------------------------------------------


def test_one_pause_shifts_every_later_cue() -> None:
    timeline = build_timeline(starting_plan(), T0, [paused(310, 370)])
    for cue in timeline.cues:
        expected = at(cue.offset_s) if cue.offset_s < 310 else at(cue.offset_s + 60)
        assert cue.at == expected
    assert timeline.ends_at == at(1560)


def test_two_pauses_add_up() -> None:
    pauses = [paused(100, 130), paused(500, 590)]  # 30 s, then 90 s, both on the wall clock
    timeline = build_timeline(starting_plan(), T0, pauses)
    assert cue_by_offset(timeline, 0).at == at(0)
    assert cue_by_offset(timeline, 300).at == at(330)
    assert cue_by_offset(timeline, 450).at == at(480)  # wall 480 is before the second pause
    assert cue_by_offset(timeline, 480).at == at(600)  # wall 510 falls in it: +90 s
    assert timeline.ends_at == at(1620)


def test_pause_starting_exactly_at_a_cue_delays_it_to_the_resume() -> None:
    timeline = build_timeline(starting_plan(), T0, [paused(300, 400)])
    assert cue_by_offset(timeline, 300).at == at(400)


def test_open_pause_holds_back_later_cues() -> None:
    timeline = build_timeline(starting_plan(), T0, [paused(320, None)])
    assert [c.offset_s for c in timeline.cues] == [0, 290, 300]
    assert timeline.cue_count == 21
    assert timeline.ends_at is None
    assert pending_cues(timeline, at(330), last_sent_index=2) == ()


def test_active_elapsed_ignores_paused_time() -> None:
    pauses = [paused(100, 160), paused(200, None)]
    assert active_elapsed(T0, pauses, at(50)) == timedelta(seconds=50)
    assert active_elapsed(T0, pauses, at(130)) == timedelta(seconds=100)
    assert active_elapsed(T0, pauses, at(190)) == timedelta(seconds=130)
    assert active_elapsed(T0, pauses, at(1000)) == timedelta(seconds=140)
    assert active_elapsed(T0, pauses, at(-5)) == timedelta(0)


def test_overlapping_and_out_of_order_pauses_are_counted_once() -> None:
    pauses = [paused(150, 200), paused(100, 160), paused(-50, 10)]
    assert active_elapsed(T0, pauses, at(300)) == timedelta(seconds=300 - 100 - 10)


def test_pause_and_resume_helpers() -> None:
    pauses = pause_walk((), at(10))
    assert pauses == (paused(10, None),)
    assert pause_walk(pauses, at(20)) == pauses  # a double tap keeps the first pause
    resumed = resume_walk(pauses, at(40))
    assert resumed == (paused(10, 40),)
    assert resume_walk(resumed, at(50)) == resumed
    assert [Pause.from_dict(p.to_dict()) for p in resumed] == list(resumed)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        build_timeline(starting_plan(), T0.replace(tzinfo=None))


# --- status ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "phase_index", "kind", "round_", "left", "remaining"),
    [
        (0, 0, "warmup", None, 300, 1500),
        (299.9, 0, "warmup", None, 1, 1201),
        (300, 1, "backward", 1, 30, 1200),
        (760, 7, "backward", 4, 20, 740),
        (1199, 12, "forward", 6, 1, 301),
        (1400, 13, "cooldown", None, 100, 100),
    ],
)
def test_status_at_various_instants(
    seconds: float, phase_index: int, kind: str, round_: int | None, left: int, remaining: int
) -> None:
    status = status_at(starting_plan(), T0, [], at(seconds))
    assert status.phase_index == phase_index
    assert status.phase.kind == kind
    assert status.round == round_
    assert status.rounds == 6
    assert status.seconds_left_in_phase == left
    assert status.remaining_s == remaining
    assert status.elapsed_active_s == 1500 - remaining
    assert not status.finished
    assert not status.paused


def test_status_text_during_a_walk() -> None:
    status = status_at(starting_plan(), T0, [], at(760))
    assert status.text() == "Round 4 of 6: BACKWARD, 20 s left.\n12 min 20 s to go in all."


def test_status_while_paused_is_frozen() -> None:
    pauses = [paused(770, None)]
    early = status_at(starting_plan(), T0, pauses, at(800))
    later = status_at(starting_plan(), T0, pauses, at(5000))
    assert early == later
    assert early.paused
    assert early.seconds_left_in_phase == 10
    assert early.text().startswith("⏸ Paused. Round 4 of 6: BACKWARD, 10 s left.")


def test_status_after_a_resume_counts_only_active_time() -> None:
    status = status_at(starting_plan(), T0, [paused(100, 400)], at(700))
    assert status.elapsed_active_s == 400
    assert (status.phase.kind, status.round, status.seconds_left_in_phase) == ("forward", 1, 50)
    assert not status.paused


def test_status_when_finished() -> None:
    status = status_at(starting_plan(), T0, [paused(100, 160)], at(1560))
    assert status.finished
    assert status.remaining_s == 0
    assert status.seconds_left_in_phase == 0
    assert status.phase.kind == "cooldown"
    assert status.text() == "🏁 This walk is complete."


# --- late policy -----------------------------------------------------------------------------


def test_on_time_cue_is_sent_as_planned() -> None:
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(300), last_sent_index=1)
    assert decision.action == "send"
    assert decision.text == timeline.cues[2].text
    assert decision.sound
    assert decision.last_sent_index == 2
    assert decision.folded == ()
    assert not decision.finished


def test_cue_within_grace_is_sent_as_is() -> None:
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(300 + LATE_GRACE_S), last_sent_index=1)
    assert (decision.action, decision.text) == ("send", timeline.cues[2].text)


def test_late_cue_in_a_running_phase_says_the_time_left() -> None:
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(300 + LATE_GRACE_S + 3), last_sent_index=1)
    assert decision.action == "adjusted"
    assert decision.text is not None
    assert decision.text.startswith("⏪ Turn around: walk BACKWARD for 22 s")
    assert "Round 1 of 6" in decision.text
    assert decision.last_sent_index == 2


def test_late_heads_up_gets_its_real_countdown_or_is_dropped() -> None:
    timeline = build_timeline(starting_plan(), T0)
    late = due_cues(timeline, at(440 + 6), last_sent_index=3)
    assert (late.action, late.text) == (
        "adjusted",
        "⏳ In 4 s: turn around, walk BACKWARD for 30 s",
    )
    too_late = due_cues(timeline, at(440 + 8), last_sent_index=3)
    assert (too_late.action, too_late.text, too_late.last_sent_index) == ("none", None, 4)


def test_missed_heads_up_is_folded_into_the_switch_cue() -> None:
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(451), last_sent_index=3)
    assert decision.action == "send"
    assert decision.text == cue_by_offset(timeline, 450).text
    assert decision.folded == (4,)
    assert decision.last_sent_index == 5


def test_cue_whose_phase_is_over_is_folded_not_sent() -> None:
    # The round-1 backward cue (index 2) fires 40 s late: its phase ended at 330.
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(340), last_sent_index=1)
    assert decision.folded == (2,)
    assert decision.last_sent_index == 3
    assert decision.action == "catch_up"
    assert decision.text == "Back with you — round 1 of 6: walk forward for 1 min 50 s"


def test_restart_mid_walk_gives_one_catch_up() -> None:
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(760), last_sent_index=3)  # down from 331 to 760
    assert decision.action == "catch_up"
    assert decision.text == "Back with you — round 4 of 6: walk BACKWARD for 20 s"
    assert decision.folded == tuple(range(4, 11))
    assert decision.last_sent_index == 11
    # The other jobs that fire in the same moment find nothing left to send.
    again = due_cues(timeline, at(760), last_sent_index=decision.last_sent_index)
    assert (again.action, again.text) == ("none", None)
    assert [c.index for c in pending_cues(timeline, at(760), last_sent_index=11)] == [
        *range(12, 21)
    ]


def test_catch_up_near_a_switch_says_what_comes_next() -> None:
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(775), last_sent_index=3)
    assert decision.text == (
        "Back with you — round 4 of 6: walk BACKWARD for 5 s, then forward again for 2 min"
    )


def test_one_very_late_cue_is_a_catch_up() -> None:
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(CATCH_UP_AFTER_S + 30), last_sent_index=-1)
    assert decision.action == "catch_up"
    assert decision.text == "Back with you — warm-up, walk forward for 3 min 30 s"


def test_walk_that_ended_while_down_is_complete() -> None:
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(4000), last_sent_index=9)
    assert decision.action == "complete"
    assert decision.finished
    assert decision.last_sent_index == timeline.finish_index == 20
    assert decision.text is not None
    assert "while I was offline" in decision.text
    assert decision.text.endswith("Well done! 3 min backward, 25 min in all, 6 rounds.")


def test_finish_on_time_is_the_plain_finish_text() -> None:
    timeline = build_timeline(starting_plan(), T0)
    decision = due_cues(timeline, at(1501), last_sent_index=19)
    assert (decision.action, decision.text) == ("complete", timeline.cues[-1].text)
    assert decision.finished


def test_nothing_is_sent_while_paused_and_missed_cues_fold_after_resume() -> None:
    pauses = [paused(302, None)]
    timeline = build_timeline(starting_plan(), T0, pauses)
    during = due_cues(timeline, at(900), last_sent_index=1)
    assert (during.action, during.last_sent_index) == ("none", 1)
    # Resumed at 905: the round-1 backward cue (due at 300) was never sent; 27 s remain of it.
    timeline = build_timeline(starting_plan(), T0, resume_walk(pauses, at(905)))
    after = due_cues(timeline, at(906), last_sent_index=1)
    assert after.action == "send"  # 1 s late in active time: the pause does not count
    assert after.last_sent_index == 2


def test_lateness_ignores_time_spent_paused() -> None:
    timeline = build_timeline(starting_plan(), T0, [paused(320, 500)])
    decision = due_cues(timeline, at(511), last_sent_index=2)  # cue at offset 330 is wall 510
    assert (decision.action, decision.last_sent_index) == ("send", 3)


def test_last_due_index() -> None:
    timeline = build_timeline(starting_plan(), T0)
    assert last_due_index(timeline, at(-1)) == -1
    assert last_due_index(timeline, at(0)) == 0
    assert last_due_index(timeline, at(445)) == 4


# --- summary ---------------------------------------------------------------------------------


def test_summary_of_a_finished_walk() -> None:
    summary = summarize_walk(starting_plan(), T0, [paused(100, 160)], at(1560))
    assert summary.completed
    assert (summary.backward_s, summary.forward_s, summary.active_s) == (180, 1320, 1500)
    assert summary.rounds_completed == summary.rounds_planned == 6
    assert summary.text == "Well done! 3 min backward, 25 min in all, 6 rounds."


def test_one_round_reads_one_round_not_one_rounds() -> None:
    plan = WalkPlan(warmup_s=60, rounds=1, backward_s=30, forward_s=60, cooldown_s=0)
    assert "Then 1 round of 30 s backward" in build_timeline(plan, T0).cues[0].text
    finished = summarize_walk(plan, T0, [], at(plan.total_s))
    assert finished.text == "Well done! 30 s backward, 2 min 30 s in all, 1 round."
    stopped = summarize_walk(plan, T0, [], at(70))
    assert stopped.text == (
        "Good call to stop when you need to. Today: 10 s backward, 1 min 10 s in all, 0 of 1 round."
    )


def test_summary_after_the_end_is_capped_at_the_plan() -> None:
    summary = summarize_walk(starting_plan(), T0, [], at(9999))
    assert (summary.active_s, summary.backward_s) == (1500, 180)


def test_summary_of_an_early_stop_counts_what_was_done() -> None:
    # Stopped 10 s into round 4's backward part: 3 full rounds plus 10 s backward.
    summary = summarize_walk(starting_plan(), T0, [], at(760))
    assert not summary.completed
    assert summary.backward_s == 3 * 30 + 10
    assert summary.forward_s == 300 + 3 * 120
    assert summary.active_s == 760
    assert summary.rounds_completed == 3
    assert "fail" not in summary.text.lower()
    assert summary.text == (
        "Good call to stop when you need to. Today: 1 min 40 s backward, "
        "12 min 40 s in all, 3 of 6 rounds."
    )


def test_summary_of_a_stop_during_a_pause_counts_up_to_the_pause() -> None:
    pauses = [paused(200, 260), paused(500, None)]
    summary = summarize_walk(starting_plan(), T0, pauses, at(2000))
    assert summary.active_s == 440
    assert summary.backward_s == 30
    assert summary.forward_s == 410
    assert summary.rounds_completed == 1


def test_summary_of_a_stop_before_any_backward_walking() -> None:
    summary = summarize_walk(starting_plan(), T0, [], at(120))
    assert (summary.backward_s, summary.rounds_completed) == (0, 0)
    assert summary.text == "Good call to stop when you need to. You walked 2 min today."
    assert "no problem" in summarize_walk(starting_plan(), T0, [], T0).text


# --- effort, pain, safety --------------------------------------------------------------------


def test_effort_labels_cover_the_scale_and_fit_a_button() -> None:
    assert sorted(EFFORT_LABELS) == list(range(11))
    assert effort_button(0) == "0 resting"
    assert effort_button(5) == "5 moderate"
    assert effort_button(8) == "8 hard"
    assert effort_button(10) == "10 maximal"
    assert all(len(effort_button(n)) <= 12 for n in range(11))
    with pytest.raises(ValueError, match="0 to 10"):
        effort_button(11)


def test_pain_rule() -> None:
    assert pain_advice(0) is None
    ok = pain_advice(5)
    assert ok is not None
    assert "within about an hour" in ok
    assert "morning" in ok
    high = pain_advice(6)
    assert high is not None
    assert "step down" in high
    assert "clinician" in high
    assert not pain_above_limit(5)
    assert pain_above_limit(6)
    with pytest.raises(ValueError, match="0 to 10"):
        pain_advice(-1)
    with pytest.raises(ValueError, match="0 to 10"):
        pain_advice(True)


def test_safety_card_adapts_to_screening() -> None:
    plain = safety_card(needs_support=False)
    supported = safety_card(needs_support=True)
    for card in (plain, supported):
        assert "ball of your foot" in card
        assert "shoulder" in card
        assert "I need to stop" in card
        assert "safety clip" in card
        assert len(card) < 500
    assert "clear, flat path" in plain
    assert "clinician" in supported
    assert "clinician" not in plain


def test_closed_pause_time_counts_ended_pauses_and_open_pause_since_finds_the_open_one() -> None:
    pauses = (paused(10, 40), paused(60, 65), paused(90, None))
    assert closed_pause_time(pauses) == timedelta(seconds=35)  # the open one still counting
    assert open_pause_since(pauses) == at(90)
    assert closed_pause_time(()) == timedelta(0) and open_pause_since(pauses[:2]) is None
