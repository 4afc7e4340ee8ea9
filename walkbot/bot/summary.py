"""/summary (this week so far), /summary last, /stats, and sending a weekly report.

`send_report` is shared with the dispatcher's weekly message: a photo with the text as its
caption; the text first and the photo after when the text is longer than a caption may be;
text alone when there is no chart or the photo is refused.
"""

from __future__ import annotations

from telegram import Bot, Update

from walkbot.bot.feature import Feature
from walkbot.bot.guard import Member, for_set_up_person
from walkbot.context import WalkbotContext as Context
from walkbot.delivery import Delivery, Result, send_message, send_photo
from walkbot.domain.summary import CAPTION_LIMIT, Which
from walkbot.services import summaries as service

LAST_WORDS = {"last", "previous", "prev"}

feature = Feature("summary")


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


@feature.command("summary", menu="This week so far, with a chart (/summary last: last week)")
@for_set_up_person
async def summary_command(update: Update, context: Context, caller: Member) -> None:
    now, week = context.runtime.clock.now(), which_week(context.args)
    async with caller.transaction() as (session, user):
        data = await service.gather_week(session, user=user, now=now, week=week)
    report = await service.report_from(data)
    await send_report(context.bot, caller.chat.id, report, silent=False)


@feature.command("stats", menu="All-time totals, best week, levels and tests")
@for_set_up_person
async def stats_command(update: Update, context: Context, caller: Member) -> None:
    async with caller.transaction() as (session, user):
        stats = await service.all_time_stats(session, user=user, now=context.runtime.clock.now())
    await caller.chat.send_message(stats.text)
