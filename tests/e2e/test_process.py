"""The real `walkbot run` process: SIGKILL mid-walk resumes from the row; SIGTERM stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import aiohttp
from sqlmodel import select

from tests.e2e.rows import sleep_until, started_at
from tests.e2e.test_walks import start_walk, walk_row
from tests.people import onboarded_chat, people_due_a_reminder
from walkbot.sandbox import TEST_TOKEN, FakeBotApi
from walkbot.services.dispatch import BATCH_SIZE, IN_FLIGHT
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import FailedDelivery


def spawn(api: FakeBotApi, database_url: str, **extra: str) -> subprocess.Popen[bytes]:
    # Only the settings given here: none from the developer's shell (a WEBHOOK_URL would turn
    # polling off) nor from a .env file, hence the empty working directory.
    ours = {name.upper() for name in Settings.model_fields}
    env = {
        **{k: v for k, v in os.environ.items() if k.upper() not in ours},
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        "PORT": "0",  # the web layer on any free port: test workers run side by side
        **extra,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "walkbot", "run"],
        env=env,
        cwd=tempfile.mkdtemp(prefix="walkbot-process-"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


WEBHOOK_SECRET = "a-long-webhook-secret-1234"


async def spawn_webhook(
    api: FakeBotApi, database_url: str, **extra: str
) -> tuple[subprocess.Popen[bytes], int]:
    """`walkbot run` in webhook mode on a free port, once it has set its webhook."""
    for attempt in range(3):  # a port found free may be taken by another worker first
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        since = len(api.calls)
        process = spawn(
            api,
            database_url,
            PORT=str(port),
            WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram",
            WEBHOOK_SECRET=WEBHOOK_SECRET,
            **extra,
        )

        def ready(process: subprocess.Popen[bytes] = process, since: int = since) -> bool:
            started = any(c.method == "setWebhook" for c in api.calls[since:])
            return started or process.poll() is not None

        try:
            await api.until(ready, timeout=30)
        except BaseException:
            process.kill()
            raise
        if process.poll() is None:
            return process, port
        assert process.returncode == 2 and attempt < 2, "walkbot did not start"
    raise AssertionError("unreachable")


async def fan_out_due(sessions: SessionFactory, *, first_id: int, count: int) -> range:
    """`count` people whose reminder fell due 5 s ago: a fan-out for the dispatcher."""
    ids = range(first_id, first_id + count)
    async with transaction(sessions) as session:
        session.add_all(
            people_due_a_reminder(
                ids, now=datetime.now(UTC), zone="Europe/London", due_for=timedelta(seconds=5)
            )
        )
    return ids


def reminders_delivered(api: FakeBotApi, ids: range) -> Counter[int]:
    """Messages Telegram took for each of `ids`."""
    return Counter(
        int(c.params["chat_id"])
        for c in api.calls
        if c.method == "sendMessage" and c.status == 200 and int(c.params["chat_id"]) in ids
    )


async def chats_in_flight(sessions: SessionFactory) -> set[int]:
    """Chats with a message claimed and maybe sent, never confirmed (the queue's trace)."""
    async with transaction(sessions) as session:
        rows = (await session.exec(select(FailedDelivery))).all()
    return {r.chat_id for r in rows if r.detail == IN_FLIGHT and r.chat_id}


async def polling(api: FakeBotApi, since: int, timeout: float = 30) -> None:
    """Until the process spawned after call number `since` has started polling (deleteWebhook
    comes just before its first getUpdates). Measured on PostgreSQL with six test workers on
    two cores: 4.8 s for the first start, 1.3 s for a restart; a reply's 5 s wait that
    included the start-up failed 2 runs in 2. 30 s is the deadline for a start-up alone."""

    def started() -> bool:
        return any(c.method == "deleteWebhook" for c in api.calls[since:])

    await api.until(started, timeout)


async def wait_exit(process: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return await asyncio.wait_for(asyncio.to_thread(process.wait), timeout)
    except TimeoutError:
        # Say where it was stuck: its own log (stdout and stderr share the pipe).
        process.kill()
        output = process.stdout.read().decode(errors="replace") if process.stdout else ""
        told = f"walkbot did not stop in time; its log ends:\n{output[-4000:]}"
        raise AssertionError(told) from None


async def test_sigkill_mid_walk_then_restart_carries_on(
    api: FakeBotApi, sessions: SessionFactory, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    since = len(api.calls)
    process = spawn(api, database_url)
    try:
        await polling(api, since)
        await start_walk(alice, "2x10/10")
        await alice.wait_for_text("BACKWARD", timeout=15)
        started = await started_at(database_url, "walks", alice.id)
        process.kill()  # SIGKILL: no goodbye, no cleanup
        await wait_exit(process, 5)
        # Down long enough to miss two switches (at 10 s and 20 s by the walk's own start).
        await sleep_until(started + timedelta(seconds=21))

        since = len(api.calls)
        process = spawn(api, database_url)
        await polling(api, since)
        back = await alice.wait_for_text("Back with you", timeout=15)
        assert "round 2 of 2" in back.body
        await alice.wait_for_text("Well done", timeout=25)
        await alice.wait_for_text("How hard did that feel")
        row = walk_row(database_url, alice.id)
        assert (row["status"], row["end_reason"], row["rounds_done"]) == ("ended", "finished", 2)

        process.send_signal(signal.SIGTERM)
        assert await wait_exit(process, 10) == 0
        output = process.stdout.read().decode() if process.stdout else ""
        assert TEST_TOKEN not in output
        assert "walkbot stopped" in output
    finally:
        if process.poll() is None:
            process.kill()


async def test_webhook_process_serves_the_web_layer_and_stops_cleanly_on_sigterm(
    api: FakeBotApi, database_url: str
) -> None:
    """`walkbot run` with WEBHOOK_URL: walkbot's web layer on $PORT takes Telegram's posts
    and answers /healthz; SIGTERM stops it cleanly within seconds."""
    process, port = await spawn_webhook(api, database_url)
    try:
        alice = api.user("Alice")
        alice.send("/start")  # posted by the fake to /telegram with the secret
        await alice.wait_for_text("Hello, Alice", timeout=15)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as health,
        ):
            assert health.status == 200
            assert (await health.json())["mode"] == "webhook"
        process.send_signal(signal.SIGTERM)
        assert await wait_exit(process, 10) == 0
        output = process.stdout.read().decode() if process.stdout else ""
        assert "walkbot stopped" in output
        assert TEST_TOKEN not in output and WEBHOOK_SECRET not in output
    finally:
        if process.poll() is None:
            process.kill()


def test_run_without_a_token_says_what_to_do(tmp_path: object) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "walkbot", "run"],
        env=env,
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "walkbot console" in result.stderr


async def test_sigkill_mid_fan_out_sends_nothing_twice_and_leaves_a_trace_of_the_rest(
    api: FakeBotApi, sessions: SessionFactory, database_url: str
) -> None:
    """The claim commits before sending. A hard kill then costs at most its batch in flight,
    and each message of it that may not have arrived is on record (an in-flight mark); after
    the restart nobody gets a reminder twice and nobody is silently left out."""
    count = 150
    ids = await fan_out_due(sessions, first_id=9_200_000_000, count=count)

    def delivered() -> Counter[int]:
        return reminders_delivered(api, ids)

    async def in_flight() -> set[int]:
        return await chats_in_flight(sessions)

    process = spawn(api, database_url)
    try:
        await api.until(lambda: len(delivered()) >= 30, timeout=20)
        process.kill()
        await wait_exit(process, 5)
        before = set(delivered())
        assert len(before) < count  # killed in the middle
        # Read before the restart, while nothing else writes: the new process's own claims
        # are in flight for a moment too (a batch takes seconds to send), and must not be
        # mistaken for the killed batch.
        killed = await in_flight()
        assert 0 < len(killed) <= BATCH_SIZE

        process = spawn(api, database_url)

        async def settled() -> bool:
            """Everyone reached or on record, and the new process has confirmed all its own
            sends: the only marks left are the killed batch's."""
            return set(delivered()) | killed == set(ids) and await in_flight() == killed

        deadline = time.monotonic() + 30
        while not await settled():
            assert time.monotonic() < deadline, f"{count - len(delivered())} never reached"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # more ticks: nothing may come twice
        assert await settled()
        assert max(delivered().values()) == 1
        # The killed batch: claimed, perhaps sent, never confirmed, and never resent.
        assert not killed & (set(delivered()) - before)
    finally:
        if process.poll() is None:
            process.kill()


async def test_sigterm_mid_walk_stops_within_10_s_and_the_restart_carries_on(
    api: FakeBotApi, sessions: SessionFactory, database_url: str
) -> None:
    """SIGTERM while cues are due: a clean stop (exit 0) within 10 s, and the next process
    picks the walk up from its row as after a SIGKILL."""
    alice = await onboarded_chat(api, sessions, "Alice")
    since = len(api.calls)
    process = spawn(api, database_url)
    try:
        await polling(api, since)
        await start_walk(alice, "1x10/10")
        await alice.wait_for_text("BACKWARD", timeout=15)
        process.send_signal(signal.SIGTERM)
        assert await wait_exit(process, 10) == 0
        output = process.stdout.read().decode() if process.stdout else ""
        assert "walkbot stopped" in output
        assert walk_row(database_url, alice.id)["status"] == "active"  # left for the restart

        since = len(api.calls)
        process = spawn(api, database_url)
        await polling(api, since)
        await alice.wait_for_text("Well done", timeout=30)
        await alice.wait_for_text("How hard did that feel")
        row = walk_row(database_url, alice.id)
        assert (row["status"], row["end_reason"], row["rounds_done"]) == ("ended", "finished", 1)
        bodies = [m.body for m in alice.messages()]
        assert len(bodies) == len(set(bodies)), bodies  # no cue twice across the restart
    finally:
        if process.poll() is None:
            process.kill()


async def test_sigterm_mid_fan_out_stops_within_10_s_and_the_restart_sends_the_rest_once(
    api: FakeBotApi, sessions: SessionFactory, database_url: str
) -> None:
    """SIGTERM in the middle of a fan-out: the batch already claimed is finished, the process
    exits 0 within 10 s, and the next one sends the rest: everyone once, nobody twice, and no
    message left in flight."""
    count = 150
    ids = await fan_out_due(sessions, first_id=9_210_000_000, count=count)

    def delivered() -> Counter[int]:
        return reminders_delivered(api, ids)

    async def in_flight() -> set[int]:
        return await chats_in_flight(sessions)

    process = spawn(api, database_url)
    try:
        await api.until(lambda: len(delivered()) >= 30, timeout=20)
        process.send_signal(signal.SIGTERM)
        assert await wait_exit(process, 10) == 0
        assert len(delivered()) < count  # stopped in the middle
        assert await in_flight() == set()  # the claimed batch was finished, not abandoned

        process = spawn(api, database_url)
        deadline = time.monotonic() + 30
        while set(delivered()) != set(ids):
            assert time.monotonic() < deadline, f"{count - len(delivered())} never reached"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)  # more ticks: nothing may come twice
        assert max(delivered().values()) == 1
        assert await in_flight() == set()
    finally:
        if process.poll() is None:
            process.kill()
