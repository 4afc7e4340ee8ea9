"""The live screen's routes on walkbot's web layer (walkbot/web.py mounts them), in polling
and webhook mode alike:

- `GET /live/` the page, `GET /live/static/<file>` its script and style
  (walkbot/webapp/static/, shipped inside the package);
- `/live/api/...` the JSON API of /work/wt/notes/LIVE_CONTRACT.md: the person's walk, its
  controls, the heartbeat that holds chat cues back, the rating answers, the screen settings.

Every API request carries `Authorization: tma <initData>`, checked as the Bot API documents
(walkbot/webapp/initdata.py); the person is the signed `user.id` and nobody else: no cookies,
no other identity. Another person's walk is 403 and nothing changes; an unknown one 404.

The handlers are thin adapters over the services the chat buttons use (services/walks.py,
services/live.py) and the same follow-ups (bot/walk_followups.py), so a pause, a stop, "I need
to stop" or a rating has the same effects and kind words whichever side it came from.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from telegram.error import TelegramError

from walkbot.bot import walk_followups
from walkbot.context import WalkbotApp, runtime_of
from walkbot.domain.screening import needs_support
from walkbot.runtime import Runtime
from walkbot.scheduling import live as live_jobs
from walkbot.services import live, walks
from walkbot.services.users import get_user
from walkbot.settings import Settings
from walkbot.store.models import Walk
from walkbot.webapp import views
from walkbot.webapp.initdata import InitDataError, validate

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_API_BODY_BYTES = 16 * 1024
MAX_WALK_ID = 2**63 - 1
# API requests working on the store at once (the chat's updates have 16: bot/ordering.py).
MAX_CONCURRENT_REQUESTS = 8
NO_STORE = {"Cache-Control": "no-store"}
# The page's words for its actions, and the services' (bot/walk_views.py's callback data).
ACTIONS = {
    "start": "start",
    "pause": "pause",
    "resume": "resume",
    "stop": "stop",
    "need_to_stop": "need",
}
RATING_STEPS = ("effort", "pain", "note")


class Refused(Exception):
    """An answer other than 200: the status and a short reason (never a value sent)."""

    def __init__(self, status: int, error: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.body = status, error, body


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


Handler = Callable[[Request], Awaitable[dict[str, Any]]]


def _endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A handler answering JSON; a store that stays busy or down is 503, and the page's next
    beat tries again."""

    async def endpoint(request: Request) -> Response:
        try:
            return _json(await handler(request))
        except Refused as refused:
            body = refused.body if refused.body is not None else {}
            return _json({"error": refused.error, **body}, refused.status)
        except SQLAlchemyError as error:  # its text may quote stored data: the type only
            log.warning("live screen: the database failed (%s)", type(error).__name__)
            return _json({"error": "busy, try again"}, 503)

    return endpoint


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object sent, refused from its Content-Length or while streaming past 16 KiB."""
    from walkbot.web import BodyTooLarge, read_capped  # web.py mounts this module

    try:
        raw = await read_capped(request, MAX_API_BODY_BYTES)
    except BodyTooLarge:
        raise Refused(413, "body too large") from None
    except ValueError:
        raise Refused(400, "bad Content-Length") from None
    try:
        body = json.loads(raw)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise Refused(400, "body is not JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "body is not a JSON object")
    return body


def _walk_id(request: Request) -> int:
    walk_id = request.path_params["walk_id"]
    assert isinstance(walk_id, int)  # the route's int convertor
    if walk_id > MAX_WALK_ID:
        raise Refused(404, "no such walk")
    return walk_id


class LiveApi:
    """The API for one Application: its runtime (store, clock, settings) and its bot."""

    def __init__(self, application: WalkbotApp, settings: Settings) -> None:
        self.application = application
        self.token = settings.telegram_bot_token.get_secret_value()
        self.max_age = timedelta(seconds=settings.webapp_auth_max_age_seconds)
        self._at_once = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)

    @property
    def rt(self) -> Runtime:
        return runtime_of(self.application)

    @asynccontextmanager
    async def store(self) -> AsyncIterator[AsyncSession]:
        """One transaction, with at most MAX_CONCURRENT_REQUESTS of the API's at once (300
        screens at once queued on SQLite's write lock past its busy timeout)."""
        async with self._at_once, self.rt.transaction() as session:
            yield session

    def person(self, request: Request) -> int:
        """The signed user id of the request's initData; 401 without a valid one."""
        header = request.headers.get("authorization", "")
        scheme, _, init_data = header.partition(" ")
        if scheme.lower() != "tma" or not init_data.strip():
            raise Refused(401, "missing initData (Authorization: tma <initData>)")
        try:
            identity = validate(
                init_data.strip(), self.token, now=self.rt.clock.now(), max_age=self.max_age
            )
        except InitDataError as error:
            raise Refused(401, str(error)) from None
        return identity.user_id

    async def _own(self, session: AsyncSession, user_id: int, walk_id: int) -> Walk:
        walk = await session.get(Walk, walk_id)
        if walk is None:
            raise Refused(404, "no such walk")
        if walk.user_id != user_id:
            raise Refused(403, "not your walk")
        return walk

    async def _walk_json(self, walk_id: int) -> dict[str, Any] | None:
        """The walk as it is now, read afresh (None: gone, e.g. a card put away)."""
        async with self.store() as session:
            walk = await session.get(Walk, walk_id)
            if walk is None:
                return None
            return await self._render(session, walk)

    async def _render(self, session: AsyncSession, walk: Walk) -> dict[str, Any]:
        user = await get_user(session, telegram_id=walk.user_id)
        support = needs_support(user.screening) if user is not None else True
        return views.walk_json(walk, needs_support=support, now=self.rt.clock.now())

    # ---- reading ----

    async def current(self, request: Request) -> dict[str, Any]:
        """The person's walk: open (ready, active, paused), else ended with a rating owed."""
        user_id = self.person(request)
        async with self.store() as session:
            walk = await walks.open_walk(session, user_id=user_id)
            if walk is None:
                walk = await walks.owed_rating(session, user_id=user_id)
            prefs = await live.get_prefs(session, user_id=user_id)
            shown = None if walk is None else await self._render(session, walk)
        return {"walk": shown, "prefs": views.prefs_json(prefs)}

    async def one(self, request: Request) -> dict[str, Any]:
        user_id, walk_id = self.person(request), _walk_id(request)
        async with self.store() as session:
            walk = await self._own(session, user_id, walk_id)
            prefs = await live.get_prefs(session, user_id=user_id)
            shown = await self._render(session, walk)
        return {"walk": shown, "prefs": views.prefs_json(prefs)}

    # ---- acting ----

    async def control(self, request: Request) -> dict[str, Any]:
        user_id, walk_id = self.person(request), _walk_id(request)
        body = await _body(request)
        asked = body.get("action")
        action = ACTIONS.get(asked) if isinstance(asked, str) else None
        if action is None:
            raise Refused(400, "action must be one of " + ", ".join(ACTIONS))
        now = self.rt.clock.now()
        async with self.store() as session:
            await self._own(session, user_id, walk_id)
            result = await walks.control(
                session, user_id=user_id, walk_id=walk_id, action=action, now=now
            )
            if result.done and action == "start" and result.walk is not None:
                # Started on the screen: the screen is showing it, so its first cue is the
                # screen's (the heartbeats that follow keep it so; the watchdog, if not).
                # Seen now, not at the request: this may have waited on a busy store for
                # longer than the hold, and the first cue is gated right after.
                await live.heartbeat(
                    session,
                    walk=result.walk,
                    visible=True,
                    now=self.rt.clock.now(),
                    screens=self.rt.live,
                )
        if not result.done or result.walk is None:
            raise Refused(409, "that no longer applies", {"walk": await self._walk_json(walk_id)})
        message = None
        try:
            try:
                message = await walk_followups.after_control(
                    self.application, result.walk, action, result.summary, now
                )
            except TelegramError as error:  # the walk changed; the chat could not be told
                log.warning("live screen %s: the chat follow-up failed (%s)", action, error)
            shown = await self._walk_json(walk_id)
        finally:
            if action == "start":
                self._answering_start(walk_id)
        return {"walk": shown, "message": message}

    def _answering_start(self, walk_id: int) -> None:
        """The page beats only once it has the Start's reply, and shows the walk until then:
        the screen counts as seen when answered, not when asked, and the watchdog looks from
        then. 300 Starts at once queue on the store for seconds, and a watchdog armed at the
        request handed the walks back to the chat before their first heartbeat
        (bench.cue_latency --live)."""
        answered = self.rt.clock.now()
        self.rt.live.still_showing(walk_id, answered)
        if self.application.job_queue is not None:
            live_jobs.arm_watchdog(self.application.job_queue, walk_id, answered)

    async def heartbeat(self, request: Request) -> dict[str, Any]:
        user_id, walk_id = self.person(request), _walk_id(request)
        body = await _body(request)
        visible = body.get("visible")
        if not isinstance(visible, bool):
            raise Refused(400, "visible must be true or false")
        now = self.rt.clock.now()
        if visible and self.rt.live.beat_in_memory(walk_id, user_id, now):
            # The usual beat: no store (services/live.py); the watchdog is still there.
            if self.application.job_queue is not None:
                live_jobs.arm_watchdog(self.application.job_queue, walk_id, now)
            return {"hold_chat_cues": True}
        async with self.store() as session:
            walk = await self._own(session, user_id, walk_id)
            beat = await live.heartbeat(
                session, walk=walk, visible=visible, now=now, screens=self.rt.live
            )
        if beat.hold and self.application.job_queue is not None:
            live_jobs.arm_watchdog(self.application.job_queue, walk_id, now)
        if beat.hand_over:
            await live_jobs.hand_over(self.application, walk, now)
        return {"hold_chat_cues": beat.hold}

    async def rating(self, request: Request) -> dict[str, Any]:
        user_id, walk_id = self.person(request), _walk_id(request)
        body = await _body(request)
        step, value = _rating_step(body), _rating_value(body)
        now = self.rt.clock.now()
        async with self.store() as session:
            walk = await self._own(session, user_id, walk_id)
            owed = walk.status == "ended" and walk.rating_step == step
            rated = await walks.rate(session, walk=walk, step=step, value=value, now=now)
        if not owed:
            raise Refused(
                409, "that question is answered", {"walk": await self._walk_json(walk_id)}
            )
        if not rated.accepted:
            raise Refused(400, "value out of range")
        message = None
        try:
            message = await walk_followups.next_rating(self.application, walk, rated)
        except TelegramError as error:
            log.warning("live screen rating: the chat follow-up failed (%s)", error)
        return {"walk": await self._walk_json(walk_id), "message": message}

    # ---- settings ----

    async def get_prefs(self, request: Request) -> dict[str, Any]:
        user_id = self.person(request)
        async with self.store() as session:
            prefs = await live.get_prefs(session, user_id=user_id)
        return views.prefs_json(prefs)

    async def put_prefs(self, request: Request) -> dict[str, Any]:
        user_id = self.person(request)
        body = await _body(request)
        voice, tones, warning = (body.get(name) for name in ("voice", "tones", "warning"))
        if not (isinstance(voice, bool) and isinstance(tones, bool) and isinstance(warning, bool)):
            raise Refused(400, "voice, tones and warning must each be true or false")
        wanted = live.Prefs(voice=voice, tones=tones, warning=warning)
        async with self.store() as session:
            saved = await live.set_prefs(
                session, user_id=user_id, prefs=wanted, now=self.rt.clock.now()
            )
        if saved is None:
            raise Refused(404, "send /start to walkbot first")
        return views.prefs_json(saved)


def _rating_step(body: dict[str, Any]) -> str:
    step = body.get("step")
    if not isinstance(step, str) or step not in RATING_STEPS:
        raise Refused(400, "step must be effort, pain or note")
    return step


def _rating_value(body: dict[str, Any]) -> int | str | None:
    """The answer for `walks.rate`: a 0-10 for effort and pain (pain may be skipped with
    null), the note's text or null (Skip). Wrong types are 400, before anything is read."""
    step = _rating_step(body)
    if step == "note":
        text = body.get("text")
        if text is not None and not isinstance(text, str):
            raise Refused(400, "text must be a string or null")
        return text
    value = body.get("value")
    if value is None and step == "pain":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
        raise Refused(400, "value must be a whole number from 0 to 10")
    return value


def live_routes(
    application: WalkbotApp, settings: Settings, *, static_dir: Path = STATIC_DIR
) -> list[BaseRoute]:
    api = LiveApi(application, settings)
    walk = "/live/api/walk/{walk_id:int}"

    async def page(_: Request) -> Response:
        index = static_dir / "index.html"
        if not index.is_file():
            return Response("The live screen is not installed.", status_code=404)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    async def to_page(request: Request) -> Response:
        query = request.url.query
        return RedirectResponse("/live/" + (f"?{query}" if query else ""), status_code=308)

    return [
        Route("/live", to_page, methods=["GET"]),
        Route("/live/", page, methods=["GET"]),
        Route("/live/api/walk", _endpoint(api.current), methods=["GET"]),
        Route(walk, _endpoint(api.one), methods=["GET"]),
        Route(f"{walk}/control", _endpoint(api.control), methods=["POST"]),
        Route(f"{walk}/heartbeat", _endpoint(api.heartbeat), methods=["POST"]),
        Route(f"{walk}/rating", _endpoint(api.rating), methods=["POST"]),
        Route("/live/api/prefs", _endpoint(api.get_prefs), methods=["GET"]),
        Route("/live/api/prefs", _endpoint(api.put_prefs), methods=["PUT"]),
        Mount("/live/static", app=StaticFiles(directory=static_dir, check_dir=False)),
    ]
