"""The programme table and its progression rule: every branch of `decide`, the knee check."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

import pytest

from walkbot.domain import programme as p
from walkbot.domain.walks import WalkPlan, starting_plan

NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)


def walk(
    effort: int = 5,
    pain: int | None = 2,
    end: str = "finished",
    worse: bool | None = None,
    *,
    at_level: bool = True,
) -> p.RatedWalk:
    return p.RatedWalk(
        effort=effort, knee_pain=pain, end_reason=end, knee_morning_worse=worse, at_level=at_level
    )


def custom(
    effort: int = 5, pain: int | None = 2, end: str = "finished", worse: bool | None = None
) -> p.RatedWalk:
    """A custom /walk (or a walk planned at another level) since the level last changed."""
    return walk(effort, pain, end, worse, at_level=False)


def decide(
    latest: p.RatedWalk,
    *previous: p.RatedWalk,
    level: int = 2,
    flagged: bool = False,
    last_up: datetime | None = None,
) -> p.Decision:
    return p.decide(
        level=level,
        latest=latest,
        previous=previous,
        now=NOW,
        screening_flagged=flagged,
        last_step_up_at=last_up,
    )


# --- the table -------------------------------------------------------------------------------


def test_level_one_is_the_standard_starting_session() -> None:
    assert p.level_plan(p.STANDARD_START) == starting_plan()
    assert p.starting_level(screening_flagged=False) == p.STANDARD_START == 1


def test_a_screening_yes_starts_one_level_lower_on_an_easier_session() -> None:
    easier = p.level_plan(p.starting_level(screening_flagged=True))
    assert p.starting_level(screening_flagged=True) == p.FIRST_LEVEL == 0
    assert easier.backward_total_s < starting_plan().backward_total_s
    assert (easier.warmup_s, easier.cooldown_s) == (300, 300)


def test_the_table_climbs_in_small_steps_to_ten_minutes_backward() -> None:
    plans = [row.plan for row in p.LEVELS]
    assert plans[-1] == WalkPlan(300, 10, 60, 120, 300)
    assert p.level_plan(p.TOP_LEVEL).backward_total_s == 600
    for lower, higher in itertools.pairwise(plans):
        one_more_bout = higher.rounds == lower.rounds + 1 and higher.backward_s == lower.backward_s
        fifteen_more = higher.backward_s == lower.backward_s + 15 and higher.rounds == lower.rounds
        assert one_more_bout or fifteen_more, (lower, higher)
        assert 0 < higher.backward_total_s - lower.backward_total_s <= 90


def test_levels_outside_the_table_are_clamped() -> None:
    assert p.level_plan(-3) == p.level_plan(p.FIRST_LEVEL)
    assert p.level_plan(99) == p.level_plan(p.TOP_LEVEL)
    assert p.describe_level(1) == "6 x 30 s backward"
    assert p.describe_level(99) == "10 x 1 min backward"


# --- the rule --------------------------------------------------------------------------------


def test_two_easy_full_walks_step_up_with_the_reason_in_one_line() -> None:
    decision = decide(walk(effort=6, pain=5), walk(effort=5, pain=5), level=1)
    assert (decision.kind, decision.level, decision.reason) == ("step_up", 2, "easy_twice")
    assert decision.line == "Next time: 6 x 45 s backward. Your last two walks felt moderate."
    assert decision.moves
    assert "\n" not in decision.line


def test_the_reason_names_the_harder_of_the_two_walks() -> None:
    assert "felt easy." in decide(walk(effort=3), walk(effort=4)).line
    assert "felt very easy." in decide(walk(effort=0), walk(effort=2)).line


def test_need_to_stop_steps_down_kindly_whatever_the_ratings() -> None:
    decision = decide(walk(effort=2, pain=0, end="need_to_stop"), walk(effort=3), level=3)
    assert (decision.kind, decision.level, decision.reason) == ("step_down", 2, "need_to_stop")
    assert decision.line.startswith("Next time: 6 x 45 s backward.")
    assert "right call" in decision.line
    assert not any(word in decision.line.lower() for word in ("fail", "missed", "couldn't"))


def test_need_to_stop_at_the_first_level_holds_there() -> None:
    decision = decide(walk(end="need_to_stop"), level=p.FIRST_LEVEL)
    assert (decision.kind, decision.level) == ("hold", p.FIRST_LEVEL)
    assert decision.line.startswith("Next time: same again, 5 x 30 s backward.")
    assert not decision.moves


@pytest.mark.parametrize("effort", [9, 10])
def test_very_hard_effort_steps_down(effort: int) -> None:
    decision = decide(walk(effort=effort, pain=0), walk(effort=5))
    assert (decision.kind, decision.level, decision.reason) == ("step_down", 1, "effort_very_hard")


def test_knee_pain_above_five_steps_down_even_after_an_easy_walk() -> None:
    decision = decide(walk(effort=3, pain=6), walk(effort=3, pain=6))
    assert (decision.kind, decision.level, decision.reason) == ("step_down", 1, "knee_pain")
    assert "5/10" in decision.line


@pytest.mark.parametrize("effort", [7, 8])
def test_hard_effort_repeats(effort: int) -> None:
    decision = decide(walk(effort=effort), walk(effort=5))
    assert (decision.kind, decision.level, decision.reason) == ("repeat", 2, "effort_hard")
    assert decision.line.startswith("Next time: same again, 6 x 45 s backward.")


def test_knee_pain_higher_than_the_walk_before_repeats() -> None:
    decision = decide(walk(effort=5, pain=4), walk(effort=5, pain=2))
    assert (decision.kind, decision.reason) == ("repeat", "pain_rose")


def test_pain_rose_compares_with_the_walk_just_before_even_a_stopped_one() -> None:
    decision = decide(walk(pain=3), walk(pain=1, end="stopped"), walk(pain=5))
    assert decision.reason == "pain_rose"


def test_equal_or_skipped_pain_is_not_a_rise() -> None:
    assert decide(walk(pain=3), walk(pain=3)).kind == "step_up"
    assert decide(walk(pain=None), walk(pain=1)).kind == "step_up"
    assert decide(walk(pain=2), walk(pain=None)).kind == "step_up"


def test_a_walk_stopped_early_repeats_without_blame() -> None:
    # Two easy walks with level pain: walked to the end, they step up, so only the stop can
    # explain the repeat.
    assert decide(walk(effort=4), walk(effort=4)).kind == "step_up"
    decision = decide(walk(effort=4, end="stopped"), walk(effort=4))
    assert (decision.kind, decision.level, decision.reason) == ("repeat", 2, "not_completed")
    assert "fail" not in decision.line.lower()


def test_the_first_easy_walk_at_a_level_repeats_it() -> None:
    decision = decide(walk(effort=5))
    assert (decision.kind, decision.reason) == ("repeat", "one_easy")
    assert decision.line == (
        "Next time: same again, 6 x 45 s backward. One more walk like that and we'll step up."
    )


def test_an_easy_walk_after_a_hard_one_repeats() -> None:
    assert decide(walk(effort=5), walk(effort=7)).reason == "one_easy"
    assert decide(walk(effort=5, pain=1), walk(effort=5, pain=6)).reason == "one_easy"


def test_the_last_two_completed_walks_count_past_a_stopped_one() -> None:
    decision = decide(walk(effort=5, pain=2), walk(effort=4, pain=2, end="stopped"), walk(effort=6))
    assert decision.kind == "step_up"


def test_level_progress_counts_only_full_easy_walks_in_a_row() -> None:
    count = p.walks_towards_step_up
    assert count([]) == 0
    assert count([walk(effort=5)]) == 1
    assert count([walk(effort=8)]) == 0  # hard: not towards a step up
    assert count([walk(effort=5), walk(effort=8), walk(effort=5)]) == 1  # the hard one reset it
    assert count([walk(end="stopped"), walk(effort=5)]) == 1  # a stopped walk is passed over
    assert count([walk(pain=6)]) == 0  # pain above the limit
    assert count([walk(), walk(), walk()]) == 2  # two is all a step up needs
    # the count agrees with the rule: two counted walks are exactly what steps up
    walks = [walk(effort=5), walk(end="stopped"), walk(effort=6)]
    assert count(walks) == 2 and decide(walks[0], *walks[1:]).kind == "step_up"


WARNING_SIGNS = {
    "need_to_stop": custom(effort=3, pain=0, end="need_to_stop"),
    "effort_9": custom(effort=9, pain=0),
    "pain_above_5": custom(effort=3, pain=8),
    "worse_morning": custom(effort=3, pain=4, worse=True),
}


@pytest.mark.parametrize("sign", WARNING_SIGNS)
def test_a_warning_sign_on_a_custom_walk_starts_the_count_again(sign: str) -> None:
    warning = WARNING_SIGNS[sign]
    assert warning.warning_sign
    # Without the custom walk in between, these two easy walks step up.
    assert decide(walk(), walk(), level=1).kind == "step_up"
    broken = decide(walk(), warning, walk(), level=1)
    assert broken.level == 1 and not broken.moves
    if sign == "worse_morning":  # the knee answer promised "we won't step up"
        assert (broken.kind, broken.reason) == ("hold", "knee_morning")
        assert "worse the morning after" in broken.line
    else:
        assert (broken.kind, broken.reason) == ("repeat", "one_easy")
    # Two full, easy walks at the level after it step up again.
    assert decide(walk(), walk(), warning, walk(), level=1).kind == "step_up"


def test_a_warning_sign_on_a_walk_at_another_level_starts_the_count_again() -> None:
    at_level_0 = walk(effort=3, pain=0, end="need_to_stop", at_level=False)
    assert decide(walk(), at_level_0, walk(), level=1).reason == "one_easy"


def test_custom_walks_never_count_towards_a_step_up() -> None:
    easy_custom = custom(effort=2, pain=0)
    assert decide(walk(), easy_custom, easy_custom, level=1).reason == "one_easy"
    assert p.walks_towards_step_up([easy_custom, easy_custom]) == 0
    # Without a warning sign they are passed over: hard, stopped or painful within the rule.
    quiet = [custom(effort=8), custom(end="stopped"), custom(pain=5), easy_custom]
    assert decide(walk(), *quiet, walk(), level=1).kind == "step_up"


def test_pain_rose_compares_with_the_previous_walk_at_this_level_not_a_custom_one() -> None:
    # The custom walk's lower pain is no rise...
    assert decide(walk(pain=3), custom(pain=1), walk(pain=3)).kind == "step_up"
    # ...and the rise over the last walk here is seen past the custom walk's higher pain.
    assert decide(walk(pain=3), custom(pain=5), walk(pain=1)).reason == "pain_rose"


def test_custom_walks_never_move_the_level_themselves() -> None:
    with pytest.raises(ValueError, match="never move"):
        decide(custom(), walk())


def test_level_progress_after_a_pain_rise_or_a_warning_sign() -> None:
    count = p.walks_towards_step_up
    rose = [walk(pain=4), walk(pain=2)]
    assert decide(*rose).reason == "pain_rose"
    assert count(rose) == 1  # the walk with the higher pain is the first of a new pair
    assert decide(walk(pain=4), *rose).kind == "step_up"  # as the next walk shows
    assert count([walk(end="need_to_stop")]) == 0  # at the first level it holds, counting 0
    assert count([walk(), custom(pain=7), walk()]) == 1
    assert count([custom(worse=True), walk(), walk()]) == 0
    assert count([walk(worse=True)]) == 0


# One of each kind of rated walk the rule tells apart, to check that /level's count and the
# rule agree whatever came before.
KINDS = (
    walk(),
    walk(pain=4),
    walk(end="stopped"),
    walk(end="stopped", pain=5),
    walk(effort=7),
    walk(worse=True),
    walk(effort=3, end="need_to_stop"),
    custom(),
    custom(pain=8),
    custom(worse=True),
)


@pytest.mark.parametrize("length", [0, 1, 2, 3])
def test_level_progress_is_what_the_next_walk_would_pair_with(length: int) -> None:
    for history in itertools.product(KINDS, repeat=length):
        towards = p.walks_towards_step_up(history)
        following = decide(walk(effort=5, pain=0), *history)  # no pain rise whatever came before
        assert (following.kind == "step_up") == (towards >= 1), history
        assert p.walks_towards_step_up([walk(pain=0), *history]) == (2 if towards else 1)


def test_a_worse_morning_after_either_walk_holds() -> None:
    held = decide(walk(effort=5), walk(effort=5, worse=True))
    assert (held.kind, held.level, held.reason) == ("hold", 2, "knee_morning")
    assert "worse the morning after" in held.line
    # the walk just before, even one stopped early (so not one of the two counted)
    assert decide(walk(), walk(end="stopped", pain=2, worse=True), walk()).reason == "knee_morning"
    # a morning that was not worse does not
    assert decide(walk(), walk(worse=False)).kind == "step_up"
    # an older worse morning, with two full easy walks after it, holds no more
    assert decide(walk(), walk(), walk(worse=True)).kind == "step_up"


def test_the_top_level_holds() -> None:
    decision = decide(walk(), walk(), level=p.TOP_LEVEL)
    assert (decision.kind, decision.level, decision.reason) == ("hold", p.TOP_LEVEL, "top")
    assert "top of the programme" in decision.line


def test_screening_yes_allows_one_step_up_a_week() -> None:
    recent = NOW - timedelta(days=3, hours=1)
    held = decide(walk(), walk(), level=1, flagged=True, last_up=recent)
    assert (held.kind, held.level, held.reason) == ("hold", 1, "weekly_cap")
    assert "in 4 days" in held.line
    almost = decide(
        walk(), walk(), level=1, flagged=True, last_up=NOW - timedelta(days=6, hours=23)
    )
    assert "in 1 day." in almost.line
    week = decide(walk(), walk(), level=1, flagged=True, last_up=NOW - timedelta(days=7))
    assert (week.kind, week.level) == ("step_up", 2)
    assert decide(walk(), walk(), level=1, flagged=True, last_up=None).kind == "step_up"


def test_without_a_screening_yes_there_is_no_weekly_cap() -> None:
    decision = decide(walk(), walk(), level=1, flagged=False, last_up=NOW - timedelta(hours=1))
    assert decision.kind == "step_up"


def test_the_rule_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        p.decide(
            level=1,
            latest=walk(),
            previous=(),
            now=datetime(2026, 1, 1),  # noqa: DTZ001
            screening_flagged=False,
            last_step_up_at=None,
        )


# --- the next-morning knee check -------------------------------------------------------------

MON_WED_FRI = frozenset({0, 2, 4})


def test_knee_check_only_above_three() -> None:
    assert [p.needs_knee_check(n) for n in (None, 0, 3, 4, 10)] == [False, False, False, True, True]


def test_knee_check_at_the_reminder_time_on_a_reminder_day() -> None:
    # Tuesday 10 March 2026, 18:00 UTC = 18:00 in London; Wednesday is a reminder day.
    at = p.knee_check_at(
        ended_at=NOW, zone="Europe/London", reminder_days=MON_WED_FRI, reminder_time=time(7, 30)
    )
    assert at == datetime(2026, 3, 11, 7, 30, tzinfo=UTC)


def test_knee_check_at_nine_without_a_reminder_that_day_or_with_an_evening_one() -> None:
    monday_evening = datetime(2026, 3, 9, 18, 0, tzinfo=UTC)  # Tuesday: no reminder
    at = p.knee_check_at(
        ended_at=monday_evening, zone="Europe/London", reminder_days=MON_WED_FRI,
        reminder_time=time(7, 30),
    )  # fmt: skip
    assert at == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    evening = p.knee_check_at(
        ended_at=NOW, zone="Europe/London", reminder_days=MON_WED_FRI, reminder_time=time(18, 0)
    )
    assert evening == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


def test_knee_check_in_the_persons_zone_across_a_clock_change() -> None:
    # New York springs forward on Sunday 8 March 2026: 09:00 EDT is 13:00 UTC.
    saturday_evening = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)  # 18:00 EST
    at = p.knee_check_at(
        ended_at=saturday_evening, zone="America/New_York", reminder_days=frozenset(),
        reminder_time=time(8, 0),
    )  # fmt: skip
    assert at == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


def test_a_walk_after_midnight_is_asked_about_that_same_morning() -> None:
    late = datetime(2026, 3, 11, 0, 30, tzinfo=UTC)  # 00:30 in London, Wednesday
    at = p.knee_check_at(
        ended_at=late, zone="Europe/London", reminder_days=frozenset(), reminder_time=time(8, 0)
    )
    assert at == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


def test_worse_means_above_the_score_after_the_walk() -> None:
    assert p.knee_morning_worse(morning=5, after_walk=4)
    assert not p.knee_morning_worse(morning=4, after_walk=4)
    assert not p.knee_morning_worse(morning=1, after_walk=4)


def test_knee_answer_lines() -> None:
    worse = p.knee_answer_line(morning=6, after_walk=4, held_at=1)
    assert "6 x 30 s backward" in worse and "clinician" in worse
    assert "won't step up" in p.knee_answer_line(morning=6, after_walk=4, held_at=None)
    assert "settled" in p.knee_answer_line(morning=2, after_walk=4, held_at=None)
    assert "about where it was" in p.knee_answer_line(morning=4, after_walk=4, held_at=None)
