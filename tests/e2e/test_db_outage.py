"""PostgreSQL gone for 30 s during two walks and a reminder fan-out, then back: the bot keeps
running, tells people it cannot save right now, and carries on without a restart; a walk that
ends after the outage finishes by its own cue, one whose end fell in the outage is wrapped up
by the overdue sweep, and every reminder goes out once.

The shared server cannot be stopped, so the bot reaches it through a TCP proxy
(tests/e2e/pgproxy.py) that cuts every connection and refuses new ones for the outage. A real
30 s: the outage covers three of the walk's cues and the fan-out's due time, and it is the
test's only long wait (the walk goes on through it). PostgreSQL only: on SQLite the database
is a file inside the process, and there is no server to lose.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import TEST_DATABASE_URL
from tests.e2e.pgproxy import TcpProxy
from tests.e2e.rows import latest_row
from tests.e2e.test_walks import start_walk
from tests.people import onboarded_chat, people_due_a_reminder
from walkbot.bot import texts
from walkbot.clock import ShiftedClock
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction

pytestmark = pytest.mark.skipif(
    TEST_DATABASE_URL == "sqlite",
    reason="needs PostgreSQL (a server to lose); SQLite is a file inside the process",
)

OUTAGE_S = 30.0
NUDGED = range(9_400_000_000, 9_400_000_060)


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[TcpProxy]:
    target = make_url(database_url)
    running = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def bot(
    settings: Settings, clock: ShiftedClock, proxy: TcpProxy
) -> AsyncIterator[RunningBot]:
    through_proxy = settings.model_copy(
        update={
            "database_url": proxy.url_for(settings.database_url),
            "dispatch_interval_seconds": 0.3,
            "overdue_sweep_seconds": 1.0,
            "overdue_grace_seconds": 2.0,
        }
    )
    running = RunningBot(through_proxy, clock=clock)
    await running.start()
    yield running
    await running.stop()


async def test_postgres_down_for_30_s_mid_walk_and_mid_fan_out_then_back(
    api: FakeBotApi,
    sessions: SessionFactory,
    bot: RunningBot,
    proxy: TcpProxy,
    clock: ShiftedClock,
    database_url: str,
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice", greeted=True)
    bob = await onboarded_chat(api, sessions, "Bob", greeted=True)
    await start_walk(alice, "2x10/10")  # 40 s: cues at 0, 10, 20, 30 and the end at 40
    await start_walk(bob, "1x10/10")  # ends at 20 s, in the outage: its last cue fails
    await alice.wait_for_text("BACKWARD", timeout=10)
    await bob.wait_for_text("BACKWARD", timeout=10)
    async with transaction(sessions) as session:  # due in the middle of the outage
        session.add_all(
            people_due_a_reminder(
                NUDGED, now=clock.now(), zone="Europe/London", due_for=timedelta(seconds=-5)
            )
        )

    await proxy.cut()
    cut_at = time.monotonic()
    alice.send("/history")  # cannot be stored: told once, however often it is fetched again
    told = await alice.wait_for_text(texts.STORE_DOWN_HELD, timeout=15)
    assert told.body == texts.STORE_DOWN_HELD
    await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - cut_at)))
    assert bot.app is not None and bot.app.running  # still up, through it all
    await proxy.restore()

    # Back without a restart: the walk ends (its last cue, or the overdue sweep), the rating
    # question comes, and every reminder goes out once.
    await alice.wait_for_text("How hard did that feel", timeout=30)
    row = latest_row(database_url, "walks", alice.id)
    assert row["status"] == "ended" and row["end_reason"] == "finished"
    # Bob's walk ended while the database was away: the overdue sweep wraps it up.
    await bob.wait_for_text("How hard did that feel", timeout=30)
    row = latest_row(database_url, "walks", bob.id)
    assert row["status"] == "ended" and row["end_reason"] == "finished"

    def delivered() -> Counter[int]:
        return Counter(
            int(c.params["chat_id"])
            for c in api.calls
            if c.method == "sendMessage" and c.status == 200 and int(c.params["chat_id"]) in NUDGED
        )

    await api.until(lambda: set(delivered()) == set(NUDGED), timeout=30)

    # The /history sent in the outage is answered now, without being sent again (when it is
    # handled, before or after the walk's end, decides which answer it gets).
    def history_answers() -> int:
        return sum(
            m.body.startswith(("Your latest walks", "No walks yet")) for m in alice.messages()
        )

    await api.until(lambda: history_answers() == 1, timeout=30)
    assert sum(m.body == texts.STORE_DOWN_HELD for m in alice.messages()) == 1
    alice.send("/history")
    await api.until(lambda: history_answers() == 2, timeout=15)
    history = alice.messages()[-1]
    assert "20 s backward" in history.body
    await asyncio.sleep(1.0)  # a few ticks more: nothing twice
    assert max(delivered().values()) == 1
