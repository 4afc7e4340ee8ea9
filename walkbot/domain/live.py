"""The live-walk screen's rules, pure: when chat cues are held back for a screen that is
showing the walk, when they take over again, and the words of the hand-over.

The screen (a Telegram Mini App) runs the walk's timeline on the phone and says "visible"
every 2 s while it is. While the last such heartbeat is at most LIVE_HEARTBEAT_TIMEOUT old the
bot holds that walk's chat cues back, so the phone does not buzz twice; once it is older (the
page was closed, the phone locked, the network went) or the page says it is hidden, the chat
cues take over at once, starting with a line that says where the walk is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from walkbot.domain import walk_copy as copy
from walkbot.domain.schedule import require_aware
from walkbot.domain.walks import WalkPlan, WalkStatus, phase_starts

LIVE_HEARTBEAT_TIMEOUT = timedelta(seconds=5)
# The watchdog looks this long after the timeout, so "more than 5 s old" is already true.
WATCHDOG_SLACK = timedelta(milliseconds=100)

Gate = Literal["send", "hold", "take_over"]


def screen_is_live(seen_at: datetime | None, now: datetime) -> bool:
    """A visible heartbeat at most LIVE_HEARTBEAT_TIMEOUT ago (one from the future, after a
    clock step, counts as fresh)."""
    if seen_at is None:
        return False
    return require_aware(now) - require_aware(seen_at) <= LIVE_HEARTBEAT_TIMEOUT


def cue_gate(seen_at: datetime | None, now: datetime) -> Gate:
    """What a due chat cue does: `hold` while a screen is live (the cue is still claimed, so
    the walk's cue index stays right), `take_over` when a screen was live and has gone quiet
    (the chat cue goes, after the hand-over line), `send` when no screen is showing."""
    if seen_at is None:
        return "send"
    return "hold" if screen_is_live(seen_at, now) else "take_over"


def watchdog_at(seen_at: datetime) -> datetime:
    """When to look again for a screen last seen at `seen_at`: just past its timeout."""
    return require_aware(seen_at) + LIVE_HEARTBEAT_TIMEOUT + WATCHDOG_SLACK


def handover_text(plan: WalkPlan, status: WalkStatus) -> str:
    """ "📱 Live screen closed. Walking BACKWARD: 18 s left, round 3 of 6." and, when a switch
    is close, what comes next: the chat carries on from here."""
    phase = status.phase
    following = _following(plan, status.phase_index)
    then = None
    if following is not None and status.seconds_left_in_phase <= 10:
        then = copy.next_phrase(following.kind, following.duration_s)
    return copy.live_handover_text(
        phase.kind, phase.round, plan.rounds, status.seconds_left_in_phase, then
    )


def _following(plan: WalkPlan, index: int) -> _Next | None:
    phases = plan.phases()
    if index + 1 >= len(phases):
        return None
    return _Next(phases[index + 1].kind, phases[index + 1].duration_s)


@dataclass(frozen=True)
class _Next:
    kind: str
    duration_s: int


@dataclass(frozen=True)
class LivePhase:
    kind: str  # warmup | backward | forward | cooldown
    round: int | None
    start_s: int  # active seconds from the start
    duration_s: int


def live_phases(plan: WalkPlan) -> tuple[LivePhase, ...]:
    """The walk's phases on the active-time axis, for the screen to run its own timeline."""
    return tuple(
        LivePhase(phase.kind, phase.round, start, phase.duration_s)
        for phase, start in zip(plan.phases(), phase_starts(plan), strict=True)
    )
