"""A person's own data, out (export) and gone (delete)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain.profile import describe_days, format_clock_time
from walkbot.store.models import User, Walk


def _profile(user: User) -> dict[str, Any]:
    return {
        "telegram_id": user.telegram_id,
        "first_name": user.first_name,
        "username": user.username,
        "consented_at": user.consented_at.isoformat(),
        "onboarding_complete": user.onboarding_step is None,
        "screening": user.screening,
        "experience": user.experience,
        "goal": user.goal,
        "timezone": user.timezone,
        "reminder_days": describe_days(user.reminder_days),
        "reminder_time": format_clock_time(user.reminder_time),
        "summary_day": user.summary_day,
        "summary_time": format_clock_time(user.summary_time),
        "units": user.units,
        "level": user.level,
        "created_at": user.created_at.isoformat(),
    }


def _walk(walk: Walk) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": walk.id,
        "plan": walk.plan,
        "status": walk.status,
        "started_at": iso(walk.started_at),
        "ended_at": iso(walk.ended_at),
        "end_reason": walk.end_reason,
        "backward_seconds": walk.backward_s,
        "active_seconds": walk.active_s,
        "rounds_done": walk.rounds_done,
        "effort": walk.effort,
        "knee_pain": walk.knee_pain,
        "note": walk.note,
    }


async def export_user(session: AsyncSession, *, telegram_id: int, now: datetime) -> bytes | None:
    """Everything walkbot holds about one person, as JSON; None when there is nothing."""
    user = await session.get(User, telegram_id)
    if user is None:
        return None
    statement = select(Walk).where(Walk.user_id == telegram_id).order_by(col(Walk.id))
    walks = [_walk(walk) for walk in (await session.exec(statement)).all()]
    document = {"exported_at": now.isoformat(), "profile": _profile(user), "walks": walks}
    return json.dumps(document, indent=2, ensure_ascii=False).encode()
