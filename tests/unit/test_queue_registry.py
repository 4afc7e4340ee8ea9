"""The dispatch queue as a registry: a kind of message it has never heard of (a toy source
posting to group chats, defined here) is claimed, sent and recorded by the shared mechanics,
with nothing in the queue edited for it. And the registered sources, wired to a notifier that
only records, send what the rows say."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.fakes import FixedClock, RecordingNotifier, real_sources
from tests.people import add_onboarded_person
from walkbot.ports import Outcome
from walkbot.ratelimit import _BACKGROUND
from walkbot.runtime import Runtime
from walkbot.sandbox import TEST_TOKEN
from walkbot.scheduling.dispatch import dispatch_once
from walkbot.services.dispatch import IN_FLIGHT, Claim, Outgoing, Source, by_name
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import FailedDelivery

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # a Monday, GMT
CHEERS, QUIET, GONE, FLAKY = -100_111, -100_222, -100_333, -100_444
ALICE = 7_000_000_301


def runtime_for(sessions: SessionFactory, *sources: Source[Any]) -> Runtime:
    settings = Settings(telegram_bot_token=TEST_TOKEN, _env_file=None)
    return Runtime(
        settings=settings,
        sessions=sessions,
        clock=FixedClock(NOW),
        notifier=RecordingNotifier(),
        sources=sources,
    )


async def ledger(sessions: SessionFactory) -> list[tuple[str, int | None, int | None, str]]:
    async with transaction(sessions) as session:
        rows = (await session.exec(select(FailedDelivery))).all()
    return sorted((r.kind, r.user_id, r.chat_id, r.detail) for r in rows)


class GroupPosts(Source[str]):
    """Posts due to group chats, held in memory: claimed once each, delivered as `answers`
    says (an exception for FLAKY), a refusing group taken off the board."""

    name = "toy-group-post"

    def __init__(self, sessions: SessionFactory, board: dict[int, list[str]]) -> None:
        self.sessions, self.board = sessions, board
        self.answers: dict[int, Outcome] = {}
        self.delivered: list[tuple[int, str]] = []
        self.in_flight: dict[int, list[tuple[str, int | None, int | None, str]]] = {}
        self.background: list[bool] = []
        self.removed: list[int] = []

    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[str]:
        claimed: Claim[str] = Claim()
        for chat_id in list(self.board)[:limit]:
            for text in self.board.pop(chat_id):  # advanced: never due again
                claimed.send.append(self.outgoing(chat_id, now, text, user_id=None))
        return claimed

    async def deliver(self, item: Outgoing[str]) -> Outcome:
        self.background.append(_BACKGROUND.get())
        self.in_flight.setdefault(item.chat_id, await ledger(self.sessions))
        if item.chat_id == FLAKY:
            raise RuntimeError("a bug in this one message")
        self.delivered.append((item.chat_id, item.payload))
        return self.answers.get(item.chat_id, Outcome("sent"))

    async def blocked(self, session: AsyncSession, *, item: Outgoing[str], now: datetime) -> None:
        self.removed.append(item.chat_id)  # say, the group removed the bot: its board ends


async def test_a_new_kind_is_claimed_sent_and_recorded_by_the_shared_mechanics(
    sessions: SessionFactory,
) -> None:
    posts = GroupPosts(
        sessions,
        {
            CHEERS: ["Day 3: Ann leads"],
            QUIET: ["Day 3: nobody walked", "3 days left"],
            GONE: ["Day 3: Ben leads"],
            FLAKY: ["Day 3: Cat leads"],
        },
    )
    posts.answers = {QUIET: Outcome("blocked", "forbidden"), GONE: Outcome("failed", "502")}
    stats = await dispatch_once(runtime_for(sessions, posts), rate=1000)

    assert (stats.sent["toy-group-post"], stats.blocked, stats.failed) == (1, 2, 2)
    # Each message was on record as in flight while it was being sent, under no person.
    for chat_id in (CHEERS, QUIET, GONE, FLAKY):
        assert ("toy-group-post", None, chat_id, IN_FLIGHT) in posts.in_flight[chat_id]
    assert all(posts.background)  # the fan-out yields to cues and replies
    # The group that refused the first post is not sent the second, and is the source's to
    # handle; its marks are cleared (nothing is left "in flight").
    assert (QUIET, "3 days left") not in posts.delivered
    assert posts.removed == [QUIET]
    assert await ledger(sessions) == [
        ("toy-group-post", None, FLAKY, "RuntimeError: a bug in this one message"),
        ("toy-group-post", None, GONE, "502"),
    ]
    again = await dispatch_once(runtime_for(sessions, posts), rate=1000)
    assert again.batches == 0 and len(posts.delivered) == 3  # claimed once: at most once


class Broken(GroupPosts):
    name = "toy-broken"

    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[str]:
        raise RuntimeError("a bug in a new kind of message")


async def test_a_source_that_cannot_claim_costs_only_its_own_rows(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    posts = GroupPosts(sessions, {CHEERS: ["Day 3: Ann leads"]})
    broken = Broken(sessions, {})
    stats = await dispatch_once(runtime_for(sessions, broken, posts), rate=1000)
    assert posts.delivered == [(CHEERS, "Day 3: Ann leads")]
    assert stats.broken == {"toy-broken"}
    assert "the 'toy-broken' source could not claim" in caplog.text


def test_two_sources_may_not_share_a_name(sessions: SessionFactory) -> None:
    with pytest.raises(ValueError, match="toy-group-post"):
        by_name([GroupPosts(sessions, {}), GroupPosts(sessions, {})])


async def test_the_registered_sources_send_through_their_ports(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        await add_onboarded_person(
            session,
            ALICE,
            "Alice",
            now=NOW - timedelta(hours=1),
            reminder_days=range(7),
            reminder_time=time(8, 0),
            scheduled=True,
        )
    notifier = RecordingNotifier()
    runtime = runtime_for(sessions)
    runtime.sources = real_sources(sessions, notifier)
    stats = await dispatch_once(runtime, rate=1000)
    assert stats.sent == {"nudge": 1}
    [(method, chat_id, details)] = notifier.calls
    assert (method, chat_id, details["day"], details["snoozable"]) == (
        "nudge",
        ALICE,
        date(2026, 1, 5),
        True,
    )
    assert details["text"].startswith("Time for your backward walk")
    assert await ledger(sessions) == []
