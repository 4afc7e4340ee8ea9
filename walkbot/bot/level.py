"""/level: where the person is on the programme, with Repeat and Step back buttons
(`lv:<choice>:<level>`), and the answer to the next-morning knee check (`k:<walk>:<score>`)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from walkbot.bot import callbacks, texts
from walkbot.bot.feature import Feature
from walkbot.bot.guard import Member, Tap, for_set_up_person, on_button
from walkbot.bot.replies import answer_tap, callback_fields, joined, mark_answered, number_field
from walkbot.context import WalkbotContext as Context
from walkbot.domain import programme as domain
from walkbot.domain.walks import PAIN_LIMIT
from walkbot.services import programme as service
from walkbot.services.users import get_user

feature = Feature("level")


def level_text(view: service.LevelView) -> str:
    head = f"Your level: {view.current} (level {view.level} of {domain.TOP_LEVEL})."
    session = f"Each session: {view.plan}."
    if view.next is None:
        upcoming = "This is the top of the programme: about 10 min of backward walking."
    else:
        upcoming = (
            f"Next: {view.next}, after two full walks here that feel moderate or easier "
            f"with knee pain {PAIN_LIMIT}/10 or less (so far: {view.towards_step_up} of 2)."
        )
    cap = "After your safety answers, I step up once a week at most." if view.flagged else None
    return joined(f"{head}\n{session}", upcoming, cap, "Want to repeat this level or step back?")


def level_buttons(view: service.LevelView) -> InlineKeyboardMarkup:
    repeat = callbacks.data(callbacks.LEVEL, "repeat", view.level)
    row = [InlineKeyboardButton("Repeat this level", callback_data=repeat)]
    if view.can_step_back:
        lower = domain.describe_level(view.level - 1)
        back = callbacks.data(callbacks.LEVEL, "back", view.level)
        row.append(InlineKeyboardButton(f"Step back: {lower}", callback_data=back))
    return InlineKeyboardMarkup([row])


@feature.command("level", menu="Your programme level: repeat it or step back")
@for_set_up_person
async def level_command(update: Update, context: Context, caller: Member) -> None:
    async with caller.transaction() as (session, user):
        view = await service.level_view(session, user=user)
    await caller.chat.send_message(level_text(view), reply_markup=level_buttons(view))


@feature.button(callbacks.LEVEL)
@on_button
async def level_choice(update: Update, context: Context, tap: Tap) -> None:
    query = tap.query
    choice, shown = callback_fields(tap.data, 2)
    rt = context.runtime
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=tap.id)
        level, expected = None, number_field(shown)
        if user is not None and expected is not None:
            level = await service.choose(
                session, user=user, choice=choice, expected_level=expected, now=rt.clock.now()
            )
    if level is None:
        await answer_tap(query, texts.STALE_BUTTON)
        return
    # The reply first; answering and ticking the tap are cosmetic (see bot/replies.py).
    await context.bot.send_message(tap.id, _choice_text(choice, level), disable_notification=True)
    await answer_tap(query)
    await mark_answered(query, "Repeat this level" if choice == "repeat" else "Step back")


def _choice_text(choice: str, level: int) -> str:
    if choice == "repeat":
        return (
            f"OK: next time {domain.describe_level(level)} again, and I'll count two fresh walks "
            "before stepping up."
        )
    return (
        f"OK: next time {domain.describe_level(level)}. I'll step you up again after two "
        "walks there that feel moderate or easier."
    )


@feature.button(callbacks.KNEE)
@on_button
async def knee_answer(update: Update, context: Context, tap: Tap) -> None:
    query = tap.query
    walk_id, score = (number_field(field) for field in callback_fields(tap.data, 2))
    rt = context.runtime
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=tap.id)
        answer = None
        if user is not None and walk_id is not None and score is not None:
            answer = await service.record_knee_answer(
                session, user=user, walk_id=walk_id, score=score, now=rt.clock.now()
            )
    if answer is None or not answer.accepted or answer.text is None:
        await answer_tap(query, texts.STALE_BUTTON)
        return
    await context.bot.send_message(tap.id, answer.text, disable_notification=True)
    await answer_tap(query)
    await mark_answered(query, f"{score}/10")
