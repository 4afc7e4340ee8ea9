"""The walk as the live screen reads it (the JSON of /work/wt/notes/LIVE_CONTRACT.md): the
timeline on the active-time axis, so the page runs it on the phone's clock, and the words
the chat would show (safety card, summary)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from walkbot.domain import live as live_domain
from walkbot.domain import walks as domain
from walkbot.services import walks
from walkbot.services.live import Prefs
from walkbot.store.models import Walk


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def walk_status(walk: Walk) -> str:
    """ready | active | paused | ended (cancelled walks are deleted, never shown)."""
    if walk.status == "active" and walks.is_paused(walk):
        return "paused"
    return walk.status


def walk_json(walk: Walk, *, needs_support: bool, now: datetime) -> dict[str, Any]:
    plan = walks.plan_of(walk)
    pauses = walks.pauses_of(walk) if walk.started_at is not None else ()
    closed = domain.closed_pause_time(pauses)
    open_pause = domain.open_pause_since(pauses)
    ends_at: datetime | None = None
    if walk.status == "active" and walk.started_at is not None:
        ends_at = walks.timeline_of(walk).ends_at  # None while paused
    elif walk.status == "ended":
        ends_at = walk.ended_at
    summary = None
    if walk.status == "ended" and walk.started_at is not None and walk.ended_at is not None:
        summary = domain.summarize_walk(plan, walk.started_at, pauses, walk.ended_at).text
    return {
        "id": walk.id,
        "status": walk_status(walk),
        "server_now": iso(now),
        "started_at": iso(walk.started_at),
        "ends_at": iso(ends_at),
        "ended_at": iso(walk.ended_at),
        "paused_since": iso(open_pause) if walk.status == "active" else None,
        "paused_s": int(closed.total_seconds()),
        "rounds": plan.rounds,
        "total_s": plan.total_s,
        "plan_text": plan.describe(),
        "phases": [
            {"kind": p.kind, "round": p.round, "start_s": p.start_s, "duration_s": p.duration_s}
            for p in live_domain.live_phases(plan)
        ],
        "end_reason": walk.end_reason,
        "rating_step": walk.rating_step,
        "safety_card": domain.safety_card(needs_support),
        "summary": summary,
    }


def prefs_json(prefs: Prefs) -> dict[str, bool]:
    return {"voice": prefs.voice, "tones": prefs.tones, "warning": prefs.warning}
