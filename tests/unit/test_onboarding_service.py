"""The onboarding service against a migrated database: answers, re-asks, resumes, settings."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from walkbot.domain.onboarding import ONBOARDING_STEPS, SCREENING_STEPS
from walkbot.services import onboarding as flow
from walkbot.services.users import Person, create_user, get_user
from walkbot.store.db import SessionFactory, transaction

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ALICE = Person(telegram_id=7_000_000_001, first_name="Alice")


async def _answer(sessions: SessionFactory, step: str, given: flow.Answer) -> flow.Outcome:
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE.telegram_id)
        assert user is not None
        return await flow.answer(session, user=user, step=step, given=given, now=NOW)


async def _user(sessions: SessionFactory):  # type: ignore[no-untyped-def]
    async with transaction(sessions) as session:
        return await get_user(session, telegram_id=ALICE.telegram_id)


@pytest.fixture
async def alice(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await create_user(session, person=ALICE, now=NOW)


@pytest.mark.usefixtures("alice")
async def test_full_onboarding_stores_every_answer(sessions: SessionFactory) -> None:
    for step in SCREENING_STEPS:
        outcome = await _answer(sessions, step, flow.Button("y" if step == "s7" else "n"))
        assert outcome.accepted
    assert outcome.screening_done and outcome.safety_flagged
    assert (await _answer(sessions, "exp", flow.Button("little"))).ask == "goal"
    assert (await _answer(sessions, "goal", flow.Button("balance"))).ask == "tz"
    assert (await _answer(sessions, "tz", flow.Text("europe/london"))).ask == "days"
    redraw = await _answer(sessions, "days", flow.Button("6"))
    assert redraw.redraw and redraw.ask == "days"
    days = await _answer(sessions, "days", flow.Button("ok"))
    assert (days.ask, days.chosen) == ("time", "Mon, Wed, Fri, Sun")
    assert (await _answer(sessions, "time", flow.Text("7.30am"))).ask == "units"
    done = await _answer(sessions, "units", flow.Button("mi"))
    assert done.onboarding_done and done.ask is None

    user = await _user(sessions)
    assert user.onboarding_step is None
    assert user.screening["fall"] is True and user.screening["heart"] is False
    assert (user.experience, user.goal, user.timezone) == ("little", "balance", "Europe/London")
    assert user.reminder_days == 0b1010101  # Mon, Wed, Fri and the added Sunday
    assert user.reminder_time == time(7, 30)
    assert user.units == "mi"


@pytest.mark.usefixtures("alice")
async def test_a_stale_button_changes_nothing(sessions: SessionFactory) -> None:
    outcome = await _answer(sessions, "units", flow.Button("mi"))
    assert not outcome.accepted and outcome.ask == "s0"
    user = await _user(sessions)
    assert user.units == "km" and user.onboarding_step == "s0"


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize(
    ("step", "given"),
    [
        ("s0", flow.Text("maybe")),
        ("s0", flow.Button("x")),
        ("exp", flow.Text("loads")),
        ("tz", flow.Text("Qwertyuiop Town")),
        ("tz", flow.Text("../../etc/passwd")),
        ("days", flow.Text("someday")),
        ("time", flow.Text("25:00")),
        ("time", flow.Text("²:00")),  # a digit to str.isdigit, not to int()
        ("time", flow.Text("٠٨:٠٠")),  # Arabic-Indic digits: not read as a time
        ("days", flow.Button("²")),
        ("units", flow.Text("furlongs")),
    ],
)
async def test_bad_answers_are_re_asked_and_nothing_changes(
    sessions: SessionFactory, step: str, given: flow.Answer
) -> None:
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE.telegram_id)
        assert user is not None
        user.onboarding_step = step
        session.add(user)
    before = (await _user(sessions)).model_dump()
    outcome = await _answer(sessions, step, given)
    assert not outcome.accepted
    assert outcome.ask == step and outcome.notice
    assert (await _user(sessions)).model_dump() == before


@pytest.mark.usefixtures("alice")
async def test_ambiguous_city_offers_choices(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE.telegram_id)
        assert user is not None
        user.onboarding_step = "tz"
    outcome = await _answer(sessions, "tz", flow.Text("London"))
    assert not outcome.accepted
    zones = [choice.zone for choice in outcome.zone_choices]
    assert "Europe/London" in zones and len(zones) > 1


@pytest.mark.usefixtures("alice")
async def test_settings_edit_one_thing_then_return(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE.telegram_id)
        assert user is not None
        user.onboarding_step = None
        assert await flow.begin_edit(session, user=user, step="stime", now=NOW)
    outcome = await _answer(sessions, "stime", flow.Button("1930"))
    assert outcome.settings_done and not outcome.onboarding_done
    user = await _user(sessions)
    assert user.summary_time == time(19, 30) and user.editing is None


async def test_settings_cannot_start_before_onboarding_ends(
    sessions: SessionFactory, alice: None
) -> None:
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=ALICE.telegram_id)
        assert user is not None
        assert not await flow.begin_edit(session, user=user, step="tz", now=NOW)
        assert user.editing is None


def test_onboarding_asks_every_question_once() -> None:
    assert len(ONBOARDING_STEPS) == len(set(ONBOARDING_STEPS)) == 15
