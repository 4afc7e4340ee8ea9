"""A group challenge's board in words: the card, the daily board, "3 days left", the results.

Used by the queue's posts (bot/notifier.py) and by the group's commands (bot/challenges.py:
/leaderboard, the card after launch). Plain text, no parse mode: a name or title is shown as
typed, never read as markup. What appears in a group is only what `Board` carries: bounded
display names, scores and the group's totals; never effort, pain, notes or screening answers.
However many members, the text stays short: BOARD_LINES names, then "and N more".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardMarkup

from walkbot.bot import callbacks
from walkbot.domain.challenges import (
    BOARD_LINES,
    Entry,
    Measure,
    local_dates,
    most_improved,
    progress_bar,
    ranked,
    score_text,
    winners,
)
from walkbot.domain.schedule import local_date
from walkbot.domain.wording import bounded, quantity
from walkbot.services.challenge_posts import Occasion
from walkbot.services.challenges import Board, PastChallenge

TITLE_LIMIT = 48  # characters of the group's title in a header
NAME_LIMIT = 24  # a display name is bounded upstream (20); this is a second guard
NAMES_IN_A_LINE = 5  # winners or most improved named in one line, the rest "and N more"

MEASURE_WORDS: dict[Measure, str] = {
    "minutes": "backward minutes",
    "walks": "walks completed",
    "days": "active days",
}


def board_text(board: Board, occasion: Occasion) -> str:
    """The whole message for one occasion: "card" (just launched: how to join), "daily",
    "last_call" ("3 days left" and a cheer) or "results" (winners, the total, a cheer)."""
    if occasion == "results":
        return _results(board)
    parts = [f"{_header(board)}\n{_when(board)}"]
    if occasion == "last_call":
        parts.append(f"⏳ {quantity(board.days_left, 'day')} left!")
    parts.append(_standings(board))
    parts.append(_totals(board))
    if occasion == "card" and card_markup(board) is not None:
        parts.append(
            "Tap Join to take part. Your backward walks with me in private count; only your "
            "first name (or initials) and your total appear here."
        )
    elif occasion == "last_call":
        parts.append("Every walk still counts. You've got this! 💪")
    return "\n\n".join(part for part in parts if part)


def card_markup(board: Board) -> InlineKeyboardMarkup | None:
    """A Join button while the challenge is running (before or inside its window)."""
    if board.status != "running" or _window_over(board):
        return None
    join = callbacks.button("Join", callbacks.CHALLENGE, board.challenge_id, "join")
    return InlineKeyboardMarkup([[join]])


# ---- pieces ---------------------------------------------------------------------------------


def _title(board: Board) -> str:
    return bounded(board.title, TITLE_LIMIT) or "This group"


def _name(entry: Entry) -> str:
    return bounded(entry.name, NAME_LIMIT) or "Walker"


def _header(board: Board) -> str:
    return f"🏆 {_title(board)} · {_what(board)}"


def _what(board: Board) -> str:
    """ "backward minutes · 14 days", "group goal: 300 backward minutes in 14 days"."""
    length = f"{board.days} days"
    if board.kind == "goal":
        return f"group goal: {_target_words(board.measure, board.target or 0)} in {length}"
    return f"{MEASURE_WORDS[board.measure]} · {length}"


def _target_words(measure: Measure, target: int) -> str:
    """ "300 backward minutes", "50 walks", "30 active days"."""
    if measure == "walks":
        return quantity(target, "walk")
    return f"{target} {MEASURE_WORDS[measure]}"


def _over(board: Board) -> bool:
    return board.status in ("ended", "archived")


def _window_over(board: Board) -> bool:
    """Its last day has passed (the results may not be out yet)."""
    return board.day >= 1 and board.days_left <= 0


def _date(instant: datetime, zone: str) -> str:
    day = local_date(instant, zone)
    return f"{day:%A} {day.day} {day:%B}"


def _when(board: Board) -> str:
    if _over(board) or _window_over(board):
        return f"Finished · {board.days} days"
    if board.day < 1:
        return f"Starts {_date(board.starts_at, board.zone)}"
    if board.days_left <= 1:
        return f"Day {board.day} of {board.days} · last day"
    return f"Day {board.day} of {board.days} · {quantity(board.days_left, 'day')} left"


def _score(board: Board, value: int) -> str:
    return score_text(board.measure, value)


def _more(hidden: int) -> str:
    return f"and {hidden} more" if hidden > 0 else ""


def _standings(board: Board) -> str:
    if not board.entries:
        return "Nobody has joined yet: be the first!"
    if board.kind == "goal":
        return _goal(board)
    lines = _ranking_lines(board)
    improved = _improved_line(board)
    return "\n".join(lines) + (f"\n\n{improved}" if improved else "")


def _ranking_lines(board: Board) -> list[str]:
    placed = ranked(board.entries)
    leader = placed[0].entry.score
    lines = []
    for place in placed[:BOARD_LINES]:
        rank = f"{place.rank}=" if place.shared else f"{place.rank}."
        bar = progress_bar(place.entry.score, leader)
        lines.append(f"{rank} {_name(place.entry)}  {bar} {_score(board, place.entry.score)}")
    more = _more(len(placed) - BOARD_LINES)
    return [*lines, more] if more else lines


def _goal(board: Board) -> str:
    target = board.target or 0
    bar = progress_bar(board.total, target)
    lines = [f"{bar} {board.total} of {_score(board, target)}"]
    walked = _walked(board, "Walked so far:")
    return "\n".join(lines) + (f"\n\n{walked}" if walked else "")


def _walked(board: Board, heading: str) -> str:
    """A goal's members who walked, most first (a goal ranks nobody last)."""
    walked = [p.entry for p in ranked(board.entries) if p.entry.score > 0]
    if not walked:
        return ""
    lines = [heading, *(f"{_name(e)}  {_score(board, e.score)}" for e in walked[:BOARD_LINES])]
    more = _more(len(walked) - BOARD_LINES)
    return "\n".join([*lines, more] if more else lines)


def _names(entries: Sequence[Entry]) -> str:
    """ "Ann", "Ann and Ben", "Ann, Ben and Cat", "Ann, Ben, ... and 12 more"."""
    shown = [_name(e) for e in entries[:NAMES_IN_A_LINE]]
    hidden = len(entries) - len(shown)
    if hidden > 0:
        return ", ".join(shown) + f" and {hidden} more"
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _improved_line(board: Board) -> str:
    if board.kind != "ranking" or not board.most_improved:
        return ""
    best = most_improved(board.entries)
    if not best:
        return ""
    gain = _score(board, best[0].improvement)
    return f"📈 Most improved: {_names(best)} (+{gain} on their first week)"


def _totals(board: Board) -> str:
    return f"Group total: {_score(board, board.total)} · {quantity(board.members, 'walker')}"


def _results(board: Board) -> str:
    parts = [f"🏁 Results · {_title(board)}\n{_what(board)}"]
    if board.kind == "goal":
        parts.append(_goal_result(board))
        parts.append(_walked(board, "Thanks to:"))
    else:
        parts.append(_winners_line(board))
        if board.entries:
            parts.append("\n".join(_ranking_lines(board)))
        improved = _improved_line(board)
        if improved:
            parts.append(improved)
    parts.append(_totals(board))
    parts.append("Thank you all for walking together. 👏")
    return "\n\n".join(part for part in parts if part)


def _winners_line(board: Board) -> str:
    best = winners(board.entries)
    if not best:
        return "No walks counted this time. A new challenge is a fresh start!"
    score = _score(board, best[0].score)
    if len(best) == 1:
        return f"🥇 Winner: {_names(best)} with {score}!"
    return f"🥇 Joint winners: {_names(best)} with {score} each!"


def _goal_result(board: Board) -> str:
    target = board.target or 0
    reached = target > 0 and board.total >= target
    bar = progress_bar(board.total, target)
    progress = f"{bar} {board.total} of {_score(board, target)}"
    if reached:
        return f"🎉 Goal reached together!\n{progress}"
    share = board.total * 100 // target if target > 0 else 0
    return f"Together you walked {share}% of the way. Well done, everyone!\n{progress}"


def past_text(past: Sequence[PastChallenge], zone: str) -> str:
    """Finished challenges, newest first, with their winners (a shared win names everyone),
    dated in the group's zone."""
    lines = ["🏅 Past challenges"]
    for done in past:
        first, last = local_dates(done.starts_at, done.ends_at, zone)
        span = f"{first:%-d %b}–{last:%-d %b %Y}"
        total = score_text(done.measure, done.total)
        if done.kind == "goal" and done.target is not None:
            reached = "reached" if done.total >= done.target else "not reached"
            result = f"group goal {score_text(done.measure, done.target)}: {reached} ({total})"
        elif done.winners:
            names = ", ".join(done.winners[:NAMES_IN_A_LINE])
            result = f"{'winners' if len(done.winners) > 1 else 'winner'} {names}; group {total}"
        else:
            result = f"no walks counted; group {total}"
        lines.append(f"• {span} · {MEASURE_WORDS[done.measure]}: {result}")
    return "\n".join(lines)
