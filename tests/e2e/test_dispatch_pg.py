"""Two dispatchers against one PostgreSQL database: every due nudge is sent exactly once.

SQLite has no row locks to skip (and walkbot runs one process on it), so these run only when
WALKBOT_TEST_DATABASE_URL points at PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from tests.fakes import real_sources
from tests.people import LONDON, people_due_a_reminder
from walkbot.app import build_application
from walkbot.clock import SystemClock
from walkbot.context import runtime_of
from walkbot.sandbox import FakeBotApi
from walkbot.scheduling.dispatch import dispatch_once
from walkbot.services import dispatch as service
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, is_sqlite, transaction

FIRST_ID = 9_200_000_000


@pytest.fixture(autouse=True)
def _postgres_only(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("needs PostgreSQL (FOR UPDATE SKIP LOCKED); SQLite is single-process")


async def _seed(sessions: SessionFactory, count: int) -> range:
    ids = range(FIRST_ID, FIRST_ID + count)
    now = SystemClock().now()
    async with transaction(sessions) as session:
        session.add_all(
            people_due_a_reminder(ids, now=now, zone=LONDON, due_for=timedelta(seconds=30))
        )
    return ids


async def test_a_claim_skips_rows_another_dispatcher_holds(
    database_url: str, sessions: SessionFactory
) -> None:
    ids = await _seed(sessions, 10)
    now = SystemClock().now()
    async with transaction(sessions) as first:
        sources = real_sources(sessions)
        held = await service.claim_due(first, sources=sources, now=now, limit=4)  # uncommitted
        async with transaction(sessions) as second:
            other = await asyncio.wait_for(
                service.claim_due(second, sources=sources, now=now, limit=100), 5
            )
    a = {o.user_id for o in held.send}
    b = {o.user_id for o in other.send}
    assert len(a) == 4 and len(b) == 6
    assert a.isdisjoint(b) and a | b == set(ids)


async def test_two_dispatchers_send_each_nudge_exactly_once(
    api: FakeBotApi, settings: Settings, sessions: SessionFactory
) -> None:
    ids = await _seed(sessions, 200)
    quick = settings.model_copy(update={"rate_limit": False})
    apps = [build_application(quick), build_application(quick)]  # two engines, two pools
    for app in apps:
        await app.initialize()
    try:
        stats = await asyncio.gather(
            *(dispatch_once(runtime_of(app), limit=10, rate=500) for app in apps)
        )
    finally:
        for app in apps:
            await app.shutdown()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
    per_chat = Counter(
        int(c.params["chat_id"]) for c in api.calls if c.method == "sendMessage" and c.status == 200
    )
    assert set(per_chat) == set(ids)
    assert max(per_chat.values()) == 1
    sent = [s.sent["nudge"] for s in stats]
    assert sum(sent) == len(ids)
    assert all(n > 0 for n in sent), sent  # both shared the work
