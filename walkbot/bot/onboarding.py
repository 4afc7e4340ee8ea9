"""/start, consent, and every answer to an onboarding or settings question."""

from __future__ import annotations

from datetime import datetime

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import filters

from walkbot.bot import callbacks, sixmin, texts, walks
from walkbot.bot.feature import Feature
from walkbot.bot.guard import REFUSALS, Caller, Tap, caller_of, for_person, on_button
from walkbot.bot.questions import onboarding_summary, render, settings_view
from walkbot.bot.replies import callback_fields, edit_text, joined, mark_answered, query_message
from walkbot.context import WalkbotContext as Context
from walkbot.services import onboarding as flow
from walkbot.services.users import get_user, touch_user
from walkbot.store.models import User

CONSENT_MARKUP = InlineKeyboardMarkup(
    [
        [
            callbacks.button(texts.CONSENT_YES, callbacks.CONSENT, "yes"),
            callbacks.button(texts.CONSENT_NO, callbacks.CONSENT, "no"),
        ]
    ]
)

feature = Feature("onboarding")
# Anything else sent in a private chat answers the question owed (after every feature).
fallbacks = Feature("answers")
PRIVATE = filters.ChatType.PRIVATE


@feature.command("start")
@for_person
async def start(update: Update, context: Context, caller: Caller) -> None:
    person, chat = caller.person, caller.chat
    rt = context.runtime
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        if user is not None:
            await touch_user(session, user=user, person=person, now=rt.clock.now())
    if user is None:
        welcome = texts.with_name(texts.WELCOME, person.first_name)
        await chat.send_message(welcome, reply_markup=CONSENT_MARKUP)
    elif (step := flow.pending_step(user)) is not None:
        await ask(
            chat.id, context, user, step, prefix=texts.with_name(texts.RESUME, user.first_name)
        )
    else:
        await chat.send_message(texts.with_name(texts.GREET_KNOWN, user.first_name))


@feature.button(callbacks.CONSENT, "yes", "no")
@on_button
async def consent(update: Update, context: Context, tap: Tap) -> None:
    query, person = tap.query, tap.person
    if query.message is None:
        return
    if tap.data == callbacks.data(callbacks.CONSENT, "no"):
        await query.answer()
        await edit_text(query_message(query), texts.CONSENT_DECLINED)
        return
    rt = context.runtime
    async with rt.transaction() as session:
        member = await flow.join(session, person=person, now=rt.clock.now())
    await query.answer()
    await mark_answered(query, texts.CONSENT_YES)
    if (step := flow.pending_step(member.user)) is not None:
        prefix = texts.CONSENT_GIVEN if member.created else None
        await ask(query.message.chat.id, context, member.user, step, prefix=prefix)


@feature.button(callbacks.ANSWER)
@on_button
async def answer_button(update: Update, context: Context, tap: Tap) -> None:
    query = tap.query
    if query.message is None:
        return
    step, value = callback_fields(tap.data, 2)
    await _answer(update, context, step, flow.Button(value), query)


@fallbacks.message(PRIVATE & filters.TEXT)
async def answer_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    await _answer(update, context, None, flow.Text(message.text), None)


@fallbacks.message(PRIVATE & filters.LOCATION)
async def answer_location(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.location is None:
        return
    given = flow.Location(message.location.latitude, message.location.longitude)
    await _answer(update, context, None, given, None)


@fallbacks.message(PRIVATE & filters.UpdateType.MESSAGE)
async def answer_other(update: Update, context: Context) -> None:
    """Stickers, photos, voice notes: re-ask the open question, or say what I can read."""
    await _answer(update, context, None, None, None)


async def _answer(
    update: Update,
    context: Context,
    step: str | None,
    given: flow.Answer | None,
    query: CallbackQuery | None,
) -> None:
    caller = caller_of(update)
    if caller is None:
        return
    chat = caller.chat
    rt = context.runtime
    async with rt.transaction() as session:
        reply = await flow.reply(
            session, telegram_id=caller.id, step=step, given=given, now=rt.clock.now()
        )
    if query is not None:
        await query.answer(texts.STALE_BUTTON if reply.refused else None)
    if reply.user is None:
        await chat.send_message(REFUSALS[reply.kind])
    elif reply.kind == "nothing_owed":
        if not (isinstance(given, flow.Text) and await _take_text(update, context)):
            await chat.send_message(_unused_reply(given))
    elif reply.kind == "unusable":
        reason = texts.LOCATION_NOT_NOW if isinstance(given, flow.Location) else texts.MEDIA_UNUSED
        await ask(chat.id, context, reply.user, reply.step, prefix=reason)
    elif reply.outcome is not None:
        await _follow_up(chat.id, context, reply.user, reply.outcome, query)


async def _take_text(update: Update, context: Context) -> bool:
    """Typed answers owed elsewhere: a six-minute test's distance or note, a walk's note."""
    return await sixmin.take_text(update, context) or await walks.take_note(update, context)


def _unused_reply(given: flow.Answer | None) -> str:
    if isinstance(given, flow.Location):
        return texts.LOCATION_UNUSED
    if given is None:
        return texts.MEDIA_UNUSED
    return texts.NOT_NOW


async def _follow_up(
    chat_id: int, context: Context, user: User, outcome: flow.Outcome, query: CallbackQuery | None
) -> None:
    if outcome.redraw and query is not None and outcome.ask is not None:
        text, markup = render(outcome.ask, user, editing=user.editing is not None)
        await edit_text(query_message(query), text, markup)
        return
    if query is not None and outcome.accepted and outcome.chosen:
        await mark_answered(query, outcome.chosen)
    prefix = _prefix(outcome, typed=query is None)
    finished = _finished(user, outcome, prefix, context.runtime.clock.now())
    if finished is not None:
        text, markup = finished
        await context.bot.send_message(chat_id, text, reply_markup=markup)
    elif outcome.ask is not None:
        await ask(
            chat_id, context, user, outcome.ask, prefix=prefix, zone_choices=outcome.zone_choices
        )


def _prefix(outcome: flow.Outcome, *, typed: bool) -> str:
    """What goes above the next message: a typed answer echoed back (a tapped one shows on its
    question), any notice, and the word on safety once the screening is done."""
    echo = f"Got it: {outcome.chosen}." if typed and outcome.accepted and outcome.chosen else None
    safety = None
    if outcome.screening_done:
        safety = texts.SAFETY_FLAGGED if outcome.safety_flagged else texts.SAFETY_CLEAR
    return joined(echo, outcome.notice, safety)


def _finished(
    user: User, outcome: flow.Outcome, prefix: str, now: datetime
) -> tuple[str, InlineKeyboardMarkup] | None:
    """The summary that ends onboarding, or the settings menu after a change; None otherwise."""
    if outcome.onboarding_done:
        text, markup = onboarding_summary(user, now)
        return joined(prefix, text), markup
    if outcome.settings_done:
        text, markup = settings_view(user, now)
        return joined(prefix, texts.SETTINGS_SAVED, text), markup
    return None


async def ask(
    chat_id: int,
    context: Context,
    user: User,
    step: str,
    *,
    prefix: str | None = None,
    zone_choices: tuple[flow.ZoneChoice, ...] = (),
) -> None:
    text, markup = render(step, user, editing=user.editing is not None, zone_choices=zone_choices)
    await context.bot.send_message(chat_id, joined(prefix, text), reply_markup=markup)
