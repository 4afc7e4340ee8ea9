"""A person's own data, out (export) and gone (delete).

The export holds the person's `users` row as "profile" and every other table that holds their
id under the table's own name (tests/unit/test_privacy_service.py checks every such table in
the models is there, and is emptied of them by delete_user)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain.profile import describe_days, format_clock_time
from walkbot.services.challenges import memberships
from walkbot.store.models import (
    FailedDelivery,
    LevelChange,
    RestPeriod,
    SixMinuteTest,
    User,
    Walk,
)


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
        "weekly_target": user.weekly_target,
        "board_name": user.board_name,
        "active": user.active,
        "next_nudge_at": user.next_nudge_at.isoformat() if user.next_nudge_at else None,
        "next_summary_at": user.next_summary_at.isoformat() if user.next_summary_at else None,
        "last_reminder_day": user.nudged_on.isoformat() if user.nudged_on else None,
        "last_snooze_day": user.snoozed_on.isoformat() if user.snoozed_on else None,
        "last_summary_week_of": user.summarised_week.isoformat() if user.summarised_week else None,
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
        "level": walk.level,
        "knee_next_morning": walk.knee_morning,
        "knee_next_morning_worse": walk.knee_morning_worse,
    }


async def export_user(session: AsyncSession, *, telegram_id: int, now: datetime) -> bytes | None:
    """Everything walkbot holds about one person, as JSON; None when there is nothing."""
    user = await session.get(User, telegram_id)
    if user is None:
        return None
    statement = select(Walk).where(Walk.user_id == telegram_id).order_by(col(Walk.id))
    walks = [_walk(walk) for walk in (await session.exec(statement)).all()]
    document = {"exported_at": now.isoformat(), "profile": _profile(user), "walks": walks}
    document["six_minute_tests"] = await _six_minute_tests(session, telegram_id)
    document["level_changes"] = await _level_changes(session, telegram_id)
    document["rest_periods"] = await _rest_periods(session, telegram_id)
    document["failed_deliveries"] = await _failed_deliveries(session, telegram_id)
    document["challenge_members"] = await memberships(session, user_id=telegram_id)
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


async def _six_minute_tests(session: AsyncSession, telegram_id: int) -> list[dict[str, Any]]:
    statement = (
        select(SixMinuteTest)
        .where(SixMinuteTest.user_id == telegram_id)
        .order_by(col(SixMinuteTest.id))
    )
    return [
        {
            "id": test.id,
            "direction": test.direction,
            "status": test.status,
            "started_at": test.started_at.isoformat() if test.started_at else None,
            "ended_at": test.ended_at.isoformat() if test.ended_at else None,
            "stopped_early": test.stopped_early,
            "metres": test.metres,
            "laps": test.laps,
            "lap_length_m": test.lap_length_m,
            "effort_before": test.effort_before,
            "effort_after": test.effort_after,
            "symptoms": test.symptoms,
        }
        for test in (await session.exec(statement)).all()
    ]


async def _level_changes(session: AsyncSession, telegram_id: int) -> list[dict[str, Any]]:
    statement = (
        select(LevelChange)
        .where(LevelChange.user_id == telegram_id)
        .order_by(col(LevelChange.changed_at))
    )
    return [
        {
            "changed_at": change.changed_at.isoformat(),
            "from_level": change.from_level,
            "to_level": change.to_level,
            "reason": change.reason,
        }
        for change in (await session.exec(statement)).all()
    ]


async def _rest_periods(session: AsyncSession, telegram_id: int) -> list[dict[str, Any]]:
    statement = (
        select(RestPeriod)
        .where(RestPeriod.user_id == telegram_id)
        .order_by(col(RestPeriod.starts_at))
    )
    return [
        {"starts_at": rest.starts_at.isoformat(), "ends_at": rest.ends_at.isoformat()}
        for rest in (await session.exec(statement)).all()
    ]


async def _failed_deliveries(session: AsyncSession, telegram_id: int) -> list[dict[str, Any]]:
    """Messages to the person not known to have arrived (or, mid-send, in flight)."""
    statement = (
        select(FailedDelivery)
        .where(FailedDelivery.user_id == telegram_id)
        .order_by(col(FailedDelivery.failed_at), col(FailedDelivery.id))
    )
    return [
        {
            "kind": failed.kind,
            "due_at": failed.due_at.isoformat() if failed.due_at else None,
            "failed_at": failed.failed_at.isoformat(),
            "detail": failed.detail,
        }
        for failed in (await session.exec(statement)).all()
    ]
