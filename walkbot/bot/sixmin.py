"""/sixmin: the guided six-minute walk test, its buttons (`6m:`), and its typed answers."""

from __future__ import annotations

from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update

from walkbot.bot import sixmin_views as views
from walkbot.bot import texts
from walkbot.bot.replies import callback_fields, edit_text, joined, mark_answered, query_message
from walkbot.bot.runtime import Context, person_of, runtime_of
from walkbot.domain import sixmin as domain
from walkbot.domain.screening import needs_support
from walkbot.domain.walks import effort_button
from walkbot.scheduling import sixmin as jobs
from walkbot.services import sixmin as service
from walkbot.services import walks as walk_service
from walkbot.services.users import get_user
from walkbot.store.models import SixMinuteTest, Walk

ON_A_WALK = "You're on a walk right now. Finish it first (/stop ends it), then try /sixmin."
NOT_TODAY = "No problem. Send /sixmin whenever you'd like to do the test."
SKIPPED = "Skipped"


async def sixmin_command(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = runtime_of(context)
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        walk = await walk_service.open_walk(session, user_id=person.telegram_id)
        test = await service.open_test(session, user_id=person.telegram_id)
        latest = await service.latest_results(session, user_id=person.telegram_id)
    if user is None or user.onboarding_step is not None:
        await chat.send_message(texts.NEED_START if user is None else texts.FINISH_SETUP_FIRST)
    elif (busy := _busy_reply(walk, test, user.units)) is not None:
        text, markup = busy
        await chat.send_message(text, reply_markup=markup)
    else:
        text, markup = views.choose(latest, user.units)
        await chat.send_message(text, reply_markup=markup, disable_notification=True)


def _busy_reply(
    walk: Walk | None, test: SixMinuteTest | None, units: str
) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """What is under way comes before a new test: a walk, a test running, or one still being
    recorded. None when nothing is."""
    if walk is not None and walk.status == "active":
        return ON_A_WALK, None
    if test is None or test.id is None:
        return None
    if test.status == "running":
        return texts.SIXMIN_RUNNING, views.stop_button(test.id)
    if test.status == "recording":
        text, markup = views.prompt_for(test.id, test.step, units, stopped_early=test.stopped_early)
        return joined("First, let's finish recording your last test.", text), markup
    return None


async def button(update: Update, context: Context) -> None:
    """Every `6m:` button: checked against the owner and the test's state before anything."""
    query, person = update.callback_query, person_of(update)
    if query is None or person is None or query.data is None:
        return
    target, action, value = callback_fields(query.data, 3)
    if target == "new":
        await _choose(query, context, person.telegram_id, action)
        return
    rt = runtime_of(context)
    now = rt.clock.now()
    async with rt.transaction() as session:
        test = None
        if target.isdigit():
            test = await service.owned_test(
                session, user_id=person.telegram_id, test_id=int(target)
            )
        user = await get_user(session, telegram_id=person.telegram_id)
        units = user.units if user is not None else "km"
        outcome: Any = None
        if test is not None:
            outcome = await _apply(session, test, action, value, units, now)
    if test is None or outcome is None or outcome is False:
        await query.answer(texts.STALE_BUTTON)
        return
    await query.answer()
    await _after(query, context, test, action, value, units, outcome, now)


async def _apply(
    session: Any, test: SixMinuteTest, action: str, value: str, units: str, now: Any
) -> Any:
    if action == "start":
        return await service.start(session, test=test, now=now)
    if action == "cancel":
        return await service.cancel(session, test=test)
    if action == "stop":
        return await service.stop(session, test=test, now=now)
    step = {"eb": "effort_before", "ea": "effort_after", "dist": "distance", "sym": "symptoms"}
    if action not in step:
        return None
    answer: int | None
    if value.isdigit() and action in ("eb", "ea"):
        answer = int(value)
    elif value in ("skip", "none") and action in ("ea", "dist", "sym"):
        answer = None
    else:
        return None
    answered = await service.answer(
        session, test=test, step=step[action], value=answer, units=units, now=now
    )
    return answered if answered.accepted else None


async def _choose(query: CallbackQuery, context: Context, user_id: int, direction: str) -> None:
    if direction not in domain.DIRECTIONS:
        await query.answer(texts.STALE_BUTTON)
        return
    rt = runtime_of(context)
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=user_id)
        walk = await walk_service.open_walk(session, user_id=user_id)
        walking = walk is not None and walk.status == "active"
        test = None
        if user is not None and user.onboarding_step is None and not walking:
            test = await service.create(
                session, user=user, direction=domain.direction_of(direction), now=rt.clock.now()
            )
    if walking:
        await query.answer(ON_A_WALK[:190])
        return
    if user is None or test is None or test.id is None:
        ready = user is not None and user.onboarding_step is None
        await query.answer(texts.SIXMIN_RUNNING if ready else texts.STALE_BUTTON)
        return
    await query.answer()
    await mark_answered(query, direction.capitalize())
    text, markup = views.setup_card(
        test.id,
        domain.direction_of(test.direction),
        needs_support=needs_support(user.screening),
    )
    await context.bot.send_message(user_id, text, reply_markup=markup, disable_notification=True)


async def _after(
    query: CallbackQuery,
    context: Context,
    test: SixMinuteTest,
    action: str,
    value: str,
    units: str,
    outcome: Any,
    now: Any,
) -> None:
    message, chat_id = query_message(query), test.user_id
    assert test.id is not None
    job_queue = context.job_queue
    assert job_queue is not None
    if action == "start":
        await mark_answered(query, "Started")
        jobs.schedule_cues(job_queue, test, now)
        await context.bot.send_message(
            chat_id, domain.GO_TEXT, reply_markup=views.stop_button(test.id)
        )
    elif action == "cancel":
        await edit_text(message, NOT_TODAY)
    elif action == "stop":
        jobs.cancel_cues(job_queue, test.id)
        await edit_text(message, _text(query))  # the Stop button goes away
        text, markup = views.distance_prompt(test.id, units, stopped_early=True)
        await context.bot.send_message(
            chat_id, joined(domain.STOPPED_EARLY_TEXT, text), reply_markup=markup
        )
    else:
        await mark_answered(query, _chosen(action, value, outcome))
        await _next(context, test, outcome, units)


def _chosen(action: str, value: str, answered: service.Answered) -> str:
    if answered.chosen is not None:
        return answered.chosen
    if value.isdigit():
        return effort_button(int(value))
    return "None" if value == "none" else SKIPPED


async def _next(
    context: Context,
    test: SixMinuteTest,
    answered: service.Answered,
    units: str,
    *,
    prefix: str | None = None,
) -> None:
    """After an answer: the next question, or the result."""
    assert test.id is not None
    chat_id = test.user_id
    if test.status == "setup":
        text, markup = views.ready(test.id)
        await context.bot.send_message(chat_id, joined(prefix, text), reply_markup=markup)
    elif answered.next_step is not None:
        text, markup = views.prompt_for(
            test.id, answered.next_step, units, stopped_early=test.stopped_early
        )
        await context.bot.send_message(
            chat_id, joined(prefix, text), reply_markup=markup, disable_notification=True
        )
    else:
        await context.bot.send_message(
            chat_id, joined(prefix, _result_text(answered)), disable_notification=True
        )


def _result_text(answered: service.Answered) -> str:
    if answered.comparison is None:
        summary = "Saved, without a distance this time."
    else:
        summary = f"📏 {answered.comparison.text}"
    return joined(
        summary,
        answered.advice,
        "All saved. Repeat the test every few weeks, same place and direction, to see your "
        "progress: /sixmin.",
    )


async def take_text(update: Update, context: Context) -> bool:
    """A typed distance or note for a test being recorded; False when none is owed."""
    person, message = person_of(update), update.effective_message
    if person is None or message is None or message.text is None:
        return False
    rt = runtime_of(context)
    async with rt.transaction() as session:
        test = await service.owed_text(session, user_id=person.telegram_id)
        if test is None or test.step is None:
            return False
        user = await get_user(session, telegram_id=person.telegram_id)
        units = user.units if user is not None else "km"
        answered = await service.answer(
            session, test=test, step=test.step, value=message.text, units=units, now=rt.clock.now()
        )
    if answered.error is not None:
        await message.reply_text(answered.error, disable_notification=True)
        return True
    if not answered.accepted:
        return False
    got = f"Got it: {answered.chosen}." if answered.chosen is not None else None
    await _next(context, test, answered, units, prefix=got)
    return True


def _text(query: CallbackQuery) -> str:
    message = query_message(query)
    return message.text or "" if message is not None else ""
