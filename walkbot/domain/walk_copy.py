"""The words of a walk session: cues, status, catch-up, summary, safety card.

Read on a phone while walking, so every line is short and says what to do and for how long.
UK English. No medical claims beyond /work/shared/domain.md. The "I need to stop" button is
attached by the handler to every cue; the texts here only mention it where it helps.

Only plain values come in (kinds as strings, seconds as ints), so this module imports nothing
from walks.py and the texts can be read and tweaked on their own.
"""

from __future__ import annotations

from walkbot.domain.wording import quantity

# --- durations -------------------------------------------------------------------------------


def format_duration(seconds: int) -> str:
    """30 -> "30 s", 120 -> "2 min", 90 -> "1 min 30 s", 3900 -> "1 h 5 min"."""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds}")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{value} {unit}" for value, unit in ((hours, "h"), (minutes, "min"), (secs, "s")) if value
    ]
    return " ".join(parts) if parts else "0 s"


# --- parsing /walk arguments -----------------------------------------------------------------

FORMAT_HELP = (
    "Write it as rounds x backward/forward, e.g. /walk 6x30/120: "
    "6 rounds of 30 s backward, then 2 min forward.\n"
    "Times can be 45s, 2m or 1m30s (10 s to 30 min), up to 30 rounds.\n"
    "Add w5 or c5 for 5 min of warm-up or cool-down: /walk w5 6x30/120 c5"
)


def plan_error_text(problem: str) -> str:
    return f"{problem}\n\n{FORMAT_HELP}"


# --- tips: one line, varied, about technique and safety --------------------------------------

BACKWARD_TIPS: tuple[str, ...] = (
    "Small steps; land on the ball of your foot.",
    "Glance over your shoulder now and then.",
    "Stand tall, eyes level, arms relaxed.",
    "Stay on a clear, flat path you know.",
    "Slow is fine: control beats speed.",
    "On a treadmill: hold the rails, clip on.",
)
FORWARD_TIPS: tuple[str, ...] = (
    "Breathe easy: you should be able to talk.",
    "Relax your shoulders and shake out your arms.",
    "Check in: how do your knees feel?",
    "Keep a steady, comfortable pace.",
)
WARMUP_TIP = "Look for a clear, flat stretch for the backward parts."
COOLDOWN_TIP = "Ease off gradually and let your breathing settle."


# --- what to do in a phase -------------------------------------------------------------------


def phase_headline(kind: str, seconds: int, *, first: bool) -> str:
    """The first line of a phase cue: the action, in capitals where the direction changes."""
    duration = format_duration(seconds)
    if kind == "warmup":
        return f"▶️ Warm-up: walk forward at an easy pace for {duration}"
    if kind == "backward":
        lead = "Let's go" if first else "Turn around"
        return f"⏪ {lead}: walk BACKWARD for {duration}"
    if kind == "forward":
        return f"▶️ Forward again for {duration}" if not first else f"▶️ Walk forward for {duration}"
    if kind == "cooldown":
        return f"▶️ Cool-down: easy forward walking for {duration}"
    raise ValueError(f"unknown phase kind {kind!r}")


def doing_phrase(kind: str, seconds: int) -> str:
    """Mid-phase wording: "walk BACKWARD for 20 s"."""
    duration = format_duration(seconds)
    if kind == "backward":
        return f"walk BACKWARD for {duration}"
    if kind == "cooldown":
        return f"cool-down, easy forward walking for {duration}"
    if kind == "warmup":
        return f"warm-up, walk forward for {duration}"
    return f"walk forward for {duration}"


def next_phrase(kind: str, seconds: int) -> str:
    """What comes after a switch: "turn around, walk BACKWARD for 30 s"."""
    duration = format_duration(seconds)
    if kind == "backward":
        return f"turn around, walk BACKWARD for {duration}"
    if kind == "cooldown":
        return f"cool-down, easy forward for {duration}"
    return f"forward again for {duration}"


def where_label(kind: str, round_number: int | None, rounds: int) -> str:
    if kind == "warmup":
        return "Warm-up"
    if kind == "cooldown":
        return "Cool-down"
    return f"Round {round_number} of {rounds}"


def progress_line(
    kind: str, round_number: int | None, rounds: int, backward_s: int, notes: list[str]
) -> str:
    """Second line of a phase cue: where you are in the session, plus halfway/last-round notes."""
    if kind == "warmup":
        label = f"Then {quantity(rounds, 'round')} of {format_duration(backward_s)} backward"
    elif kind == "cooldown":
        label = "All rounds done"
    else:
        label = where_label(kind, round_number, rounds)
    return " · ".join([label, *notes])


HALFWAY_NOTE = "Halfway there"
LAST_ROUND_NOTE = "Last round!"


def phase_cue_text(headline: str, progress: str, tip: str) -> str:
    return f"{headline}\n{progress}\n{tip}"


def heads_up_text(in_seconds: int, next_kind: str, next_seconds: int) -> str:
    return f"⏳ In {format_duration(in_seconds)}: {next_phrase(next_kind, next_seconds)}"


def catch_up_text(
    kind: str, round_number: int | None, rounds: int, seconds_left: int, then: str | None
) -> str:
    """One message after missed cues: "Back with you — round 4 of 6: walk BACKWARD for 20 s"."""
    doing = doing_phrase(kind, seconds_left)
    if kind in ("backward", "forward"):
        doing = f"round {round_number} of {rounds}: {doing}"
    text = f"Back with you — {doing}"
    return f"{text}, then {then}" if then else text


# --- the live screen handing the cues back to the chat --------------------------------------

LIVE_SCREEN_CLOSED = "📱 Live screen closed."


def live_handover_text(
    kind: str, round_number: int | None, rounds: int, seconds_left: int, then: str | None
) -> str:
    """ "📱 Live screen closed. Walking BACKWARD: 18 s left, round 3 of 6." """
    left = format_duration(seconds_left)
    if kind == "backward":
        where = f"Walking BACKWARD: {left} left, round {round_number} of {rounds}."
    elif kind == "forward":
        where = f"Walking forward: {left} left, round {round_number} of {rounds}."
    elif kind == "warmup":
        where = f"Warm-up, walking forward: {left} left."
    else:
        where = f"Cool-down, easy forward walking: {left} left."
    text = f"{LIVE_SCREEN_CLOSED} {where}"
    return f"{text}\nThen {then}." if then else text


# --- status for /walk during a walk ----------------------------------------------------------


def status_text(
    *,
    kind: str,
    round_number: int | None,
    rounds: int,
    seconds_left: int,
    remaining_s: int,
    paused: bool,
    finished: bool,
) -> str:
    if finished:
        return "🏁 This walk is complete."
    where = where_label(kind, round_number, rounds)
    direction = "BACKWARD" if kind == "backward" else "forward"
    line = f"{where}: {direction}, {format_duration(seconds_left)} left."
    total = f"{format_duration(remaining_s)} to go in all."
    if paused:
        return f"⏸ Paused. {line}\n{total}\nResume when you're ready."
    return f"{line}\n{total}"


# --- the end ---------------------------------------------------------------------------------


def finished_text(backward_s: int, active_s: int, rounds_done: int) -> str:
    return (
        f"Well done! {format_duration(backward_s)} backward, "
        f"{format_duration(active_s)} in all, {quantity(rounds_done, 'round')}."
    )


def stopped_text(backward_s: int, active_s: int, rounds_done: int, rounds: int) -> str:
    """Stopping is never a failure: say what was done, thank them for listening to their body."""
    if active_s == 0:
        return "Stopped before we began: no problem. Send /walk when you're ready."
    if backward_s == 0:
        return f"Good call to stop when you need to. You walked {format_duration(active_s)} today."
    return (
        f"Good call to stop when you need to. Today: {format_duration(backward_s)} backward, "
        f"{format_duration(active_s)} in all, {rounds_done} of {quantity(rounds, 'round')}."
    )


FINISH_PREFIX = "🏁 "
AWAY_AT_FINISH = (
    "Back with you — your session's time ran out while I was offline, so I've ended it."
)
PAUSED_TOO_LONG = "Your walk has been paused for a couple of hours, so I've ended it here."


# --- before the first cue --------------------------------------------------------------------


def safety_card(needs_support: bool) -> str:
    """Shown once before the first cue; a screening "yes" means support, never a block."""
    where = (
        "• Use support: a treadmill with handrails and the safety clip on, a rail or wall, "
        "or someone beside you. If you haven't yet, check with a clinician first."
        if needs_support
        else "• A clear, flat path you know, or a treadmill with handrails and the safety "
        "clip on (about half your usual speed)."
    )
    return "\n".join(
        (
            "Before you start:",
            where,
            "• Small steps; land on the ball of your foot.",
            "• Glance over your shoulder now and then.",
            '• Stop any time with "I need to stop". Stopping is always fine.',
        )
    )
