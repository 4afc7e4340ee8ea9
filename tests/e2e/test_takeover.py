"""Three real `walkbot run` processes on one PostgreSQL database: one leads (it holds the
lease, walkbot/lease.py), two wait as hot standbys. SIGKILL the leader in the middle of a walk
and of a reminder fan-out: a standby takes over within 15 s, finishes the walk (its summary
and rating question), and finishes the fan-out; no cue and no reminder arrives twice, and
none is lost (a reminder the killed leader had claimed is on record as in flight, not resent).
Then the new leader's lease session is ended under it: it steps down, and the lease passes on.

PostgreSQL only: on SQLite the lease is a file lock on one machine (tests/e2e/test_standby.py).

Every wait is on a condition (the fake Bot API's records, the database, the processes' logs)
with a generous deadline; the only bound measured against the clock is the takeover's 15 s,
which is the requirement itself (measured: see docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from tests.e2e.rows import latest_row
from tests.e2e.test_process import spawn, wait_exit
from tests.e2e.test_walks import start_walk
from tests.people import onboarded_chat, people_due_a_reminder
from walkbot.sandbox import FakeBotApi
from walkbot.services.dispatch import IN_FLIGHT
from walkbot.store.db import SessionFactory, is_sqlite, sync_url, transaction
from walkbot.store.models import FailedDelivery

TAKEOVER_LIMIT_S = 15.0  # issue 11, point 5
PEOPLE, FIRST_ID = 300, 9_300_000_000  # 300 reminders at the dispatcher's 25/s: 12 s of sending


@pytest.fixture(autouse=True)
def _postgres_only(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("needs PostgreSQL (the advisory-lock lease); SQLite runs one machine")


class Walkbot:
    """One `walkbot run` process, its output collected line by line as it comes."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            self.lines.append(raw.decode(errors="replace"))

    def said(self, needle: str) -> int:
        return sum(needle in line for line in list(self.lines))

    @property
    def port(self) -> int:
        for line in reversed(list(self.lines)):  # a step-down starts a new web layer
            if found := re.search(r"web layer on port (\d+)", line):
                return int(found.group(1))
        raise AssertionError("no web layer yet")

    async def role(self) -> str:
        url = f"http://127.0.0.1:{self.port}/healthz"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            role = (await response.json())["role"]
            assert isinstance(role, str)
            return role

    async def becomes(self, role: str, timeout: float = 10) -> None:
        """Its role says `role` (it turns "leader" just after it starts polling)."""
        deadline = time.monotonic() + timeout
        while (now := await self.role()) != role:
            assert time.monotonic() < deadline, f"still {now}"
            await asyncio.sleep(0.1)


async def until(ready: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out after {timeout} s: {what}"
        await asyncio.sleep(0.05)


def _end_lease_session(database_url: str) -> int:
    """Ends the session holding walkbot's lease (as a dead network would); its server pid."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            pids = connection.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                )
            ).scalars()
            [pid] = list(pids)
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            return int(pid)
    finally:
        engine.dispose()


async def test_a_standby_takes_over_a_killed_leader_mid_walk_and_mid_fan_out(
    api: FakeBotApi, sessions: SessionFactory, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    ids = range(FIRST_ID, FIRST_ID + PEOPLE)
    env = {"DISPATCH_INTERVAL_SECONDS": "1"}
    bots = [Walkbot(spawn(api, database_url, **env)) for _ in range(3)]

    def delivered() -> Counter[int]:
        return Counter(
            int(c.params["chat_id"])
            for c in api.calls
            if c.method == "sendMessage" and c.status == 200 and int(c.params["chat_id"]) in ids
        )

    async def in_flight(before: datetime | None = None) -> set[int]:
        async with transaction(sessions) as session:
            rows = (await session.exec(select(FailedDelivery))).all()
        return {
            r.chat_id
            for r in rows
            if r.detail == IN_FLIGHT and r.chat_id and (before is None or r.failed_at < before)
        }

    try:
        # Start-up, three at once on a busy machine: a start alone can take 5 s.
        await until(
            lambda: all(b.said("waiting for the lease") for b in bots), 60, "all three serving"
        )
        await until(lambda: sum(b.said("walkbot leading") for b in bots) == 1, 30, "a leader")
        [leader] = [b for b in bots if b.said("walkbot leading")]
        standbys = [b for b in bots if b is not leader]
        # deleteWebhook comes just before the first getUpdates, which the fake records only
        # when it returns (a long poll).
        await api.wait_for(lambda c: c.method == "deleteWebhook", timeout=30)
        await leader.becomes("leader")
        assert [await b.role() for b in standbys] == ["standby", "standby"]

        # A walk under way (cues at 0 s, 10 s, the finish at 20 s)...
        await start_walk(alice, "1x10/10")
        await alice.wait_for_text("BACKWARD", timeout=15)
        # ...and a fan-out: 300 reminders fall due now.
        now = datetime.now(UTC)
        async with transaction(sessions) as session:
            session.add_all(
                people_due_a_reminder(ids, now=now, zone="Europe/London", due_for=timedelta(0))
            )
        await api.until(lambda: len(delivered()) >= 25, timeout=20)

        killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
        leader.process.kill()  # SIGKILL: its sockets close, PostgreSQL frees the lock
        await wait_exit(leader.process, 5)
        before = set(delivered())
        assert len(before) < PEOPLE, "the fan-out was over before the kill"
        assert latest_row(database_url, "walks", alice.id)["status"] == "active", "walk over"

        # A standby takes over: its first call to Telegram, then polling, then the queue.
        def first_after(match: Callable[[str, dict[str, object]], bool]) -> float | None:
            for call in list(api.calls):
                if call.received_at > killed_at and match(call.method, call.params):
                    return call.received_at - killed_at
            return None

        await api.until(lambda: first_after(lambda m, _: m == "deleteWebhook") is not None, 30)
        first_call = first_after(lambda m, _: True)
        polling = first_after(lambda m, _: m == "deleteWebhook")
        await api.until(lambda: len(delivered()) > len(before), timeout=30)
        queue = first_after(lambda m, p: m == "sendMessage" and int(str(p["chat_id"])) in ids)
        print(
            f"takeover after SIGKILL: first call {first_call:.2f} s, polling {polling:.2f} s,"
            f" queue {queue:.2f} s"
        )
        assert polling is not None and polling < TAKEOVER_LIMIT_S
        await until(lambda: sum(b.said("walkbot leading") for b in standbys) == 1, 10, "one")
        [new_leader] = [b for b in standbys if b.said("walkbot leading")]
        [still_standby] = [b for b in standbys if b is not new_leader]

        # The walk is finished by the new leader: its summary and the rating question.
        done = await alice.wait_for_text("Well done", timeout=40)
        assert done.sent_at > killed_at
        await alice.wait_for_text("How hard did that feel", timeout=15)
        row = latest_row(database_url, "walks", alice.id)
        assert (row["status"], row["end_reason"], row["rounds_done"]) == ("ended", "finished", 1)

        # The fan-out: everyone reached once, or on record as claimed by the killed leader.
        killed = await in_flight(before=killed_wall)
        deadline = time.monotonic() + 60
        while not (set(delivered()) | killed == set(ids) and await in_flight() == killed):
            assert time.monotonic() < deadline, f"{PEOPLE - len(delivered())} never reached"
            await asyncio.sleep(0.2)
        assert max(delivered().values()) == 1
        assert not killed & (set(delivered()) - before)  # claimed, maybe sent: never resent

        # No cue, summary or question came twice.
        bodies = [m.body for m in alice.messages()]
        assert len(bodies) == len(set(bodies)), bodies
        await new_leader.becomes("leader")
        assert await still_standby.role() == "standby"

        # The new leader's lease session ends under it (the network, the server): it works on
        # in doubt, the other standby takes the freed lock (it tries every 2 s; the leader
        # waits 5 s before trying again), the old one is refused and steps down, and the
        # lease passes on (to the other standby, or back to it).
        polls = len(api.calls_to("deleteWebhook"))
        await asyncio.to_thread(_end_lease_session, database_url)
        await until(lambda: new_leader.said("working on while in doubt") == 1, 20, "doubt")
        await until(lambda: new_leader.said("stepping down") == 1, 30, "a step-down")
        await until(lambda: sum(b.said("walkbot leading") for b in standbys) == 2, 30, "a new term")
        await api.until(lambda: len(api.calls_to("deleteWebhook")) > polls, timeout=30)
        # The one that stepped down starts afresh as a standby (a new web layer), then either
        # gets the lease back or waits while the other standby leads.
        await until(lambda: new_leader.said("waiting for the lease") == 2, 30, "a fresh start")
        if new_leader.said("walkbot leading") == 2:
            again, other = new_leader, still_standby
        else:
            again, other = still_standby, new_leader
        await again.becomes("leader")
        await other.becomes("standby")

        for bot in standbys:
            bot.process.terminate()
        for bot in standbys:
            assert await wait_exit(bot.process, 10) == 0
        assert max(delivered().values()) == 1
    finally:
        for bot in bots:
            if bot.process.poll() is None:
                bot.process.kill()
