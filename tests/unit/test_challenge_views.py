"""What a group sees of a challenge: the card, the daily board, "3 days left", the results."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest

from walkbot.bot import callbacks
from walkbot.bot.challenge_views import board_text, card_markup
from walkbot.domain.challenges import BOARD_LINES, Entry
from walkbot.services.challenge_posts import Occasion
from walkbot.services.challenges import Board

STARTS = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # Monday 7 December, midnight in London


def board(*entries: Entry, **changes: Any) -> Board:
    base = Board(
        challenge_id=12,
        chat_id=-100_500,
        thread_id=None,
        code="abc123",
        title="Walking club",
        status="running",
        measure="minutes",
        kind="ranking",
        most_improved=False,
        target=None,
        days=14,
        starts_at=STARTS,
        ends_at=STARTS + timedelta(days=14),
        zone="Europe/London",
        day=3,
        days_left=12,
        entries=entries,
        total=sum(e.score for e in entries),
        members=len(entries),
        card_message_id=None,
    )
    return replace(base, **changes)


ANN, BEN, CAT = Entry(1, "Ann", 42), Entry(2, "Ben", 21), Entry(3, "Cat", 0)


def test_a_ranking_shows_title_measure_day_bars_and_the_total() -> None:
    text = board_text(board(BEN, CAT, ANN), "daily")
    lines = text.splitlines()
    assert lines[0] == "🏆 Walking club · backward minutes · 14 days"
    assert "Day 3 of 14 · 12 days left" in lines
    assert "1. Ann  ▓▓▓▓▓▓▓▓▓▓ 42 min" in lines  # the leader's bar is full
    assert "2. Ben  ▓▓▓▓▓░░░░░ 21 min" in lines  # scaled to the leader
    assert "3. Cat  ░░░░░░░░░░ 0 min" in lines
    assert "Group total: 63 min · 3 walkers" in lines
    assert "Tap Join" not in text


def test_ties_share_a_rank() -> None:
    text = board_text(board(ANN, Entry(4, "Dee", 42), BEN), "daily")
    assert "1= Ann  ▓▓▓▓▓▓▓▓▓▓ 42 min" in text
    assert "1= Dee  ▓▓▓▓▓▓▓▓▓▓ 42 min" in text
    assert "3. Ben" in text


@pytest.mark.parametrize(
    ("measure", "line", "total"),
    [
        ("walks", "1. Ann  ▓▓▓▓▓▓▓▓▓▓ 3 walks", "Group total: 4 walks · 2 walkers"),
        ("days", "2. Ben  ▓▓▓░░░░░░░ 1 day", "Group total: 4 days · 2 walkers"),
    ],
)
def test_each_measure_reads_in_its_own_words(measure: str, line: str, total: str) -> None:
    text = board_text(board(Entry(1, "Ann", 3), Entry(2, "Ben", 1), measure=measure), "daily")
    words = {"walks": "walks completed", "days": "active days"}[measure]
    assert text.startswith(f"🏆 Walking club · {words} · 14 days")
    assert line in text and total in text


def test_the_card_says_how_to_join_and_has_the_join_button() -> None:
    card = board(ANN, day=0, days_left=14)
    text = board_text(card, "card")
    assert "Starts Monday 7 December" in text
    assert "Tap Join" in text and "in private count" in text
    markup = card_markup(card)
    assert markup is not None
    [[join]] = markup.inline_keyboard
    assert join.text == "Join"
    assert join.callback_data == callbacks.data(callbacks.CHALLENGE, 12, "join") == "ch:12:join"


def test_an_empty_card_invites_the_first_member() -> None:
    text = board_text(board(), "card")
    assert "Nobody has joined yet" in text
    assert "Group total: 0 min · 0 walkers" in text


@pytest.mark.parametrize("status", ["ended", "archived", "draft"])
def test_no_join_button_once_it_is_over_or_not_launched(status: str) -> None:
    assert card_markup(board(ANN, status=status)) is None


def test_a_long_board_lists_the_top_members_and_counts_the_rest() -> None:
    members = [Entry(i, f"Member {i}", 1000 - i) for i in range(40)]
    text = board_text(board(*members), "daily")
    assert f"{BOARD_LINES}. Member {BOARD_LINES - 1} " in text
    assert f"Member {BOARD_LINES} " not in text
    assert f"and {40 - BOARD_LINES} more" in text


def test_a_goal_has_one_bar_to_the_target_and_who_walked() -> None:
    goal = board(ANN, BEN, CAT, kind="goal", target=300, total=84)
    text = board_text(goal, "daily")
    assert text.startswith("🏆 Walking club · group goal: 300 backward minutes in 14 days")
    assert "▓▓░░░░░░░░ 84 of 300 min" in text
    assert "Ann  42 min" in text and "Ben  21 min" in text
    assert "Cat" not in text  # a goal thanks who walked; nobody is ranked last
    assert "1." not in text


def test_last_call_counts_down_and_cheers() -> None:
    text = board_text(board(ANN, day=12, days_left=3), "last_call")
    assert "Day 12 of 14 · 3 days left" in text
    assert "⏳ 3 days left!" in text
    assert "You've got this" in text


def test_the_last_day_says_so() -> None:
    assert "Day 14 of 14 · last day" in board_text(board(ANN, day=14, days_left=1), "daily")


def test_most_improved_names_who_beat_their_first_week() -> None:
    slow_start = Entry(5, "Eve", 30, first_week=5, best_later_week=25)
    steady = Entry(1, "Ann", 42, first_week=20, best_later_week=22)
    text = board_text(board(steady, slow_start, most_improved=True), "daily")
    assert "📈 Most improved: Eve (+20 min on their first week)" in text
    assert "Most improved" not in board_text(board(steady, slow_start), "daily")


def test_results_name_the_winners_sharing_a_tie() -> None:
    ended = board(ANN, Entry(4, "Dee", 42), BEN, status="ended", day=15, days_left=0)
    text = board_text(ended, "results")
    assert text.startswith("🏁 Results · Walking club")
    assert "🥇 Joint winners: Ann and Dee with 42 min each!" in text
    assert "Group total: 105 min · 3 walkers" in text
    assert "Thank you all" in text
    assert card_markup(ended) is None


def test_results_with_one_winner_and_with_no_walks() -> None:
    assert "🥇 Winner: Ann with 42 min!" in board_text(board(ANN, BEN, status="ended"), "results")
    quiet = board_text(board(CAT, status="ended"), "results")
    assert "No walks counted this time" in quiet and "Winner" not in quiet


def test_goal_results_say_reached_or_how_close() -> None:
    reached = board_text(board(ANN, kind="goal", target=20, total=42, status="ended"), "results")
    assert "🎉 Goal reached together!" in reached
    close = board_text(board(ANN, kind="goal", target=300, total=84, status="ended"), "results")
    assert "Together you walked 28% of the way" in close
    assert "84 of 300 min" in close


def test_titles_and_names_are_bounded_and_on_one_line() -> None:
    long = Entry(1, "Ann\nignore previous " + "x" * 200, 5)
    text = board_text(board(long, title="Club\n" + "y" * 500), "daily")
    header = text.splitlines()[0]
    assert header.startswith("🏆 Club yyy") and len(header) < 100
    assert "x" * 30 not in text
    assert "Ann ignore" in text  # the newline folded, not a line of its own


@pytest.mark.parametrize("occasion", get_args(Occasion))
@pytest.mark.parametrize("kind", ["ranking", "goal"])
def test_a_thousand_members_fit_in_one_message(occasion: Occasion, kind: str) -> None:
    # Every member tied (so every one is a joint winner and most improved) with the longest
    # names: the worst case for length.
    members = [
        Entry(i, "W" * 19 + "…", 600, first_week=1, best_later_week=300) for i in range(1000)
    ]
    text = board_text(
        board(*members, kind=kind, target=600, most_improved=True, title="T" * 128), occasion
    )
    assert len(text) < 4096
    assert "and 985 more" in text or "and 995 more" in text


def test_no_health_data_can_reach_a_board() -> None:
    # The board carries only what a group may see; a view cannot show what it is not given.
    fields = set(Board.__dataclass_fields__) | set(Entry.__dataclass_fields__)
    for private in ("effort", "pain", "note", "notes", "screening", "knee"):
        assert not any(private in name for name in fields)
