"""walkbot's one web layer: an ASGI app (Starlette, served by uvicorn) beside the Application.

It runs whichever way updates arrive (PTB's custom-webhook example shows the wiring):

- `POST /telegram` (webhook mode only): Telegram's updates. The secret header is checked
  first, in constant time, and a wrong or missing one is refused (403) before a byte of the
  body is read; a body over MAX_BODY_BYTES is refused (413) from its Content-Length, or while
  streaming when there is none, so nobody can make the process buffer a large upload. (PTB's
  Tornado server compared the secret with `!=` after buffering up to 100 MB: a 90 MB POST
  without the secret took the bot from 101 to 409 MB.) Telegram's updates are a few KB; the
  largest (a long message with entities and a reply markup) stay far below 1 MiB.
- `/live/...` (both modes): the live-walk screen and its JSON API (walkbot/webapp/api.py).
- `GET /healthz`: the database reachable (`SELECT 1`), the dispatcher's last tick, the last
  update received; 200 when the database answers, 503 when it does not.

`WebServer` binds the socket itself (a taken port raises OSError at once, before any call to
Telegram) and leaves signals to its caller (walkbot/runner.py), which stops the bot and the
server in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import socket
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.ext import Application

from walkbot.context import runtime_of
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory
from walkbot.webapp.api import live_routes

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
MAX_BODY_BYTES = 1024 * 1024
# /healthz must answer even when the database hangs (a dead host drops packets): give up
# after this and say 503 rather than keep the load balancer waiting.
DATABASE_CHECK_SECONDS = 3.0
SHUTDOWN_GRACE_SECONDS = 3.0  # requests in flight at a stop get this long to finish

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class BodyTooLarge(Exception):
    pass


class PortUnavailable(OSError):
    """The web layer's port is taken (or not ours to bind)."""


async def receive(application: AnyApplication, update_json: object) -> None:
    """One update, parsed, handed to the Application. Raises ValueError when it is not an
    update. The durable step (store the update, by update_id, before the 200) goes here."""
    if not isinstance(update_json, dict) or not isinstance(update_json.get("update_id"), int):
        raise ValueError("not an update")
    try:
        update = Update.de_json(update_json, application.bot)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError("not an update") from error
    await application.update_queue.put(update)


async def read_capped(request: Request, limit: int) -> bytes:
    """The body, refused (BodyTooLarge) as soon as it is known to exceed `limit`: from the
    Content-Length before reading anything, else while streaming, never holding more than
    `limit` bytes plus one chunk."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ValueError("bad Content-Length")
        if int(declared) > limit:
            raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant time in the secret's content: a guesser learns nothing from how long it took."""
    if given is None:
        return False
    # Header values arrive as latin-1 text; compare bytes, so no character can raise.
    return hmac.compare_digest(given.encode("latin-1"), expected.encode("latin-1"))


async def database_reachable(sessions: SessionFactory, *, timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout), sessions() as session:
            connection = await session.connection()
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure is "unreachable"; its text may name the host
        log.warning("healthz: the database did not answer (%s)", type(error).__name__)
        return False
    return True


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def build_web_app(
    application: AnyApplication,
    settings: Settings,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
    database_timeout: float = DATABASE_CHECK_SECONDS,
) -> Starlette:
    """The web app for one Application. `/telegram` exists only with a webhook configured."""
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None

    async def telegram(request: Request) -> Response:
        assert webhook_secret is not None
        if not secret_matches(request.headers.get(SECRET_HEADER), webhook_secret):
            return Response(status_code=403)  # the body is never read
        try:
            body = await read_capped(request, max_body_bytes)
        except BodyTooLarge:
            log.warning("webhook: refused a body over %d bytes", max_body_bytes)
            return Response(status_code=413)
        except ValueError:
            return Response(status_code=400)
        try:
            await receive(application, json.loads(body))
        except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            # Never the body in the log: it is someone's message.
            log.warning("webhook: refused a body that is not an update (%d bytes)", len(body))
            return Response(status_code=400)
        return Response(status_code=200)

    async def healthz(_: Request) -> Response:
        runtime = runtime_of(application)
        reachable = await database_reachable(runtime.sessions, timeout=database_timeout)
        vitals = runtime.vitals
        report = {
            "status": "ok" if reachable else "unavailable",
            "database": "reachable" if reachable else "unreachable",
            "mode": "webhook" if webhook_secret is not None else "polling",
            "now": _iso(runtime.clock.now()),
            "last_update_at": _iso(vitals.last_update_at),
            "dispatcher": {
                "last_tick_at": _iso(vitals.last_tick_at),
                "last_dispatch_done_at": _iso(vitals.last_dispatch_done_at),
            },
        }
        return JSONResponse(
            report, status_code=200 if reachable else 503, headers={"Cache-Control": "no-store"}
        )

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    routes.extend(live_routes(application, settings))  # the live screen: /live/...
    if webhook_secret is not None:
        routes.append(Route(WEBHOOK_PATH, telegram, methods=["POST"]))
    return Starlette(routes=routes)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the runner owns SIGTERM/SIGINT and stops the
    Application and this server in order (uvicorn's own would re-raise the signal after
    serving, killing the process before the bot had stopped)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """uvicorn serving one ASGI app on a socket bound here."""

    def __init__(self, app: Starlette, *, host: str, port: int, log_level: str = "info") -> None:
        try:
            self._sock = socket.create_server((host, port))
        except OSError as error:
            raise PortUnavailable(error.errno, f"cannot listen on port {port}: {error}") from None
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level=log_level.lower(),
            log_config=None,  # walkbot's logging (token and secret redacted) stays in charge
            access_log=False,  # one line per update is noise, and the client's address
            lifespan="off",
            timeout_graceful_shutdown=int(SHUTDOWN_GRACE_SECONDS),
            server_header=False,
        )
        self._server = _Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("the web server stopped while starting")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            self._sock.close()
            return
        self._server.should_exit = True
        await task
