"""The web layer (walkbot/web.py) in process, through httpx's ASGI transport: no network, no
port. The webhook refuses what it must before reading the body; /healthz tells the database's
state."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from telegram import Update

from walkbot.app import build_application
from walkbot.context import WalkbotApp, runtime_of
from walkbot.sandbox import TEST_TOKEN
from walkbot.settings import Settings
from walkbot.web import (
    MAX_BODY_BYTES,
    SECRET_HEADER,
    PortUnavailable,
    WebServer,
    build_web_app,
    database_reachable,
    secret_matches,
)

SECRET = "a-long-webhook-secret-1234"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
UPDATE = {
    "update_id": 41,
    "message": {
        "message_id": 7,
        "date": 1_772_000_000,
        "chat": {"id": 7_000_000_501, "type": "private", "first_name": "Alice"},
        "from": {"id": 7_000_000_501, "is_bot": False, "first_name": "Alice"},
        "text": "/help",
    },
}


def settings_for(database_url: str, *, webhook: bool = True) -> Settings:
    extra = (
        {"webhook_url": "https://example.org/telegram", "webhook_secret": SECRET} if webhook else {}
    )
    return Settings(
        telegram_bot_token=TEST_TOKEN,
        database_url=database_url,
        _env_file=None,
        **extra,  # type: ignore[arg-type]
    )


class Frozen:
    def now(self) -> datetime:
        return NOW


async def built(settings: Settings) -> AsyncIterator[WalkbotApp]:
    application = build_application(settings, clock=Frozen())
    yield application
    assert application.post_shutdown is not None
    await application.post_shutdown(application)  # disposes of its engine


@pytest.fixture
async def app(database_url: str) -> AsyncIterator[WalkbotApp]:
    async for application in built(settings_for(database_url)):
        yield application


@pytest.fixture
async def client(app: WalkbotApp) -> AsyncIterator[httpx.AsyncClient]:
    web = build_web_app(app, runtime_of(app).settings)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://walkbot") as http:
        yield http


class Untouchable:
    """A request body that fails the test if the server reads any of it."""

    def __init__(self) -> None:
        self.read = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.read = True
        raise AssertionError("the body was read")
        yield b""  # an async generator  # pragma: no cover


def queued(app: WalkbotApp) -> list[object]:
    items = []
    while not app.update_queue.empty():
        items.append(app.update_queue.get_nowait())
    return items


@pytest.mark.parametrize(
    "header", [None, b"not-the-secret", SECRET[:-1].encode(), SECRET.encode() + b"x", b"\xe9" * 26]
)
async def test_a_wrong_or_missing_secret_is_refused_without_reading_the_body(
    app: WalkbotApp, client: httpx.AsyncClient, header: bytes | None
) -> None:
    body = Untouchable()
    headers: dict[bytes, bytes] = {b"Content-Length": b"90000000"}
    if header is not None:
        headers[SECRET_HEADER.encode()] = header
    response = await client.post("/telegram", content=body, headers=headers)
    assert response.status_code == 403
    assert not body.read
    assert queued(app) == []


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    app: WalkbotApp, client: httpx.AsyncClient
) -> None:
    body = Untouchable()
    headers = {SECRET_HEADER: SECRET, "Content-Length": str(MAX_BODY_BYTES + 1)}
    response = await client.post("/telegram", content=body, headers=headers)
    assert response.status_code == 413
    assert not body.read
    assert queued(app) == []


async def test_a_chunked_body_over_the_limit_is_refused_while_streaming(
    app: WalkbotApp, client: httpx.AsyncClient
) -> None:
    chunk = b" " * 64 * 1024
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while True:  # no Content-Length: only the cap stops it
            sent += len(chunk)
            yield chunk

    response = await client.post("/telegram", content=endless(), headers={SECRET_HEADER: SECRET})
    assert response.status_code == 413
    # Stopped at the first chunk past the limit: never more than the cap and one chunk held.
    assert MAX_BODY_BYTES < sent <= MAX_BODY_BYTES + len(chunk)
    assert queued(app) == []


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b"\xff\xfe", b"[1, 2]", b'"text"', b"{}", b'{"update_id": "x"}'],
    ids=["empty", "broken", "not-utf8", "list", "string", "no-id", "bad-id"],
)
async def test_garbage_is_refused_with_400(
    app: WalkbotApp, client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/telegram", content=body, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 400
    assert queued(app) == []


async def test_a_bad_content_length_is_refused_with_400(client: httpx.AsyncClient) -> None:
    headers = {SECRET_HEADER: SECRET, "Content-Length": "lots"}
    response = await client.post("/telegram", content=Untouchable(), headers=headers)
    assert response.status_code == 400


async def test_a_good_update_reaches_the_queue_once(
    app: WalkbotApp, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/telegram", content=json.dumps(UPDATE), headers={SECRET_HEADER: SECRET}
    )
    assert response.status_code == 200
    [update] = queued(app)
    assert isinstance(update, Update)
    assert update.update_id == 41
    assert update.message is not None and update.message.text == "/help"
    assert runtime_of(app).vitals.last_update_at == NOW  # /healthz tells when it came


def test_the_secret_compare_is_constant_time_and_total() -> None:
    assert secret_matches(SECRET, SECRET)
    assert not secret_matches(None, SECRET)
    assert not secret_matches("", SECRET)
    assert not secret_matches("ü" * 30, SECRET)  # non-ASCII never raises


async def test_healthz_reports_a_reachable_database_and_the_vitals(
    app: WalkbotApp, client: httpx.AsyncClient
) -> None:
    vitals = runtime_of(app).vitals
    vitals.last_tick_at = datetime(2026, 3, 2, 9, 29, 50, tzinfo=UTC)
    vitals.last_update_at = datetime(2026, 3, 2, 9, 29, 0, tzinfo=UTC)
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    report = response.json()
    assert report["status"] == "ok"
    assert report["database"] == "reachable"
    assert report["mode"] == "webhook"
    assert report["last_update_at"] == "2026-03-02T09:29:00+00:00"
    assert report["dispatcher"] == {
        "last_tick_at": "2026-03-02T09:29:50+00:00",
        "last_dispatch_done_at": None,
    }


async def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # A SQLite file in a directory that does not exist cannot be opened.
    missing = f"sqlite:///{tmp_path / 'gone' / 'walkbot.db'}"
    async for application in built(settings_for(missing, webhook=False)):
        web = build_web_app(application, runtime_of(application).settings)
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://walkbot") as http:
            response = await http.get("/healthz")
            assert response.status_code == 503
            report = response.json()
            assert (report["status"], report["database"]) == ("unavailable", "unreachable")
            assert report["mode"] == "polling"
            # Polling: there is no webhook to post to.
            assert (await http.post("/telegram", content=b"{}")).status_code == 404


class Hanging:
    """A session factory whose database never answers (a dead host dropping packets)."""

    def __call__(self) -> Hanging:
        return self

    async def __aenter__(self) -> Hanging:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def __aexit__(self, *_: object) -> None:
        return None


@pytest.mark.looptime
async def test_a_database_that_hangs_is_unreachable_after_the_timeout() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert not await database_reachable(Hanging(), timeout=3.0)  # type: ignore[arg-type]
    assert loop.time() - started == pytest.approx(3.0)


def test_a_taken_port_is_refused_at_once() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(PortUnavailable, match=f"port {port}"):
            WebServer(Starlette(), host="127.0.0.1", port=port)
