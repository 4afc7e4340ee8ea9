"""A process without the lease is a hot standby: its web layer answers (/healthz says
"standby", 200; a webhook POST gets 503 so Telegram delivers it again later) and it does none
of the leader's work (no polling, no jobs) until the lease is free; then it leads at once.
Runs on SQLite (the lease is a file lock beside the database) and on PostgreSQL (an advisory
lock)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr

from walkbot.lease import Lease, lease_for
from walkbot.runner import Running
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.web import SECRET_HEADER

SECRET = "a-long-webhook-secret-1234"


@pytest.fixture
async def held(database_url: str) -> AsyncIterator[Lease]:
    """The lease, held by the test as another walkbot process would hold it."""
    lease = lease_for(database_url)
    await lease.acquire()
    yield lease
    await lease.release()


async def _health(running: Running) -> tuple[int, dict[str, object]]:
    assert running.web is not None
    url = f"http://127.0.0.1:{running.web.port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def test_a_standby_serves_health_and_waits_then_leads_when_the_lease_is_free(
    api: FakeBotApi, settings: Settings, held: Lease
) -> None:
    running = Running(settings, host="127.0.0.1", web_port=0, poll_timeout=1)
    since = len(api.calls)
    await running.start()
    try:
        status, report = await _health(running)
        assert (status, report["role"], report["database"]) == (200, "standby", "reachable")
        # Nothing of the leader's: no polling, no menus, no catch-up, no jobs.
        assert {c.method for c in api.calls[since:]} <= {"getMe"}
        assert running.app is not None and running.app.job_queue is not None
        assert running.app.job_queue.jobs() == ()
        assert not running.leading.is_set()

        await held.release()  # the other process stops, or dies
        await running.wait_leading()  # the next try (within ~2 s) gets it
        status, report = await _health(running)
        assert (status, report["role"]) == (200, "leader")
        await api.wait_for(lambda c: c.method == "deleteWebhook", timeout=10)
        names = {job.name for job in running.app.job_queue.jobs()}
        assert {"dispatch", "overdue-sweep"} <= names
    finally:
        await running.stop()


async def test_a_standby_refuses_webhook_posts_so_telegram_redelivers_them_to_the_leader(
    api: FakeBotApi, settings: Settings, held: Lease
) -> None:
    webhook = settings.model_copy(
        update={"webhook_url": "http://127.0.0.1:1/telegram", "webhook_secret": SecretStr(SECRET)}
    )
    running = Running(webhook, host="127.0.0.1", web_port=0)
    await running.start()
    try:
        assert running.web is not None
        url = f"http://127.0.0.1:{running.web.port}/telegram"
        update = api.user("Alice").send("/start")
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as refused,
            http.post(url, json=update) as forbidden,
        ):
            assert refused.status == 503
            assert forbidden.status == 403  # the secret is still checked first
        assert not api.calls_to("setWebhook")
    finally:
        await running.stop()


async def test_an_embedded_bot_says_who_is_in_the_way_rather_than_wait_for_ever(
    settings: Settings, held: Lease
) -> None:
    """A bot a failed test left running must not hang every later test on its database."""
    bot = RunningBot(settings)
    with pytest.raises(RuntimeError, match="another walkbot holds the lease"):
        await bot.start(lease_timeout=0.5)
    assert bot.app is None  # nothing left running
