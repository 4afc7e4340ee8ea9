"""A walk session as pure values: the plan, its cue timeline, pauses, status, the late-cue policy,
the summary, and the effort and knee-pain scales.

No Telegram, no database, no clock: every function that needs the time takes `now` (aware UTC).

Time model. A walk has a wall-clock `started_at` and a list of pauses. "Active" time is wall time
minus paused time; the plan's phases and cues live on the active axis (offsets in whole seconds
from the start), and are mapped to wall instants through the pauses. So a pause shifts every
later cue by its length, and an open pause holds later cues back until it is closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from walkbot.domain import walk_copy as copy
from walkbot.domain.schedule import require_aware
from walkbot.domain.walk_copy import format_duration
from walkbot.domain.walk_copy import safety_card as safety_card  # re-exported for services
from walkbot.domain.wording import bounded

PhaseKind = Literal["warmup", "backward", "forward", "cooldown"]
CueKind = Literal["phase", "heads_up", "finish"]

MIN_ROUNDS, MAX_ROUNDS = 1, 30
MIN_PHASE_S, MAX_PHASE_S = 10, 30 * 60
MIN_EDGE_MIN, MAX_EDGE_MIN = 1, 30  # warm-up and cool-down, in whole minutes when typed

HEADS_UP_LEAD_S = 10  # a heads-up comes this long before a switch...
HEADS_UP_MIN_PHASE_S = 45  # ...only in phases at least this long (shorter ones need no warning)
HEADS_UP_MIN_USEFUL_S = 3  # a late heads-up with less than this left is dropped, not sent
HALFWAY_TOLERANCE = 0.10  # a "halfway" note only if a phase starts within 10% of the true halfway

# Late policy (see `due_cues`): a cue up to LATE_GRACE_S late is sent exactly as planned; later
# than that but within CATCH_UP_AFTER_S it is re-worded for the time actually left; beyond that,
# or when a switch was missed altogether, one "Back with you" catch-up replaces everything due.
LATE_GRACE_S = 5
CATCH_UP_AFTER_S = 60

_SECOND = timedelta(seconds=1)


# --- plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    kind: PhaseKind
    duration_s: int
    round: int | None  # 1-based for backward/forward, None for warm-up and cool-down


@dataclass(frozen=True)
class WalkPlan:
    warmup_s: int
    rounds: int
    backward_s: int
    forward_s: int
    cooldown_s: int

    def __post_init__(self) -> None:
        # A plan that reaches here from storage or progression must still be walkable.
        for name in ("warmup_s", "rounds", "backward_s", "forward_s", "cooldown_s"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, not {value!r}")
        if not MIN_ROUNDS <= self.rounds <= MAX_ROUNDS:
            raise ValueError(f"rounds must be {MIN_ROUNDS}..{MAX_ROUNDS}, not {self.rounds}")
        for name in ("backward_s", "forward_s"):
            if not MIN_PHASE_S <= getattr(self, name) <= MAX_PHASE_S:
                raise ValueError(f"{name} must be {MIN_PHASE_S}..{MAX_PHASE_S} s")
        for name in ("warmup_s", "cooldown_s"):
            if not 0 <= getattr(self, name) <= MAX_EDGE_MIN * 60:
                raise ValueError(f"{name} must be 0..{MAX_EDGE_MIN * 60} s")

    def phases(self) -> tuple[Phase, ...]:
        phases: list[Phase] = []
        if self.warmup_s:
            phases.append(Phase("warmup", self.warmup_s, None))
        for round_number in range(1, self.rounds + 1):
            phases.append(Phase("backward", self.backward_s, round_number))
            phases.append(Phase("forward", self.forward_s, round_number))
        if self.cooldown_s:
            phases.append(Phase("cooldown", self.cooldown_s, None))
        return tuple(phases)

    @property
    def total_s(self) -> int:
        return self.warmup_s + self.rounds * (self.backward_s + self.forward_s) + self.cooldown_s

    @property
    def backward_total_s(self) -> int:
        return self.rounds * self.backward_s

    def to_dict(self) -> dict[str, int]:
        return {
            "warmup_s": self.warmup_s,
            "rounds": self.rounds,
            "backward_s": self.backward_s,
            "forward_s": self.forward_s,
            "cooldown_s": self.cooldown_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WalkPlan:
        """Unknown keys are ignored so older code can read rows written by newer code."""
        try:
            return cls(
                warmup_s=data["warmup_s"],
                rounds=data["rounds"],
                backward_s=data["backward_s"],
                forward_s=data["forward_s"],
                cooldown_s=data["cooldown_s"],
            )
        except KeyError as missing:
            raise ValueError(f"walk plan is missing {missing}") from None

    def describe(self) -> str:
        """ "6 x 30 s backward / 2 min forward, 5 min warm-up and cool-down"."""
        text = (
            f"{self.rounds} x {format_duration(self.backward_s)} backward"
            f" / {format_duration(self.forward_s)} forward"
        )
        if self.warmup_s and self.warmup_s == self.cooldown_s:
            return f"{text}, {format_duration(self.warmup_s)} warm-up and cool-down"
        if self.warmup_s:
            text += f", {format_duration(self.warmup_s)} warm-up"
        if self.cooldown_s:
            text += f", {format_duration(self.cooldown_s)} cool-down"
        return text


def starting_plan() -> WalkPlan:
    """domain.md: 5 min forward, 6 x (30 s backward + 2 min forward), 5 min forward."""
    return WalkPlan(warmup_s=300, rounds=6, backward_s=30, forward_s=120, cooldown_s=300)


def phase_starts(plan: WalkPlan) -> tuple[int, ...]:
    """Active-time offset (s) at which each phase begins."""
    starts, offset = [], 0
    for phase in plan.phases():
        starts.append(offset)
        offset += phase.duration_s
    return tuple(starts)


# --- parsing "/walk w5 6x30/120 c3" ----------------------------------------------------------


class PlanError(ValueError):
    """A custom plan that cannot be read; `message` is ready to send to the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_INTERVALS = re.compile(r"([0-9]{1,4})x([^/\s]+)/([^/\s]+)")
_LOOKS_LIKE_INTERVALS = re.compile(r"[0-9]+x")
_EDGE = re.compile(r"([wc])([0-9]{1,4})(?:min|m)?")
_DURATION = re.compile(r"(?:([0-9]{1,4})(?:min|m))?(?:([0-9]{1,5})(?:sec|s)?)?")


def parse_custom_plan(text: str) -> WalkPlan:
    """Read "6x30/120", "6 × 30s / 2m", "w5 6x1m/2m c3" (tokens in any order).

    A leading "/walk" (or "/walk@bot") is ignored, so handlers may pass the whole message.
    """
    tokens = _tokens(text)
    if not tokens:
        raise _error("Tell me the rounds and times.")
    intervals: tuple[int, int, int] | None = None
    edges: dict[str, int] = {}
    for token in tokens:
        if match := _INTERVALS.fullmatch(token):
            if intervals is not None:
                raise _error("Give one set of intervals, like 6x30/120.")
            intervals = _read_intervals(*match.groups())
        elif match := _EDGE.fullmatch(token):
            which, minutes = match.group(1), int(match.group(2))
            if which in edges:
                raise _error(f"Give the {_EDGE_NAMES[which]} only once.")
            edges[which] = _check_edge_minutes(which, minutes)
        elif _LOOKS_LIKE_INTERVALS.match(token):
            raise _error(f'I couldn\'t read "{bounded(token)}": give rounds x backward/forward.')
        else:
            raise _error(f'I didn\'t understand "{bounded(token)}".')
    if intervals is None:
        raise _error("I need the intervals too, like 6x30/120.")
    rounds, backward_s, forward_s = intervals
    return WalkPlan(
        warmup_s=edges.get("w", 0) * 60,
        rounds=rounds,
        backward_s=backward_s,
        forward_s=forward_s,
        cooldown_s=edges.get("c", 0) * 60,
    )


_EDGE_NAMES = {"w": "warm-up", "c": "cool-down"}


def _tokens(text: str) -> list[str]:
    raw = text.strip().lower().replace("×", "x").replace("*", "x")
    if raw.startswith("/"):
        raw = raw.partition(" ")[2]  # drop the command itself
    raw = re.sub(r"\s*([x/])\s*", r"\1", raw)  # "6 x 30 / 120" -> "6x30/120"
    raw = re.sub(r"\b([wc])\s+(?=[0-9])", r"\1", raw)  # "w 5" -> "w5"
    return raw.split()


def _read_intervals(
    rounds_text: str, backward_text: str, forward_text: str
) -> tuple[int, int, int]:
    rounds = int(rounds_text)
    if not MIN_ROUNDS <= rounds <= MAX_ROUNDS:
        raise _error(f"Rounds go from {MIN_ROUNDS} to {MAX_ROUNDS} (you wrote {rounds}).")
    return rounds, _read_phase(backward_text), _read_phase(forward_text)


def _read_phase(text: str) -> int:
    seconds = _read_duration(text)
    if seconds is None:
        raise _error(f'I couldn\'t read the time "{bounded(text)}": write 30s, 2m or 1m30s.')
    if not MIN_PHASE_S <= seconds <= MAX_PHASE_S:
        raise _error(
            "Each backward or forward part runs from 10 s to 30 min "
            f"(you wrote {format_duration(seconds)})."
        )
    return seconds


def _read_duration(text: str) -> int | None:
    """ "30", "30s", "2m", "2min", "1m30s", "1m30" -> seconds; None if it is not a duration."""
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groups()):
        return None
    minutes, seconds = (int(group or 0) for group in match.groups())
    return minutes * 60 + seconds


def _check_edge_minutes(which: str, minutes: int) -> int:
    if not MIN_EDGE_MIN <= minutes <= MAX_EDGE_MIN:
        name = _EDGE_NAMES[which].capitalize()
        raise _error(
            f"{name} goes from {MIN_EDGE_MIN} to {MAX_EDGE_MIN} min (you wrote {minutes})."
        )
    return minutes


def _error(problem: str) -> PlanError:
    return PlanError(copy.plan_error_text(problem))


# --- pauses and the active-time axis ---------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None = None  # None while the walk is still paused

    def to_dict(self) -> dict[str, str | None]:
        return {
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pause:
        ended = data.get("ended_at")
        return cls(
            started_at=require_aware(datetime.fromisoformat(data["started_at"])),
            ended_at=require_aware(datetime.fromisoformat(ended)) if ended else None,
        )


def is_paused(pauses: Sequence[Pause]) -> bool:
    return any(pause.ended_at is None for pause in pauses)


def closed_pause_time(pauses: Iterable[Pause]) -> timedelta:
    """The time spent in pauses that have ended (an open one is still counting)."""
    return sum((p.ended_at - p.started_at for p in pauses if p.ended_at is not None), timedelta(0))


def open_pause_since(pauses: Iterable[Pause]) -> datetime | None:
    """When the open pause began, or None when the walk is not paused."""
    return next((p.started_at for p in pauses if p.ended_at is None), None)


# A walk paused this long is over: most likely they went home and forgot it. It has no end
# while paused, so without this it would stay open for ever, standing in the way of /sixmin and
# keeping /walk on it. The overdue sweep ends it as "timed_out", with what was done.
PAUSE_TIMEOUT = timedelta(hours=2)


def paused_too_long(pauses: Sequence[Pause], now: datetime) -> bool:
    """An open pause that began PAUSE_TIMEOUT or more before `now`."""
    now = require_aware(now)
    return any(p.ended_at is None and now - p.started_at >= PAUSE_TIMEOUT for p in pauses)


def pause_walk(pauses: Sequence[Pause], now: datetime) -> tuple[Pause, ...]:
    """Open a pause at `now`. Pausing twice is a no-op (a double tap must not lose the first)."""
    if is_paused(pauses):
        return tuple(pauses)
    return (*pauses, Pause(require_aware(now)))


def resume_walk(pauses: Sequence[Pause], now: datetime) -> tuple[Pause, ...]:
    """Close the open pause at `now`; a no-op if the walk is not paused."""
    now = require_aware(now)
    return tuple(Pause(p.started_at, now) if p.ended_at is None else p for p in pauses)


def _normalised(pauses: Iterable[Pause], started_at: datetime) -> list[Pause]:
    """Sorted, clipped to the walk, overlaps merged, nothing after an open pause.

    Stored pauses come from taps and restarts; this makes the arithmetic below safe anyway.
    """
    merged: list[Pause] = []
    for pause in sorted(pauses, key=lambda p: p.started_at):
        start = max(require_aware(pause.started_at), started_at)
        end = pause.ended_at
        if end is not None and end <= start:
            continue
        if merged and (merged[-1].ended_at is None or start <= merged[-1].ended_at):
            last = merged[-1]
            if last.ended_at is not None:
                later_end = None if end is None else max(end, last.ended_at)
                merged[-1] = Pause(last.started_at, later_end)
            continue
        merged.append(Pause(start, end))
    return merged


def active_elapsed(started_at: datetime, pauses: Iterable[Pause], at: datetime) -> timedelta:
    """Wall time from the start to `at`, minus the paused parts (an open pause runs to `at`)."""
    started_at, at = require_aware(started_at), require_aware(at)
    if at <= started_at:
        return timedelta(0)
    paused = timedelta(0)
    for pause in _normalised(pauses, started_at):
        end = min(pause.ended_at or at, at)
        if end > pause.started_at:
            paused += end - pause.started_at
    return (at - started_at) - paused


def instant_at(started_at: datetime, pauses: Iterable[Pause], offset_s: int) -> datetime | None:
    """Wall instant at which `offset_s` of active time is reached; None while an open pause
    holds it back. A pause starting exactly at that instant delays it: the cue then comes on
    resuming, when the person is ready to hear it."""
    instant = require_aware(started_at) + timedelta(seconds=offset_s)
    for pause in _normalised(pauses, started_at):
        if pause.started_at > instant:
            break
        if pause.ended_at is None:
            return None
        instant += pause.ended_at - pause.started_at
    return instant


def _whole_seconds(delta: timedelta) -> int:
    return delta // _SECOND


# --- cue timeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    index: int  # stable 0..N-1 for the plan: the scheduler's job is walk:{id}:cue:{index}
    kind: CueKind
    at: datetime  # planned wall instant, pauses included
    phase_index: int  # the phase it starts (phase), runs in (heads_up) or ends (finish)
    text: str
    sound: bool
    offset_s: int  # planned active-time offset from the start


@dataclass(frozen=True)
class CueSpec:
    """A cue on the active-time axis, before pauses map it to a wall instant."""

    kind: CueKind
    offset_s: int
    phase_index: int
    text: str
    sound: bool


@dataclass(frozen=True)
class Timeline:
    plan: WalkPlan
    started_at: datetime
    pauses: tuple[Pause, ...]
    cues: tuple[Cue, ...]  # cues with a known instant; an open pause holds the rest back
    cue_count: int  # cues in the whole walk, so the finish is always index cue_count - 1
    ends_at: datetime | None  # None while paused

    @property
    def finish_index(self) -> int:
        return self.cue_count - 1

    def status_at(self, now: datetime) -> WalkStatus:
        return status_at(self.plan, self.started_at, self.pauses, now)


def build_timeline(plan: WalkPlan, started_at: datetime, pauses: Sequence[Pause] = ()) -> Timeline:
    """All the cues of a walk with their wall instants. Rebuild it after every pause/resume and
    on start-up; indexes do not change, so already-sent cues are recognised by index."""
    specs = cue_specs(plan)
    cues: list[Cue] = []
    for index, spec in enumerate(specs):
        at = instant_at(started_at, pauses, spec.offset_s)
        if at is None:
            break  # an open pause: everything later waits for the resume
        cues.append(
            Cue(index, spec.kind, at, spec.phase_index, spec.text, spec.sound, spec.offset_s)
        )
    return Timeline(
        plan=plan,
        started_at=require_aware(started_at),
        pauses=tuple(pauses),
        cues=tuple(cues),
        cue_count=len(specs),
        ends_at=instant_at(started_at, pauses, plan.total_s),
    )


def cue_specs(plan: WalkPlan) -> tuple[CueSpec, ...]:
    """The cues on the active-time axis, in order: each phase start, a heads-up before each
    change of direction in a long enough phase, and the finish."""
    phases, starts = plan.phases(), phase_starts(plan)
    halfway = _halfway_phase(plan)
    specs: list[CueSpec] = []
    for i, phase in enumerate(phases):
        text = _phase_cue_text(plan, i, phase.duration_s, halfway)
        specs.append(CueSpec("phase", starts[i], i, text, True))
        if _wants_heads_up(phases, i):
            following = phases[i + 1]
            text = copy.heads_up_text(HEADS_UP_LEAD_S, following.kind, following.duration_s)
            offset = starts[i] + phase.duration_s - HEADS_UP_LEAD_S
            specs.append(CueSpec("heads_up", offset, i, text, False))
    specs.append(CueSpec("finish", plan.total_s, len(phases) - 1, _finish_cue_text(plan), True))
    return tuple(specs)


def _direction(kind: PhaseKind) -> str:
    return "backward" if kind == "backward" else "forward"


def _wants_heads_up(phases: Sequence[Phase], i: int) -> bool:
    """Only where the person must turn round (forward to cool-down needs no warning), and only
    when the phase is long enough that a 10 s warning is not half the phase."""
    if i + 1 >= len(phases) or phases[i].duration_s < HEADS_UP_MIN_PHASE_S:
        return False
    return _direction(phases[i].kind) != _direction(phases[i + 1].kind)


def _halfway_phase(plan: WalkPlan) -> int | None:
    """The phase whose start is closest to half the session, if one is close enough; the
    halfway note rides on that phase's cue instead of being a message of its own."""
    half = plan.total_s / 2
    candidates = [(abs(start - half), i) for i, start in enumerate(phase_starts(plan)) if start]
    if not candidates:
        return None
    distance, index = min(candidates)
    return index if distance <= plan.total_s * HALFWAY_TOLERANCE else None


def _phase_cue_text(plan: WalkPlan, i: int, seconds: int, halfway: int | None) -> str:
    phase = plan.phases()[i]
    notes = [copy.HALFWAY_NOTE] if i == halfway else []
    if phase.kind == "backward" and phase.round == plan.rounds and plan.rounds > 1:
        notes.append(copy.LAST_ROUND_NOTE)
    headline = copy.phase_headline(phase.kind, seconds, first=i == 0)
    progress = copy.progress_line(phase.kind, phase.round, plan.rounds, plan.backward_s, notes)
    return copy.phase_cue_text(headline, progress, _tip(phase))


def _tip(phase: Phase) -> str:
    """Varied but deterministic: tips rotate by round so each round brings a different one
    (rotating by cue index would repeat, as cues come in a fixed rhythm per round)."""
    if phase.kind == "warmup":
        return copy.WARMUP_TIP
    if phase.kind == "cooldown":
        return copy.COOLDOWN_TIP
    tips = copy.BACKWARD_TIPS if phase.kind == "backward" else copy.FORWARD_TIPS
    return tips[((phase.round or 1) - 1) % len(tips)]


def _finish_cue_text(plan: WalkPlan) -> str:
    return copy.FINISH_PREFIX + copy.finished_text(plan.backward_total_s, plan.total_s, plan.rounds)


# --- status ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalkStatus:
    phase_index: int  # the last phase once finished
    phase: Phase
    round: int | None
    rounds: int
    seconds_left_in_phase: int
    elapsed_active_s: int
    remaining_s: int
    finished: bool
    paused: bool

    def text(self) -> str:
        """For /walk during a walk: phase, time left, round k of n."""
        return copy.status_text(
            kind=self.phase.kind,
            round_number=self.round,
            rounds=self.rounds,
            seconds_left=self.seconds_left_in_phase,
            remaining_s=self.remaining_s,
            paused=self.paused,
            finished=self.finished,
        )


def status_at(
    plan: WalkPlan, started_at: datetime, pauses: Sequence[Pause], now: datetime
) -> WalkStatus:
    elapsed = min(_whole_seconds(active_elapsed(started_at, pauses, now)), plan.total_s)
    phases, starts = plan.phases(), phase_starts(plan)
    finished = elapsed >= plan.total_s
    index = _phase_index_at(starts, elapsed) if not finished else len(phases) - 1
    phase = phases[index]
    left = 0 if finished else starts[index] + phase.duration_s - elapsed
    return WalkStatus(
        phase_index=index,
        phase=phase,
        round=phase.round,
        rounds=plan.rounds,
        seconds_left_in_phase=left,
        elapsed_active_s=elapsed,
        remaining_s=plan.total_s - elapsed,
        finished=finished,
        paused=not finished and _paused_at(pauses, now),
    )


def _phase_index_at(starts: Sequence[int], elapsed_s: int) -> int:
    return max(i for i, start in enumerate(starts) if start <= elapsed_s)


def _paused_at(pauses: Sequence[Pause], now: datetime) -> bool:
    return any(p.started_at <= now and (p.ended_at is None or now < p.ended_at) for p in pauses)


# --- late policy -----------------------------------------------------------------------------

DispatchAction = Literal["none", "send", "adjusted", "catch_up", "complete"]


@dataclass(frozen=True)
class CueDispatch:
    """What to do when a cue job fires (or on start-up): send at most ONE message.

    Store `last_sent_index` even when `text` is None: folded cues must never be sent later.
    """

    action: DispatchAction
    text: str | None
    sound: bool
    last_sent_index: int
    folded: tuple[int, ...]  # due cues not sent on their own (their moment has passed)
    finished: bool  # the timeline is over: close the walk and ask for the rating


def due_cues(timeline: Timeline, now: datetime, *, last_sent_index: int) -> CueDispatch:
    """Decide what to send now, given the highest cue index already sent (-1 for none).

    - Nothing due, or the walk is paused: send nothing (cues due before a pause are folded into
      the first cue after the resume).
    - The finish is due: "complete". Its text is the finish text; if switches were missed or it
      is more than CATCH_UP_AFTER_S late (the bot was down at the end), it first says the time
      ran out while the bot was offline. The service closes the walk and asks for the rating.
    - Otherwise only the latest due cue matters; earlier due cues are folded into it:
      * a phase cue (a switch instruction) among the folded ones, or the latest cue more than
        CATCH_UP_AFTER_S late (a restart): ONE "Back with you — round 4 of 6: walk BACKWARD
        for 20 s" for the current phase ("catch_up");
      * latest cue at most LATE_GRACE_S late: its planned text as is ("send");
      * later than that: re-worded for the time actually left, so "for 30 s" becomes
        "for 25 s" ("adjusted"). Saying the true time left keeps every cue honest about what to
        do and for how long. A heads-up gets its real countdown, or is dropped when under
        HEADS_UP_MIN_USEFUL_S remain (the switch cue itself is seconds away).
    Lateness is measured in active time, so a pause between the cue and now does not count.
    """
    now = require_aware(now)
    status = timeline.status_at(now)
    due = [c for c in timeline.cues if c.index > last_sent_index and c.at <= now]
    if not due or status.paused:
        return CueDispatch("none", None, False, last_sent_index, (), status.finished)
    latest, folded = due[-1], tuple(c.index for c in due[:-1])
    missed_switch = any(c.kind == "phase" for c in due[:-1])
    late_s = status.elapsed_active_s - latest.offset_s

    def dispatch(action: DispatchAction, text: str | None, sound: bool) -> CueDispatch:
        return CueDispatch(action, text, sound, latest.index, folded, status.finished)

    if latest.kind == "finish":
        away = missed_switch or late_s > CATCH_UP_AFTER_S
        text = f"{copy.AWAY_AT_FINISH}\n{latest.text}" if away else latest.text
        return dispatch("complete", text, True)
    if missed_switch or late_s > CATCH_UP_AFTER_S:
        return dispatch("catch_up", _catch_up_text(timeline.plan, status), True)
    if late_s <= LATE_GRACE_S:
        return dispatch("send", latest.text, latest.sound)
    if latest.kind == "heads_up":
        if status.seconds_left_in_phase < HEADS_UP_MIN_USEFUL_S:
            return dispatch("none", None, False)
        return dispatch("adjusted", _heads_up_now(timeline.plan, status), latest.sound)
    text = _phase_cue_text(
        timeline.plan,
        status.phase_index,
        status.seconds_left_in_phase,
        _halfway_phase(timeline.plan),
    )
    return dispatch("adjusted", text, latest.sound)


def restate_cue(
    timeline: Timeline, now: datetime, *, sent_before: int, claimed: CueDispatch
) -> str | None:
    """What a claimed cue should say if it only leaves at `now` (flood control held it): the
    late policy above, asked again from where the claim started (`sent_before`: the highest
    index sent before it). Within LATE_GRACE_S the text is as claimed; later, re-worded for the
    time actually left ("Turn around: walk BACKWARD for 18 s"). None, so it is dropped, once
    its moment has passed: a later cue has come due (that cue's own job says what to do now),
    or what is left is not worth saying (a heads-up with the switch seconds away)."""
    again = due_cues(timeline, now, last_sent_index=sent_before)
    if again.last_sent_index != claimed.last_sent_index or again.action in ("none", "complete"):
        return None
    return again.text


def last_due_index(timeline: Timeline, now: datetime) -> int:
    """Highest cue index whose instant has passed (-1 if none): on resume the status reply
    covers the moment, so the service can mark these as handled instead of folding them."""
    return max((c.index for c in timeline.cues if c.at <= now), default=-1)


def pending_cues(timeline: Timeline, now: datetime, *, last_sent_index: int) -> tuple[Cue, ...]:
    """Cues still to schedule as date jobs: not yet sent and still in the future."""
    return tuple(c for c in timeline.cues if c.index > last_sent_index and c.at > now)


def _catch_up_text(plan: WalkPlan, status: WalkStatus) -> str:
    phase = status.phase
    then = None
    if status.seconds_left_in_phase <= HEADS_UP_LEAD_S:
        following = _following_phase(plan, status.phase_index)
        if following is not None:
            then = copy.next_phrase(following.kind, following.duration_s)
    return copy.catch_up_text(
        phase.kind, phase.round, plan.rounds, status.seconds_left_in_phase, then
    )


def _heads_up_now(plan: WalkPlan, status: WalkStatus) -> str:
    following = _following_phase(plan, status.phase_index)
    assert following is not None  # heads-ups only exist before a following phase
    return copy.heads_up_text(status.seconds_left_in_phase, following.kind, following.duration_s)


def _following_phase(plan: WalkPlan, index: int) -> Phase | None:
    phases = plan.phases()
    return phases[index + 1] if index + 1 < len(phases) else None


# --- what was done ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WalkSummary:
    backward_s: int
    forward_s: int  # warm-up and cool-down are forward walking too
    active_s: int
    rounds_completed: int  # a round counts once its backward part is done
    rounds_planned: int
    completed: bool  # the whole plan was walked
    text: str


def summarize_walk(
    plan: WalkPlan, started_at: datetime, pauses: Sequence[Pause], ended_at: datetime
) -> WalkSummary:
    """What was actually done up to `ended_at` (finish, "I need to stop", or stop while
    paused: an open pause counts as not walking). Stopping early is recorded, never scored."""
    active = min(_whole_seconds(active_elapsed(started_at, pauses, ended_at)), plan.total_s)
    backward = forward = rounds_done = 0
    for phase, start in zip(plan.phases(), phase_starts(plan), strict=True):
        done = max(0, min(active - start, phase.duration_s))
        if phase.kind == "backward":
            backward += done
            rounds_done += done == phase.duration_s
        else:
            forward += done
    completed = active >= plan.total_s
    text = (
        copy.finished_text(backward, active, rounds_done)
        if completed
        else copy.stopped_text(backward, active, rounds_done, plan.rounds)
    )
    return WalkSummary(backward, forward, active, rounds_done, plan.rounds, completed, text)


# --- effort and knee pain --------------------------------------------------------------------

# walkbot's own 0-10 scale (not Borg's): short enough to sit on a button after the number.
EFFORT_LABELS: dict[int, str] = {
    0: "resting",
    1: "very easy",
    2: "very easy",
    3: "easy",
    4: "easy",
    5: "moderate",
    6: "moderate",
    7: "hard",
    8: "hard",
    9: "very hard",
    10: "maximal",
}
# The talk test, to help people choose between neighbouring words.
EFFORT_QUESTION = (
    "How hard did that feel, 0 to 10?\n"
    "3-4 easy, you could sing · 5-6 moderate, you could talk in sentences · "
    "7-8 hard, a few words at a time"
)
PAIN_QUESTION = "Any knee pain? 0 is none, 10 the worst you can imagine."
PAIN_LIMIT = 5  # domain.md pain rule: up to 5/10 is acceptable if it settles


def effort_button(value: int) -> str:
    """ "5 moderate"."""
    _check_scale(value, "effort")
    return f"{value} {EFFORT_LABELS[value]}"


def pain_above_limit(pain: int) -> bool:
    """For progression: more than 5/10 means hold or step down."""
    _check_scale(pain, "pain")
    return pain > PAIN_LIMIT


def pain_advice(pain: int) -> str | None:
    """The pain rule in words; None when there was no pain."""
    _check_scale(pain, "pain")
    if pain == 0:
        return None
    if pain <= PAIN_LIMIT:
        return (
            f"Pain up to {PAIN_LIMIT}/10 is OK if it settles to your usual level within about "
            "an hour and isn't worse tomorrow morning."
        )
    return (
        f"That's more than {PAIN_LIMIT}/10, so we'll hold this level or step down next time. "
        "If knee pain like this keeps coming back, please see a clinician or physiotherapist."
    )


def _check_scale(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise ValueError(f"{name} must be a whole number from 0 to 10, not {value!r}")
