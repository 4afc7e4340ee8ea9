"""/settings and its buttons as results: which question opens, when the menu shows, and when a
tap is stale, with any question left open closed by the menu."""

from __future__ import annotations

from datetime import UTC, datetime

from walkbot.services import onboarding as flow
from walkbot.services.users import Person, create_user, get_user
from walkbot.store.db import SessionFactory, transaction

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = 7_000_000_301


async def seed(sessions: SessionFactory, *, onboarded: bool = True) -> None:
    async with transaction(sessions) as session:
        user = await create_user(session, person=Person(ALICE, "Alice"), now=NOW)
        if onboarded:
            user.onboarding_step = None


async def tap(sessions: SessionFactory, step: str) -> flow.SettingsTap:
    async with transaction(sessions) as session:
        return await flow.settings_tap(session, telegram_id=ALICE, step=step, now=NOW)


async def editing(sessions: SessionFactory) -> str | None:
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE)
        assert user is not None
        return user.editing


async def test_a_stranger_or_someone_still_onboarding_gets_stale_taps(
    sessions: SessionFactory,
) -> None:
    assert await tap(sessions, "time") == flow.SettingsTap("stale")
    await seed(sessions, onboarded=False)
    assert (await tap(sessions, "time")).kind == "stale"
    assert (await tap(sessions, "menu")).kind == "stale"
    assert await editing(sessions) is None


async def test_a_question_opens_and_the_menu_closes_it(sessions: SessionFactory) -> None:
    await seed(sessions)
    opened = await tap(sessions, "time")
    assert opened.kind == "question" and opened.user is not None
    assert await editing(sessions) == "time"
    assert (await tap(sessions, "back")).kind == "menu"
    assert await editing(sessions) is None
    assert (await tap(sessions, "no-such-question")).kind == "stale"


async def test_settings_closes_a_question_left_open(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        assert await flow.open_settings(session, telegram_id=ALICE, now=NOW) is None
    await seed(sessions)
    await tap(sessions, "units")
    async with transaction(sessions) as session:
        user = await flow.open_settings(session, telegram_id=ALICE, now=NOW)
    assert user is not None and user.editing is None
    assert await editing(sessions) is None
