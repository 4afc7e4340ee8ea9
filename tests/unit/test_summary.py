"""Weekly summaries as pure values: week windows in the person's zone, per-day buckets, the streak
rule with rest weeks, the knee-pain wording and the message text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from walkbot.domain import summary as s


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- week windows ----------------------------------------------------------------------------


def test_a_week_with_the_spring_clock_change_is_167_hours() -> None:
    # London goes to BST at 01:00 UTC on Sunday 29 March 2026.
    week = s.week_window(date(2026, 3, 23), "Europe/London")
    assert week.start == utc(2026, 3, 23, 0, 0)
    assert week.end == utc(2026, 3, 29, 23, 0)  # Monday 30 March 00:00 BST
    assert week.end - week.start == timedelta(hours=167)


def test_a_week_with_the_autumn_clock_change_is_169_hours() -> None:
    # London goes back to GMT at 01:00 UTC on Sunday 25 October 2026.
    week = s.week_window(date(2026, 10, 19), "Europe/London")
    assert week.start == utc(2026, 10, 18, 23, 0)  # Monday 00:00 BST
    assert week.end == utc(2026, 10, 26, 0, 0)
    assert week.end - week.start == timedelta(hours=169)


def test_weeks_either_side_of_a_clock_change_meet_without_a_gap() -> None:
    weeks = s.windows_back(date(2026, 4, 6), 4, "Europe/London")
    assert [w.monday for w in weeks] == [date(2026, 3, d) for d in (16, 23, 30)] + [
        date(2026, 4, 6)
    ]
    bounds = s.boundaries(weeks)
    assert bounds[0] == weeks[0].start and bounds[-1] == weeks[-1].end and len(bounds) == 5


def test_boundaries_refuse_weeks_with_a_gap() -> None:
    zone = "Europe/London"
    weeks = [s.week_window(date(2026, 3, 2), zone), s.week_window(date(2026, 3, 16), zone)]
    with pytest.raises(ValueError, match="consecutive"):
        s.boundaries(weeks)


def test_a_week_must_start_on_a_monday() -> None:
    with pytest.raises(ValueError, match="Monday"):
        s.week_window(date(2026, 3, 24), "UTC")


def test_kiritimati_plus_14_is_already_in_the_next_week() -> None:
    # Sunday 29 Nov 10:30 UTC is Monday 30 Nov 00:30 on Kiritimati.
    now = utc(2026, 11, 29, 10, 30)
    this = s.report_window(now, "Pacific/Kiritimati", "this")
    assert this.monday == date(2026, 11, 30)
    assert this.start == utc(2026, 11, 29, 10, 0)
    last = s.report_window(now, "Pacific/Kiritimati", "last")
    assert last.monday == date(2026, 11, 23) and last.end == this.start


def test_pago_pago_minus_11_is_still_in_the_previous_week() -> None:
    # Monday 30 Nov 10:30 UTC is Sunday 29 Nov 23:30 in Pago Pago.
    now = utc(2026, 11, 30, 10, 30)
    this = s.report_window(now, "Pacific/Pago_Pago", "this")
    assert this.monday == date(2026, 11, 23)
    assert (this.start, this.end) == (utc(2026, 11, 23, 11), utc(2026, 11, 30, 11))
    assert s.report_window(now, "Pacific/Pago_Pago", "last").monday == date(2026, 11, 16)


def walk(started: datetime, backward_s: int = 60, effort: int | None = 5) -> s.WalkRow:
    return s.WalkRow(started, backward_s, 600, effort, None)


def test_walks_land_on_their_local_day_across_the_clock_change() -> None:
    zone = "Europe/London"
    week = s.week_window(date(2026, 3, 23), zone)
    rows = [
        walk(utc(2026, 3, 23, 0, 30), 60, 4),  # Monday 00:30 GMT
        walk(utc(2026, 3, 29, 22, 30), 120, 6),  # Sunday 23:30 BST
        walk(utc(2026, 3, 29, 22, 45), 30, None),  # Sunday again, unrated
        walk(utc(2026, 3, 29, 23, 30), 999, 9),  # Monday 30 March 00:30 BST: next week
    ]
    days = s.per_day(rows, week, zone)
    assert [d.day for d in days] == week.days
    assert (days[0].walks, days[0].backward_s, days[0].effort_avg) == (1, 60, 4.0)
    assert (days[6].walks, days[6].backward_s, days[6].effort_avg) == (2, 150, 6.0)
    assert sum(d.walks for d in days) == 3


def test_a_kiritimati_walk_on_a_utc_sunday_is_their_monday() -> None:
    zone = "Pacific/Kiritimati"
    week = s.week_window(date(2026, 11, 30), zone)
    days = s.per_day([walk(utc(2026, 11, 29, 10, 30))], week, zone)
    assert days[0].walks == 1 and days[0].day == date(2026, 11, 30)


# --- streak ----------------------------------------------------------------------------------


def test_week_state() -> None:
    assert s.week_state(3, 3, rested=False, in_progress=False) == "met"
    assert s.week_state(3, 3, rested=True, in_progress=True) == "met"
    assert s.week_state(1, 3, rested=False, in_progress=True) == "open"
    assert s.week_state(1, 3, rested=True, in_progress=False) == "rest"
    assert s.week_state(0, 3, rested=False, in_progress=False) == "missed"
    assert s.week_state(0, 0, rested=False, in_progress=False) == "missed"  # target 0 means 1


def test_rest_weeks_neither_count_nor_break_the_streak() -> None:
    assert s.count_streak(["open", "met", "rest", "rest", "met", "missed", "met"]) == s.Streak(
        2, True
    )
    assert s.count_streak(["met", "missed"]) == s.Streak(1, True)
    assert s.count_streak(["missed", "met"]) == s.Streak(0, True)


def test_an_unbroken_window_asks_to_look_further_back_and_carries_the_count() -> None:
    first = s.count_streak(["met", "rest", "met"])
    assert first == s.Streak(2, False)
    assert s.count_streak(["met", "missed"], carried=first.weeks) == s.Streak(3, True)


def test_a_week_is_rested_only_with_a_whole_day_of_rest_in_it() -> None:
    week = s.week_window(date(2026, 11, 23), "UTC")  # Monday 23 to Monday 30 November

    def rested(*rests: tuple[datetime, datetime]) -> bool:
        return s.rested_week(week, rests)

    assert timedelta(days=1) == s.REST_WEEK_MIN
    # /pause then /resume seconds later: no rest week
    assert not rested((utc(2026, 11, 25, 9), utc(2026, 11, 25, 9, 0) + timedelta(seconds=20)))
    # only the part inside the week counts: a long rest ending 23 h 59 into it is not enough
    assert not rested((utc(2026, 11, 1), utc(2026, 11, 23, 23, 59)))
    assert rested((utc(2026, 11, 1), utc(2026, 11, 24)))
    assert not rested((utc(2026, 11, 29, 0, 1), utc(2026, 12, 20)))
    assert rested((utc(2026, 11, 29), utc(2026, 12, 20)))
    # half-open: a rest ending as the week starts, or starting as it ends, is not in it
    assert s.rest_within(week, [(utc(2026, 11, 1), utc(2026, 11, 23))]) == timedelta(0)
    assert s.rest_within(week, [(utc(2026, 11, 30), utc(2026, 12, 5))]) == timedelta(0)
    # separate rests add up; overlapping ones count their overlap once
    assert rested(
        (utc(2026, 11, 24), utc(2026, 11, 24, 12)), (utc(2026, 11, 26), utc(2026, 11, 26, 12))
    )
    overlapping = [
        (utc(2026, 11, 24), utc(2026, 11, 24, 12)),
        (utc(2026, 11, 24, 6), utc(2026, 11, 24, 18)),
    ]
    assert s.rest_within(week, overlapping) == timedelta(hours=18)
    assert not s.rested_week(week, overlapping)


# --- knee trend ------------------------------------------------------------------------------


def totals(pains: list[int]) -> s.Totals:
    return s.Totals(walks=len(pains), pain_sum=sum(pains), pain_count=len(pains))


def test_knee_trend_wording() -> None:
    assert s.knee_line(s.Totals(walks=2), totals([3])) is None
    assert s.knee_line(totals([2]), s.Totals()) == "🦵 Knee pain: 2.0/10 on average"
    assert s.knee_line(totals([1, 2]), totals([3, 3])) == "🦵 Knee pain: easing, 1.5/10 (was 3.0)"
    assert s.knee_line(totals([3]), totals([3, 2, 3])) == "🦵 Knee pain: steady, 3.0/10"
    up = s.knee_line(totals([4]), totals([2]))
    assert up == "🦵 Knee pain: up a little, 4.0/10 (was 2.0)"
    high = s.knee_line(totals([6, 7]), totals([2]))
    assert high is not None and "hold the level" in high and "clinician" in high


# --- the message -----------------------------------------------------------------------------


def report(**changes: object) -> s.WeekReportData:
    zone = "Europe/London"
    window = s.week_window(date(2026, 11, 23), zone)
    values: dict[str, object] = dict(
        which="this",
        zone=zone,
        window=window,
        target=3,
        totals=s.Totals(2, 540, 2400, 10, 2, 3, 2),
        days=s.per_day([], window, zone),
        trend=[(window.monday, 540)],
        streak=4,
        knee="🦵 Knee pain: steady, 1.5/10",
        level=4,
        level_moves=[s.LevelMove(utc(2026, 11, 24), 3, 4, "step_up")],
        latest_test=s.TestResult(utc(2026, 11, 15, 10), "backward", 288.4),
        next_plan="level 4, 6 x 45 s backward",
    )
    values.update(changes)
    return s.WeekReportData(**values)  # type: ignore[arg-type]


def test_the_weekly_text_has_every_part_and_fits_a_caption() -> None:
    text = s.summary_text(report())
    assert text.splitlines() == [
        "Your week so far (Mon 23 Nov – Sun 29 Nov)",
        "🚶 2 of 3 walks so far: one more to reach your target.",
        "⏪ Backward: 9 min · In all: 40 min",
        "💪 Effort: 5.0/10 on average (moderate)",
        "🦵 Knee pain: steady, 1.5/10",
        "🔥 Streak: 4 weeks in a row on target",
        "📈 Level 3 → 4 (stepped up)",
        "⏱ Latest 6-minute test: 288 m backward, Sun 15 Nov",
        "🗓 Next week: level 4, 6 x 45 s backward",
    ]
    assert len(text) <= s.CAPTION_LIMIT


def test_last_week_wording_and_a_quiet_week() -> None:
    text = s.summary_text(
        report(
            which="last",
            totals=s.Totals(),
            streak=0,
            knee=None,
            level_moves=[],
            latest_test=None,
        )
    )
    assert text.startswith("Last week (Mon 23 Nov – Sun 29 Nov)")
    assert "0 of 3 walks. A fresh week is a fresh start." in text
    assert "Backward" not in text and "Streak" not in text and "Effort" not in text
    assert "This week's plan: level 4" in text


def test_target_met_and_miles_people_see_feet_as_in_the_test_itself() -> None:
    text = s.summary_text(report(totals=s.Totals(3, 600, 3000), units="mi", streak=1))
    assert "✅ 3 of 3 walks: target met. Well done!" in text
    assert "Streak: 1 week on target" in text
    assert "Latest 6-minute test: 946 ft (288 m) backward" in text


def test_stats_text() -> None:
    empty = s.StatsData("UTC", s.Totals(), None, None, 2, [], [])
    assert s.stats_text(empty).splitlines() == [
        "No walks yet. /walk starts your first one.",
        "📈 Level now: 2",
    ]
    best = s.BestWeek(date(2026, 11, 16), s.Totals(3, 540, 3600))
    data = s.StatsData(
        "Europe/London",
        s.Totals(8, 1800, 9600, 40, 8),
        utc(2026, 11, 9, 10),
        best,
        4,
        [s.LevelMove(utc(2026, 11, 24), 3, 4, "step_up")],
        [s.TestResult(utc(2026, 11, 15), "backward", 288)],
    )
    lines = s.stats_text(data).splitlines()
    assert lines[0] == "Your walking since Mon 9 Nov"
    assert lines[1] == "🚶 8 walks · ⏪ 30 min backward · 2 h 40 min in all"
    assert "🏆 Best week: Mon 16 Nov, 9 min backward in 3 walks" in lines
    assert "  Tue 24 Nov: level 3 → 4 (stepped up)" in lines
    assert "  Sun 15 Nov: 288 m backward" in lines
    assert not any("/export" in line for line in lines)
    more = s.stats_text(replace(data, earlier_moves=True, earlier_tests=True)).splitlines()
    assert "  Latest 1 changes (/export has them all):" in more
    assert "⏱ Six-minute tests (latest 1; /export has them all):" in more


def test_best_week_prefers_backward_time_then_walks_then_the_later_week() -> None:
    a = s.BestWeek(date(2026, 1, 5), s.Totals(3, 600))
    b = s.BestWeek(date(2026, 2, 2), s.Totals(4, 600))
    c = s.BestWeek(date(2026, 3, 2), s.Totals(4, 600))
    d = s.BestWeek(date(2026, 4, 6), s.Totals(9, 300))
    best = None
    for week in (a, b, c, d):
        best = s.better_week(best, week)
    assert best == c
