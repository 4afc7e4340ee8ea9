"""/start, consent, and every answer to an onboarding or settings question."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import filters

from walkbot.bot import callbacks, challenge_links, sixmin, texts, walks
from walkbot.bot.feature import Feature
from walkbot.bot.guard import REFUSALS, Caller, Tap, caller_of, for_person, on_button
from walkbot.bot.questions import onboarding_summary, render, settings_view
from walkbot.bot.replies import (
    answer_tap,
    callback_fields,
    joined,
    mark_answered,
    query_message,
    show_next,
    ticked,
)
from walkbot.context import WalkbotContext as Context
from walkbot.services import challenges
from walkbot.services import onboarding as flow
from walkbot.services.challenges import JoinResult
from walkbot.services.users import get_user, touch_user
from walkbot.store.models import User


def consent_markup(code: str | None = None) -> InlineKeyboardMarkup:
    """Yes carries the code of the challenge whose link brought them, if one did."""
    yes = ("yes", code) if code else ("yes",)
    return InlineKeyboardMarkup(
        [
            [
                callbacks.button(texts.CONSENT_YES, callbacks.CONSENT, *yes),
                callbacks.button(texts.CONSENT_NO, callbacks.CONSENT, "no"),
            ]
        ]
    )


CONSENT_MARKUP = consent_markup()

feature = Feature("onboarding")
# Anything else sent in a private chat answers the question owed (after every feature).
fallbacks = Feature("answers")
PRIVATE = filters.ChatType.PRIVATE


@feature.command("start")
@for_person
async def start(update: Update, context: Context, caller: Caller) -> None:
    person, chat = caller.person, caller.chat
    code = challenge_links.code_from_payload(context.args)
    outsider = code is not None and not await challenge_links.may_use_link(
        context, code, person.telegram_id
    )
    if outsider:
        code = None
    rt = context.runtime
    joining: JoinResult | None = None
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        if user is not None:
            await touch_user(session, user=user, person=person, now=rt.clock.now())
            if code is not None:
                joining = await challenges.join_by_code(
                    session, code=code, user_id=user.telegram_id, now=rt.clock.now()
                )
    if user is None:
        welcome = texts.with_name(texts.WELCOME, person.first_name)
        if code is not None:
            welcome = joined(welcome, texts.CHALLENGE_AFTER_SETUP)
        elif outsider:
            welcome = joined(challenge_links.NOT_IN_GROUP, welcome)
        await chat.send_message(welcome, reply_markup=consent_markup(code))
        return
    news = challenge_links.join_line(joining) if joining is not None else None
    if outsider:
        news = challenge_links.NOT_IN_GROUP
    if (step := flow.pending_step(user)) is not None:
        resume = texts.with_name(texts.RESUME, user.first_name)
        await ask(chat.id, context, user, step, prefix=joined(news, resume))
    else:
        await chat.send_message(news or texts.with_name(texts.GREET_KNOWN, user.first_name))


@feature.button(callbacks.CONSENT)
@on_button
async def consent(update: Update, context: Context, tap: Tap) -> None:
    query, person = tap.query, tap.person
    if query.message is None:
        return
    answer, code = callback_fields(tap.data, 2)
    if answer not in {"yes", "no"}:
        await answer_tap(query, texts.STALE_BUTTON)
        return
    if answer == "no":
        chat_id = query.message.chat.id
        await show_next(context.bot, chat_id, query_message(query), texts.CONSENT_DECLINED)
        await answer_tap(query)
        return
    if code and not await challenge_links.may_use_link(context, code, person.telegram_id):
        code = ""  # forged or stale: they left the group since /start, or were never in it
    rt = context.runtime
    async with rt.transaction() as session:
        member = await flow.join(session, person=person, now=rt.clock.now())
        if code:  # the challenge waits for them until onboarding is done (complete_pending)
            await challenges.join_by_code(
                session, code=code, user_id=person.telegram_id, now=rt.clock.now()
            )
    # The first question is a message of its own: the welcome above it says what they agreed
    # to, and keeps their answer (after the question, which is what they wait for).
    if (step := flow.pending_step(member.user)) is not None:
        prefix = texts.CONSENT_GIVEN if member.created else None
        await ask(query.message.chat.id, context, member.user, step, prefix=prefix)
    await answer_tap(query)
    await mark_answered(query, texts.CONSENT_YES)


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
    if query is not None:  # after the reply: the next question matters more than the spinner
        await answer_tap(query, texts.STALE_BUTTON if reply.refused else None)


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
    """One message per step. A tapped answer turns its question into what comes next (the
    choice kept in view on top); a typed one gets the next question below it. A refused answer
    asks again in a new message, nearest the person."""
    if outcome.redraw and query is not None and outcome.ask is not None:
        text, markup = render(outcome.ask, user, editing=user.editing is not None)
        await show_next(context.bot, chat_id, query_message(query), text, markup)
        return
    tapped = query if query is not None and outcome.accepted else None
    echo = outcome.chosen if outcome.accepted else None
    if outcome.safety_flagged:
        # Advice to keep in the chat: the last safety question becomes it (or it follows the
        # typed answer), and the questions go on in a message of their own below.
        if tapped is not None and echo is not None:
            advice = joined(ticked(echo), texts.SAFETY_FLAGGED)
            await show_next(context.bot, chat_id, query_message(tapped), advice)
            await _ask_next(chat_id, context, user, outcome, None, outcome.notice)
            return
        advice = joined(f"Got it: {echo}." if echo else None, texts.SAFETY_FLAGGED)
        await context.bot.send_message(chat_id, advice)
        await _ask_next(chat_id, context, user, outcome, None, outcome.notice)
        return
    safety = texts.SAFETY_CLEAR if outcome.screening_done else None
    head = ticked(echo) if tapped is not None and echo else f"Got it: {echo}." if echo else None
    await _ask_next(chat_id, context, user, outcome, tapped, joined(head, outcome.notice, safety))


async def _ask_next(
    chat_id: int,
    context: Context,
    user: User,
    outcome: flow.Outcome,
    tapped: CallbackQuery | None,
    prefix: str | None,
) -> None:
    """The summary that ends onboarding, the settings menu after a change, or the next question:
    in place of the tapped question when there is one, else as a new message."""
    now = context.runtime.clock.now()
    if outcome.onboarding_done:
        text, markup = onboarding_summary(user, now)
        text = joined(prefix, text, *map(challenge_links.joined_after_setup, outcome.joined_groups))
    elif outcome.settings_done:
        text, markup = settings_view(user, now)
        text = joined(prefix, texts.SETTINGS_SAVED, text)
    elif outcome.ask is not None:
        text, markup = render(
            outcome.ask, user, editing=user.editing is not None, zone_choices=outcome.zone_choices
        )
        text = joined(prefix, text)
    else:
        return
    message = query_message(tapped) if tapped is not None else None
    await show_next(context.bot, chat_id, message, text, markup)


async def ask_in_place(query: CallbackQuery, context: Context, user: User, step: str) -> None:
    """A question in place of the message whose button opened it (a settings menu)."""
    text, markup = render(step, user, editing=user.editing is not None)
    await show_next(context.bot, user.telegram_id, query_message(query), text, markup)


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
