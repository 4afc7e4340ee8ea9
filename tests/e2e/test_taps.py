"""A tap's essential follow-up never hangs on a cosmetic call (issue 11, point 1).

Telegram refuses to answer a callback query after about 10-15 s ("query is too old"), which
hits every tap queued during a restart; an edit can meet a 502. Either way the walk still gets
its cues, "I need to stop" still brings the safety words and the rating, an effort rating still
brings the pain question, and a six-minute test still gets its phrases. A stranded rating step
is asked again by the reminder.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.e2e.rows import latest_row, row_when
from tests.people import onboarded_chat
from walkbot import request
from walkbot.domain.sixmin import GO_TEXT
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory

TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
FAULTS = ("answer_too_old", "edit_502")


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """5xx are retried by the request layer (walkbot/request.py): in hundredths here."""
    monkeypatch.setattr(request, "BACKOFF_S", (0.01, 0.02))


def inject(api: FakeBotApi, fault: str) -> None:
    """The next answer to a tap is refused as too old, or the next edit meets 502s past the
    request layer's retries."""
    if fault == "answer_too_old":
        api.fail_next("answerCallbackQuery", status=400, description=TOO_OLD)
    else:
        api.fail_next("editMessageText", status=502, times=1 + len(request.BACKOFF_S))


async def fault_hit(api: FakeBotApi, fault: str) -> None:
    method, status = (
        ("answerCallbackQuery", 400) if fault == "answer_too_old" else ("editMessageText", 502)
    )
    await api.wait_for(lambda c: c.method == method and c.status == status, timeout=5)


def job_names(bot: RunningBot, prefix: str) -> list[str]:
    app: Any = bot.app
    assert app is not None and app.job_queue is not None
    return [j.name for j in app.job_queue.jobs() if j.name and j.name.startswith(prefix)]


def no_apology(user: FakeUser) -> bool:
    return not any("went wrong" in m.body for m in user.messages())


@pytest.fixture
async def alice(api: FakeBotApi, sessions: SessionFactory, bot: RunningBot) -> FakeUser:
    return await onboarded_chat(api, sessions, "Alice")


async def begin_walk(user: FakeUser, plan: str = "2x30/30") -> None:
    user.send(f"/walk {plan}")
    card = await user.wait_for_text("Before you start")
    user.tap("Start", message=card)
    await user.wait_for_text("BACKWARD")


@pytest.mark.parametrize("fault", FAULTS)
async def test_start_gets_its_cues_whatever_the_answer_or_edit_meets(
    api: FakeBotApi, alice: FakeUser, bot: RunningBot, database_url: str, fault: str
) -> None:
    alice.send("/walk 2x30/30")
    card = await alice.wait_for_text("Before you start")
    inject(api, fault)
    alice.tap("Start", message=card)
    await fault_hit(api, fault)
    await alice.wait_for_text("BACKWARD")  # the first cue is due at once
    walk = await row_when(database_url, "walks", alice.id, lambda r: r["status"] == "active")
    assert job_names(bot, f"walk:{walk['id']}:cue:")  # the rest of the walk is scheduled
    assert no_apology(alice)


async def test_i_need_to_stop_brings_the_safety_words_and_rating_when_the_answer_is_refused(
    api: FakeBotApi, alice: FakeUser, database_url: str
) -> None:
    # "I need to stop" edits nothing, so only the refused answer can get in its way.
    await begin_walk(alice)
    cue = alice.messages()[-1]
    inject(api, "answer_too_old")
    alice.tap("I need to stop", message=cue)
    await fault_hit(api, "answer_too_old")
    kind = await alice.wait_for_text("listening to your body")
    assert "medical help" in kind.body
    await alice.wait_for_text("How hard did that feel")
    row = latest_row(database_url, "walks", alice.id)
    assert (row["status"], row["end_reason"], row["rating_step"]) == (
        "ended",
        "need_to_stop",
        "effort",
    )


@pytest.mark.parametrize("fault", FAULTS)
async def test_an_effort_rating_brings_the_pain_question_and_the_programme_moves_on(
    api: FakeBotApi, alice: FakeUser, database_url: str, fault: str
) -> None:
    await begin_walk(alice)
    alice.send("/stop")
    effort = await alice.wait_for_text("How hard did that feel")
    inject(api, fault)
    alice.tap("5 moderate", message=effort)
    await fault_hit(api, fault)
    pain = await alice.wait_for_screen("knee pain")  # edited in place, or sent anew
    alice.tap("3", message=pain)
    await alice.wait_for_screen("Anything to note")
    row = latest_row(database_url, "walks", alice.id)
    assert (row["effort"], row["knee_pain"], row["rating_step"]) == (5, 3, "note")
    assert no_apology(alice)


@pytest.fixture
async def quick_bot(settings: Settings) -> AsyncIterator[RunningBot]:
    running = RunningBot(settings.model_copy(update={"six_minute_test_seconds": 60}))
    await running.start()
    yield running
    await running.stop()


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_six_minute_test_start_gets_its_phrases(
    api: FakeBotApi,
    sessions: SessionFactory,
    quick_bot: RunningBot,
    database_url: str,
    fault: str,
) -> None:
    bea = await onboarded_chat(api, sessions, "Bea")
    bea.send("/sixmin")
    choice = await bea.wait_for_text("Which way today?")
    bea.tap("Backward", message=choice)
    card = await bea.wait_for_text("Six-minute walk test")
    bea.tap("2 very easy", message=card)
    ready = await bea.wait_for_text("Ready?")
    await asyncio.sleep(1)  # the chat's burst allowance refills, as while reading the card
    inject(api, fault)
    bea.tap("Start", message=ready)
    await fault_hit(api, fault)
    await bea.wait_for_text(GO_TEXT[:20])
    test = await row_when(
        database_url, "six_minute_tests", bea.id, lambda r: r["status"] == "running"
    )
    assert len(job_names(quick_bot, f"sixmin:{test['id']}:cue:")) == 7  # every phrase to come
    await bea.wait_for_text("You are doing well", timeout=15)  # the first, 10 s in
    assert no_apology(bea)


async def test_a_rating_question_that_never_arrived_is_asked_again_by_the_reminder(
    api: FakeBotApi, sessions: SessionFactory, settings: Settings, database_url: str
) -> None:
    quick = settings.model_copy(update={"rating_reminder_minutes": 0.05})  # 3 s
    running = RunningBot(quick)
    await running.start()
    try:
        cara = await onboarded_chat(api, sessions, "Cara")
        await begin_walk(cara)
        cara.send("/stop")
        effort = await cara.wait_for_text("How hard did that feel")
        # The effort answer is stored, then its pain question meets 502s twice over, each
        # time past the request's retries: edited in place, then sent anew. The step is owed,
        # unasked. The error handler's answer to
        # the tap is refused as too old, and the apology comes all the same.
        tries = 1 + len(request.BACKOFF_S)
        api.fail_next("editMessageText", status=502, times=tries)
        api.fail_next(
            "sendMessage", status=502, chat_id=cara.id, text_contains="knee pain", times=tries
        )
        inject(api, "answer_too_old")
        cara.tap("5 moderate", message=effort)
        await cara.wait_for_text("went wrong")
        row = latest_row(database_url, "walks", cara.id)
        assert (row["effort"], row["rating_step"]) == (5, "pain")
        again = await cara.wait_for_text("knee pain", timeout=10)
        assert "gentle reminder" in again.body
        cara.tap("2", message=again)
        await cara.wait_for_screen("Anything to note")
        row = latest_row(database_url, "walks", cara.id)
        assert (row["knee_pain"], row["rating_step"]) == (2, "note")
    finally:
        await running.stop()


@pytest.mark.parametrize("fault", FAULTS)
async def test_deleteme_erases_even_when_the_tap_cannot_be_answered(
    api: FakeBotApi, alice: FakeUser, database_url: str, fault: str
) -> None:
    alice.send("/deleteme")
    confirm = await alice.wait_for_text("can't be undone")
    inject(api, fault)
    alice.tap("Yes, delete everything", message=confirm)
    await fault_hit(api, fault)
    await alice.wait_for_screen("everything about you is deleted")
    assert latest_row(database_url, "users", alice.id) == {}
