"""/summary (this week so far), /summary last, /stats, and sending a weekly report.

`send_report` is shared with the dispatcher's weekly message: a photo with the text as its
caption; the text first and the photo after when the text is longer than a caption may be;
text alone when there is no chart or the photo is refused.
"""

from __future__ import annotations

from telegram import Bot, Update

from walkbot.bot import texts
from walkbot.bot.people import person_of
from walkbot.context import WalkbotContext as Context
from walkbot.delivery import Delivery, Result, send_message, send_photo
from walkbot.domain.summary import CAPTION_LIMIT, Which
from walkbot.services import summaries as service
from walkbot.services.users import get_user

LAST_WORDS = {"last", "previous", "prev"}


async def send_report(
    bot: Bot, chat_id: int, report: service.WeeklyReport, *, silent: bool
) -> Delivery:
    if report.chart is None:
        return await send_message(bot, chat_id, report.text, silent=silent)
    if len(report.text) <= CAPTION_LIMIT:
        sent = await send_photo(bot, chat_id, report.chart, caption=report.text, silent=silent)
        if sent.result is not Result.FAILED:
            return sent
        return await send_message(bot, chat_id, report.text, silent=silent)
    sent = await send_message(bot, chat_id, report.text, silent=silent)
    if sent.result is Result.SENT:
        await send_photo(bot, chat_id, report.chart, silent=True)  # the text already arrived
    return sent


def which_week(args: list[str] | None) -> Which:
    return "last" if args and args[0].lower() in LAST_WORDS else "this"


async def summary_command(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = context.runtime
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        data = None
        if user is not None and user.onboarding_step is None:
            data = await service.gather_week(
                session, user=user, now=rt.clock.now(), week=which_week(context.args)
            )
    if data is None:
        await chat.send_message(texts.NEED_START if user is None else texts.FINISH_SETUP_FIRST)
        return
    report = await service.report_from(data)
    await send_report(context.bot, chat.id, report, silent=False)


async def stats_command(update: Update, context: Context) -> None:
    person, chat = person_of(update), update.effective_chat
    if person is None or chat is None:
        return
    rt = context.runtime
    async with rt.transaction() as session:
        user = await get_user(session, telegram_id=person.telegram_id)
        stats = None
        if user is not None and user.onboarding_step is None:
            stats = await service.all_time_stats(session, user=user, now=rt.clock.now())
    if stats is None:
        await chat.send_message(texts.NEED_START if user is None else texts.FINISH_SETUP_FIRST)
        return
    await chat.send_message(stats.text)
