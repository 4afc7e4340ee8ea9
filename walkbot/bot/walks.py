"""/walk, its controls, the ratings after it, /stop and /history."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, InlineKeyboardMarkup, Update

from walkbot.bot import callbacks, texts, walk_followups, walk_views
from walkbot.bot.feature import Feature
from walkbot.bot.guard import (
    REFUSALS,
    Caller,
    Member,
    Tap,
    for_known_person,
    for_person,
    for_set_up_person,
    on_button,
)
from walkbot.bot.people import person_of
from walkbot.bot.replies import (
    answer_tap,
    callback_fields,
    joined,
    mark_answered,
    number_field,
    query_message,
    show_next,
)
from walkbot.bot.sixmin_views import stop_button
from walkbot.context import WalkbotContext as Context
from walkbot.domain import walks as domain
from walkbot.scheduling import cues
from walkbot.services import walks as service
from walkbot.services.walk_history import history_text
from walkbot.store.models import Walk

feature = Feature("walks")


@feature.command("walk", menu="Start today's backward-walking session")
@for_set_up_person
async def walk_command(update: Update, context: Context, caller: Member) -> None:
    now = context.runtime.clock.now()
    try:
        plan = domain.parse_custom_plan(" ".join(context.args)) if context.args else None
    except domain.PlanError as error:
        await caller.chat.send_message(str(error))
        return
    async with caller.transaction() as (session, _):
        card = await service.request_walk(session, telegram_id=caller.id, plan=plan, now=now)
    if card.kind == "over":
        # A walk whose time is up but whose finish never went (or is going now): its finish
        # words and rating question first, as the last cue would have sent them, then the
        # new walk asked for. The compare-and-set keeps a finish job running now from doubling.
        await cues.fire_due_cue(context.application, card.id)
        async with caller.transaction() as (session, _):
            card = await service.request_walk(session, telegram_id=caller.id, plan=plan, now=now)
    text, markup = _walk_reply(card, live_url=context.runtime.settings.webapp_url)
    await caller.chat.send_message(text, reply_markup=markup)


def _walk_reply(
    card: service.WalkCard, *, live_url: str | None = None
) -> tuple[str, InlineKeyboardMarkup | None]:
    if card.kind == "testing":
        return texts.SIXMIN_RUNNING, stop_button(card.id)
    if card.kind in REFUSALS:  # the guard answers these before the service is asked
        return REFUSALS[card.kind], None
    if card.kind == "over":  # still open after its wrap-up was tried: say so, not "complete"
        return texts.WALK_WRAPPING_UP, None
    if card.kind == "open":
        status = joined(texts.ALREADY_WALKING, card.status)
        return status, walk_views.controls(card.id, paused=card.paused, live_url=live_url)
    text = joined(texts.WALK_PLAN.format(plan=card.plan), domain.safety_card(card.needs_support))
    return text, walk_views.start_card(card.id, live_url=live_url)


@feature.button(callbacks.WALK)
@on_button
async def control(update: Update, context: Context, tap: Tap) -> None:
    """Start, Pause, Resume, Stop, "I need to stop", Not now: only on one's own open walk."""
    query = tap.query
    walk_text, action = callback_fields(tap.data, 2)
    walk_id = number_field(walk_text)
    rt = context.runtime
    now = rt.clock.now()
    async with rt.transaction() as session:
        result = await service.control(
            session, user_id=tap.id, walk_id=walk_id, action=action, now=now
        )
    if result.walk is None or not result.done:
        await answer_tap(query, texts.STALE_BUTTON)
        return
    # The jobs and messages first: answering the tap is cosmetic, and Telegram refuses it for
    # taps older than 10-15 s (queued over a restart), which must not cost the walk its cues.
    await _after_control(query, context, result.walk, action, result.summary, now)
    await answer_tap(query)


async def _after_control(
    query: CallbackQuery,
    context: Context,
    walk: Walk,
    action: str,
    summary: domain.WalkSummary | None,
    now: datetime,
) -> None:
    if action == "cancel":
        await show_next(context.bot, walk.user_id, query_message(query), texts.WALK_CANCELLED)
        return
    await walk_followups.after_control(context.application, walk, action, summary, now)
    if action == "start":
        await mark_answered(query, "Started")  # cosmetic: after the cues, failure logged


async def _after_stop(context: Context, walk: Walk, text: str, now: datetime) -> None:
    """Cues off, what was done, then the rating questions (with one later reminder)."""
    await cues.wrap_up(context.application, walk, text, now)


@feature.command("stop", menu="End the walk you're on")
@for_person
async def stop_command(update: Update, context: Context, caller: Caller) -> None:
    rt = context.runtime
    now = rt.clock.now()
    async with rt.transaction() as session:
        result = await service.stop_open(session, user_id=caller.id, now=now)
    if result.walk is None or not result.done:
        await caller.chat.send_message(texts.NO_WALK)
    elif result.summary is None:
        await caller.chat.send_message(texts.WALK_CANCELLED)
    else:
        await _after_stop(context, result.walk, result.summary.text, now)


@feature.button(callbacks.RATE)
@on_button
async def rate(update: Update, context: Context, tap: Tap) -> None:
    query = tap.query
    walk_text, step, raw = callback_fields(tap.data, 3)
    value = number_field(raw)
    rt = context.runtime
    async with rt.transaction() as session:
        walk = await _walk(session, tap.id, walk_text)
        skip_ok = raw == "skip" and step in {"pain", "note"}
        rated = None
        if walk is not None and (value is not None or skip_ok):
            rated = await service.rate(
                session, walk=walk, step=step, value=value, now=rt.clock.now()
            )
    if walk is None or rated is None or not rated.accepted:
        await answer_tap(query, texts.STALE_BUTTON)
        return
    chosen = "skipped" if value is None else _chosen(step, value)
    await walk_followups.next_rating(
        context.application, walk, rated, message=query_message(query), chosen=chosen
    )
    await answer_tap(query)  # after the next question, which matters more than the spinner


async def _walk(session: AsyncSession, user_id: int, walk_text: str) -> Walk | None:
    walk_id = number_field(walk_text)
    if walk_id is None:
        return None
    return await service.owned_walk(session, user_id=user_id, walk_id=walk_id)


def _chosen(step: str, value: int) -> str:
    return domain.effort_button(value) if step == "effort" else f"{value}/10"


async def take_note(update: Update, context: Context) -> bool:
    """A typed answer to "anything to note?"; False when no note is owed."""
    person, message = person_of(update), update.effective_message
    if person is None or message is None or message.text is None:
        return False
    rt = context.runtime
    async with rt.transaction() as session:
        walk = await service.owed_rating(session, user_id=person.telegram_id)
        if walk is None or walk.rating_step != "note":
            return False
        rated = await service.rate(
            session, walk=walk, step="note", value=message.text, now=rt.clock.now()
        )
    await walk_followups.next_rating(context.application, walk, rated)
    return True


@feature.command("history", menu="Your latest walks")
@for_known_person
async def history(update: Update, context: Context, caller: Member) -> None:
    async with caller.transaction() as (session, user):
        text = await history_text(session, user=user, now=context.runtime.clock.now())
    await caller.chat.send_message(text)
