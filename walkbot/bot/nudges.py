"""The reminder's buttons (data `n:<action>:<yyyymmdd>`), /pause and /resume."""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from walkbot.bot import callbacks, texts, walks
from walkbot.bot.feature import Feature
from walkbot.bot.guard import REFUSALS, Member, Tap, for_set_up_person, on_button
from walkbot.bot.replies import answer_tap, callback_fields, mark_answered
from walkbot.context import WalkbotContext as Context
from walkbot.domain import nudges as domain
from walkbot.services import pauses as service

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

feature = Feature("nudges")


def nudge_markup(day: date, *, snoozable: bool) -> InlineKeyboardMarkup:
    stamp = day.strftime("%Y%m%d")

    def button(label: str, action: str) -> InlineKeyboardButton:
        return callbacks.button(label, callbacks.NUDGE, action, stamp)

    row = [button(START_NOW, "start")]
    if snoozable:
        row.append(button(SNOOZE, "snooze"))
    row.append(button(NOT_TODAY, "skip"))
    return InlineKeyboardMarkup([row])


def _parse_day(stamp: str) -> date | None:
    try:
        return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8])) if len(stamp) == 8 else None
    except ValueError:
        return None


@feature.button(callbacks.NUDGE)
@on_button
async def tap(update: Update, context: Context, tap: Tap) -> None:
    """Start now, Snooze 30 min or Not today, on a reminder."""
    query = tap.query
    action, stamp = callback_fields(tap.data, 2)
    day = _parse_day(stamp)
    # Each reply before the tap's answer and tick, which are cosmetic (see bot/replies.py).
    if action == "start" and day is not None:  # a reminder of any day: the same as /walk
        await walks.walk_command(update, context)  # the same card and flow as /walk
        await answer_tap(query)
        await mark_answered(query, START_NOW)
        return
    if day is None or action not in {"snooze", "skip"}:
        await answer_tap(query, texts.STALE_BUTTON)
        return
    rt = context.runtime
    answer = service.snooze if action == "snooze" else service.not_today
    async with rt.transaction() as session:
        result = await answer(session, telegram_id=tap.id, now=rt.clock.now(), day=day)
    if result.done:
        await context.bot.send_message(tap.id, _nudge_reply(result), disable_notification=True)
    await answer_tap(query, None if result.done else _nudge_reply(result))
    if result.done:
        await mark_answered(query, SNOOZE if action == "snooze" else NOT_TODAY)


def _nudge_reply(result: service.NudgeResult) -> str:
    if result.kind == "snoozed":
        return SNOOZED.format(at=result.at)
    if result.kind == "resting":
        return f"{RESTING}\n{_next_line(result.next_reminder)}"
    if result.kind == "already":
        return ALREADY_SNOOZED
    return STALE_NUDGE if result.kind == "stale" else texts.STALE_BUTTON


def _next_line(next_reminder: str | None) -> str:
    return NO_REMINDERS if next_reminder is None else NEXT_REMINDER.format(when=next_reminder)


@feature.command("pause", menu="Rest from reminders: /pause 7 (days) or /pause 2026-12-24")
@for_set_up_person
async def pause_command(update: Update, context: Context, caller: Member) -> None:
    now = context.runtime.clock.now()
    argument = " ".join(context.args or [])
    async with caller.transaction() as (session, _):
        result = await service.pause(session, telegram_id=caller.id, argument=argument, now=now)
    await caller.chat.send_message(_pause_reply(result))


@feature.command("resume", menu="End a pause: reminders start again")
@for_set_up_person
async def resume_command(update: Update, context: Context, caller: Member) -> None:
    now = context.runtime.clock.now()
    async with caller.transaction() as (session, _):
        result = await service.resume(session, telegram_id=caller.id, now=now)
    await caller.chat.send_message(_pause_reply(result))


def _pause_reply(result: service.PauseResult) -> str:
    replies = {
        **REFUSALS,  # the service still refuses someone without a time zone
        "help": domain.PAUSE_HELP,
        "status": PAUSE_STATUS.format(day=result.day),
        "refused": PAUSE_REFUSED.format(reason=result.reason),
        "paused": PAUSED.format(day=result.day),
        "resumed": f"{RESUMED}\n{_next_line(result.next_reminder)}",
        "not_paused": NOT_PAUSED,
    }
    return replies[result.kind]
