"""/sixmin: the guided six-minute walk test, its buttons (`6m:`), and its typed answers."""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.error import Forbidden, TelegramError

from walkbot.bot import callbacks, texts
from walkbot.bot import sixmin_views as views
from walkbot.bot.feature import Feature
from walkbot.bot.guard import Member, Tap, for_set_up_person, on_button
from walkbot.bot.people import person_of
from walkbot.bot.replies import (
    answer_tap,
    callback_fields,
    edit_text,
    joined,
    mark_answered,
    number_field,
    query_message,
    show_next,
)
from walkbot.context import WalkbotContext as Context
from walkbot.domain import sixmin as domain
from walkbot.domain.walks import effort_button
from walkbot.scheduling import cues
from walkbot.scheduling import sixmin as jobs
from walkbot.services import sixmin as service
from walkbot.services import sixmin_taps as taps
from walkbot.services import walks as walk_service
from walkbot.services.users import get_user
from walkbot.store.models import SixMinuteTest, Walk

ON_A_WALK = "You're on a walk right now. Finish it first (/stop ends it), then try /sixmin."
NOT_TODAY = "No problem. Send /sixmin whenever you'd like to do the test."
SKIPPED = "Skipped"

log = logging.getLogger(__name__)

feature = Feature("sixmin")


@feature.command("sixmin", menu="Six-minute walk test")
@for_set_up_person
async def sixmin_command(update: Update, context: Context, caller: Member) -> None:
    async with caller.transaction() as (session, user):
        walk = await walk_service.open_walk(session, user_id=caller.id)
        test = await service.open_test(session, user_id=caller.id)
        latest = await service.latest_results(session, user_id=caller.id)
    now = context.runtime.clock.now()
    if walk is not None and walk.id is not None and walk_service.is_over(walk, now):
        # A walk whose time is up but whose finish never went: wrap it up as its last cue
        # would have (its words and rating question), then it no longer stands in the way.
        await cues.fire_due_cue(context.application, walk.id)
        async with caller.transaction() as (session, user):
            walk = await walk_service.open_walk(session, user_id=caller.id)
    if (busy := _busy_reply(walk, test, user.units)) is not None:
        text, markup = busy
        await caller.chat.send_message(text, reply_markup=markup)
    else:
        text, markup = views.choose(latest, user.units)
        await caller.chat.send_message(text, reply_markup=markup, disable_notification=True)


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


@feature.button(callbacks.SIXMIN)
@on_button
async def button(update: Update, context: Context, tap: Tap) -> None:
    """Every `6m:` button: checked against the owner and the test's state before anything."""
    query = tap.query
    target, action, value = callback_fields(tap.data, 3)
    if target == "new":  # 6m:new:<direction>, nothing after it
        await _choose(query, context, tap.id, "" if value else action)
        return
    rt = context.runtime
    now, request = rt.clock.now(), _read(target, action, value)
    async with rt.transaction() as session:
        tapped = await taps.tap(session, user_id=tap.id, request=request, now=now)
    if tapped.kind == "stale":
        await answer_tap(query, texts.STALE_BUTTON)
        return
    # Jobs and the next message first; the answer is cosmetic and may be refused as too old.
    await _after(query, context, tapped, value, now)
    await answer_tap(query)


_STEPS = {"eb": "effort_before", "ea": "effort_after", "dist": "distance", "sym": "symptoms"}


def _read(target: str, action: str, value: str) -> taps.Tap | None:
    """A button's data as a request; None for data no button of ours carries."""
    test_id, number = number_field(target), number_field(value)
    if test_id is None:
        return None
    if action in {"start", "cancel", "stop"}:
        return taps.Tap(test_id, action)
    if number is not None and action in ("eb", "ea"):
        return taps.Tap(test_id, "answer", _STEPS[action], number)
    if value in ("skip", "none") and action in ("ea", "dist", "sym"):
        return taps.Tap(test_id, "answer", _STEPS[action])
    return None


_REFUSED = {"walking": ON_A_WALK[:190], "running": texts.SIXMIN_RUNNING}


async def _choose(query: CallbackQuery, context: Context, user_id: int, direction: str) -> None:
    if direction not in domain.DIRECTIONS:
        await answer_tap(query, texts.STALE_BUTTON)
        return
    rt = context.runtime
    way = domain.direction_of(direction)
    async with rt.transaction() as session:
        begun = await taps.begin(session, user_id=user_id, direction=way, now=rt.clock.now())
    if begun.kind != "created":
        await answer_tap(query, _REFUSED.get(begun.kind, texts.STALE_BUTTON))
        return
    text, markup = views.setup_card(begun.test_id, way, needs_support=begun.needs_support)
    await context.bot.send_message(user_id, text, reply_markup=markup, disable_notification=True)
    await answer_tap(query)
    await mark_answered(query, direction.capitalize())


async def _after(
    query: CallbackQuery, context: Context, tapped: taps.Tapped, value: str, now: datetime
) -> None:
    test, job_queue = tapped.test, context.job_queue
    assert test is not None and test.id is not None and job_queue is not None
    # Jobs and the next message before any edit of the tapped message: the edit only tidies
    # (mark_answered logs a failure), and a 502 on it must not leave a test without phrases.
    if tapped.kind == "started":
        jobs.schedule_cues(job_queue, test, now)
        await context.bot.send_message(
            test.user_id, domain.GO_TEXT, reply_markup=views.stop_button(test.id)
        )
        await mark_answered(query, "Started")
    elif tapped.kind == "cancelled":
        await show_next(context.bot, test.user_id, query_message(query), NOT_TODAY)
    elif tapped.kind == "stopped":
        jobs.cancel_cues(job_queue, test.id)
        text, markup = _stopped_early(test.id, tapped.units)
        await context.bot.send_message(test.user_id, text, reply_markup=markup)
        await _drop_stop_button(query)
    elif tapped.answered is not None:
        await _next(context, test, tapped.answered, tapped.units)
        await mark_answered(query, _chosen(value, tapped.answered))


async def _drop_stop_button(query: CallbackQuery) -> None:
    """The phrase whose Stop was tapped keeps its words and loses the button. Cosmetic."""
    message = query_message(query)
    if message is None:
        return
    try:
        await edit_text(message, message.text or "")
    except Forbidden:
        raise
    except TelegramError as error:
        log.info("could not take the Stop button off message %s: %s", message.id, error)


def _stopped_early(test_id: int, units: str) -> tuple[str, InlineKeyboardMarkup]:
    text, markup = views.distance_prompt(test_id, units, stopped_early=True)
    return joined(domain.STOPPED_EARLY_TEXT, text), markup


def _chosen(value: str, answered: service.Answered) -> str:
    if answered.chosen is not None:
        return answered.chosen
    number = number_field(value)
    if number is not None:
        return effort_button(number)
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
    rt = context.runtime
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
