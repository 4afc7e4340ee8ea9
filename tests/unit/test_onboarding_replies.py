"""Consent and whatever is sent to onboarding or settings, as results: who is new, which
question an answer went to, and when something cannot answer the question owed."""

from __future__ import annotations

from datetime import UTC, datetime

from walkbot.services import onboarding as flow
from walkbot.services.users import Person, get_user
from walkbot.store.db import SessionFactory, transaction

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Person(telegram_id=7_000_000_501, first_name="Alice")
LONDON = flow.Location(51.5072, -0.1276)


async def join(sessions: SessionFactory) -> flow.Joined:
    async with transaction(sessions) as session:
        return await flow.join(session, person=ALICE, now=NOW)


async def reply(
    sessions: SessionFactory, given: flow.Answer | None, step: str | None = None
) -> flow.Reply:
    async with transaction(sessions) as session:
        return await flow.reply(
            session, telegram_id=ALICE.telegram_id, step=step, given=given, now=NOW
        )


async def skip_to(sessions: SessionFactory, step: str | None) -> None:
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE.telegram_id)
        assert user is not None
        user.onboarding_step = step


async def test_consent_makes_someone_new_once(sessions: SessionFactory) -> None:
    first = await join(sessions)
    assert first.created and first.user.onboarding_step is not None
    again = await join(sessions)
    assert not again.created and again.user.telegram_id == ALICE.telegram_id


async def test_nothing_is_taken_from_a_stranger_or_when_nothing_is_owed(
    sessions: SessionFactory,
) -> None:
    assert await reply(sessions, flow.Text("hello")) == flow.Reply("need_start")
    await join(sessions)
    await skip_to(sessions, None)
    nothing = await reply(sessions, flow.Text("hello"))
    assert nothing.kind == "nothing_owed" and nothing.user is not None and not nothing.refused


async def test_media_and_a_location_off_the_zone_question_leave_it_owed(
    sessions: SessionFactory,
) -> None:
    first = (await join(sessions)).user.onboarding_step
    assert first is not None
    media = await reply(sessions, None)
    assert (media.kind, media.step, media.outcome) == ("unusable", first, None)
    assert (await reply(sessions, LONDON)).kind == "unusable"
    await skip_to(sessions, "tz")
    placed = await reply(sessions, LONDON)
    assert placed.kind == "answered" and placed.outcome is not None
    assert placed.outcome.accepted and placed.outcome.ask == "days"


async def test_a_button_for_a_question_already_passed_is_refused(
    sessions: SessionFactory,
) -> None:
    await join(sessions)
    await skip_to(sessions, "goal")
    late = await reply(sessions, flow.Button("little"), step="exp")
    assert late.kind == "answered" and late.refused
    assert late.outcome is not None and late.outcome.ask == "goal"
    typed = await reply(sessions, flow.Text("nonsense"))
    assert typed.refused and typed.outcome is not None and typed.outcome.ask == "goal"
