"""The guided six-minute walk test (ATS 2002) as pure values: the phrase schedule, its late
policy, the setup card, reading a distance, and comparing a result with earlier tests.

No Telegram, no database, no clock: every function that needs the time takes it explicitly
(aware UTC).

Time model. The standard test lasts STANDARD_S = 360 s and the tester says only the phrases in
PHRASES, at fixed offsets from the start. `schedule(duration_s)` scales those offsets to any
length, so a test can run the whole protocol in 6 s (each "minute" is then 1 s). The stored test
row keeps only `started_at` and the highest cue index sent; everything else is recomputed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from walkbot.domain.schedule import require_aware
from walkbot.domain.wording import bounded, quantity

Direction = Literal["forward", "backward"]
CueKind = Literal["encourage", "warning", "stop"]
DIRECTIONS: tuple[Direction, ...] = ("forward", "backward")

STANDARD_S = 360
MIN_DURATION_S = 6  # a test run of the whole protocol: each minute is one second

# domain.md (ATS 2002), verbatim: one phrase each minute, a warning 15 s before the end, "Stop."
PHRASES: tuple[tuple[int, CueKind, str], ...] = (
    (60, "encourage", "You are doing well. You have 5 minutes to go."),
    (120, "encourage", "Keep up the good work. You have 4 minutes to go."),
    (180, "encourage", "You are doing well. You are halfway done."),
    (240, "encourage", "Keep up the good work. You have only 2 minutes left."),
    (300, "encourage", "You are doing well. You have only 1 minute to go."),
    (345, "warning", "In a moment I'm going to tell you to stop."),
    (360, "stop", "Stop."),
)

# Late policy (see `due`): a phrase said more than this late is wrong ("4 minutes to go" at
# 2.5 minutes left), so it is skipped rather than sent. Measured on the standard axis and
# scaled with the test, but never below LATE_GRACE_MIN_S of real time (jobs jitter a little).
LATE_GRACE_STANDARD_S = 10
LATE_GRACE_MIN_S = 1.0


# --- the phrase schedule ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    index: int  # stable 0..6: the scheduler's job is sixmin:{id}:cue:{index}
    kind: CueKind
    offset: timedelta  # from the start, already scaled
    text: str

    def at(self, started_at: datetime) -> datetime:
        return require_aware(started_at) + self.offset


def check_duration(duration_s: int) -> int:
    if isinstance(duration_s, bool) or not isinstance(duration_s, int):
        raise TypeError(f"duration_s must be an int, not {duration_s!r}")
    if not MIN_DURATION_S <= duration_s <= STANDARD_S:
        raise ValueError(f"duration_s must be {MIN_DURATION_S}..{STANDARD_S}, not {duration_s}")
    return duration_s


def schedule(duration_s: int = STANDARD_S) -> tuple[Cue, ...]:
    """The standard phrases at offsets scaled to `duration_s` (360 gives the real test)."""
    scale = check_duration(duration_s) / STANDARD_S
    return tuple(
        Cue(index, kind, timedelta(seconds=offset * scale), text)
        for index, (offset, kind, text) in enumerate(PHRASES)
    )


def ends_at(started_at: datetime, duration_s: int = STANDARD_S) -> datetime:
    return require_aware(started_at) + timedelta(seconds=check_duration(duration_s))


def late_grace(duration_s: int = STANDARD_S) -> timedelta:
    scaled = LATE_GRACE_STANDARD_S * check_duration(duration_s) / STANDARD_S
    return timedelta(seconds=max(scaled, LATE_GRACE_MIN_S))


def pending(
    started_at: datetime, now: datetime, *, last_sent_index: int, duration_s: int = STANDARD_S
) -> tuple[Cue, ...]:
    """Cues still to schedule as date jobs: not yet handled and still in the future."""
    return tuple(
        c
        for c in schedule(duration_s)
        if c.index > last_sent_index and c.at(started_at) > require_aware(now)
    )


DispatchAction = Literal["none", "send", "stop"]


@dataclass(frozen=True)
class Dispatch:
    """What to do when a cue job fires (or at start-up): at most one message.

    Store `last_sent_index` even when `text` is None, so a skipped phrase is never sent later.
    """

    action: DispatchAction
    text: str | None
    last_sent_index: int
    late: bool  # for "stop": the end passed more than the grace ago (the bot was away)


def due(
    started_at: datetime, now: datetime, *, last_sent_index: int, duration_s: int = STANDARD_S
) -> Dispatch:
    """The late policy. Only the latest due phrase can matter; earlier ones are folded.

    - "Stop." is always said, however late: the test must end and the distance be asked. When
      it is more than the grace late (a restart after the end), it says so first.
    - An encouragement or the 15 s warning is said only within the grace of its moment; a
      stale one is skipped (marked handled, never sent): the next phrase comes on time.
    """
    cues = schedule(duration_s)
    now = require_aware(now)
    due_now = [c for c in cues if c.index > last_sent_index and c.at(started_at) <= now]
    if not due_now:
        return Dispatch("none", None, last_sent_index, False)
    latest = due_now[-1]
    late = now - latest.at(started_at) > late_grace(duration_s)
    if latest.kind == "stop":
        text = f"{AWAY_AT_END}\n{latest.text}" if late else latest.text
        return Dispatch("stop", text, latest.index, late)
    if late:
        return Dispatch("none", None, latest.index, True)
    return Dispatch("send", latest.text, latest.index, False)


AWAY_AT_END = "Back with you — the six minutes ended while I was offline."


# --- the setup card --------------------------------------------------------------------------

NOT_TODAY_SIGNS = (
    "chest pain or tightness",
    "unusual breathlessness",
    "dizziness or light-headedness",
    "feeling unwell, feverish or in new pain",
)
# domain.md: stop at once for these.
STOP_AT_ONCE_SIGNS = (
    "chest pain",
    "breathlessness you can't bear",
    "leg cramps",
    "staggering",
    "sweating",
    "a pale or ashen look",
)


def setup_card(direction: Direction, *, needs_support: bool) -> str:
    """Before the effort question: where, how, who should not do it today, when to stop."""
    how = (
        "Walk BACKWARD as far as you can in 6 minutes at your own steady pace. "
        "Small steps; glance over your shoulder."
        if direction == "backward"
        else "Walk as far as you can in 6 minutes at your own steady pace. No running."
    )
    lines = [
        f"📏 Six-minute walk test: {direction.upper()}",
        how,
        "",
        "Set up:",
        "• A flat, clear path or corridor about 30 m long, marked at both ends. "
        "Turn around at each end and keep going.",
        "• Rest for 10 minutes first (sitting is fine).",
        "• Count your laps, or note where you start, so you can tell me the distance.",
        "• Slowing down or resting is allowed; the clock keeps going.",
    ]
    if direction == "backward" or needs_support:
        lines.append(
            "• Have someone walk beside you"
            + (" or use a rail or wall." if direction == "backward" else ".")
        )
    if needs_support:
        lines.append(
            "• You told me about a health risk: please check with a clinician before "
            "doing this test, and don't do it alone."
        )
    lines += [
        "",
        "Not today if you have: " + ", ".join(NOT_TODAY_SIGNS) + ".",
        "Stop at once (tap ⏹ Stop) for: " + ", ".join(STOP_AT_ONCE_SIGNS) + ".",
    ]
    return "\n".join(lines)


EFFORT_BEFORE_QUESTION = "Before you start: how hard does your body feel right now, 0 to 10?"
EFFORT_AFTER_QUESTION = (
    "How hard did that feel, 0 to 10?\n"
    "3-4 easy · 5-6 moderate, you could talk · 7-8 hard · 9-10 very hard to maximal"
)
READY_TEXT = (
    "Ready? Stand at one end of your path. When you tap Start, walk: I'll tell you the time "
    "left each minute, and when to stop."
)
GO_TEXT = "▶ Go! Walk as far as you can in 6 minutes. Stop any time with ⏹ Stop."
STOPPED_EARLY_TEXT = (
    "Stopped. Stopping is always fine: you did the right thing by listening to your body.\n"
    "Stand still or sit down and rest. If you have chest pain, feel faint, or are suddenly "
    "very short of breath, get medical help now."
)
SYMPTOMS_QUESTION = (
    "Last one: did you stop or rest on the way, or notice anything (breathless, dizzy, pain)? "
    "Type a few words, or tap None."
)


def distance_question(units: str, *, stopped_early: bool) -> str:
    lead = "How far did you get?" if stopped_early else "Stay where you are and mark the spot."
    example = "1300 ft or 0.25 mi" if units == "mi" else "0.4 km"
    ask = "" if stopped_early else " How far did you walk?"
    return (
        f"{lead}{ask} Type it like 412 m, {example}, or in laps: "
        "7 laps of 60 m + 20 m (a lap there and back on a 30 m path is 60 m)."
    )


_WARNING_WORDS = (
    "chest",
    "faint",
    "dizzy",
    "dizziness",
    "palpitation",
    "heart",
    "collapse",
    "blackout",
    "black out",
    "passed out",
)


def symptom_advice(note: str | None) -> str | None:
    """A clinician pointer when the note mentions a warning sign; never a diagnosis."""
    if not note:
        return None
    lowered = note.lower()
    if any(word in lowered for word in _WARNING_WORDS):
        return (
            "Thank you for telling me. Chest pain, dizziness or feeling faint during exercise "
            "are worth talking to a clinician about before your next test. If it's happening "
            "now or getting worse, get medical help."
        )
    return None


# --- reading a distance ----------------------------------------------------------------------

METRES_PER: dict[str, float] = {
    "m": 1.0,
    "km": 1000.0,
    "mi": 1609.344,
    "ft": 0.3048,
    "yd": 0.9144,
}
_UNIT_WORDS: dict[str, str] = {
    "m": "m",
    "meter": "m",
    "meters": "m",
    "metre": "m",
    "metres": "m",
    "km": "km",
    "kms": "km",
    "kilometer": "km",
    "kilometers": "km",
    "kilometre": "km",
    "kilometres": "km",
    "mi": "mi",
    "mile": "mi",
    "miles": "mi",
    "ft": "ft",
    "foot": "ft",
    "feet": "ft",
    "'": "ft",
    "yd": "yd",
    "yds": "yd",
    "yard": "yd",
    "yards": "yd",
}
# Plausible for six minutes of walking. ATS reference values for healthy adults run roughly
# 400-700 m; 1000 m is 10 km/h, a brisk jog, which the test does not allow, so more than that
# is a typing slip. A full test below 10 m is a slip too (people who cannot walk 10 m in six
# minutes are not doing this test unsupervised); a test stopped early may be any length > 0.
MAX_METRES = 1000.0
MIN_FULL_METRES = 10.0
MIN_STOPPED_METRES = 1.0
MAX_LAPS = 200
MIN_LAP_M, MAX_LAP_M = 5.0, 400.0  # a short hallway up to a running track
SMALL_NUMBER = 10.0  # a bare number below this is in the person's own unit (km or mi)


@dataclass(frozen=True)
class Distance:
    metres: float
    laps: int | None = None
    lap_length_m: float | None = None


class DistanceError(ValueError):
    """A distance that cannot be read or is implausible; `message` is ready to send."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_NUMBER = r"(\d+(?:[.,]\d+)?|[.,]\d+)"
_UNIT = r"\s*([a-z']+)?"
_AMOUNT = re.compile(_NUMBER + _UNIT)
_LAPS = re.compile(
    r"(\d{1,3})\s*(?:laps?\s*(?:of|x|at)?|x|×|\*)\s*"  # "12 laps of", "12 x", "12 laps"
    + _NUMBER
    + _UNIT
    + r"(?:\s*(?:\+|plus|and)\s*"
    + _NUMBER
    + _UNIT
    + r")?"
)
_JUST_LAPS = re.compile(r"(\d{1,3})\s*laps?")


def parse_distance(text: str, *, units: str = "km", stopped_early: bool = False) -> Distance:
    """Read "412", "412 m", "0.25 mi", "0.4 km", "1350 ft", "12 laps of 30 m",
    "12 x 60 + 20", "7 laps of 60m plus 15m". Raises DistanceError with a reply to send.

    A bare number below 10 is in the person's own unit (0.25 -> 0.25 mi for someone who uses
    miles, 0.4 -> 0.4 km otherwise); from 10 up it is metres. Lap lengths without a unit are
    metres, as the setup card speaks of a 30 m path.
    """
    raw = _normalise(text)
    if not raw:
        raise DistanceError(_help("Tell me the distance", units))
    if match := _LAPS.fullmatch(raw):
        laps_text, length_text, length_unit, extra_text, extra_unit = match.groups()
        return _from_laps(
            laps_text, length_text, length_unit, extra_text, extra_unit, units, stopped_early
        )
    if _JUST_LAPS.fullmatch(raw):
        raise DistanceError(
            "How long is one lap? Write it like 12 laps of 60 m "
            "(there and back on a 30 m path is 60 m)."
        )
    if match := _AMOUNT.fullmatch(raw):
        number, unit = _number(match.group(1)), match.group(2)
        hint = None
        if unit is None:
            unit = ("mi" if units == "mi" else "km") if number < SMALL_NUMBER else "m"
            if unit != "m":
                hint = f"I read {match.group(1)} as {match.group(1)} {unit}; for metres write m."
        metres = number * _factor(unit, units)
        return Distance(metres=_checked(metres, stopped_early, units, hint))
    raise DistanceError(_help(f'I couldn\'t read "{bounded(text)}"', units))


def _normalise(text: str) -> str:
    raw = text.strip().lower().replace("×", "x").replace("’", "'")
    raw = re.sub(r"(?<=\d),(?=\d{3}\b)", "", raw)  # "1,350 ft" -> "1350 ft"
    return re.sub(r"\s+", " ", raw).rstrip(".!")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _factor(unit: str, units: str) -> float:
    key = _UNIT_WORDS.get(unit)
    if key is None:
        raise DistanceError(_help(f'I don\'t know the unit "{bounded(unit)}"', units))
    return METRES_PER[key]


def _from_laps(
    laps_text: str,
    length_text: str,
    length_unit: str | None,
    extra_text: str | None,
    extra_unit: str | None,
    units: str,
    stopped_early: bool,
) -> Distance:
    laps = int(laps_text)
    lap_m = _number(length_text) * _factor(length_unit or "m", units)
    if not 0 <= laps <= MAX_LAPS:
        raise DistanceError(f"{laps} laps is more than I can believe in six minutes.")
    if not MIN_LAP_M <= lap_m <= MAX_LAP_M:
        raise DistanceError(
            f"A lap of {format_metres(lap_m)} looks unusual: laps go from "
            f"{MIN_LAP_M:.0f} to {MAX_LAP_M:.0f} m. A 30 m path there and back is 60 m."
        )
    extra_m = 0.0
    if extra_text is not None:
        extra_m = _number(extra_text) * _factor(extra_unit or length_unit or "m", units)
        if extra_m >= lap_m:
            raise DistanceError(
                "The last part lap should be shorter than a whole lap "
                f"({format_metres(lap_m)}). Add it to the laps instead."
            )
    metres = laps * lap_m + extra_m
    return Distance(
        metres=_checked(metres, stopped_early, units), laps=laps, lap_length_m=round(lap_m, 2)
    )


def _checked(metres: float, stopped_early: bool, units: str, hint: str | None = None) -> float:
    low = MIN_STOPPED_METRES if stopped_early else MIN_FULL_METRES
    if not math.isfinite(metres) or metres > MAX_METRES:
        raise DistanceError(
            (f"{hint}\n" if hint else "")
            + f"{format_distance(metres, units)} is more than anyone walks in six minutes "
            f"(I accept up to {format_distance(MAX_METRES, units)}). Could you check it?"
        )
    if metres < low:
        raise DistanceError(
            f"{format_distance(metres, units)} looks too short for the test. Could you check "
            "it? (A bare number from 10 up is metres.)"
        )
    return round(metres, 1)


def _help(problem: str, units: str) -> str:
    example = "0.25 mi or 1300 ft" if units == "mi" else "0.4 km"
    return f"{problem}. Write metres like 412 m, or {example}, or laps like 7 laps of 60 m + 20 m."


# --- showing distances -----------------------------------------------------------------------


def format_metres(metres: float) -> str:
    return f"{metres:.0f} m" if metres >= 10 else f"{metres:.1f} m".replace(".0 m", " m")


def format_distance(metres: float, units: str) -> str:
    """ "412 m"; for people who use miles: "1,352 ft (412 m)"."""
    if units == "mi":
        return f"{metres / METRES_PER['ft']:,.0f} ft ({format_metres(metres)})"
    return format_metres(metres)


def format_change(delta_m: float, units: str) -> str:
    """ "+24 m", "-8 m", "±0 m"; in feet for people who use miles."""
    value, unit = (delta_m / METRES_PER["ft"], "ft") if units == "mi" else (delta_m, "m")
    rounded = round(value)
    if rounded == 0:
        return f"±0 {unit}"
    return f"{rounded:+,} {unit}"


def ago(then: datetime, now: datetime) -> str:
    """ "earlier today", "yesterday", "5 days ago", "3 weeks ago", "4 months ago"."""
    days = (require_aware(now) - require_aware(then)).days
    if days < 1:
        return "earlier today"
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{quantity(days, 'day')} ago"
    if days < 60:
        return f"{quantity(days // 7, 'week')} ago"
    months = days // 30
    if months < 24:
        return f"{quantity(months, 'month')} ago"
    return f"{quantity(days // 365, 'year')} ago"


# --- comparing with earlier tests ------------------------------------------------------------

LEARNING_EFFECT = 0.07  # domain.md: a second test is typically about 7% better (learning)


@dataclass(frozen=True)
class Result:
    """One recorded test, as the comparison needs it."""

    direction: Direction
    metres: float
    at: datetime  # when it was walked (started_at)
    stopped_early: bool = False


@dataclass(frozen=True)
class Comparison:
    current: Result
    previous: Result | None  # the latest earlier full test in the same direction
    other: Result | None  # the latest full test in the other direction, if any
    nth: int  # this is the nth full test in this direction (0 for a test stopped early)
    text: str


def compare(
    current: Result, earlier: Sequence[Result], *, now: datetime, units: str = "km"
) -> Comparison:
    """Compare one result with the person's earlier ones (any order; later ones ignored).

    Only full tests are compared: a test stopped early is reported but not set against others.
    Same direction: the change since the latest earlier full test ("+24 m since 3 weeks ago").
    Backward against forward: backward as a % of the latest forward distance (either way round).
    The second full test in a direction carries a note on the learning effect.
    """
    before = sorted(
        (r for r in earlier if r.at <= current.at and not r.stopped_early and r.metres > 0),
        key=lambda r: r.at,
    )
    same = [r for r in before if r.direction == current.direction]
    other_dir = [r for r in before if r.direction != current.direction]
    previous = same[-1] if same else None
    other = other_dir[-1] if other_dir else None
    headline = f"{current.direction.capitalize()} {format_distance(current.metres, units)}"
    if current.stopped_early:
        text = (
            f"{headline} (stopped early). Tests stopped early aren't compared with full ones, "
            "so this won't count against you."
        )
        return Comparison(current, previous, other, 0, text)
    nth = len(same) + 1
    parts = [headline]
    if current.direction == "backward" and other is not None:
        parts.append(f"{_percent(current.metres, other.metres)} of your forward distance")
    if previous is not None:
        change = format_change(current.metres - previous.metres, units)
        parts.append(f"{change} since {ago(previous.at, now)}")
    text = ", ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "")
    notes: list[str] = []
    if current.direction == "forward" and other is not None:
        notes.append(
            f"Your latest backward test ({format_distance(other.metres, units)}) was "
            f"{_percent(other.metres, current.metres)} of this."
        )
    if previous is None:
        notes.append(f"Your first {current.direction} test: this is your starting point.")
    elif nth == 2:
        notes.append(
            f"Second tests often come out about {LEARNING_EFFECT:.0%} better just from "
            "knowing the test, so your third will show your progress more fairly."
        )
    return Comparison(current, previous, other, nth, "\n".join([text + ".", *notes]))


def _percent(part: float, whole: float) -> str:
    return f"{round(100 * part / whole)}%"


# --- helpers ---------------------------------------------------------------------------------


def direction_of(value: str) -> Direction:
    if value not in DIRECTIONS:
        raise ValueError(f"direction must be forward or backward, not {value!r}")
    return value
