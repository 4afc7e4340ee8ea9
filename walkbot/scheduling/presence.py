"""Telegram says a person blocked or unblocked the bot (my_chat_member in their private chat).

Blocked: they are marked inactive (no nudges, no summaries), and a walk or six-minute test
under way ends now, its cue jobs removed, rather than at its next cue's 403. Unblocked: their
reminders come back from now on."""

from __future__ import annotations

from walkbot.context import WalkbotApp, runtime_of
from walkbot.scheduling import cues
from walkbot.scheduling import sixmin as sixmin_jobs
from walkbot.services import sixmin, users, walks


async def block_changed(app: WalkbotApp, *, telegram_id: int, blocked: bool) -> None:
    rt = runtime_of(app)
    async with rt.transaction() as session:
        await users.set_blocked(
            session, telegram_id=telegram_id, blocked=blocked, now=rt.clock.now()
        )
        walk = await walks.open_walk(session, user_id=telegram_id) if blocked else None
        test = await sixmin.open_test(session, user_id=telegram_id) if blocked else None
    if walk is not None and walk.id is not None and walk.status == "active":
        await cues.end_for_blocked(app, walk.id)
    if test is not None and test.id is not None:
        await sixmin_jobs.end_for_blocked(app, test.id)
