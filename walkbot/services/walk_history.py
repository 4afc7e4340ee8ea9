"""/history: the last walks in the person's own time zone, and the totals."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain.walk_copy import format_duration
from walkbot.domain.wording import quantity
from walkbot.services.users import zone_of
from walkbot.services.walks import history
from walkbot.store.models import User, Walk

EMPTY = "No walks yet. /walk starts your first one."


def _line(walk: Walk, zone: ZoneInfo) -> str:
    when = (walk.started_at or walk.created_at).astimezone(zone).strftime("%a %d %b")
    parts = [
        when,
        f"{format_duration(walk.backward_s)} backward",
        quantity(walk.rounds_done, "round"),
    ]
    if walk.effort is not None:
        parts.append(f"effort {walk.effort}")
    if walk.knee_pain is not None:
        parts.append(f"knee {walk.knee_pain}")
    if walk.end_reason in {"stopped", "need_to_stop"}:
        parts.append("stopped early")
    return " · ".join(parts)


async def history_text(session: AsyncSession, *, user: User, now: datetime) -> str:
    found = await history(session, user_id=user.telegram_id)
    if found.count == 0:
        return EMPTY
    zone = ZoneInfo(zone_of(user))
    lines = [_line(walk, zone) for walk in found.walks]
    total = (
        f"In all: {quantity(found.count, 'walk')}, {format_duration(found.backward_s)} backward, "
        f"{format_duration(found.active_s)} walking."
    )
    shown = quantity(len(lines), "walk")
    head = "Your latest walks:" if found.count <= len(lines) else f"Your last {shown}:"
    return "\n".join([head, *lines, "", total])
