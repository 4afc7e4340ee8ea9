"""The six-minute walk test as pure rules: the phrase schedule, the late policy, reading a
distance, and comparing results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from walkbot.domain import sixmin as six

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


# --- the phrase schedule ---------------------------------------------------------------------


def test_the_standard_schedule_says_the_ats_phrases_each_minute_then_warns_and_stops() -> None:
    cues = six.schedule()
    assert [c.offset for c in cues] == [s(60), s(120), s(180), s(240), s(300), s(345), s(360)]
    assert [c.index for c in cues] == list(range(7))
    assert cues[0].text == "You are doing well. You have 5 minutes to go."
    assert cues[2].text == "You are doing well. You are halfway done."
    assert cues[4].text == "You are doing well. You have only 1 minute to go."
    assert cues[5].text == "In a moment I'm going to tell you to stop."
    assert (cues[6].kind, cues[6].text) == ("stop", "Stop.")
    assert [c.kind for c in cues[:5]] == ["encourage"] * 5


def test_a_scaled_schedule_keeps_the_shape_in_six_seconds() -> None:
    cues = six.schedule(6)
    assert [c.offset for c in cues] == [s(1), s(2), s(3), s(4), s(5), s(5.75), s(6)]
    assert [c.text for c in cues] == [c.text for c in six.schedule()]
    assert six.ends_at(T0, 6) == T0 + s(6)


@pytest.mark.parametrize("bad", [5, 361, 0])
def test_durations_outside_six_to_360_seconds_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="duration_s"):
        six.schedule(bad)


def test_pending_skips_sent_and_past_cues() -> None:
    later = six.pending(T0, T0 + s(130), last_sent_index=1)
    assert [c.index for c in later] == [2, 3, 4, 5, 6]
    assert six.pending(T0, T0 + s(400), last_sent_index=5) == ()


# --- late policy -----------------------------------------------------------------------------


def test_a_phrase_on_time_is_said_as_written() -> None:
    dispatch = six.due(T0, T0 + s(61), last_sent_index=-1)
    assert (dispatch.action, dispatch.last_sent_index) == ("send", 0)
    assert dispatch.text == "You are doing well. You have 5 minutes to go."


def test_nothing_is_due_before_the_first_minute_or_twice() -> None:
    assert six.due(T0, T0 + s(59), last_sent_index=-1).action == "none"
    assert six.due(T0, T0 + s(62), last_sent_index=0).action == "none"


def test_a_stale_encouragement_is_skipped_not_sent_late() -> None:
    # Back from a restart at 2:30: "4 minutes to go" (due at 2:00) would be wrong now.
    dispatch = six.due(T0, T0 + s(150), last_sent_index=0)
    assert (dispatch.action, dispatch.text) == ("none", None)
    assert dispatch.last_sent_index == 1  # handled: never sent later
    assert dispatch.late


def test_only_the_latest_due_phrase_counts() -> None:
    dispatch = six.due(T0, T0 + s(182), last_sent_index=-1)
    assert (dispatch.action, dispatch.last_sent_index) == ("send", 2)
    assert "halfway" in (dispatch.text or "")


def test_stop_is_always_said_and_says_so_when_the_bot_was_away() -> None:
    on_time = six.due(T0, T0 + s(361), last_sent_index=5)
    assert (on_time.action, on_time.text, on_time.late) == ("stop", "Stop.", False)
    away = six.due(T0, T0 + s(3600), last_sent_index=1)
    assert away.action == "stop" and away.last_sent_index == 6 and away.late
    assert away.text == f"{six.AWAY_AT_END}\nStop."


def test_the_grace_scales_with_the_test_but_never_below_a_second() -> None:
    assert six.late_grace() == s(10)
    assert six.late_grace(6) == s(1)
    assert six.late_grace(60) == s(10 / 6)
    # In a 6 s test a phrase 0.5 s late is still said; in a 60 s test, 3 s late is stale.
    assert six.due(T0, T0 + s(1.5), last_sent_index=-1, duration_s=6).action == "send"
    assert six.due(T0, T0 + s(11.5), last_sent_index=-1, duration_s=60).action == "send"
    assert six.due(T0, T0 + s(13), last_sent_index=-1, duration_s=60).action == "none"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        six.due(T0.replace(tzinfo=None), T0, last_sent_index=-1)


# --- reading a distance ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "units", "metres", "laps", "lap"),
    [
        ("412", "km", 412.0, None, None),
        ("412 m", "mi", 412.0, None, None),
        ("412 metres.", "km", 412.0, None, None),
        ("0.4 km", "km", 400.0, None, None),
        ("0,4", "km", 400.0, None, None),
        ("0.25", "mi", 402.3, None, None),  # a small bare number is in their own unit
        ("0.25 mi", "km", 402.3, None, None),
        ("1,350 ft", "mi", 411.5, None, None),
        ("500 yards", "mi", 457.2, None, None),
        ("12 laps of 30 m", "km", 360.0, 12, 30.0),
        ("12 x 60 + 20", "km", 740.0, 12, 60.0),
        ("7 laps of 60m plus 15m", "km", 435.0, 7, 60.0),
        ("6 × 60", "km", 360.0, 6, 60.0),
        ("10 laps of 100 ft", "mi", 304.8, 10, 30.48),
    ],
)
def test_distances_are_read_in_many_shapes(
    text: str, units: str, metres: float, laps: int | None, lap: float | None
) -> None:
    distance = six.parse_distance(text, units=units)
    assert (distance.metres, distance.laps, distance.lap_length_m) == (metres, laps, lap)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Tell me the distance"),
        ("far", "couldn't read"),
        ("12 laps", "How long is one lap"),
        ("5", "I read 5 as 5 km"),
        ("3000", "more than anyone walks"),
        ("1200 m", "more than anyone walks"),
        ("8 m", "too short"),
        ("12 laps of 2 m", "looks unusual"),
        ("5 laps of 30 m + 40 m", "shorter than a whole lap"),
        ("400 furlongs", 'unit "furlongs"'),
    ],
)
def test_implausible_or_unreadable_distances_explain_themselves(text: str, says: str) -> None:
    with pytest.raises(six.DistanceError) as caught:
        six.parse_distance(text, units="km")
    assert says in caught.value.message


def test_a_test_stopped_early_may_be_short() -> None:
    assert six.parse_distance("8 m", stopped_early=True).metres == 8.0
    with pytest.raises(six.DistanceError):
        six.parse_distance("0.5 m", stopped_early=True)


def test_distances_show_in_feet_for_people_who_use_miles() -> None:
    assert six.format_distance(412, "km") == "412 m"
    assert six.format_distance(412, "mi") == "1,352 ft (412 m)"
    assert six.format_change(24, "km") == "+24 m"
    assert six.format_change(-8.4, "km") == "-8 m"
    assert six.format_change(0.2, "km") == "±0 m"
    assert six.format_change(10, "mi") == "+33 ft"


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (0, "earlier today"),
        (1, "yesterday"),
        (9, "9 days ago"),
        (21, "3 weeks ago"),
        (90, "3 months ago"),
        (725, "1 year ago"),
        (800, "2 years ago"),
    ],
)
def test_ago(days: int, words: str) -> None:
    assert six.ago(T0, T0 + timedelta(days=days, hours=1)) == words


# --- comparisons -----------------------------------------------------------------------------


def r(direction: six.Direction, metres: float, days_ago: int, *, early: bool = False) -> six.Result:
    return six.Result(direction, metres, T0 - timedelta(days=days_ago), early)


def test_the_first_test_is_a_starting_point() -> None:
    comparison = six.compare(r("forward", 480, 0), [], now=T0)
    assert comparison.previous is None and comparison.nth == 1
    assert comparison.text.splitlines() == [
        "Forward 480 m.",
        "Your first forward test: this is your starting point.",
    ]


def test_backward_is_set_against_forward_and_its_own_last_test() -> None:
    earlier = [r("forward", 540, 30), r("backward", 288, 21), r("backward", 280, 40)]
    comparison = six.compare(r("backward", 312, 0), earlier, now=T0)
    first_line = comparison.text.splitlines()[0]
    assert first_line == "Backward 312 m, 58% of your forward distance; +24 m since 3 weeks ago."
    assert comparison.nth == 3 and comparison.previous == earlier[1]
    assert "7%" not in comparison.text  # the learning note is for the second test only


def test_the_second_test_in_a_direction_notes_the_learning_effect() -> None:
    comparison = six.compare(r("forward", 520, 0), [r("forward", 480, 14)], now=T0)
    lines = comparison.text.splitlines()
    assert lines[0] == "Forward 520 m, +40 m since 2 weeks ago."
    assert "about 7% better" in lines[1] and comparison.nth == 2


def test_a_forward_test_mentions_the_latest_backward_as_a_share_of_it() -> None:
    comparison = six.compare(r("forward", 500, 0), [r("backward", 300, 7)], now=T0)
    assert "Your latest backward test (300 m) was 60% of this." in comparison.text
    assert comparison.other is not None and comparison.previous is None


def test_tests_stopped_early_are_reported_but_never_compared() -> None:
    earlier = [r("backward", 200, 10, early=True), r("backward", 300, 20)]
    comparison = six.compare(r("backward", 320, 0), earlier, now=T0)
    assert comparison.previous == earlier[1]  # the partial one is not the baseline
    assert "+20 m since 2 weeks ago" in comparison.text
    stopped = six.compare(r("backward", 150, 0, early=True), earlier, now=T0)
    assert stopped.nth == 0 and "stopped early" in stopped.text and "+" not in stopped.text


def test_later_results_are_ignored_and_units_follow_the_person() -> None:
    earlier = [r("forward", 400, 7), six.Result("forward", 999, T0 + timedelta(days=1))]
    comparison = six.compare(r("forward", 430, 0), earlier, now=T0, units="mi")
    assert comparison.text.splitlines()[0] == "Forward 1,411 ft (430 m), +98 ft since 7 days ago."


# --- the setup card and notes ----------------------------------------------------------------


def test_the_setup_card_covers_the_path_rest_who_should_not_and_when_to_stop() -> None:
    card = six.setup_card("backward", needs_support=False)
    for words in (
        "30 m",
        "Turn around",
        "10 minutes",
        "Not today if you have: chest pain",
        "Stop at once",
        "leg cramps",
        "pale or ashen",
        "BACKWARD",
        "beside you",
    ):
        assert words in card, words
    assert "clinician" not in card
    supported = six.setup_card("forward", needs_support=True)
    assert "check with a clinician" in supported and "don't do it alone" in supported


def test_warning_signs_in_a_note_point_to_a_clinician() -> None:
    assert six.symptom_advice("Felt a bit dizzy near the end") is not None
    assert six.symptom_advice("rested twice, legs tired") is None
    assert six.symptom_advice(None) is None
