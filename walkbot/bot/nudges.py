"""The reminder's buttons (data `n:<action>:<yyyymmdd>`), /pause and /resume."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from walkbot.bot import texts, walks
from walkbot.bot.replies import callback_fields, mark_answered
from walkbot.bot.runtime import Context, person_of, runtime_of
from walkbot.domain import nudges as domain
from walkbot.domain.schedule import local_date
from walkbot.services import dispatch as service
from walkbot.services.users import get_user, zone_of
from walkbot.store.models import User

START_NOW = "▶ Start now"
SNOOZE = "Snooze 30 min"
NOT_TODAY = "Not today"

SNOOZED = "Snoozed: I'll remind you again at {at}."
ALREADY_SNOOZED = "Already snoozed once today."
STALE_NUDGE = "That reminder is from an earlier day."
RESTING = "No problem. Rest well; rest days are part of the plan."
NEXT_REMINDER = "Next reminder: {when}."
NO_REMINDERS = "Reminders are off. /settings turns them on."

PAUSED = (
    "Reminders paused. They start again on {day}.\n"
    "The weekly summary still comes, and resting weeks don't count against your streak. "
    "/resume ends the pause early."
)
PAUSE_REFUSED = "{reason}\n\n" + domain.PAUSE_HELP
PAUSE_STATUS = "Reminders are paused until {day}. /resume starts them again now."
RESUMED = "Welcome back! Reminders are on again."
NOT_PAUSED = "Reminders aren't paused."


def nudge_markup(day: date, *, snoozable: bool) -> InlineKeyboardMarkup:
    stamp = day.strftime("%Y%m%d")
    row = [InlineKeyboardButton(START_NOW, callback_data="n:start:" + stamp)]
    if snoozable:
        row.append(InlineKeyboardButton(SNOOZE, callback_data="n:snooze:" + stamp))
    row.append(InlineKeyboardButton(NOT_TODAY, callback_data="n:skip:" + stamp))
    return InlineKeyboardMarkup([row])


def _parse_day(stamp: str) -> date | None:
    try:
        return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8])) if len(stamp) == 8 else None
    except ValueError:
        return None


async def tap(update: Update, context: Context) -> None:
    """Start now, Snooze 30 min or Not today, on a reminder."""
    query, person = update.callback_query, person_of(update)
    if query is None or person is None or query.data is None:
        return
    action, stamp = callback_fields(query.data, 2)
    day = _parse_day(stamp)
    if action == "start":
        await query.answer()
        await mark_answered(query, START_NOW)
        await walks.walk_command(update, context)  # the same card and flow as /walk
        return
    if day is None or action not in {"snooze", "skip"}:
        await query.answer(texts.STALE_BUTTON)
        return
    rt = runtime_of(context)
    now = rt.clock.now()
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        if user is None:
            answer, done = texts.STALE_BUTTON, False
        elif action == "snooze":
            answer, done = await _snooze(session, user, now, day)
        else:
            answer, done = await _not_today(session, user, now, day)
    await query.answer(None if done else answer)
    if done:
        await mark_answered(query, SNOOZE if action == "snooze" else NOT_TODAY)
        await context.bot.send_message(person.telegram_id, answer, disable_notification=True)


async def _snooze(session: AsyncSession, user: User, now: datetime, day: date) -> tuple[str, bool]:
    outcome, until = await service.snooze(session, user=user, now=now, day=day)
    if outcome == "stale":
        return STALE_NUDGE, False
    if outcome == "already":
        return ALREADY_SNOOZED, False
    assert until is not None and user.timezone is not None
    return SNOOZED.format(at=until.astimezone(_zone(user)).strftime("%H:%M")), True


async def _not_today(
    session: AsyncSession, user: User, now: datetime, day: date
) -> tuple[str, bool]:
    accepted, following = await service.not_today(session, user=user, now=now, day=day)
    if not accepted:
        return STALE_NUDGE, False
    return f"{RESTING}\n{_next_line(user, following, now)}", True


def _zone(user: User) -> ZoneInfo:
    return ZoneInfo(zone_of(user))


def _next_line(user: User, following: datetime | None, now: datetime) -> str:
    if following is None or user.timezone is None:
        return NO_REMINDERS
    local = following.astimezone(_zone(user))
    today = local_date(now, user.timezone)
    when = f"{domain.describe_date(local.date(), today=today)} at {local.strftime('%H:%M')}"
    return NEXT_REMINDER.format(when=when)


async def pause_command(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    now = rt.clock.now()
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        reply = await _pause(session, user, " ".join(context.args or []), now)
    await chat.send_message(reply)


async def _pause(session: AsyncSession, user: User | None, argument: str, now: datetime) -> str:
    if user is None:
        return texts.NEED_START
    if user.onboarding_step is not None or user.timezone is None:
        return texts.FINISH_SETUP_FIRST
    zone, today = user.timezone, local_date(now, user.timezone)
    request = domain.parse_pause(argument, now=now, zone=zone)
    if request is None:
        current = await service.current_pause(session, user_id=user.telegram_id, now=now)
        if current is None:
            return domain.PAUSE_HELP
        day = domain.describe_date(local_date(current.ends_at, zone), today=today)
        return PAUSE_STATUS.format(day=day)
    if isinstance(request, domain.PauseRefused):
        return PAUSE_REFUSED.format(reason=request.reason)
    if isinstance(request, domain.PauseOff):
        return await _resume(session, user, now)
    await service.pause(session, user=user, now=now, until=request)
    return PAUSED.format(day=domain.describe_date(request.resume_on, today=today))


async def _resume(session: AsyncSession, user: User, now: datetime) -> str:
    if not await service.resume(session, user=user, now=now):
        return NOT_PAUSED
    return f"{RESUMED}\n{_next_line(user, user.next_nudge_at, now)}"


async def resume_command(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    now = rt.clock.now()
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        if user is None:
            reply = texts.NEED_START
        elif user.onboarding_step is not None or user.timezone is None:
            reply = texts.FINISH_SETUP_FIRST
        else:
            reply = await _resume(session, user, now)
    await chat.send_message(reply)
