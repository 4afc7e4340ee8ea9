"""Group challenges: windows of local days, the posting calendar, ranking and board wording.

Pure: `now` is passed in, zones are IANA names read through walkbot.domain.schedule.

A challenge lasts `days` local days in the group's zone (snapshotted at launch, so the window
never moves). Day boundaries are local midnights, so across a clock change a 7-day window is
167 or 169 hours long; scores bucket walks by `Window.day_starts` (services pass them to SQL as
a CASE), which is why the instants are computed here once rather than by adding 24 hours.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from walkbot.domain.schedule import (
    catch_up_decision,
    local_date,
    require_aware,
    wall_time_instant,
)
from walkbot.domain.wording import quantity

Measure = Literal["minutes", "walks", "days"]
Kind = Literal["ranking", "goal"]
Start = Literal["now", "monday"]

MEASURES: tuple[Measure, ...] = ("minutes", "walks", "days")
KINDS: tuple[Kind, ...] = ("ranking", "goal")
STARTS: tuple[Start, ...] = ("now", "monday")
LENGTHS = (7, 14, 28)
# Most improved compares a member's first week with their best later one: it needs two weeks.
IMPROVED_LENGTHS = (14, 28)
GOAL_TARGETS: Mapping[Measure, tuple[int, int, int]] = {
    "minutes": (100, 300, 600),
    "walks": (20, 50, 100),
    "days": (15, 30, 60),
}
DEFAULT_ZONE = "Europe/London"  # an anonymous admin's group before /groupsettings
DEFAULT_POST_TIME = time(19, 0)
BOARD_CATCH_UP = timedelta(hours=2)  # a daily board more late than this is skipped
BOARD_LINES = 15  # members listed on a board; the rest "and N more"
NAME_LIMIT = 20  # characters of a first name shown in a group
FALLBACK_NAME = "Walker"

_MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class Window:
    """The local days a challenge runs, as UTC instants."""

    starts_at: datetime
    ends_at: datetime
    zone: str
    # The UTC instant each local day of the window begins; day_starts[0] == starts_at (which
    # is mid-day for a challenge started "now"); len == days.
    day_starts: tuple[datetime, ...]

    @property
    def days(self) -> int:
        return len(self.day_starts)

    def day_index(self, instant: datetime) -> int | None:
        """Which day (0-based) holds `instant`; None outside [starts_at, ends_at)."""
        require_aware(instant, "instant")
        if instant < self.starts_at or instant >= self.ends_at:
            return None
        return bisect_right(self.day_starts, instant) - 1

    def days_left(self, now: datetime) -> int:
        """Local days left, counting today; all of them before the start, 0 once it is over."""
        require_aware(now, "now")
        if now >= self.ends_at:
            return 0
        index = self.day_index(now)
        return self.days if index is None else self.days - index

    def week_starts(self) -> tuple[datetime, ...]:
        return self.day_starts[::7]

    def local_day(self, index: int) -> date:
        """The calendar date of day `index` in the group's zone."""
        return local_date(self.starts_at, self.zone) + timedelta(days=index)


def _midnight(day: date, zone: str) -> datetime:
    # Where a zone skips midnight itself, the day begins when the gap ends.
    return wall_time_instant(day, _MIDNIGHT, zone)


def _require_days(days: int) -> None:
    if days < 1:
        raise ValueError(f"a challenge lasts at least one day, got {days}")


def local_dates(starts_at: datetime, ends_at: datetime, zone: str) -> tuple[date, date]:
    """The first and last calendar days in `zone` of the span [starts_at, ends_at)."""
    require_aware(starts_at, "starts_at")
    require_aware(ends_at, "ends_at")
    return local_date(starts_at, zone), local_date(ends_at - timedelta(microseconds=1), zone)


def window_from(starts_at: datetime, *, days: int, zone: str) -> Window:
    """The window of a launched challenge, rebuilt from its stored start, length and zone."""
    require_aware(starts_at, "starts_at")
    _require_days(days)
    first = local_date(starts_at, zone)
    later = tuple(_midnight(first + timedelta(days=i), zone) for i in range(1, days + 1))
    return Window(
        starts_at=starts_at, ends_at=later[-1], zone=zone, day_starts=(starts_at, *later[:-1])
    )


def window(now: datetime, *, days: int, start: Start, zone: str) -> Window:
    """ "now": from `now` to the local midnight that ends day `days` (today is day 1).
    "monday": from the next local Monday 00:00 strictly after today, `days` local days."""
    require_aware(now, "now")
    _require_days(days)
    if start == "now":
        return window_from(now, days=days, zone=zone)
    today = local_date(now, zone)
    monday = today + timedelta(days=7 - today.weekday())
    return window_from(_midnight(monday, zone), days=days, zone=zone)


def _posts(w: Window, post_time: time) -> list[tuple[int, datetime]]:
    """Each day's post_time inside the window, with its day index."""
    posts = []
    for index in range(w.days):
        at = wall_time_instant(w.local_day(index), post_time, w.zone)
        if w.starts_at <= at < w.ends_at:
            posts.append((index, at))
    return posts


def _last_call_index(w: Window) -> int:
    return w.days - 3


def last_call_at(w: Window, post_time: time) -> datetime:
    """The "3 days left" post: post_time on day index days-3 (it replaces that day's board)."""
    return wall_time_instant(w.local_day(_last_call_index(w)), post_time, w.zone)


def next_board_at(w: Window, post_time: time, *, after: datetime) -> datetime | None:
    """The next daily board: post_time strictly after `after`, inside the window, skipping the
    last-call day (that day's post IS the "3 days left" post); None when none is left."""
    require_aware(after, "after")
    for index, at in _posts(w, post_time):
        if at > after and index != _last_call_index(w):
            return at
    return None


def first_board_at(w: Window, post_time: time, *, after: datetime) -> datetime | None:
    """The first daily board of a challenge launched at `after`: the same rule, counted from
    the later of the launch and the window's start (a "monday" challenge launched on a
    Thursday has no boards before its Monday)."""
    return next_board_at(w, post_time, after=max(after, w.starts_at))


def board_decision(due: datetime, now: datetime) -> Literal["send", "skip"]:
    """A daily board or last call found late: sent within BOARD_CATCH_UP, otherwise skipped
    (yesterday's board at breakfast is noise; the next one is on its way)."""
    return catch_up_decision(due, now, max_late=BOARD_CATCH_UP)


# --- boards ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One member on a board."""

    user_id: int
    name: str
    score: int
    # Most improved: the member's score in the challenge's first week and in their best later
    # week (0 when the challenge does not track it).
    first_week: int = 0
    best_later_week: int = 0

    @property
    def improvement(self) -> int:
        return self.best_later_week - self.first_week


@dataclass(frozen=True)
class Placed:
    rank: int
    entry: Entry
    shared: bool  # a tie: shown as "1="


def _order(entry: Entry) -> tuple[int, str, int]:
    return (-entry.score, entry.name.casefold(), entry.user_id)


def ranked(entries: Sequence[Entry]) -> list[Placed]:
    """Score descending, then name; members on the same score share a rank (1, 1, 3)."""
    ordered = sorted(entries, key=_order)
    counts: dict[int, int] = {}
    for entry in ordered:
        counts[entry.score] = counts.get(entry.score, 0) + 1
    placed: list[Placed] = []
    for position, entry in enumerate(ordered, start=1):
        rank = position if not placed or placed[-1].entry.score != entry.score else placed[-1].rank
        placed.append(Placed(rank=rank, entry=entry, shared=counts[entry.score] > 1))
    return placed


def winners(entries: Sequence[Entry]) -> list[Entry]:
    """Everyone on the top score (ties share the win); nobody when the top is 0."""
    top = max((e.score for e in entries), default=0)
    if top <= 0:
        return []
    return sorted((e for e in entries if e.score == top), key=_order)


def most_improved(entries: Sequence[Entry]) -> list[Entry]:
    """Everyone on the top improvement over their own first week; nobody when none improved."""
    top = max((e.improvement for e in entries), default=0)
    if top <= 0:
        return []
    return sorted((e for e in entries if e.improvement == top), key=_order)


def display_name(first_name: str, style: str) -> str:
    """How a member appears in a group: "name" shows the first name (bounded), "initials"
    "A. B." style. Never empty: a name with nothing showable becomes "Walker"."""
    words = first_name.split()  # also drops newlines and other whitespace a name may carry
    if style == "initials":
        letters = [next((c for c in word if c.isalnum()), "") for word in words]
        initials = [f"{c.upper()}." for c in letters if c][:3]
        return " ".join(initials) or FALLBACK_NAME
    name = " ".join(words)
    if not name:
        return FALLBACK_NAME
    return name if len(name) <= NAME_LIMIT else name[: NAME_LIMIT - 1].rstrip() + "…"


def progress_bar(value: int, full: int, width: int = 10) -> str:
    """A text bar: "▓▓▓▓░░░░░░". Floored, so a bar is only full when the value reaches full."""
    if full <= 0 or width <= 0:
        return "░" * max(width, 0)
    filled = min(width, max(0, value) * width // full)
    return "▓" * filled + "░" * (width - filled)


def score_text(measure: Measure, value: int) -> str:
    """ "42 min", "1 walk", "3 walks", "1 day", "5 days"."""
    if measure == "minutes":
        return f"{value} min"
    return quantity(value, "walk" if measure == "walks" else "day")
