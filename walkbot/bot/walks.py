"""/walk, its controls, the ratings after it, /stop and /history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, InlineKeyboardMarkup, Update

from walkbot.bot import texts, walk_views
from walkbot.bot.replies import callback_fields, edit_text, joined, mark_answered, query_message
from walkbot.bot.runtime import Context, person_of, runtime_of
from walkbot.bot.sixmin_views import stop_button
from walkbot.domain import walks as domain
from walkbot.domain.screening import needs_support
from walkbot.scheduling import cues
from walkbot.services import sixmin as sixmin_service
from walkbot.services import walks as service
from walkbot.services.users import get_user
from walkbot.services.walk_history import history_text
from walkbot.store.models import SixMinuteTest, User, Walk


async def walk_command(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    now = rt.clock.now()
    try:
        plan = domain.parse_custom_plan(" ".join(context.args)) if context.args else None
    except domain.PlanError as error:
        await chat.send_message(str(error))
        return
    async with rt.transaction() as session:
        user, test, walk, is_new = await _prepare(session, person.telegram_id, plan, now)
    text, markup = _walk_reply(user, test, walk, is_new=is_new, now=now)
    await chat.send_message(text, reply_markup=markup)


async def _prepare(
    session: AsyncSession, user_id: int, plan: domain.WalkPlan | None, now: datetime
) -> tuple[User | None, SixMinuteTest | None, Walk | None, bool]:
    """The person, a six-minute test under way, and the walk to show (new or already open);
    no walk while a test runs or before setup is done."""
    user = await get_user(session, telegram_id=user_id)
    test = await sixmin_service.running_test(session, user_id=user_id)
    if user is None or user.onboarding_step is not None or test is not None:
        return user, test, None, False
    walk, is_new = await service.prepare(session, user=user, plan=plan, now=now)
    return user, test, walk, is_new


def _walk_reply(
    user: User | None,
    test: SixMinuteTest | None,
    walk: Walk | None,
    *,
    is_new: bool,
    now: datetime,
) -> tuple[str, InlineKeyboardMarkup | None]:
    if test is not None and test.id is not None:
        return texts.SIXMIN_RUNNING, stop_button(test.id)
    if user is None or walk is None or walk.id is None:
        return (texts.NEED_START if user is None else texts.FINISH_SETUP_FIRST), None
    if not is_new:
        status = joined(texts.ALREADY_WALKING, service.status_of(walk, now).text())
        return status, walk_views.controls(walk.id, paused=service.is_paused(walk))
    card = joined(
        texts.WALK_PLAN.format(plan=plan_of_text(walk)),
        domain.safety_card(needs_support(user.screening)),
    )
    return card, walk_views.start_card(walk.id)


def plan_of_text(walk: Any) -> str:
    return service.plan_of(walk).describe()


async def control(update: Update, context: Context) -> None:
    """Start, Pause, Resume, Stop, "I need to stop", Not now: only on one's own open walk."""
    query, person = update.callback_query, person_of(update)
    if query is None or person is None or query.data is None:
        return
    walk_text, action = callback_fields(query.data, 2)
    rt = runtime_of(context)
    now = rt.clock.now()
    async with rt.transaction() as session:
        walk = await _walk(session, person.telegram_id, walk_text)
        summary, done = None, False
        if walk is not None:
            summary, done = await _apply(session, walk, action, now)
    if walk is None or not done:
        await query.answer(texts.STALE_BUTTON)
        return
    await query.answer()
    await _after_control(query, context, walk, action, summary, now)


async def _walk(session: Any, user_id: int, walk_text: str) -> Any:
    if not walk_text.isdigit():
        return None
    return await service.owned_walk(session, user_id=user_id, walk_id=int(walk_text))


async def _apply(session: Any, walk: Any, action: str, now: Any) -> tuple[Any, bool]:
    if action == "start":
        return None, await service.start(session, walk=walk, now=now)
    if action == "pause":
        return None, await service.pause(session, walk=walk, now=now)
    if action == "resume":
        return None, await service.resume(session, walk=walk, now=now)
    if action == "cancel":
        return None, await service.cancel(session, walk=walk)
    if action in {"stop", "need"}:
        reason: service.EndReason = "need_to_stop" if action == "need" else "stopped"
        summary = await service.end(session, walk=walk, now=now, reason=reason)
        return summary, summary is not None
    return None, False


async def _after_control(
    query: CallbackQuery,
    context: Context,
    walk: Any,
    action: str,
    summary: domain.WalkSummary | None,
    now: Any,
) -> None:
    message = query_message(query)
    job_queue = context.job_queue
    assert job_queue is not None
    if action == "start":
        await mark_answered(query, "Started")
        cues.schedule_cues(job_queue, walk, now)
        await cues.fire_due_cue(context.application, walk.id)  # the first cue is due now
    elif action == "pause":
        cues.cancel_cues(job_queue, walk.id)
        await _send(context, walk, service.status_of(walk, now).text(), paused=True)
    elif action == "resume":
        cues.schedule_cues(job_queue, walk, now)
        await _send(
            context, walk, joined(texts.RESUMED, service.status_of(walk, now).text()), paused=False
        )
    elif action == "cancel":
        await edit_text(message, texts.WALK_CANCELLED)
    else:
        words = texts.NEED_TO_STOP_REPLY if action == "need" else None
        await _after_stop(context, walk, joined(words, summary.text if summary else None), now)


async def _after_stop(context: Context, walk: Any, text: str, now: Any) -> None:
    """Cues off, what was done, then the rating questions (with one later reminder)."""
    assert context.job_queue is not None
    cues.cancel_cues(context.job_queue, walk.id)
    await context.bot.send_message(walk.user_id, text)
    if await cues.send_effort_prompt(context.application, walk):
        cues.schedule_rating_reminder(context.job_queue, walk, now)


async def _send(context: Context, walk: Any, text: str, *, paused: bool) -> None:
    await context.bot.send_message(
        walk.user_id,
        text,
        reply_markup=walk_views.controls(walk.id, paused=paused),
        disable_notification=True,
    )


async def stop_command(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    now = rt.clock.now()
    async with rt.transaction() as session:
        walk = await service.open_walk(session, user_id=person.telegram_id)
        summary, done = (
            (None, False)
            if walk is None
            else await _apply(session, walk, "stop" if walk.status == "active" else "cancel", now)
        )
    if walk is None or not done:
        await chat.send_message(texts.NO_WALK)
    elif summary is None:
        await chat.send_message(texts.WALK_CANCELLED)
    else:
        await _after_stop(context, walk, summary.text, now)


async def rate(update: Update, context: Context) -> None:
    query, person = update.callback_query, person_of(update)
    if query is None or person is None or query.data is None:
        return
    walk_text, step, raw = callback_fields(query.data, 3)
    value: int | None = int(raw) if raw.isdigit() else None
    rt = runtime_of(context)
    async with rt.transaction() as session:
        walk = await _walk(session, person.telegram_id, walk_text)
        skip_ok = raw == "skip" and step in {"pain", "note"}
        rated = None
        if walk is not None and (value is not None or skip_ok):
            rated = await service.rate(
                session, walk=walk, step=step, value=value, now=rt.clock.now()
            )
    if walk is None or rated is None or not rated.accepted:
        await query.answer(texts.STALE_BUTTON)
        return
    await query.answer()
    await mark_answered(query, "Skipped" if value is None else _chosen(step, value))
    await _next_rating(context, walk, rated)


def _chosen(step: str, value: int) -> str:
    return domain.effort_button(value) if step == "effort" else f"{value}/10"


async def _next_rating(context: Context, walk: Any, rated: service.Rated) -> None:
    if rated.next_step == "pain":
        text, markup = walk_views.pain_prompt(walk.id)
    elif rated.next_step == "note":
        text, markup = walk_views.note_prompt(walk.id)
    else:
        await context.bot.send_message(walk.user_id, texts.RATING_THANKS, disable_notification=True)
        return
    decision = rated.decision.line if rated.decision else None
    await context.bot.send_message(
        walk.user_id,
        joined(rated.advice, decision, text),
        reply_markup=markup,
        disable_notification=True,
    )


async def take_note(update: Update, context: Context) -> bool:
    """A typed answer to "anything to note?"; False when no note is owed."""
    person, message = person_of(update), update.effective_message
    if person is None or message is None or message.text is None:
        return False
    rt = runtime_of(context)
    async with rt.transaction() as session:
        walk = await service.owed_rating(session, user_id=person.telegram_id)
        if walk is None or walk.rating_step != "note":
            return False
        rated = await service.rate(
            session, walk=walk, step="note", value=message.text, now=rt.clock.now()
        )
    await _next_rating(context, walk, rated)
    return True


async def history(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        text = (
            texts.NEED_START
            if user is None
            else await history_text(session, user=user, now=rt.clock.now())
        )
    await chat.send_message(text)
