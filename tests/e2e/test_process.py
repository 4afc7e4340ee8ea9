"""The real `walkbot run` process: SIGKILL mid-walk resumes from the row; SIGTERM stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time

from tests.e2e.test_walks import start_walk, walk_row
from tests.people import onboarded_chat
from walkbot.sandbox import TEST_TOKEN, FakeBotApi
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory


def spawn(api: FakeBotApi, database_url: str) -> subprocess.Popen[bytes]:
    # Only the settings given here: none from the developer's shell (a WEBHOOK_URL would turn
    # polling off) nor from a .env file, hence the empty working directory.
    ours = {name.upper() for name in Settings.model_fields}
    env = {
        **{k: v for k, v in os.environ.items() if k.upper() not in ours},
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "walkbot", "run"],
        env=env,
        cwd=tempfile.mkdtemp(prefix="walkbot-process-"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def wait_exit(process: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return await asyncio.wait_for(asyncio.to_thread(process.wait), timeout)
    except TimeoutError:
        raise AssertionError("walkbot did not stop in time") from None


async def test_sigkill_mid_walk_then_restart_carries_on(
    api: FakeBotApi, sessions: SessionFactory, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    process = spawn(api, database_url)
    try:
        _, started = await start_walk(alice, "2x10/10")
        await alice.wait_for_text("BACKWARD", timeout=15)
        process.kill()  # SIGKILL: no goodbye, no cleanup
        await wait_exit(process, 5)
        # Down long enough to miss two switches (at 10 s and 20 s).
        await asyncio.sleep(max(0.0, started + 21 - time.monotonic()))

        process = spawn(api, database_url)
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
