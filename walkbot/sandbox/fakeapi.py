"""A fake Telegram Bot API on loopback: real HTTP, PTB's request encodings, Telegram's shapes.

Tests and `walkbot console` run the real bot against it. It holds a small world (people and
groups who send messages and tap buttons) and records every call the bot makes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

TEST_TOKEN = "123456789:TEST-token-for-the-fake-bot-api-xyz"  # noqa: S105 - a fake, by design
BOT_ID = 123456789
# Parameters PTB sends as plain strings; every other form value is JSON-encoded.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "url",
        "secret_token",
        "parse_mode",
        "emoji",
        "inline_message_id",
        "action",
        "language_code",
        "description",
        "title",
        "name",
        "short_description",
        "photo",
        "document",
        "ip_address",
    }
)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    received_at: float  # time.monotonic()
    wall: datetime
    status: int
    response: dict[str, Any]


@dataclass
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class FakeMessage:
    chat_id: int
    message_id: int
    text: str | None
    buttons: list[list[Button]]
    disable_notification: bool
    sent_at: float
    caption: str | None = None
    document: bytes | None = None
    filename: str | None = None
    edits: int = 0
    deleted: bool = False

    @property
    def body(self) -> str:
        return self.text or self.caption or ""

    def button_labels(self) -> list[str]:
        return [b.text for row in self.buttons for b in row]


@dataclass
class Limits:
    """Telegram-like flood limits; exceeding one gets a 429 with retry_after."""

    global_per_second: int = 30
    per_chat_per_second: int = 1
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    # Also hold private chats to per_chat_per_second over time (a token bucket holding
    # per_chat_burst), as Telegram does; off by default, so a burst window alone applies.
    sustained_per_chat: bool = False


@dataclass
class Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    chat_id: int | None
    times: int
    text_contains: str | None = None  # only requests whose text or caption holds this

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.method != method or self.chat_id not in (None, params.get("chat_id")):
            return False
        if self.text_contains is None:
            return True
        body = str(params.get("text") or params.get("caption") or "")
        return self.text_contains.lower() in body.lower()


@dataclass
class Stats:
    too_many_requests: int = 0
    requests: int = 0


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


_DESCRIPTIONS = {
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    403: "Forbidden: bot was blocked by the user",
    400: "Bad Request: chat not found",
}


class FakeUser:
    def __init__(
        self,
        api: FakeBotApi,
        user_id: int,
        first_name: str,
        username: str | None,
        language_code: str,
    ) -> None:
        self.api, self.id, self.first_name = api, user_id, first_name
        self.username, self.language_code = username, language_code
        self.blocked = False
        self._cursor = 0

    @property
    def chat_id(self) -> int:
        return self.id

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            user["username"] = self.username
        return user

    def private_chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}

    def send(self, text: str) -> dict[str, Any]:
        """Alice types `text` in her private chat with the bot."""
        return self.api.user_message(self, self.private_chat(), {"text": text})

    def share_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        location = {"latitude": latitude, "longitude": longitude}
        return self.api.user_message(self, self.private_chat(), {"location": location})

    def send_sticker(self) -> dict[str, Any]:
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self.api.user_message(self, self.private_chat(), {"sticker": sticker})

    def send_photo(self) -> dict[str, Any]:
        photo = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 90, "height": 90}]
        return self.api.user_message(self, self.private_chat(), {"photo": photo})

    def tap(self, label: str, *, message: FakeMessage | None = None) -> dict[str, Any]:
        """Tap the button whose text contains `label` on the newest bot message that has one."""
        target, button = self.api.find_button(self.chat_id, label, message)
        return self.api.callback(self, target, button.callback_data or "")

    def tap_data(self, data: str, *, message: FakeMessage | None = None) -> dict[str, Any]:
        """A callback with any data at all: how forged or stale buttons reach the bot."""
        target = message or self.api.last_message(self.chat_id)
        return self.api.callback(self, target, data)

    def block(self, *, tell_bot: bool = True) -> None:
        """Every message to her is refused with 403 from now on; like Telegram, the bot is told
        with a my_chat_member update (which may arrive after its next send has failed).
        tell_bot=False: only the 403s, as for a deleted account or a block the bot missed."""
        self.blocked = True
        if tell_bot:
            self.api.membership_changed(self, old="member", new="kicked")

    def unblock(self) -> None:
        self.blocked = False
        self.api.membership_changed(self, old="kicked", new="member")

    def messages(self) -> list[FakeMessage]:
        return self.api.messages(self.chat_id)

    async def next_message(self, timeout: float = 5.0) -> FakeMessage:
        """The next bot message in this chat that this helper has not returned yet."""

        def ready() -> bool:
            return len(self.api.messages(self.chat_id)) > self._cursor

        await self.api.until(ready, timeout, self.chat_id)
        message = self.api.messages(self.chat_id)[self._cursor]
        self._cursor += 1
        return message

    async def wait_for_text(self, needle: str, timeout: float = 5.0) -> FakeMessage:
        """The next new message (from the cursor on) containing `needle`, case-insensitive."""
        while True:
            message = await self.next_message(timeout)
            if needle.lower() in message.body.lower():
                return message

    async def wait_for_screen(self, needle: str, timeout: float = 5.0) -> FakeMessage:
        """The newest message reading `needle` (case-insensitive) now, whether sent or edited to
        read it: a flow turns the question just answered into the next one. Looks at the last
        message returned and newer ones; later next_message calls start after the one found."""

        def found() -> int | None:
            messages = self.api.messages(self.chat_id)
            for index in range(len(messages) - 1, max(0, self._cursor - 1) - 1, -1):
                if needle.lower() in messages[index].body.lower():
                    return index
            return None

        await self.api.until(lambda: found() is not None, timeout, self.chat_id)
        index = found()
        assert index is not None
        self._cursor = max(self._cursor, index + 1)
        return self.api.messages(self.chat_id)[index]

    def skip_to_end(self) -> None:
        self._cursor = len(self.api.messages(self.chat_id))


class FakeBotApi:
    def __init__(
        self,
        token: str = TEST_TOKEN,
        *,
        bot_username: str = "walkbot_test_bot",
        limits: Limits | None = None,
    ) -> None:
        self.token, self.bot_username, self.limits = token, bot_username, limits
        self.calls: list[Call] = []
        self.stats = Stats()
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] = {}
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(1)
        self._user_ids = itertools.count(7_000_000_001)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._messages: dict[int, list[FakeMessage]] = defaultdict(list)
        self._users: dict[int, FakeUser] = {}
        self._started: set[int] = set()
        self._faults: list[Fault] = []
        self._changed = asyncio.Condition()
        self._sent_times: deque[float] = deque()
        self._chat_times: dict[int, deque[float]] = defaultdict(deque)
        self._chat_tokens: dict[int, tuple[float, float]] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.answered_callbacks: dict[str, str | None] = {}

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # -- the world ------------------------------------------------------------------------------

    def user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        language_code: str = "en",
    ) -> FakeUser:
        user = FakeUser(self, user_id or next(self._user_ids), first_name, username, language_code)
        self._users[user.id] = user
        return user

    def group(self, title: str, *, chat_id: int | None = None) -> dict[str, Any]:
        return {"id": chat_id or -next(self._user_ids), "type": "group", "title": title}

    def group_message(self, user: FakeUser, group: dict[str, Any], text: str) -> dict[str, Any]:
        return self.user_message(user, group, {"text": text})

    def user_message(
        self, user: FakeUser, chat: dict[str, Any], content: dict[str, Any]
    ) -> dict[str, Any]:
        self._started.add(user.id)
        message_id = next(self._message_ids[chat["id"]])
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": user.as_user(),
            **content,
        }
        text = content.get("text", "")
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.enqueue({"message": message})

    def callback(self, user: FakeUser, target: FakeMessage, data: str) -> dict[str, Any]:
        query_id = f"cq{next(self._update_ids)}"
        self.answered_callbacks[query_id] = None
        query = {
            "id": query_id,
            "from": user.as_user(),
            "chat_instance": str(target.chat_id),
            "data": data,
            "message": self._message_json(target),
        }
        return self.enqueue({"callback_query": query})

    def membership_changed(self, user: FakeUser, *, old: str, new: str) -> dict[str, Any]:
        """The bot's status in a private chat, as Telegram reports a block (kicked) or an
        unblock (member)."""

        def member(status: str) -> dict[str, Any]:
            body: dict[str, Any] = {"status": status, "user": self._bot_user()}
            if status == "kicked":
                body["until_date"] = 0
            return body

        change = {
            "chat": user.private_chat(),
            "from": user.as_user(),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self.enqueue({"my_chat_member": change})

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "walkbot",
            "username": self.bot_username,
        }

    def enqueue(self, content: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), **content}
        self._updates.append(update)
        self._notify()
        return update

    def inject_update(self, update: dict[str, Any]) -> None:
        """Queue a raw update as is: forged data, or the same update twice."""
        self._updates.append(update)
        self._notify()

    # -- observing ------------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[FakeMessage]:
        return self._messages[chat_id]

    def last_message(self, chat_id: int) -> FakeMessage:
        messages = self._messages[chat_id]
        if not messages:
            raise AssertionError(f"the bot has sent nothing to chat {chat_id}")
        return messages[-1]

    def find_button(
        self, chat_id: int, label: str, message: FakeMessage | None = None
    ) -> tuple[FakeMessage, Button]:
        candidates = [message] if message else list(reversed(self._messages[chat_id]))
        for candidate in candidates:
            for row in candidate.buttons:
                for button in row:
                    if label.lower() in button.text.lower():
                        return candidate, button
        shown = [m.button_labels() for m in self._messages[chat_id][-3:]]
        raise AssertionError(f"no button {label!r} in chat {chat_id}; last buttons: {shown}")

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def until(
        self, ready: Callable[[], bool], timeout: float, chat_id: int | None = None
    ) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                recent = [m.body[:80] for m in self._messages.get(chat_id or 0, [])[-4:]]
                raise AssertionError(f"timed out after {timeout}s; recent: {recent}") from None

    async def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 5.0) -> Call:
        await self.until(lambda: any(predicate(c) for c in self.calls), timeout)
        return next(c for c in self.calls if predicate(c))

    def _notify(self) -> None:
        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        asyncio.get_running_loop().create_task(notify())

    # -- faults ---------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
        chat_id: int | None = None,
        times: int = 1,
        text_contains: str | None = None,
    ) -> None:
        text = description or _DESCRIPTIONS.get(status, "Internal Server Error")
        self._faults.append(
            Fault(
                method,
                status,
                text.format(retry_after=retry_after),
                retry_after if status == 429 else None,
                chat_id,
                times,
                text_contains,
            )
        )

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, params):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- HTTP -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        received, method = time.monotonic(), request.match_info["method"]
        params = await _decode(request)
        self.stats.requests += 1
        if request.match_info["token"] != self.token:
            return self._record(method, params, received, 401, _error(401, "Unauthorized"))
        try:
            self._check_limits(method, params)
            fault = self._take_fault(method, params)
            if fault is not None:
                extra = {"retry_after": fault.retry_after} if fault.retry_after else None
                raise ApiError(fault.status, fault.description, extra)
            handler = getattr(self, f"_m_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params) if method.lower() == "getupdates" else handler(params)
            body: dict[str, Any] = {"ok": True, "result": result}
            status = 200
        except ApiError as error:
            if error.status == 429:
                self.stats.too_many_requests += 1
            body, status = _error(error.status, error.description, error.parameters), error.status
        return self._record(method, params, received, status, body)

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        received: float,
        status: int,
        body: dict[str, Any],
    ) -> web.Response:
        self.calls.append(Call(method, params, received, datetime.now(UTC), status, body))
        self._notify()
        return web.json_response(body, status=status)

    def _check_limits(self, method: str, params: dict[str, Any]) -> None:
        if self.limits is None or "chat_id" not in params or not method.startswith("send"):
            return
        now, chat_id = time.monotonic(), int(params["chat_id"])
        window = self._sent_times
        while window and now - window[0] >= 1:
            window.popleft()
        per_chat = self._chat_times[chat_id]
        span = 60.0 if chat_id < 0 else 1.0
        limit = self.limits.per_group_per_minute if chat_id < 0 else self.limits.per_chat_burst
        while per_chat and now - per_chat[0] >= span:
            per_chat.popleft()
        if len(window) >= self.limits.global_per_second:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if len(per_chat) >= limit:
            wait = max(1, int(span - (now - per_chat[0])) + 1)
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        if chat_id > 0 and self.limits.sustained_per_chat:  # a burst, then ~1/s
            self._check_chat_rate(chat_id, now)
        window.append(now)
        per_chat.append(now)

    def _check_chat_rate(self, chat_id: int, now: float) -> None:
        """A token bucket: per_chat_burst tokens, refilled at per_chat_per_second."""
        assert self.limits is not None
        rate, burst = self.limits.per_chat_per_second, self.limits.per_chat_burst
        tokens, last = self._chat_tokens.get(chat_id, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens < 1:
            wait = max(1, math.ceil((1 - tokens) / rate))
            self._chat_tokens[chat_id] = (tokens, now)
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        self._chat_tokens[chat_id] = (tokens - 1, now)

    # -- methods --------------------------------------------------------------------------------

    def _m_getme(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "walkbot",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_deletewebhook(self, _: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    def _m_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        return True

    def _m_getwebhookinfo(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _m_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        while self._updates and offset and self._updates[0]["update_id"] < offset:
            self._updates.popleft()
        timeout = float(params.get("timeout") or 0)
        if not self._updates and timeout > 0:
            async with self._changed:
                try:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates)), timeout
                    )
                except TimeoutError:
                    return []
        limit = int(params.get("limit") or 100)
        return list(itertools.islice(self._updates, limit))

    def _chat_for(self, params: dict[str, Any]) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = int(chat_id)
        user = self._users.get(chat_id)
        if user is not None:
            if user.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat_id not in self._started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    def _m_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_for(params)
        text = str(params.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._store(chat_id, params, text=text)

    def _m_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_for(params)
        upload = params.get("document")
        data = upload.get("data") if isinstance(upload, dict) else None
        filename = upload.get("filename") if isinstance(upload, dict) else None
        message = self._store(
            chat_id, params, caption=params.get("caption"), document=data, filename=filename
        )
        message["document"] = {"file_id": "doc", "file_unique_id": "doc", "file_name": filename}
        return message

    def _m_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_for(params)
        upload = params.get("photo")
        data = upload.get("data") if isinstance(upload, dict) else None
        message = self._store(chat_id, params, caption=params.get("caption"), document=data)
        message["photo"] = [{"file_id": "ph", "file_unique_id": "ph", "width": 800, "height": 600}]
        return message

    def _store(
        self,
        chat_id: int,
        params: dict[str, Any],
        *,
        text: str | None = None,
        caption: str | None = None,
        document: bytes | None = None,
        filename: str | None = None,
    ) -> dict[str, Any]:
        buttons = _buttons(params.get("reply_markup"))
        message = FakeMessage(
            chat_id,
            next(self._message_ids[chat_id]),
            text,
            buttons,
            bool(params.get("disable_notification")),
            time.monotonic(),
            caption,
            document,
            filename,
        )
        self._messages[chat_id].append(message)
        return self._message_json(message)

    def _find(self, params: dict[str, Any]) -> FakeMessage:
        chat_id, message_id = int(params.get("chat_id", 0)), int(params.get("message_id", 0))
        for message in self._messages.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _m_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        text, buttons = str(params.get("text", "")), _buttons(params.get("reply_markup"))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if text == message.text and buttons == message.buttons:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same",
            )
        message.text, message.buttons, message.edits = text, buttons, message.edits + 1
        return self._message_json(message)

    def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._find(params)
        message.buttons, message.edits = _buttons(params.get("reply_markup")), message.edits + 1
        return self._message_json(message)

    def _m_deletemessage(self, params: dict[str, Any]) -> bool:
        self._find(params).deleted = True
        return True

    def _m_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self.answered_callbacks:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.answered_callbacks[query_id] = str(params.get("text") or "")
        return True

    def _m_sendchataction(self, params: dict[str, Any]) -> bool:
        self._chat_for(params)
        return True

    def _m_setmycommands(self, params: dict[str, Any]) -> bool:
        scope = params.get("scope") or {"type": "default"}
        key = (scope.get("type", "default"), params.get("language_code") or "")
        self.commands[key] = list(params.get("commands") or [])
        return True

    def _m_getmycommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        scope = params.get("scope") or {"type": "default"}
        return self.commands.get(
            (scope.get("type", "default"), params.get("language_code") or ""), []
        )

    def _message_json(self, message: FakeMessage) -> dict[str, Any]:
        user = self._users.get(message.chat_id)
        chat = (
            user.private_chat()
            if user
            else {"id": message.chat_id, "type": "group", "title": "group"}
        )
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": self._bot_user(),
        }
        if message.text is not None:
            body["text"] = message.text
        if message.caption is not None:
            body["caption"] = message.caption
        if message.buttons:
            body["reply_markup"] = {
                "inline_keyboard": [
                    [{k: v for k, v in vars(b).items() if v is not None} for b in row]
                    for row in message.buttons
                ]
            }
        return body


def _buttons(markup: Any) -> list[list[Button]]:
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict):
        return []
    rows = []
    for row in markup.get("inline_keyboard", []):
        buttons = []
        for raw in row:
            data = raw.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            buttons.append(Button(raw["text"], data, raw.get("url")))
        rows.append(buttons)
    return rows


def _error(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


async def _decode(request: web.Request) -> dict[str, Any]:
    """Form fields with JSON values (PTB's way), a JSON body, or multipart with files."""
    content_type = request.content_type
    if request.content_length in (None, 0) and not request.can_read_body:
        return {}
    if content_type == "application/json":
        data = await request.json()
        return data if isinstance(data, dict) else {}
    if content_type == "multipart/form-data":
        params: dict[str, Any] = {}
        async for part in await request.multipart():
            name = getattr(part, "name", None)
            if name is None:
                continue
            raw = await part.read()  # type: ignore[union-attr]
            filename = getattr(part, "filename", None)
            if filename is not None:
                params[name] = {"data": bytes(raw), "filename": filename}
            else:
                params[name] = _value(name, raw.decode())
        return params
    form = await request.post()
    return {key: _value(key, str(value)) for key, value in form.items()}


def _value(name: str, raw: str) -> Any:
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw
