"""Bad and hostile input, property-based (issue 11): every typed prompt and every command's
argument parser, given random unicode, nothing, 4,096 characters, control characters, numbers
out of range and wrong formats, gives a clear answer, and what it stores is still sound.

The handlers for these are thin adapters (bot/onboarding.py, bot/walks.py, bot/sixmin.py,
bot/nudges.py, bot/challenges.py), so the services and parsers are driven directly; each
example runs in a transaction that is rolled back, after a flush (the database must accept
what would be stored: PostgreSQL refuses NUL). tests/e2e/test_hostile_commands.py sends a
bounded number of examples to every registered command through the real bot.

Hypothesis is derandomized (the same examples on every run: CI cannot fail by chance) and
bounded by max_examples."""

from __future__ import annotations

import string
import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.people import add_onboarded_person
from walkbot.bot.challenge_links import code_from_payload
from walkbot.bot.questions import render, settings_view
from walkbot.bot.summary import which_week
from walkbot.domain import onboarding as steps
from walkbot.domain.nudges import PauseRefused, PauseUntil, parse_pause
from walkbot.domain.profile import mask_to_days, parse_clock_time
from walkbot.domain.timezones import resolve_zone
from walkbot.domain.walks import MAX_ROUNDS, MIN_ROUNDS, PlanError, parse_custom_plan
from walkbot.services import onboarding as flow
from walkbot.services import sixmin as sixmin_service
from walkbot.services import walks as walk_service
from walkbot.services.users import get_user
from walkbot.store.db import SessionFactory
from walkbot.store.models import SixMinuteTest, User, Walk

TELEGRAM_LIMIT = 4096
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = 7_000_000_901
CONTROLS = "".join(map(chr, range(0x20))) + "\x7f\x85\u200e\u200f\u202a\u202e\u2066\u2069\ufeff"

# What people (and people poking at a bot) type.
HOSTILE = st.one_of(
    st.text(max_size=80),  # any unicode, unassigned code points included
    st.just(""),
    st.text(alphabet=CONTROLS, max_size=40),
    st.tuples(st.text(min_size=1, max_size=6), st.integers(1, TELEGRAM_LIMIT)).map(
        lambda pair: (pair[0] * pair[1])[:TELEGRAM_LIMIT]
    ),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(
        [
            "25:61",
            "99:99",
            "-1",
            "0",
            "11",
            "1e999",
            "nan",
            "inf",
            "2026-02-30",
            "9999-99-99",
            "１２",
            "²",
            "٣",
            "7x",
            "x7",
            "6x30/120 w99 c-1",
            "0x0/0",
            "31x10/10",
            "1x5/5",
            "Europe/Nowhere",
            "../../etc/passwd",
            "' OR 1=1 --",
            "<b>hi</b>",
            "\u202eevil",
            "yes\x00",
            " ",
            "\n\n",
            "🙂" * 50,
            "a" * 65,
            "7pm",
            "13pm",
            "24:00",
            "12:60",
        ]
    ),
)
# Parsers are pure and quick: many examples. Each service example writes and rolls back a
# person (and a walk or a test): fewer, per prompt.
PARSERS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
)
PROPERTIES = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def clean(text: str) -> bool:
    """Fit to store and show: no control or bidi characters but line breaks and tabs."""
    return not any(
        (unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t")
        or ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
        for ch in text
    )


def assert_sound(row: Any) -> None:
    """Every string column of a stored row is clean and bounded."""
    for name, value in row.model_dump().items():
        if isinstance(value, str):
            assert clean(value), (name, value[:40])
            assert len(value) <= TELEGRAM_LIMIT, name


@asynccontextmanager
async def rolled_back(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One example's transaction: flushed at the end (the database must take what would be
    stored), then undone, so the next example starts from the same rows."""
    async with sessions() as session:
        await session.begin()
        try:
            yield session
            await session.flush()
        finally:
            await session.rollback()


async def alice(session: AsyncSession) -> User:
    return await add_onboarded_person(session, ALICE, "Alice", now=NOW - timedelta(days=3))


# --- every typed prompt of onboarding and /settings -------------------------------------------

PROMPTS = sorted(set(steps.ONBOARDING_STEPS) | set(steps.SETTINGS_STEPS))


@pytest.mark.parametrize("step", PROMPTS)
@PROPERTIES
@given(typed=HOSTILE)
async def test_every_question_answers_any_text_clearly_and_stores_only_sound_values(
    sessions: SessionFactory, step: str, typed: str
) -> None:
    async with rolled_back(sessions) as session:
        user = await alice(session)
        if step in steps.SETTINGS_STEPS:
            assert await flow.begin_edit(session, user=user, step=step, now=NOW)
        else:  # an onboarding-only question (the later safety questions): owed as such
            user.onboarding_step = step
        reply = await flow.reply(
            session, telegram_id=ALICE, step=None, given=flow.Text(typed), now=NOW
        )
        assert reply.kind == "answered" and reply.outcome is not None
        outcome = reply.outcome
        if not outcome.accepted:  # refused: why, and the question again
            assert outcome.ask == step or outcome.notice, typed[:40]
        user = await get_user(session, telegram_id=ALICE) or user
        assert_sound(user)
        if user.timezone is not None:
            ZoneInfo(user.timezone)
        assert set(mask_to_days(user.reminder_days)) <= set(range(7))
        for shown in (
            render(outcome.ask, user, editing=user.editing is not None)[0] if outcome.ask else "",
            outcome.notice or "",
            outcome.chosen or "",
            settings_view(user, NOW)[0] if user.onboarding_step is None else "",
        ):
            assert len(shown) <= TELEGRAM_LIMIT


# --- the walk's note, the six-minute test's distance and symptoms ------------------------------


@PROPERTIES
@given(typed=HOSTILE)
async def test_a_walk_note_stores_only_clean_bounded_text(
    sessions: SessionFactory, typed: str
) -> None:
    async with rolled_back(sessions) as session:
        await alice(session)
        walk = Walk(
            user_id=ALICE,
            plan=parse_custom_plan("2x30/30").to_dict(),
            status="ended",
            created_at=NOW - timedelta(minutes=10),
            started_at=NOW - timedelta(minutes=10),
            ended_at=NOW - timedelta(minutes=8),
            rating_step="note",
        )
        session.add(walk)
        await session.flush()
        rated = await walk_service.rate(session, walk=walk, step="note", value=typed, now=NOW)
        assert rated.accepted
        assert_sound(walk)


@pytest.mark.parametrize("step", ["distance", "symptoms"])
@PROPERTIES
@given(typed=HOSTILE)
async def test_a_six_minute_answer_is_taken_or_refused_with_a_reason(
    sessions: SessionFactory, step: str, typed: str
) -> None:
    async with rolled_back(sessions) as session:
        await alice(session)
        test = SixMinuteTest(
            user_id=ALICE,
            direction="forward",
            status="recording",
            step=step,
            created_at=NOW - timedelta(minutes=8),
            started_at=NOW - timedelta(minutes=7),
        )
        session.add(test)
        await session.flush()
        answered = await sixmin_service.answer(
            session, test=test, step=step, value=typed, units="km", now=NOW
        )
        assert answered.accepted or answered.error, typed[:40]
        if answered.error is not None:
            assert len(answered.error) <= TELEGRAM_LIMIT
        assert_sound(test)
        if test.metres is not None:
            assert 0 < test.metres < 100_000


# --- the commands' argument parsers ----------------------------------------------------------


@PARSERS
@given(typed=HOSTILE)
def test_walk_plans_are_read_within_bounds_or_refused_in_words(typed: str) -> None:
    try:
        plan = parse_custom_plan(typed)
    except PlanError as error:
        refusal = error.message
    else:
        assert MIN_ROUNDS <= plan.rounds <= MAX_ROUNDS
        assert 0 < plan.total_s <= 24 * 3600
        return
    assert refusal and len(refusal) <= 1024 and clean(refusal)


@PARSERS
@given(typed=HOSTILE)
def test_pause_arguments_are_a_rest_in_the_future_or_refused_in_words(typed: str) -> None:
    request = parse_pause(typed, now=NOW, zone="Europe/London")
    if isinstance(request, PauseRefused):
        assert request.reason and len(request.reason) <= 1024 and clean(request.reason)
    elif isinstance(request, PauseUntil):
        assert request.ends_at > NOW


@PARSERS
@given(typed=HOSTILE)
def test_clock_times_zones_weeks_and_deep_links_never_raise(typed: str) -> None:
    parse_clock_time(typed)
    found = resolve_zone(typed)
    if found.zone is not None:
        ZoneInfo(found.zone)
    assert which_week(typed.split()) in ("this", "last")
    code = code_from_payload(typed.split() or None)
    assert code is None or set(code) <= set(string.ascii_letters + string.digits + "_-")
