"""A day of faults against the fake Bot API, in about a minute: onboardings, walks and their
ratings, a six-minute test, a reminder fan-out, weekly summaries and a group challenge's daily
board, while a seeded fault plan (walkbot/sandbox/faults.py) throws 429s with retry_after,
bursts of 502s, answers slower than the read timeout, dropped connections and taps answered
too late; one walker blocks the bot mid-walk (403), one account is gone (400 chat not found)
and the group becomes a supergroup.

The seed is fixed (tests/e2e/faults.py: CI_SEED) and printed; WALKBOT_FAULT_SEED=<n> runs
another day. What must hold whatever the seed: every expected message arrives, or its chat is
on record as unreachable; nothing arrives twice unless Telegram accepted a copy whose answer
the bot never got; no walk, rating or test is left open; the bot is still answering at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.e2e.faults import (
    Ledger,
    arrived,
    fault_plan,
    given_up,
    scalar_rows,
    seed,
    sent_to,
    stranded,
    unreachable_chats,
)
from tests.e2e.test_challenge_posts import DAILY, LAUNCH, LEAD, join, launch
from tests.people import onboarded_chat, people_due_a_reminder
from walkbot.clock import ShiftedClock
from walkbot.sandbox import FakeBotApi, FakeUser, Limits
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction

NUDGED = range(9_300_000_000, 9_300_000_024)  # a fan-out of 24 reminders
REPORTED = range(9_310_000_000, 9_310_000_012)  # and 12 weekly summaries
GONE = NUDGED[5]  # an account deleted since: 400 chat not found
WAIT = 40.0  # the longest a message may take under faults (several slow answers in a row)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(limits=Limits()) as server:
        yield server


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "dispatch_interval_seconds": 0.3,
            "board_edit_gap_seconds": 0.5,
            "six_minute_test_seconds": 12,
            "overdue_sweep_seconds": 1.0,
            "overdue_grace_seconds": 2.0,
        }
    )


async def onboarding(user: FakeUser, ledger: Ledger) -> None:
    """As tests/e2e/test_onboarding.py, with the day's patience: flood control may hold a
    step for a few seconds."""
    user.send("/start")
    await user.wait_for_text("Shall we start?", timeout=WAIT)
    user.tap("Yes, let's start")
    for n in range(1, 10):
        question = await user.wait_for_screen(f"Safety check {n} of 9", timeout=WAIT)
        user.tap("No", message=question)
    await user.wait_for_screen("walked backwards for exercise", timeout=WAIT)
    user.tap("A little")
    await user.wait_for_screen("What matters most", timeout=WAIT)
    user.tap("Balance")
    await user.wait_for_screen("Which time zone", timeout=WAIT)
    user.send("europe/london")
    await user.wait_for_text("Which days", timeout=WAIT)
    user.tap("Done")
    await user.wait_for_screen("What time", timeout=WAIT)
    user.send("7:45")
    await user.wait_for_text("Kilometres or miles", timeout=WAIT)
    user.tap("Kilometres")
    await user.wait_for_screen("All set", timeout=WAIT)
    ledger.expect(user.id, "reply", "All set")


async def walk_and_rate(user: FakeUser, ledger: Ledger, *, block: bool = False) -> None:
    user.send("/walk 1x10/10")
    card = await user.wait_for_text("Before you start", timeout=WAIT)
    user.tap("Start", message=card)
    await user.wait_for_text("BACKWARD", timeout=WAIT)
    if block:
        user.block()  # mid-walk: every message to them is refused with 403 from now on
        return
    ledger.expect(user.id, "walk-cue", "BACKWARD for 10 s", "Forward again")
    ledger.expect(user.id, "walk-end", "Well done")
    ledger.expect(user.id, "rating", "How hard")
    effort = await user.wait_for_text("How hard did that feel", timeout=WAIT)
    user.tap("5 moderate", message=effort)
    pain = await user.wait_for_screen("knee pain", timeout=WAIT)
    user.tap("2", message=pain)
    note = await user.wait_for_screen("Anything to note", timeout=WAIT)
    user.tap("Skip", message=note)
    await user.wait_for_screen("saved", timeout=WAIT)


async def six_minutes(user: FakeUser, ledger: Ledger) -> None:
    user.send("/sixmin")
    choice = await user.wait_for_text("Which way today?", timeout=WAIT)
    user.tap("Forward", message=choice)
    card = await user.wait_for_text("Six-minute walk test", timeout=WAIT)
    user.tap("2 very easy", message=card)
    ready = await user.wait_for_text("Ready?", timeout=WAIT)
    await asyncio.sleep(3.5)  # reading the card: the chat's burst allowance refills
    user.tap("Start", message=ready)
    prompt = await user.wait_for_text("How far did you walk?", timeout=WAIT)
    ledger.expect(user.id, "sixmin-distance", "How far did you walk?")
    user.send("480 m")
    effort = await user.wait_for_text("Got it", timeout=WAIT)
    user.tap("5 moderate", message=effort)
    symptoms = await user.wait_for_text("did you stop or rest", timeout=WAIT)
    user.tap("None", message=symptoms)
    await user.wait_for_text("Forward 480 m", timeout=WAIT)
    assert prompt is not None


async def test_a_day_of_faults_loses_nothing_doubles_nothing_and_strands_nothing(
    api: FakeBotApi,
    sessions: SessionFactory,
    bot: RunningBot,
    clock: ShiftedClock,
    database_url: str,
) -> None:
    chosen = seed()
    plan = fault_plan(chosen)
    print(f"\nfault day: seed {chosen}, rate {plan.rate} (WALKBOT_FAULT_SEED=<n> for another)")
    plan.gone_chats.add(GONE)
    ledger = Ledger()

    # The day runs on real time (cue jobs wait for the real clock) until the evening's board,
    # when the clock jumps to it. The people: two new, four walkers (one will block the bot),
    # one six-minute tester, a group of two with a challenge, and a crowd due a reminder or a
    # summary soon.
    newcomers = [api.user(name) for name in ("Olive", "Omar")]
    walkers = [
        await onboarded_chat(api, sessions, name, greeted=True)
        for name in ("Wes", "Wyn", "Wil", "Bea")
    ]
    tester = await onboarded_chat(api, sessions, "Tess", greeted=True)
    ann = await onboarded_chat(api, sessions, "Ann", now=LAUNCH)
    ben = await onboarded_chat(api, sessions, "Ben", now=LAUNCH)
    family = api.group("Family walkers", kind="group", creator=ann, members=[ben])
    challenge_id, _ = await launch(sessions, bot, family, None)
    await join(sessions, challenge_id, family.id, ann, ben)
    now = clock.now()
    async with transaction(sessions) as session:
        session.add_all(
            people_due_a_reminder(
                NUDGED, now=now, zone="Europe/London", due_for=timedelta(seconds=-8)
            )
        )
        reported = people_due_a_reminder(
            REPORTED, now=now, zone="Europe/London", due_for=timedelta(days=-2)
        )
        for person in reported:
            person.next_summary_at = now + timedelta(seconds=12)
        session.add_all(reported)
    for chat in NUDGED:
        ledger.expect(chat, "nudge", "Time for your backward walk")
    for chat in REPORTED:
        ledger.expect(chat, "summary", "Last week ( | Your week so far (")  # by the weekday

    api.fault_plan = plan  # from here on, faults
    blocked = walkers[-1]
    # One cue meets more 502s than the delivery's retries: given up on, and on record.
    unlucky = walkers[-2]
    api.fail_next(
        "sendMessage", status=502, chat_id=unlucky.id, times=4, text_contains="Forward again"
    )
    await asyncio.gather(
        *(onboarding(user, ledger) for user in newcomers),
        *(walk_and_rate(user, ledger) for user in walkers[:-1]),
        walk_and_rate(blocked, ledger, block=True),
        six_minutes(tester, ledger),
    )
    # Everyone's queue messages have gone (or are on record) before the evening's board.
    unsettled = set(NUDGED) | set(REPORTED)

    def settled() -> bool:
        return all(
            chat == GONE or arrived(api, chat, words)
            for chat, words, _ in ledger.expected
            if chat in unsettled
        )

    try:
        await api.until(settled, WAIT)
    except AssertionError:
        missing = ledger.missing(api, database_url)
        raise AssertionError(f"seed {chosen}: never arrived: {missing}") from None

    supergroup = family.migrate()
    clock.set(DAILY - LEAD)
    await supergroup.wait_for_text("Day 1 of 7", timeout=WAIT)
    ledger.expect(supergroup.id, "challenge-daily", "Day 1 of 7")

    # Faults off; the bot is still answering, and the sweep has had time to tidy up.
    api.fault_plan = None
    newcomers[0].send("/help")
    await newcomers[0].wait_for_text("what I can do", timeout=WAIT)
    await asyncio.sleep(3)  # a few sweeps and ticks: anything doubled would show now
    assert bot.app is not None and bot.app.running

    unreachable = unreachable_chats(database_url)
    failed = scalar_rows(database_url, "SELECT chat_id, detail FROM failed_deliveries")
    delivered = len(plan.sent)
    print(
        f"fault day: {api.stats.requests} requests; faults {dict(sorted(plan.counts.items()))};"
        f" {delivered} messages delivered; undeliverable on record: {len(unreachable)} chats"
        f" marked unreachable, {len(failed)} failed deliveries"
    )
    assert blocked.id in unreachable and GONE in unreachable, (chosen, unreachable)
    assert (unlucky.id, "walk-cue") in given_up(database_url)
    missing = ledger.missing(api, database_url)
    assert missing == [], f"seed {chosen}: {missing}; they had: {sent_to(api, missing)}"
    assert plan.doubles() == [], f"seed {chosen}"
    assert stranded(database_url, unreachable) == [], f"seed {chosen}"
    blocked_walk = [
        row[1:]
        for row in scalar_rows(database_url, "SELECT user_id, status, end_reason FROM walks")
        if row[0] == blocked.id
    ]
    assert blocked_walk == [("ended", "blocked")], blocked_walk
    assert sum(plan.counts.values()) >= 20, plan.counts  # the day did meet faults
