"""Names and group titles from Telegram are stored without control characters (PostgreSQL
refuses NUL in text; bidi controls scramble what is shown after them)."""

from __future__ import annotations

from datetime import UTC, datetime

from walkbot.services.challenges import group_seen
from walkbot.services.users import Person, create_user, get_user, touch_user
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import GroupChat

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_names_and_titles_are_stored_clean(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        user = await create_user(session, person=Person(11, "Zel\x00da\u202e"), now=NOW)
        assert user.first_name == "Zelda"
        await touch_user(session, user=user, person=Person(11, "Zel\x07da"), now=NOW)
        await group_seen(session, chat_id=-5, kind="group", title="Walk\x00ers\u2066", now=NOW)
    async with transaction(sessions) as session:
        stored = await get_user(session, telegram_id=11)
        group = await session.get(GroupChat, -5)
        assert stored is not None and stored.first_name == "Zelda"
        assert group is not None and group.title == "Walkers"
