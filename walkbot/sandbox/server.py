"""A fake Telegram Bot API server for end-to-end tests and the interactive console.

Why real HTTP on loopback: the bot under test is the production PTB ``Application``; pointing
its ``base_url`` at this server exercises PTB's request encoding, error mapping, long polling
and webhooks exactly as in production, only without Telegram.

The server keeps a small *world* that tests drive ("Alice sends /start", "Alice taps Yes")
and observe (``api.calls``, ``api.messages(alice)``, ``await alice.next_message()``).
Everything runs on one event loop; nothing here is thread-safe.

Deliberate differences from Telegram, all in the direction of "fast and observable":

- webhook URLs may be plain ``http://`` (loopback); updates are posted one at a time and an
  update is dropped after ``webhook_max_attempts`` failed deliveries (Telegram keeps trying);
- files given by URL are accepted but never downloaded;
- inline mode, payments, polls, media groups and forum topics are not implemented: calling
  such a method answers 404 like an unknown method, so a test notices at once.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import html
import inspect
import itertools
import json
import math
import re
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, TypeAlias, TypeVar

import aiohttp
from aiohttp import web

from walkbot.clock import Clock, SystemClock

JSON: TypeAlias = dict[str, Any]
T = TypeVar("T")

# Looks like a real token (digits, colon, secret) so PTB's checks pass; it is public on purpose.
TEST_TOKEN = "123456789:TEST-token-for-the-fake-bot-api-xyz"  # noqa: S105
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
DEFAULT_TIMEOUT = 5.0
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_ANSWER_TEXT = 200

_TOKEN_RE = re.compile(r"^\d+:[\w-]+$")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Without explicit allowed_updates Telegram sends everything except these.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
_PRESENT_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_POLL_CONFLICT = _DEFAULT_DESCRIPTIONS[409]

# Parameters that are strings in the Bot API. PTB sends every string as-is and everything else
# JSON-encoded, so only these must never go through json.loads ("123" stays a text).
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "url",
        "secret_token",
        "parse_mode",
        "language_code",
        "title",
        "description",
        "short_description",
        "name",
        "action",
        "emoji",
        "photo",
        "document",
        "sticker",
        "video",
        "audio",
        "animation",
        "voice",
        "video_note",
        "thumbnail",
        "file_id",
        "inline_message_id",
        "ip_address",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "custom_title",
        "message_effect_id",
        "business_connection_id",
        "query",
        "next_offset",
        "question",
        "explanation",
        "explanation_parse_mode",
        "caption_parse_mode",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "game_short_name",
        "sticker_set_name",
    }
)


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answer of the Bot API; raised by method handlers, sent as Telegram's JSON."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(detail: str, parameters: JSON | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}", parameters)


def _forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


def _entities_error(detail: str) -> ApiError:
    return _bad_request(f"can't parse entities: {detail}")


# --------------------------------------------------------------------------- public records


@dataclass(frozen=True)
class Limits:
    """Telegram-like flood limits; exceeding one is answered with 429 and a retry_after.

    Telegram allows about 1 message/s per chat with short bursts, 20 per minute per group and
    about 30 per second overall; ``burst`` is how many messages one chat may take back-to-back.
    """

    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_group_per_minute: int = 20
    burst: int = 3


@dataclass
class Call:
    """One request the bot made, as the server answered it."""

    method: str
    params: JSON
    received_at: float  # time.monotonic() on arrival: spacing between calls is measurable
    wall: datetime  # aware UTC, from the server's clock
    status: int
    response: JSON

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    @property
    def description(self) -> str | None:
        return self.response.get("description")

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.status} {self.description}"
        return f"{self.method}(chat_id={self.chat_id!r}) -> {outcome}"


@dataclass(frozen=True)
class InlineButton:
    """A button of an inline keyboard; ``url`` buttons send nothing to the bot when tapped."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(repr=False)
class UploadedFile:
    """A file the server holds: uploaded by the bot, sent by a fake user, or given by URL."""

    file_id: str
    file_unique_id: str
    data: bytes | None
    filename: str | None = None
    mime_type: str | None = None
    url: str | None = None
    file_path: str = ""

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else 0

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.size} bytes, file_id={self.file_id!r})"


@dataclass(eq=False)
class FakeMessage:
    """The current state of one message in a chat (the bot's or a fake user's)."""

    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    sender_id: int
    chat: JSON = field(repr=False)  # Bot API Chat object, as sent in updates
    sender: JSON = field(repr=False)  # Bot API User object of the author
    text: str | None = None
    caption: str | None = None
    entities: list[JSON] = field(default_factory=list)  # of text, or of caption
    buttons: list[list[InlineButton]] = field(default_factory=list)
    keyboard: list[list[str]] = field(default_factory=list)  # a reply keyboard, if any
    reply_markup: JSON | None = field(default=None, repr=False)  # inline markup as sent
    disable_notification: bool = False
    photo: bytes | None = field(default=None, repr=False)
    document: UploadedFile | None = None
    content: JSON = field(default_factory=dict, repr=False)  # photo sizes, location, sticker...
    reply_to: FakeMessage | None = field(default=None, repr=False)
    edits: int = 0
    edit_date: int | None = None
    deleted: bool = False
    history: list[str | None] = field(default_factory=list, repr=False)  # earlier bodies
    update_id: int | None = None  # of the update that brought a user's message to the bot
    created_seq: int = field(default=0, repr=False)
    changed_seq: int = field(default=0, repr=False)

    def __await__(self) -> Generator[Any, None, FakeMessage]:
        """User actions take effect at once; ``await alice.send(...)`` also reads naturally."""
        return _ready(self).__await__()

    @property
    def body(self) -> str:
        """Text or caption; what a person reads."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def flat_buttons(self) -> list[InlineButton]:
        return [button for row in self.buttons for button in row]

    def button_labels(self) -> list[str]:
        return [button.text for button in self.flat_buttons]

    def button(self, text: str) -> InlineButton:
        """The inline button labelled ``text``; fails listing the labels there are."""
        for candidate in self.flat_buttons:
            if candidate.text == text:
                return candidate
        raise AssertionError(
            f"message #{self.message_id} has no button {text!r}; it has {self.button_labels()}"
        )

    def to_api(self, *, nested: bool = True) -> JSON:
        """The Bot API Message object, as Telegram would send it now."""
        data: JSON = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if nested and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_api(nested=False)
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        data.update(self.content)
        if self.caption is not None:
            data["caption"] = self.caption
            if self.entities:
                data["caption_entities"] = self.entities
        if self.reply_markup is not None:
            data["reply_markup"] = self.reply_markup
        return data

    def __str__(self) -> str:
        return _describe_message(self)


@dataclass
class Tap:
    """A fake user's tap on a callback button, and how the bot answered it."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    button_text: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False
    url: str | None = None

    def __await__(self) -> Generator[Any, None, Tap]:
        return _ready(self).__await__()


async def _ready(value: T) -> T:
    """Lets a result that already exists be awaited (see FakeMessage.__await__)."""
    return value


@dataclass
class Stats:
    """Counters a benchmark or a flood test reads."""

    requests: int = 0
    too_many_requests: int = 0  # every 429 sent, injected or caused by Limits
    rate_limited: int = 0  # 429s caused by Limits
    injected_failures: int = 0
    updates: int = 0
    webhook_deliveries: int = 0
    webhook_failures: int = 0


@dataclass
class Fault:
    """A scripted failure or delay for the next ``times`` matching calls."""

    method: str  # lower-cased Bot API method name, or "*" for any
    times: int
    status: int | None = None  # None: only a delay
    retry_after: int = 1
    description: str | None = None
    parameters: JSON | None = None
    delay: float = 0.0
    chat_id: str | None = None

    def matches(self, method_key: str, params: JSON) -> bool:
        if self.times <= 0 or self.method not in ("*", method_key):
            return False
        return self.chat_id is None or str(params.get("chat_id")) == self.chat_id

    def error(self) -> ApiError:
        status = self.status or 500
        parameters = dict(self.parameters or {})
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            parameters.setdefault("retry_after", self.retry_after)
            description = (
                self.description or f"Too Many Requests: retry after {parameters['retry_after']}"
            )
        else:
            description = self.description or _default_description(status)
        return ApiError(status, description, parameters or None)


def _default_description(status: int) -> str:
    if status in _DEFAULT_DESCRIPTIONS:
        return _DEFAULT_DESCRIPTIONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown error"


@dataclass
class _Described:
    """A successful result that Telegram accompanies with a description (setWebhook)."""

    result: Any
    description: str


@dataclass
class _Pending:
    update_id: int
    body: JSON
    delivered: bool = False
    replay: bool = False  # redelivered/injected: survives offsets until actually delivered
    attempts: int = 0


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    ip_address: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None

    def info(self, pending: int) -> JSON:
        data: JSON = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "max_connections": self.max_connections,
        }
        if self.ip_address:
            data["ip_address"] = self.ip_address
        if self.allowed_updates is not None:
            data["allowed_updates"] = self.allowed_updates
        if self.last_error_date is not None:
            data["last_error_date"] = self.last_error_date
            data["last_error_message"] = self.last_error_message
        return data


@dataclass
class _Change:
    seq: int
    message: FakeMessage
    is_new: bool


@dataclass
class _ChatState:
    """Per-chat bookkeeping: messages, message ids, and the cursor of the waiting helpers."""

    chat_id: int
    user: FakeUser | None = None
    group: FakeGroup | None = None
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    bot_messages: list[FakeMessage] = field(default_factory=list)
    log: list[_Change] = field(default_factory=list)  # bot messages created/edited, in order
    actions: list[str] = field(default_factory=list)
    next_message_id: int = 1
    cursor: int = 0  # seq up to which next_message/wait_for_text have consumed

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    @property
    def name(self) -> str:
        if self.user is not None:
            return f"{self.user.first_name} ({self.chat_id})"
        title = self.group.title if self.group is not None else "?"
        return f"{title!r} ({self.chat_id})"

    def changes_after(self, seq: int) -> list[_Change]:
        start = bisect.bisect_right(self.log, seq, key=lambda change: change.seq)
        return self.log[start:]


# --------------------------------------------------------------------------- request decoding


def decode_value(name: str, raw: str) -> Any:
    """Undo PTB's form encoding: JSON for everything except parameters that are strings."""
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # e.g. chat_id="@channel"


async def read_params(request: web.BaseRequest) -> JSON:
    """Parameters of a Bot API call from the query string and a form, JSON or multipart body."""
    params: JSON = {key: decode_value(key, value) for key, value in request.query.items()}
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            raise _bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise _bad_request("JSON object expected")
        params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params[key] = UploadedFile(
                "", "", value.file.read(), value.filename, value.content_type
            )
        else:
            params[key] = decode_value(key, str(value))
    return params


def _opt_int(params: JSON, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _bad_request(f"invalid {name} specified")
    try:
        return int(value)
    except ValueError:
        raise _bad_request(f"invalid {name} specified") from None


def _opt_float(params: JSON, name: str) -> float | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _bad_request(f"invalid {name} specified") from None


def _opt_str(params: JSON, name: str) -> str | None:
    value = params.get(name)
    return None if value is None else str(value)


def _flag(params: JSON, name: str) -> bool:
    return params.get(name) in (True, 1, "true", "True", "1")


def _opt_json(params: JSON, name: str) -> Any:
    """A structured parameter; JSON bodies may still carry it as an encoded string."""
    value = params.get(name)
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None
    return value


# --------------------------------------------------------------------------- text formatting


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class _Formatter:
    """Accumulates plain text and entities while a parse_mode parser walks the source."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[JSON] = []
        self.open: list[tuple[str, str, int, int, JSON]] = []  # marker, type, start, byte, extra

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode())

    def push(self, marker: str, type_: str, index: int, extra: JSON | None = None) -> None:
        self.open.append((marker, type_, self.pos, self.byte_offset(index), extra or {}))

    def close(self, marker: str) -> bool:
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == marker:
                _, type_, start, _, extra = self.open.pop(depth)
                self.add(type_, start, extra)
                return True
        return False

    def add(self, type_: str, start: int, extra: JSON) -> None:
        if type_ and self.pos > start:
            self.entities.append(
                {"type": type_, "offset": start, "length": self.pos - start, **extra}
            )

    def result(self, describe: Callable[[str, str], str]) -> tuple[str, list[JSON]]:
        if self.open:
            marker, type_, _, byte, _ = self.open[-1]
            raise _entities_error(f"{describe(marker, type_)} at byte offset {byte}")
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
_HTML_ATTR = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_HTML_CHAR_REF = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")


def _parse_html(source: str) -> tuple[str, list[JSON]]:
    formatter = _Formatter(source)
    index = 0
    while index < len(source):
        char = source[index]
        if char == "<":
            index = _html_tag(formatter, index)
        elif char == "&" and (ref := _HTML_CHAR_REF.match(source, index)):
            formatter.emit(html.unescape(ref.group()))
            index = ref.end()
        else:
            stop = min(
                (p for p in (source.find("<", index + 1), source.find("&", index + 1)) if p != -1),
                default=len(source),
            )
            formatter.emit(source[index:stop])
            index = stop
    return formatter.result(
        lambda marker, _: f'Can\'t find end tag corresponding to start tag "{marker}"'
    )


def _html_tag(formatter: _Formatter, index: int) -> int:
    match = _HTML_TAG.match(formatter.source, index)
    offset = formatter.byte_offset(index)
    if match is None:
        raise _entities_error(f"Unsupported start tag at byte offset {offset}")
    closing, name, attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
    type_ = _HTML_TYPES.get(name)
    if type_ is None:
        raise _entities_error(f'Unsupported start tag "{name}" at byte offset {offset}')
    if closing:
        if not formatter.open or formatter.open[-1][0] != name:
            raise _entities_error(
                f"Unmatched end tag at byte offset {offset}, expected "
                f'"{formatter.open[-1][0] if formatter.open else ""}", '
                f'found "{name}"'
            )
        formatter.close(name)
        return match.end()
    attributes = {
        m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
        for m in _HTML_ATTR.finditer(attrs)
    }
    extra: JSON = {}
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise _entities_error(f'Unsupported start tag "span" at byte offset {offset}')
    if name == "a":
        type_ = "text_link" if attributes.get("href") else ""
        extra = {"url": attributes.get("href", "")} if type_ else {}
    elif name == "tg-emoji":
        extra = {"custom_emoji_id": attributes.get("emoji-id", "")}
    elif name == "code" and formatter.open and formatter.open[-1][0] == "pre":
        language = attributes.get("class", "").removeprefix("language-")
        if language:
            formatter.open[-1][4]["language"] = language
        type_ = ""  # <pre><code class="language-x"> is one pre entity
    formatter.push(name, type_, index, extra)
    return match.end()


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MD2_MARKERS = (
    ("||", "spoiler"),
    ("__", "underline"),
    ("*", "bold"),
    ("_", "italic"),
    ("~", "strikethrough"),
)
_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "blockquote": "BlockQuote",
}


def _parse_markdown_v2(source: str) -> tuple[str, list[JSON]]:
    formatter = _Formatter(source)
    index = 0
    while index < len(source):
        index = _markdown_v2_step(formatter, index)
    formatter.close(">")
    return formatter.result(lambda _, type_: f"Can't find end of {_ENTITY_NAMES.get(type_)} entity")


def _markdown_v2_step(formatter: _Formatter, index: int) -> int:
    """Consume one token of MarkdownV2 at ``index``; returns where the next token starts."""
    source = formatter.source
    char = source[index]
    if char == "\\" and index + 1 < len(source):
        formatter.emit(source[index + 1])
        return index + 2
    if char == "`":
        return _markdown_code(formatter, index, escapes=True)
    if char == "\n" and not source.startswith(">", index + 1):
        formatter.close(">")
    if char == ">" and (index == 0 or source[index - 1] == "\n"):
        if not any(entry[0] == ">" for entry in formatter.open):
            formatter.push(">", "blockquote", index)
        return index + 1
    for marker, type_ in _MD2_MARKERS:
        if source.startswith(marker, index):
            if not formatter.close(marker):
                formatter.push(marker, type_, index)
            return index + len(marker)
    if char == "[":
        formatter.push("[", "text_link", index)
        return index + 1
    if (
        char == "]"
        and formatter.open
        and formatter.open[-1][0] == "["
        and source.startswith("(", index + 1)
    ):
        return _markdown_link_end(formatter, index, escapes=True)
    if char in _MD2_RESERVED:
        raise _entities_error(
            f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
        )
    formatter.emit(char)
    return index + 1


def _find_closing(source: str, token: str, start: int, escapes: bool) -> int:
    index = start
    while True:
        found = source.find(token, index)
        if found < 0 or not escapes:
            return found
        backslashes = 0
        while found - backslashes > start and source[found - backslashes - 1] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return found
        index = found + 1


def _markdown_code(formatter: _Formatter, index: int, *, escapes: bool) -> int:
    source = formatter.source
    fence = "```" if source.startswith("```", index) else "`"
    end = _find_closing(source, fence, index + len(fence), escapes)
    if end < 0:
        kind = "Pre" if fence == "```" else "Code"
        raise _entities_error(
            f"Can't find end of {kind} entity at byte offset {formatter.byte_offset(index)}"
        )
    body = source[index + len(fence) : end]
    if escapes:
        body = re.sub(r"\\([\\`])", r"\1", body)
    extra: JSON = {}
    type_ = "code"
    if fence == "```":
        type_ = "pre"
        first, newline, rest = body.partition("\n")
        if newline and first and " " not in first:
            extra["language"], body = first, rest
    start = formatter.pos
    formatter.emit(body)
    formatter.add(type_, start, extra)
    return end + len(fence)


def _markdown_link_end(formatter: _Formatter, index: int, *, escapes: bool) -> int:
    source = formatter.source
    end = _find_closing(source, ")", index + 2, escapes)
    if end < 0:
        raise _entities_error(
            f"Can't find end of a URL at byte offset {formatter.byte_offset(index + 1)}"
        )
    url = re.sub(r"\\(.)", r"\1", source[index + 2 : end]) if escapes else source[index + 2 : end]
    _, _, start, _, _ = formatter.open.pop()
    formatter.add("text_link", start, {"url": url})
    return end + 1


def _parse_markdown(source: str) -> tuple[str, list[JSON]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    formatter = _Formatter(source)
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\" and source[index + 1 : index + 2] in ("_", "*", "`", "["):
            formatter.emit(source[index + 1])
            index += 2
        elif char == "`":
            index = _markdown_code(formatter, index, escapes=False)
        elif char in "*_" or (char == "[" and "](" in source[index:]):
            index = _markdown_legacy_entity(formatter, index)
        else:
            formatter.emit(char)
            index += 1
    return formatter.result(lambda _, __: "")


def _markdown_legacy_entity(formatter: _Formatter, index: int) -> int:
    source = formatter.source
    char = source[index]
    close = source.find("](" if char == "[" else char, index + 1)
    end = source.find(")", close + 2) if char == "[" and close >= 0 else close
    if close < 0 or end < 0:
        raise _entities_error(
            f"Can't find end of the entity starting at byte offset {formatter.byte_offset(index)}"
        )
    start = formatter.pos
    formatter.emit(source[index + 1 : close])
    if char == "[":
        formatter.add("text_link", start, {"url": source[close + 2 : end]})
    else:
        formatter.add("bold" if char == "*" else "italic", start, {})
    return end + 1


def format_text(source: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Plain text and entities of ``source`` as Telegram would store it."""
    if not parse_mode:
        return source, []
    parser = {
        "html": _parse_html,
        "markdownv2": _parse_markdown_v2,
        "markdown": _parse_markdown,
    }.get(parse_mode.lower())
    if parser is None:
        raise _bad_request("unsupported parse_mode")
    return parser(source)


def _auto_entities(text: str) -> list[JSON]:
    """Entities Telegram adds to what users type: a leading /command and @mentions."""
    entities: list[JSON] = []
    command = _COMMAND_RE.match(text)
    if command and (command.end() == len(text) or text[command.end()].isspace()):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    for mention in _MENTION_RE.finditer(text):
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: mention.start()]),
                "length": utf16_len(mention.group()),
            }
        )
    return entities


# --------------------------------------------------------------------------- keyboards

_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


@dataclass
class _Markup:
    buttons: list[list[InlineButton]]
    keyboard: list[list[str]]
    inline: JSON | None  # echoed back in Message objects; reply keyboards are not


def _parse_markup(value: Any) -> _Markup:
    if isinstance(value, str) and value:
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if value is None or value == "":
        return _Markup([], [], None)
    if not isinstance(value, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
            )
        buttons = [[_inline_button(raw) for raw in row] for row in rows]
        return _Markup(buttons, [], value if rows else None)
    if "keyboard" in value:
        rows = value["keyboard"]
        keyboard = [
            [b.get("text", "") if isinstance(b, dict) else str(b) for b in row] for row in rows
        ]
        return _Markup([], keyboard, None)
    return _Markup([], [], None)  # remove_keyboard, force_reply


def _inline_button(raw: Any) -> InlineButton:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise _bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    if not any(key in raw for key in _BUTTON_ACTIONS):
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    data = raw.get("callback_data")
    if data is not None:
        data = str(data)
        if not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
            raise _bad_request("BUTTON_DATA_INVALID")
    url = raw.get("url")
    if url is not None and not re.match(r"^(https?|tg)://\S+$", str(url)):
        raise _bad_request("BUTTON_URL_INVALID")
    return InlineButton(raw["text"], data, url)


# --------------------------------------------------------------------------- rate limits


class _Bucket:
    """Token bucket: ``capacity`` back-to-back, then ``rate`` per second."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1.0)
        self.tokens = self.capacity
        self.stamp = now

    def wait(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class _RateLimiter:
    """Answers "retry after N seconds" the way Telegram's flood control does, or admits."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.total = _Bucket(limits.global_per_second, limits.global_per_second, clock())
        self.chats: dict[int, _Bucket] = {}
        self.groups: dict[int, deque[float]] = {}

    def admit(self, chat_id: int) -> int | None:
        now = self.clock()
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = _Bucket(
                self.limits.per_chat_per_second, self.limits.burst, now
            )
        waits = [self.total.wait(now), chat.wait(now)]
        window = self._group_window(chat_id, now) if chat_id < 0 else None
        if window is not None and len(window) >= self.limits.per_group_per_minute:
            waits.append(window[0] + 60.0 - now)
        wait = max(waits)
        if wait > 0:
            return max(1, math.ceil(wait))
        self.total.tokens -= 1
        chat.tokens -= 1
        if window is not None:
            window.append(now)
        return None

    def _group_window(self, chat_id: int, now: float) -> deque[float]:
        window = self.groups.setdefault(chat_id, deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        return window


def _is_flood_limited(method_key: str) -> bool:
    if method_key.startswith("send"):
        return method_key != "sendchataction"
    return method_key.startswith("edit") or method_key in ("copymessage", "forwardmessage")


# --------------------------------------------------------------------------- files


def _tiny_png() -> bytes:
    """A valid 1x1 PNG, the default picture fake users send."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


TINY_PNG = _tiny_png()


def _image_size(data: bytes | None) -> tuple[int, int]:
    if data and data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 1280, 960


def _photo_sizes(stored: UploadedFile) -> list[JSON]:
    """Telegram answers a photo with several sizes, smallest first; keep a thumb and the full."""
    width, height = _image_size(stored.data)
    full: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "width": width,
        "height": height,
        "file_size": stored.size,
    }
    if width <= 90:
        return [full]
    scale = 90 / width
    thumb: JSON = {
        "file_id": f"{stored.file_id}-thumb",
        "file_unique_id": f"{stored.file_unique_id}-t",
        "width": 90,
        "height": max(1, round(height * scale)),
        "file_size": max(1, round(stored.size * scale * scale)),
    }
    return [thumb, full]


# --------------------------------------------------------------------------- the world


ChatRef: TypeAlias = "FakeUser | FakeGroup | int"


class _ChatHandle:
    """What a test can do with any chat: read the bot's messages there and wait for more."""

    _api: FakeBotApi

    @property
    def chat_id(self) -> int:
        raise NotImplementedError

    def messages(self) -> list[FakeMessage]:
        """The bot's messages in this chat, current state, oldest first."""
        return self._api.messages(self.chat_id)

    @property
    def last_message(self) -> FakeMessage:
        """The newest bot message here that is not deleted."""
        return self._api.last_message(self.chat_id)

    @property
    def chat_actions(self) -> list[str]:
        return self._api.chat_actions(self.chat_id)

    async def next_message(self, timeout: float = DEFAULT_TIMEOUT) -> FakeMessage:
        """The next bot message here that no waiting helper has returned yet."""
        return await self._api.next_message(self.chat_id, timeout=timeout)

    async def wait_for_text(self, text: str, timeout: float = DEFAULT_TIMEOUT) -> FakeMessage:
        """A new or edited bot message here containing ``text`` (case-insensitive)."""
        return await self._api.wait_for_text(self.chat_id, text, timeout=timeout)


class FakeUser(_ChatHandle):
    """A Telegram user; their private chat with the bot has the same id as the user.

    Actions (send, tap, ...) take effect at once and return the message or tap they made;
    those results may also be awaited, so ``await alice.tap("Yes")`` and ``alice.tap("Yes")``
    are the same thing and a forgotten ``await`` cannot silently drop an action.
    """

    def __init__(
        self,
        api: FakeBotApi,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        started: bool,
    ) -> None:
        self._api = api
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = started  # has ever written to the bot; else the bot gets 403
        self.blocked = False
        self.deactivated = False
        self.taps: list[Tap] = []

    def __repr__(self) -> str:
        return f"FakeUser({self.first_name!r}, id={self.id})"

    @property
    def chat_id(self) -> int:
        return self.id

    @property
    def answered_callbacks(self) -> list[Tap]:
        return [tap for tap in self.taps if tap.answered]

    @property
    def unanswered_callbacks(self) -> list[Tap]:
        """Taps the bot never answered: Telegram clients show a spinner for those."""
        return [tap for tap in self.taps if not tap.answered]

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_json(self) -> JSON:
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    def send(self, text: str, *, reply_to: FakeMessage | None = None) -> FakeMessage:
        """Write to the bot privately; a leading /command gets its bot_command entity."""
        return self._api.user_writes(self, self.id, text=text, reply_to=reply_to)

    def tap(
        self,
        target: str | InlineButton | FakeMessage,
        button: str | InlineButton | None = None,
        *,
        message: FakeMessage | None = None,
        chat: ChatRef | None = None,
    ) -> Tap:
        """Tap a callback button: ``tap("Yes")`` on the newest bot message having it (in this
        user's private chat unless ``chat`` says otherwise), or ``tap(message, "Yes")``, or
        ``tap(message)`` when it has a single button. Buttons match by exact text, then by
        callback_data, then by a case-insensitive part of the text."""
        if isinstance(target, FakeMessage):
            message, wanted = target, button
            if wanted is None:
                only = target.flat_buttons
                if len(only) != 1:
                    raise AssertionError(f"say which button: {target} has {len(only)}")
                wanted = only[0]
        else:
            wanted = target
        return self._api.tap(self, wanted, message=message, chat=chat)

    def tap_data(
        self, data: str, *, message: FakeMessage | None = None, chat: ChatRef | None = None
    ) -> Tap:
        """A callback_query with any data, on ``message`` or the newest bot message: how stale
        buttons and forged clients reach the bot (real clients can only send existing data)."""
        return self._api.tap(self, data, message=message, chat=chat, forged=True)

    def share_location(
        self, latitude: float, longitude: float, *, live_period: int | None = None
    ) -> FakeMessage:
        location: JSON = {"latitude": latitude, "longitude": longitude}
        if live_period is not None:
            location["live_period"] = live_period
        return self._api.user_writes(self, self.id, content={"location": location})

    def send_sticker(self, emoji: str = "👍") -> FakeMessage:
        stored = self._api.store_file(b"RIFF-fake-webp-sticker", "sticker.webp", "image/webp")
        sticker: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }
        return self._api.user_writes(self, self.id, content={"sticker": sticker})

    def send_photo(self, data: bytes | None = None, *, caption: str | None = None) -> FakeMessage:
        stored = self._api.store_file(data or TINY_PNG, "photo.png", "image/png")
        return self._api.user_writes(
            self,
            self.id,
            caption=caption,
            content={"photo": _photo_sizes(stored)},
            photo=stored.data,
        )

    def send_document(
        self,
        data: bytes = b"hello",
        *,
        filename: str = "notes.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
    ) -> FakeMessage:
        stored = self._api.store_file(data, filename, mime_type)
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": stored.size,
        }
        return self._api.user_writes(self, self.id, caption=caption, content={"document": document})

    def send_contact(
        self, phone_number: str | None = None, *, first_name: str | None = None, own: bool = True
    ) -> FakeMessage:
        """Share a contact; by default the user's own, as the "share my number" button does."""
        contact: JSON = {
            "phone_number": phone_number or f"+1555{self.id % 10**7:07d}",
            "first_name": first_name or self.first_name,
        }
        if own:
            contact["user_id"] = self.id
        return self._api.user_writes(self, self.id, content={"contact": contact})

    def edit(self, message: FakeMessage, text: str) -> FakeMessage:
        """Edit one of this user's messages; the bot gets an edited_message update."""
        return self._api.user_edits(self, message, text)

    def block(self) -> None:
        """Block the bot: sends to this chat then fail with 403, as on Telegram."""
        self._api.set_blocked(self, blocked=True)

    def unblock(self) -> None:
        self._api.set_blocked(self, blocked=False)

    def deactivate(self) -> None:
        """Delete the account: the bot gets 403 "user is deactivated" from then on."""
        self.deactivated = True


class FakeGroup(_ChatHandle):
    """A group or supergroup; the bot only sees it after ``add_bot``."""

    def __init__(
        self, api: FakeBotApi, chat_id: int, title: str, *, supergroup: bool, username: str | None
    ) -> None:
        self._api = api
        self.id = chat_id
        self.title = title
        self.type = "supergroup" if supergroup else "group"
        self.username = username
        self.members: dict[int, str] = {}  # user id -> status
        self.bot_status = "left"
        self.migrated_from: int | None = None

    def __repr__(self) -> str:
        return f"FakeGroup({self.title!r}, id={self.id}, type={self.type!r})"

    @property
    def chat_id(self) -> int:
        return self.id

    @property
    def bot_present(self) -> bool:
        return self.bot_status in _PRESENT_STATUSES

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type, "title": self.title}
        if self.username and self.type == "supergroup":
            data["username"] = self.username
        return data

    def add_member(self, user: FakeUser, status: str = "member") -> FakeGroup:
        """Put a user in the group silently (world setup; no update is sent)."""
        if status not in _MEMBER_STATUSES:
            raise ValueError(f"status must be one of {_MEMBER_STATUSES}, not {status!r}")
        self.members[user.id] = status
        return self

    def add_bot(self, by: FakeUser, *, status: str = "member") -> FakeMessage:
        """``by`` adds the bot: a my_chat_member update, then a new_chat_members message."""
        return self._api.add_bot(self, by, status)

    def remove_bot(self, by: FakeUser) -> None:
        """``by`` kicks the bot: my_chat_member update; sends then fail with 403."""
        self._api.remove_bot(self, by)

    def send(
        self, user: FakeUser, text: str, *, reply_to: FakeMessage | None = None
    ) -> FakeMessage:
        """``user`` writes in the group. With privacy mode on (the default, as on Telegram) the
        bot only gets commands, replies to it and mentions of it, unless it is an admin."""
        return self._api.user_writes(user, self.id, text=text, reply_to=reply_to)

    def migrate_to_supergroup(self, by: FakeUser | None = None) -> int:
        """Upgrade to a supergroup with a new -100... id; the old id then answers 400 with
        ``migrate_to_chat_id``. Returns the new id (also now ``self.id``)."""
        return self._api.migrate(self, by)


# --------------------------------------------------------------------------- the server


class FakeBotApi:
    """The fake Bot API: an HTTP server plus the world it serves. See the module docstring."""

    def __init__(
        self,
        token: str = TEST_TOKEN,
        *,
        bot_username: str = "walkbot_test_bot",
        limits: Limits | None = None,
        bot_name: str = "Walkbot",
        group_privacy: bool = True,
        clock: Clock | None = None,
        webhook_max_attempts: int = 5,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.limits = limits
        self.group_privacy = group_privacy
        self.webhook_max_attempts = webhook_max_attempts
        self.calls: list[Call] = []
        self.stats = Stats()
        self.updates: list[JSON] = []  # every update ever queued, in order
        self.webhook_errors: list[str] = []  # updates given up on, and why
        self._clock: Clock = clock or SystemClock()
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._chats: dict[int, _ChatState] = {}
        self._migrated: dict[int, int] = {}
        self._pending: deque[_Pending] = deque()
        self._update_log: dict[int, JSON] = {}
        self._next_update_id = 1
        self._allowed: frozenset[str] | None = None  # None: all but _OPT_IN_UPDATES
        self._webhook: _Webhook | None = None
        # setMyCommands, by (scope, language_code); scope like "default", "chat:chat_id=42"
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self._files: dict[str, UploadedFile] = {}
        self._files_by_path: dict[str, UploadedFile] = {}
        self._taps: dict[str, Tap] = {}
        self._faults: list[Fault] = []
        self._limiter = _RateLimiter(limits) if limits is not None else None
        self._user_ids = itertools.count(7_000_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._supergroup_ids = itertools.count(1_002_000_000_001)
        self._file_ids = itertools.count(1)
        self._tap_ids = itertools.count(4_000_000_000_000_000_001)
        self._seq = 0
        self._changed = asyncio.Event()
        self._updates_signal = asyncio.Event()
        self._watchers = 0
        self._pollers = 0
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._handlers: dict[str, Callable[[JSON], Any]] = {
            name.lower(): handler for name, handler in self._method_table().items()
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeBotApi:
        """Listen on ``host:port`` (0: any free port) and start the webhook sender."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: an abandoned long poll must not swallow updates.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self._host = host
        self._port = int(self._runner.addresses[0][1])
        self._closing = False
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._webhook_task = asyncio.create_task(self._webhook_loop())
        return self

    async def stop(self) -> None:
        """Release waiting long polls, stop the webhook sender and close the listener."""
        self._closing = True
        self._signal_updates()
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        for task in list(self._background):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> FakeBotApi:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("FakeBotApi is not started; call `await api.start()` first")
        return f"http://{self._host}:{self._port}"

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)``: PTB appends the token and then ``/method``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ----------------------------------------------------------------- building the world

    def user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """A new user. Until they write to the bot (or ``started=True``), the bot gets 403."""
        uid = user_id if user_id is not None else next(self._user_ids)
        if uid in self._users:
            raise ValueError(f"user id {uid} already exists")
        user = FakeUser(
            self,
            uid,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            started=started,
        )
        self._users[uid] = user
        self._chats[uid] = _ChatState(uid, user=user)
        return user

    def group(
        self,
        title: str,
        *,
        chat_id: int | None = None,
        supergroup: bool = False,
        username: str | None = None,
    ) -> FakeGroup:
        """A new group without the bot in it; ids look like Telegram's (-4..., -100...)."""
        if chat_id is None:
            chat_id = -next(self._supergroup_ids if supergroup else self._group_ids)
        if chat_id in self._chats:
            raise ValueError(f"chat id {chat_id} already exists")
        group = FakeGroup(self, chat_id, title, supergroup=supergroup, username=username)
        self._groups[chat_id] = group
        self._chats[chat_id] = _ChatState(chat_id, group=group)
        return group

    def get_user(self, user_id: int) -> FakeUser:
        return self._users[user_id]

    def store_file(
        self,
        data: bytes | None,
        filename: str | None = None,
        mime_type: str | None = None,
        *,
        url: str | None = None,
    ) -> UploadedFile:
        """Keep a file and give it a file_id the bot can resend or download (getFile)."""
        return self._register_file(UploadedFile("", "", data, filename, mime_type, url))

    # ----------------------------------------------------------------- observing

    def messages(self, chat: ChatRef) -> list[FakeMessage]:
        """The bot's messages in a chat (deleted ones flagged, not removed), oldest first."""
        return list(self._state_for(chat).bot_messages)

    def chat_actions(self, chat: ChatRef) -> list[str]:
        return list(self._state_for(chat).actions)

    def calls_to(self, method: str) -> list[Call]:
        key = method.lower()
        return [call for call in self.calls if call.method.lower() == key]

    @property
    def taps(self) -> list[Tap]:
        return list(self._taps.values())

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed (by offset) or delivered (by webhook)."""
        return [item.body for item in self._pending]

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        return self._pollers > 0

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    def last_message(self, chat: ChatRef) -> FakeMessage:
        """The newest bot message in ``chat`` that is not deleted; fails if there is none."""
        state = self._state_for(chat)
        for message in reversed(state.bot_messages):
            if not message.deleted:
                return message
        raise AssertionError(f"the bot has no message in {state.name}")

    def commands_for(
        self, scope: JSON | None = None, language_code: str = ""
    ) -> list[tuple[str, str]]:
        """(command, description) pairs stored by setMyCommands for exactly this scope."""
        key = (_scope_key(scope or {"type": "default"}), language_code)
        return [(c["command"], c["description"]) for c in self.commands.get(key, [])]

    async def wait_for(
        self,
        predicate: Callable[[Call], bool],
        timeout: float = DEFAULT_TIMEOUT,
        *,
        what: str = "call",
    ) -> Call:
        """The first recorded call (past or future) matching ``predicate``."""
        checked = 0

        def check() -> Call | None:
            nonlocal checked
            while checked < len(self.calls):
                call = self.calls[checked]
                checked += 1
                if predicate(call):
                    return call
            return None

        return await self._wait_until(
            check,
            timeout,
            lambda: f"No matching {what} within {timeout}s. Last calls:\n{self._describe_calls()}",
        )

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = DEFAULT_TIMEOUT,
        *,
        what: str = "condition",
    ) -> None:
        """Wait until ``condition()`` holds; it is re-checked whenever the world changes."""
        await self._wait_until(
            lambda: True if condition() else None,
            timeout,
            lambda: f"{what} not met within {timeout}s. Last calls:\n{self._describe_calls()}",
        )

    async def wait_for_polling(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the bot has a long poll open, i.e. it is up and listening."""
        await self.wait_until(lambda: self.polling, timeout, what="a waiting getUpdates")

    async def next_message(
        self,
        chat: ChatRef,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> FakeMessage:
        """The next bot message in ``chat`` that no waiting helper has returned yet."""
        state = self._state_for(chat)

        def check() -> FakeMessage | None:
            for change in state.changes_after(state.cursor):
                if change.is_new:
                    state.cursor = change.seq
                    return change.message
            return None

        return await self._wait_until(
            check,
            timeout,
            lambda: (
                f"No new bot message in {state.name} within {timeout}s.\n"
                f"{self._describe_chat(state)}"
            ),
        )

    async def wait_for_text(
        self,
        chat: ChatRef,
        text: str,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> FakeMessage:
        """A bot message in ``chat``, new or edited since the last helper returned, whose text
        or caption contains ``text`` (case-insensitive). Moves the chat's cursor there."""
        state = self._state_for(chat)
        needle = text.casefold()

        def check() -> FakeMessage | None:
            for change in state.changes_after(state.cursor):
                message = change.message
                if not message.deleted and needle in message.body.casefold():
                    state.cursor = change.seq
                    return message
            return None

        return await self._wait_until(
            check,
            timeout,
            lambda: (
                f"No bot message containing {text!r} in {state.name} within {timeout}s.\n"
                f"{self._describe_chat(state)}"
            ),
        )

    # ----------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        chat_id: ChatRef | str | None = None,
        times: int = 1,
        parameters: JSON | None = None,
    ) -> Fault:
        """Answer the next ``times`` calls of ``method`` ("*": any) with an error instead of
        running them. 429 carries ``retry_after``; other statuses get Telegram's wording."""
        fault = Fault(
            method.lower(),
            times,
            status=status,
            retry_after=retry_after,
            description=description,
            parameters=parameters,
            chat_id=_chat_key(chat_id),
        )
        self._faults.append(fault)
        return fault

    def delay_next(
        self, method: str, seconds: float, *, chat_id: ChatRef | str | None = None, times: int = 1
    ) -> Fault:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before running them.
        The call still takes effect if the client gave up meanwhile, as on Telegram."""
        fault = Fault(method.lower(), times, delay=seconds, chat_id=_chat_key(chat_id))
        self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self._faults.clear()

    # ----------------------------------------------------------------- updates

    def inject_update(self, update: JSON) -> int:
        """Queue a hand-made update (forged, malformed, duplicate...). Keeps its update_id if
        it has one; allowed_updates does not filter it. Returns the update_id."""
        body = dict(update)
        replay = "update_id" in body
        if not replay:
            body["update_id"] = self._take_update_id()
        update_id = int(body["update_id"])
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._queue(_Pending(update_id, body, replay=replay))
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Queue an already sent update again with the same id, as Telegram sometimes does."""
        body = self._update_log.get(update_id)
        if body is None:
            raise AssertionError(f"no update {update_id} was ever queued")
        self._queue(_Pending(update_id, body, replay=True))

    def _wants(self, kind: str) -> bool:
        if self._allowed is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self._allowed

    def _take_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def _enqueue(self, kind: str, payload: JSON) -> int | None:
        """A new update of ``kind``, unless allowed_updates excludes it (checked at creation,
        like Telegram: changing allowed_updates does not affect queued updates)."""
        if not self._wants(kind):
            return None
        update_id = self._take_update_id()
        self._queue(_Pending(update_id, {"update_id": update_id, kind: payload}))
        return update_id

    def _queue(self, item: _Pending) -> None:
        self._update_log.setdefault(item.update_id, item.body)
        self.updates.append(item.body)
        self.stats.updates += 1
        if self._pending and self._pending[-1].update_id > item.update_id:
            ordered = sorted([*self._pending, item], key=lambda p: p.update_id)
            self._pending = deque(ordered)
        else:
            self._pending.append(item)
        self._signal_updates()

    def _confirm(self, offset: int | None) -> None:
        """Forget updates below ``offset``, except replays the bot has not received yet."""
        if not offset:
            return
        if offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
            return
        pending = self._pending
        while pending and pending[0].update_id < offset and not _protected(pending[0]):
            pending.popleft()
        if pending and pending[0].update_id < offset:
            self._pending = deque(p for p in pending if p.update_id >= offset or _protected(p))

    def _take_batch(self, limit: int) -> list[JSON]:
        batch = list(itertools.islice(self._pending, limit))
        for item in batch:
            item.delivered = True
        return [item.body for item in batch]

    def _signal_updates(self) -> None:
        self._updates_signal.set()
        self._updates_signal = asyncio.Event()

    # ----------------------------------------------------------------- user actions

    def user_writes(
        self,
        user: FakeUser,
        chat_id: int,
        *,
        text: str | None = None,
        caption: str | None = None,
        content: JSON | None = None,
        reply_to: FakeMessage | None = None,
        photo: bytes | None = None,
    ) -> FakeMessage:
        """``user`` sends a message into a chat; the bot gets it if it can see it."""
        state = self._state_for(chat_id)
        self._check_user_can_write(user, state)
        body = text if text is not None else caption
        message = FakeMessage(
            chat_id=state.chat_id,
            message_id=state.take_message_id(),
            date=self._timestamp(),
            from_bot=False,
            sender_id=user.id,
            chat=self._chat_json(state),
            sender=user.to_api(),
            text=text,
            caption=caption,
            entities=_auto_entities(body) if body else [],
            content=content or {},
            reply_to=reply_to,
            photo=photo,
        )
        state.messages[message.message_id] = message
        if state.user is not None:
            user.started = True
        if self._bot_sees(state, message):
            message.update_id = self._enqueue("message", message.to_api())
        self._notify()
        return message

    def user_edits(self, user: FakeUser, message: FakeMessage, text: str) -> FakeMessage:
        if message.sender_id != user.id or message.from_bot:
            raise AssertionError(f"{user.first_name} can only edit their own messages")
        state = self._state_for(message.chat_id)
        self._check_user_can_write(user, state)
        message.history.append(message.body)
        message.text = text
        message.entities = _auto_entities(text)
        message.edits += 1
        message.edit_date = self._timestamp()
        if self._bot_sees(state, message):
            self._enqueue("edited_message", message.to_api())
        self._notify()
        return message

    def tap(
        self,
        user: FakeUser,
        button: str | InlineButton,
        *,
        message: FakeMessage | None = None,
        chat: ChatRef | None = None,
        forged: bool = False,
    ) -> Tap:
        """``user`` taps a callback button: a callback_query update for the bot. ``forged``:
        ``button`` is callback data sent as is, whatever buttons the message has."""
        target: ChatRef = message.chat_id if message is not None else (chat or user)
        state = self._state_for(target)
        self._check_user_can_write(user, state)
        if forged:
            found = message or self.last_message(state.chat_id)
            pressed = InlineButton("", str(button))
        else:
            found, pressed = self._find_button(state, button, message)
        if pressed.callback_data is None:
            raise AssertionError(
                f"button {pressed.text!r} is not a callback button "
                f"(url={pressed.url!r}); tapping it sends the bot nothing"
            )
        tap = Tap(
            str(next(self._tap_ids)),
            user.id,
            state.chat_id,
            found.message_id,
            pressed.callback_data,
            pressed.text,
        )
        self._taps[tap.id] = tap
        user.taps.append(tap)
        self._enqueue(
            "callback_query",
            {
                "id": tap.id,
                "from": user.to_api(),
                "message": found.to_api(),
                "chat_instance": str(abs(state.chat_id) * 7919 % 10**18),
                "data": pressed.callback_data,
            },
        )
        self._notify()
        return tap

    def set_blocked(self, user: FakeUser, *, blocked: bool) -> None:
        """Block or unblock the bot; Telegram tells the bot with a my_chat_member update."""
        if user.blocked == blocked:
            return
        user.blocked = blocked
        if user.started:
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            self._enqueue("my_chat_member", self._member_change(user.chat_json(), user, old, new))
        self._notify()

    def add_bot(self, group: FakeGroup, by: FakeUser, status: str) -> FakeMessage:
        state = self._state_for(group)
        group.members.setdefault(by.id, "member")
        old, group.bot_status = group.bot_status, status
        self._enqueue("my_chat_member", self._member_change(group.to_api(), by, old, status))
        return self._service_message(state, by, {"new_chat_members": [self._bot_user()]})

    def remove_bot(self, group: FakeGroup, by: FakeUser) -> None:
        old, group.bot_status = group.bot_status, "kicked"
        self._enqueue("my_chat_member", self._member_change(group.to_api(), by, old, "kicked"))
        self._notify()

    def migrate(self, group: FakeGroup, by: FakeUser | None) -> int:
        if group.type != "group":
            raise ValueError(f"{group!r} is already a supergroup")
        author = by or self._some_member(group)
        old_id, new_id = group.id, -next(self._supergroup_ids)
        self._service_message(self._state_for(group), author, {"migrate_to_chat_id": new_id})
        self._groups.pop(old_id)
        self._migrated[old_id] = new_id
        group.id, group.type, group.migrated_from = new_id, "supergroup", old_id
        self._groups[new_id] = group
        new_state = self._chats[new_id] = _ChatState(new_id, group=group)
        self._service_message(new_state, author, {"migrate_from_chat_id": old_id})
        return new_id

    def _some_member(self, group: FakeGroup) -> FakeUser:
        for status in ("creator", "administrator", "member"):
            for user_id, member_status in group.members.items():
                if member_status == status and user_id in self._users:
                    return self._users[user_id]
        raise ValueError(f"{group!r} has no members; pass `by=`")

    def _service_message(self, state: _ChatState, by: FakeUser, content: JSON) -> FakeMessage:
        message = FakeMessage(
            chat_id=state.chat_id,
            message_id=state.take_message_id(),
            date=self._timestamp(),
            from_bot=False,
            sender_id=by.id,
            chat=self._chat_json(state),
            sender=by.to_api(),
            content=content,
        )
        state.messages[message.message_id] = message
        group = state.group
        if group is not None and group.bot_present:
            self._enqueue("message", message.to_api())
        self._notify()
        return message

    def _check_user_can_write(self, user: FakeUser, state: _ChatState) -> None:
        if state.user is not None:
            if state.user is not user:
                raise AssertionError(f"{user.first_name} cannot write in {state.name}'s chat")
            if user.blocked:
                raise AssertionError(f"{user.first_name} has blocked the bot; unblock() first")
            if user.deactivated:
                raise AssertionError(f"{user.first_name}'s account is deactivated")
        elif state.group is not None:
            state.group.members.setdefault(user.id, "member")

    def _bot_sees(self, state: _ChatState, message: FakeMessage) -> bool:
        """Telegram's privacy mode: in groups a bot sees commands, replies and mentions only,
        unless privacy is off or the bot is an admin."""
        group = state.group
        if group is None:
            return True
        if not group.bot_present:
            return False
        if not self.group_privacy or group.bot_status in ("administrator", "creator"):
            return True
        body = message.body
        command = _COMMAND_RE.match(body)
        if command:
            _, _, target = command.group().partition("@")
            return not target or target.lower() == self.bot_username.lower()
        if message.reply_to is not None and message.reply_to.from_bot:
            return True
        return f"@{self.bot_username}".lower() in body.lower()

    def _find_button(
        self, state: _ChatState, wanted: str | InlineButton, message: FakeMessage | None
    ) -> tuple[FakeMessage, InlineButton]:
        pool = (
            [message]
            if message is not None
            else [m for m in reversed(state.bot_messages) if not m.deleted]
        )
        matchers: list[Callable[[InlineButton], bool]] = [
            lambda b: b == wanted,
            lambda b: b.text == wanted,
            lambda b: b.callback_data == wanted,
            lambda b: isinstance(wanted, str) and wanted.casefold() in b.text.casefold(),
        ]
        for matches in matchers:
            for candidate in pool:
                if candidate.deleted:
                    continue
                for button in candidate.flat_buttons:
                    if matches(button):
                        return candidate, button
        raise AssertionError(self._no_button(state, wanted, pool))

    def _no_button(
        self, state: _ChatState, wanted: str | InlineButton, pool: list[FakeMessage]
    ) -> str:
        lines = [f"No button {wanted!r} on the bot's messages in {state.name}."]
        with_buttons = [m for m in pool if m.buttons and not m.deleted][:5]
        if not with_buttons:
            lines.append("No bot message there has inline buttons.")
        for candidate in with_buttons:
            labels = ", ".join(
                f"{b.text!r} (data={b.callback_data!r})" for b in candidate.flat_buttons
            )
            lines.append(f"  #{candidate.message_id} {_shorten(candidate.body)!r}: {labels}")
        return "\n".join(lines)

    # ----------------------------------------------------------------- HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        received_at = time.monotonic()
        wall = self._clock.now()
        method = request.match_info["method"]
        self.stats.requests += 1
        token = request.match_info["token"]
        if token != self.token:
            error = (
                ApiError(401, "Unauthorized")
                if _TOKEN_RE.match(token)
                else ApiError(404, "Not Found")
            )
            return _json_response(*self._record(method, {}, received_at, wall, error))
        try:
            params = await read_params(request)
        except ApiError as error:
            return _json_response(*self._record(method, {}, received_at, wall, error))
        key = method.lower()
        work = self._process(method, params, received_at, wall)
        if key != "getupdates" and any(f.delay and f.matches(key, params) for f in self._faults):
            task = asyncio.ensure_future(work)  # survives the client giving up, like Telegram
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            status, payload = await asyncio.shield(task)
        else:
            status, payload = await work
        return _json_response(status, payload)

    async def _process(
        self, method: str, params: JSON, received_at: float, wall: datetime
    ) -> tuple[int, JSON]:
        key = method.lower()
        outcome: Any
        try:
            handler = self._handlers.get(key)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            delay = self._take_fault(key, params, delay=True)
            if delay is not None:
                await asyncio.sleep(delay.delay)
            failure = self._take_fault(key, params, delay=False)
            if failure is not None:
                self.stats.injected_failures += 1
                raise failure.error()
            self._check_rate_limit(key, params)
            outcome = handler(params)
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except ApiError as error:
            outcome = error
        return self._record(method, params, received_at, wall, outcome)

    def _record(
        self, method: str, params: JSON, received_at: float, wall: datetime, outcome: Any
    ) -> tuple[int, JSON]:
        if isinstance(outcome, ApiError):
            status, payload = outcome.status, outcome.payload()
        elif isinstance(outcome, _Described):
            status = 200
            payload = {"ok": True, "result": outcome.result, "description": outcome.description}
        else:
            status, payload = 200, {"ok": True, "result": outcome}
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            self.stats.too_many_requests += 1
        self.calls.append(Call(method, params, received_at, wall, status, payload))
        self._notify()
        return status, payload

    def _take_fault(self, key: str, params: JSON, *, delay: bool) -> Fault | None:
        for fault in self._faults:
            if (fault.status is None) == delay and fault.matches(key, params):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _check_rate_limit(self, key: str, params: JSON) -> None:
        if self._limiter is None or not _is_flood_limited(key):
            return
        try:
            chat_id = int(params.get("chat_id", ""))
        except (TypeError, ValueError):
            return  # "@username" or missing: the handler answers that
        retry_after = self._limiter.admit(chat_id)
        if retry_after is not None:
            self.stats.rate_limited += 1
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_response(401, ApiError(401, "Unauthorized").payload())
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None or stored.data is None:
            return _json_response(404, ApiError(404, "Not Found").payload())
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ----------------------------------------------------------------- webhook sender

    async def _webhook_loop(self) -> None:
        """Post queued updates to the webhook, oldest first, retrying failures with backoff."""
        while not self._closing:
            hook = self._webhook
            item = self._pending[0] if self._pending else None
            if hook is None or item is None:
                await self._updates_signal.wait()
                continue
            error = await self._post_update(hook, item.body)
            if error is None:
                self.stats.webhook_deliveries += 1
                self._drop_pending(item)
                continue
            self.stats.webhook_failures += 1
            hook.last_error_date, hook.last_error_message = self._timestamp(), error
            item.attempts += 1
            if item.attempts >= self.webhook_max_attempts:
                self.webhook_errors.append(f"update {item.update_id}: {error}")
                self._drop_pending(item)
            else:
                await asyncio.sleep(min(0.05 * 2 ** (item.attempts - 1), 1.0))

    async def _post_update(self, hook: _Webhook, body: JSON) -> str | None:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if hook.secret_token:
            headers[SECRET_HEADER] = hook.secret_token
        try:
            async with self._session.post(
                hook.url, data=json.dumps(body), headers=headers
            ) as response:
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return (
                "Connection refused"
                if isinstance(exc, aiohttp.ClientConnectionError)
                else f"{type(exc).__name__}: {exc}"
            )

    def _drop_pending(self, item: _Pending) -> None:
        with contextlib.suppress(ValueError):
            self._pending.remove(item)
        self._notify()

    # ----------------------------------------------------------------- waiting

    def _notify(self) -> None:
        """Wake every waiter to re-check its condition; free when nobody waits."""
        if self._watchers:
            self._changed.set()
            self._changed = asyncio.Event()

    async def _wait_until(
        self, check: Callable[[], T | None], timeout: float, explain: Callable[[], str]
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._watchers += 1
        try:
            while True:
                found = check()
                if found is not None:
                    return found
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(explain())
                changed = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
        finally:
            self._watchers -= 1

    def _describe_chat(self, state: _ChatState, last: int = 5) -> str:
        recent = state.bot_messages[-last:]
        lines = [
            f"Last {len(recent)} bot message(s) in {state.name}:"
            if recent
            else f"The bot has sent nothing in {state.name}."
        ]
        lines += [f"  {_describe_message(m)}" for m in recent]
        failed = [
            c for c in self.calls[-200:] if not c.ok and str(c.chat_id) == str(state.chat_id)
        ][-last:]
        if failed:
            lines.append("Failed calls for this chat:")
            lines += [f"  {call}" for call in failed]
        return "\n".join(lines)

    def _describe_calls(self, last: int = 8) -> str:
        return "\n".join(f"  {call}" for call in self.calls[-last:]) or "  (no calls)"

    # ----------------------------------------------------------------- helpers

    def _timestamp(self) -> int:
        return int(self._clock.now().timestamp())

    def _bump(self) -> int:
        self._seq += 1
        return self._seq

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _state_for(self, chat: ChatRef) -> _ChatState:
        chat_id = chat if isinstance(chat, int) else chat.chat_id
        state = self._chats.get(chat_id)
        if state is None:
            raise KeyError(f"no chat {chat_id} in this fake world")
        return state

    def _chat_json(self, state: _ChatState) -> JSON:
        if state.user is not None:
            return state.user.chat_json()
        assert state.group is not None
        return state.group.to_api()

    def _member_change(self, chat: JSON, by: FakeUser, old: str, new: str) -> JSON:
        bot = self._bot_user()
        return {
            "chat": chat,
            "from": by.to_api(),
            "date": self._timestamp(),
            "old_chat_member": _member_json(bot, old),
            "new_chat_member": _member_json(bot, new),
        }

    def _register_file(self, upload: UploadedFile, folder: str = "documents") -> UploadedFile:
        number = next(self._file_ids)
        upload.file_id = f"BQACAgFAKE{number:08d}"
        upload.file_unique_id = f"AgADFAKE{number:08d}"
        suffix = (
            "." + upload.filename.rsplit(".", 1)[-1]
            if upload.filename and "." in upload.filename
            else ""
        )
        upload.file_path = f"{folder}/file_{number}{suffix}"
        self._files[upload.file_id] = upload
        self._files[f"{upload.file_id}-thumb"] = upload
        self._files_by_path[upload.file_path] = upload
        return upload

    def _lookup_chat(self, raw: Any) -> _ChatState:
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            wanted = raw[1:].lower()
            for group in self._groups.values():
                if group.username and group.username.lower() == wanted:
                    return self._chats[group.id]
            raise _bad_request("chat not found")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise _bad_request("chat not found") from None
        if chat_id in self._migrated:
            raise _bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._migrated[chat_id]},
            )
        state = self._chats.get(chat_id)
        if state is None:
            raise _bad_request("chat not found")
        return state

    def _check_can_send(self, state: _ChatState) -> None:
        user, group = state.user, state.group
        if user is not None:
            if user.deactivated:
                raise _forbidden("user is deactivated")
            if user.blocked:
                raise _forbidden("bot was blocked by the user")
            if not user.started:
                raise _forbidden("bot can't initiate conversation with a user")
        elif group is not None and not group.bot_present:
            where = "supergroup chat" if group.type == "supergroup" else "group chat"
            if group.bot_status == "kicked":
                raise _forbidden(f"bot was kicked from the {where}")
            raise _forbidden(f"bot is not a member of the {where}")

    def _target(self, params: JSON, *, sending: bool = True) -> _ChatState:
        state = self._lookup_chat(params.get("chat_id"))
        if sending:
            self._check_can_send(state)
        return state

    def _formatted(
        self,
        params: JSON,
        key: str,
        entities_key: str,
        limit: int,
        *,
        empty: str,
        too_long: str,
        required: bool,
    ) -> tuple[str | None, list[JSON]]:
        source = _opt_str(params, key)
        if not source:
            if required:
                raise _bad_request(empty)
            return None, []
        explicit = _opt_json(params, entities_key)
        if explicit:
            text, entities = source, list(explicit)
        else:
            text, entities = format_text(source, _opt_str(params, "parse_mode"))
        if not text.strip():
            if required:
                raise _bad_request(empty)
            return None, []
        if utf16_len(text) > limit:
            raise _bad_request(too_long)
        return text, entities

    def _text(self, params: JSON) -> tuple[str, list[JSON]]:
        text, entities = self._formatted(
            params,
            "text",
            "entities",
            MAX_TEXT,
            required=True,
            empty="message text is empty",
            too_long="message is too long",
        )
        assert text is not None
        return text, entities

    def _caption(self, params: JSON) -> tuple[str | None, list[JSON]]:
        return self._formatted(
            params,
            "caption",
            "caption_entities",
            MAX_CAPTION,
            required=False,
            empty="",
            too_long="message caption is too long",
        )

    def _reply_target(self, state: _ChatState, params: JSON) -> FakeMessage | None:
        reply = _opt_json(params, "reply_parameters")
        if isinstance(reply, dict):
            message_id, allow = (
                reply.get("message_id"),
                bool(reply.get("allow_sending_without_reply")),
            )
        else:
            message_id = _opt_int(params, "reply_to_message_id")
            allow = _flag(params, "allow_sending_without_reply")
        if message_id is None:
            return None
        target = state.messages.get(int(message_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise _bad_request("message to be replied not found")
        return target

    def _bot_message(
        self,
        state: _ChatState,
        params: JSON,
        *,
        text: str | None = None,
        caption: str | None = None,
        entities: list[JSON] | None = None,
        content: JSON | None = None,
        photo: bytes | None = None,
        document: UploadedFile | None = None,
    ) -> FakeMessage:
        """Store a message the bot sent; validation is done before, so ids are not wasted."""
        markup = _parse_markup(params.get("reply_markup"))
        reply_to = self._reply_target(state, params)
        message = FakeMessage(
            chat_id=state.chat_id,
            message_id=state.take_message_id(),
            date=self._timestamp(),
            from_bot=True,
            sender_id=self.bot_id,
            chat=self._chat_json(state),
            sender=self._bot_user(),
            text=text,
            caption=caption,
            entities=entities or [],
            buttons=markup.buttons,
            keyboard=markup.keyboard,
            reply_markup=markup.inline,
            disable_notification=_flag(params, "disable_notification"),
            photo=photo,
            document=document,
            content=content or {},
            reply_to=reply_to,
        )
        message.created_seq = message.changed_seq = self._bump()
        state.messages[message.message_id] = message
        state.bot_messages.append(message)
        state.log.append(_Change(message.created_seq, message, is_new=True))
        self._notify()
        return message

    def _edited(self, state: _ChatState, message: FakeMessage) -> JSON:
        message.edits += 1
        message.edit_date = self._timestamp()
        message.changed_seq = self._bump()
        state.log.append(_Change(message.changed_seq, message, is_new=False))
        self._notify()
        return message.to_api()

    def _editable(self, params: JSON) -> tuple[_ChatState, FakeMessage]:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")  # inline mode is not simulated
        state = self._target(params)
        message_id = _opt_int(params, "message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = state.messages.get(message_id)
        if message is None or message.deleted:
            raise _bad_request("message to edit not found")
        if not message.from_bot:
            raise _bad_request("message can't be edited")
        return state, message

    def _input_file(self, params: JSON, name: str, folder: str, missing: str) -> UploadedFile:
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            return self._register_file(value, folder)
        if isinstance(value, str) and value:
            if value in self._files:
                return self._files[value]
            if value.startswith(("http://", "https://")):
                return self._register_file(UploadedFile("", "", None, url=value), folder)
            raise _bad_request("wrong file identifier/HTTP URL specified")
        raise _bad_request(missing)

    def _member_status(self, state: _ChatState, user_id: int) -> str:
        if user_id == self.bot_id:
            if state.group is not None:
                return state.group.bot_status
            return "kicked" if state.user is not None and state.user.blocked else "member"
        if user_id not in self._users:
            raise _bad_request("user not found")
        if state.group is None:
            return "member" if user_id == state.chat_id else "left"
        return state.group.members.get(user_id, "left")

    def _chat_full_info(self, state: _ChatState) -> JSON:
        info = self._chat_json(state)
        info.update(
            {
                "accent_color_id": abs(state.chat_id) % 7,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if state.group is not None:
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_polls": True,
                "can_invite_users": True,
            }
        return info

    # ----------------------------------------------------------------- Bot API methods

    def _method_table(self) -> dict[str, Callable[[JSON], Any]]:
        return {
            "getMe": self._get_me,
            "logOut": lambda _: True,
            "close": lambda _: True,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendLocation": self._send_location,
            "sendChatAction": self._send_chat_action,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count,
            "leaveChat": self._leave_chat,
            "getFile": self._get_file,
        }

    def _get_me(self, params: JSON) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.group_privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook is not None:
            raise ApiError(409, _WEBHOOK_CONFLICT)
        offset = _opt_int(params, "offset")
        limit = min(max(_opt_int(params, "limit") or 100, 1), 100)
        timeout = max(_opt_float(params, "timeout") or 0.0, 0.0)
        if params.get("allowed_updates") is not None:
            self._set_allowed(_opt_json(params, "allowed_updates"))
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal_updates()  # an older poll still waiting now ends with 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self._pollers += 1
        self._notify()
        try:
            while True:
                if generation != self._poll_generation:
                    raise ApiError(409, _POLL_CONFLICT)
                if self._webhook is not None:
                    raise ApiError(409, _WEBHOOK_CONFLICT)
                remaining = deadline - loop.time()
                if self._pending or self._closing or remaining <= 0:
                    return self._take_batch(limit)
                signal = self._updates_signal
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(signal.wait(), remaining)
        finally:
            self._pollers -= 1
            self._notify()

    def _set_allowed(self, value: Any) -> None:
        if not isinstance(value, list):
            raise _bad_request("can't parse allowed_updates JSON array")
        self._allowed = frozenset(str(kind) for kind in value) if value else None

    def _set_webhook(self, params: JSON) -> _Described:
        url = _opt_str(params, "url") or ""
        if not url:
            return self._delete_webhook(params)
        if not url.startswith(("http://", "https://")):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = _opt_str(params, "secret_token")
        if secret is not None and not _SECRET_RE.match(secret):
            raise _bad_request("secret token contains unallowed characters")
        allowed = _opt_json(params, "allowed_updates")
        if allowed is not None:
            self._set_allowed(allowed)
        if _flag(params, "drop_pending_updates"):
            self._pending.clear()
        self._webhook = _Webhook(
            url,
            secret,
            _opt_int(params, "max_connections") or 40,
            allowed,
            _opt_str(params, "ip_address"),
        )
        self._signal_updates()
        return _Described(True, "Webhook was set")

    def _delete_webhook(self, params: JSON) -> _Described:
        had_webhook, self._webhook = self._webhook is not None, None
        if _flag(params, "drop_pending_updates"):
            self._pending.clear()
        self._signal_updates()
        return _Described(
            True, "Webhook was deleted" if had_webhook else "Webhook is already deleted"
        )

    def _get_webhook_info(self, params: JSON) -> JSON:
        if self._webhook is None:
            return {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
            }
        return self._webhook.info(len(self._pending))

    def _send_message(self, params: JSON) -> JSON:
        state = self._target(params)
        text, entities = self._text(params)
        return self._bot_message(state, params, text=text, entities=entities).to_api()

    def _send_photo(self, params: JSON) -> JSON:
        state = self._target(params)
        caption, entities = self._caption(params)
        _parse_markup(params.get("reply_markup"))  # validate before storing the file
        stored = self._input_file(params, "photo", "photos", "there is no photo in the request")
        return self._bot_message(
            state,
            params,
            caption=caption,
            entities=entities,
            content={"photo": _photo_sizes(stored)},
            photo=stored.data,
        ).to_api()

    def _send_document(self, params: JSON) -> JSON:
        state = self._target(params)
        caption, entities = self._caption(params)
        _parse_markup(params.get("reply_markup"))
        stored = self._input_file(
            params, "document", "documents", "there is no document in the request"
        )
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if stored.filename:
            document["file_name"] = stored.filename
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        return self._bot_message(
            state,
            params,
            caption=caption,
            entities=entities,
            content={"document": document},
            document=stored,
        ).to_api()

    def _send_location(self, params: JSON) -> JSON:
        state = self._target(params)
        latitude, longitude = _opt_float(params, "latitude"), _opt_float(params, "longitude")
        if (
            latitude is None
            or longitude is None
            or not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
        ):
            raise _bad_request("wrong latitude or longitude specified")  # one message, both
        return self._bot_message(
            state, params, content={"location": {"latitude": latitude, "longitude": longitude}}
        ).to_api()

    def _send_chat_action(self, params: JSON) -> bool:
        state = self._target(params)
        action = _opt_str(params, "action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        state.actions.append(action)
        self._notify()
        return True

    def _edit_message_text(self, params: JSON) -> JSON:
        state, message = self._editable(params)
        if message.text is None:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._text(params)
        markup = _parse_markup(params.get("reply_markup"))
        if (text, entities, markup.inline) == (
            message.text,
            message.entities,
            message.reply_markup,
        ):
            raise _bad_request(_NOT_MODIFIED)
        message.history.append(message.text)
        message.text, message.entities = text, entities
        # Without reply_markup Telegram removes the inline keyboard.
        message.buttons, message.reply_markup = markup.buttons, markup.inline
        return self._edited(state, message)

    def _edit_message_caption(self, params: JSON) -> JSON:
        state, message = self._editable(params)
        if message.text is not None:
            raise _bad_request("there is no caption in the message to edit")
        caption, entities = self._caption(params)
        markup = _parse_markup(params.get("reply_markup"))
        if (caption, entities, markup.inline) == (
            message.caption,
            message.entities,
            message.reply_markup,
        ):
            raise _bad_request(_NOT_MODIFIED)
        message.history.append(message.caption)
        message.caption, message.entities = caption, entities
        message.buttons, message.reply_markup = markup.buttons, markup.inline
        return self._edited(state, message)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        state, message = self._editable(params)
        markup = _parse_markup(params.get("reply_markup"))
        if markup.inline == message.reply_markup:
            raise _bad_request(_NOT_MODIFIED)
        message.buttons, message.reply_markup = markup.buttons, markup.inline
        return self._edited(state, message)

    def _delete_message(self, params: JSON) -> bool:
        state = self._target(params, sending=False)
        message = state.messages.get(_opt_int(params, "message_id") or 0)
        if message is None or message.deleted:
            raise _bad_request("message to delete not found")
        message.deleted = True
        self._notify()
        return True

    def _delete_messages(self, params: JSON) -> bool:
        state = self._target(params, sending=False)
        ids = _opt_json(params, "message_ids")
        if not isinstance(ids, list) or not ids:
            raise _bad_request("message identifiers are not specified")
        for message_id in ids:
            message = state.messages.get(int(message_id))
            if message is not None:
                message.deleted = True
        self._notify()
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        tap = self._taps.get(_opt_str(params, "callback_query_id") or "")
        if tap is None or tap.answered:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = _opt_str(params, "text")
        if text and len(text) > MAX_ANSWER_TEXT:
            raise _bad_request("MESSAGE_TOO_LONG")
        tap.answered, tap.answer_text = True, text
        tap.show_alert, tap.url = _flag(params, "show_alert"), _opt_str(params, "url")
        self._notify()
        return True

    def _commands_key(self, params: JSON) -> tuple[str, str]:
        scope = _opt_json(params, "scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad_request("can't parse BotCommandScope JSON object")
        return _scope_key(scope), _opt_str(params, "language_code") or ""

    def _set_my_commands(self, params: JSON) -> bool:
        commands = _opt_json(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON array")
        for command in commands:
            _check_command(command)
        key = self._commands_key(params)
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        return list(self.commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _get_chat(self, params: JSON) -> JSON:
        return self._chat_full_info(self._target(params, sending=False))

    def _get_chat_member(self, params: JSON) -> JSON:
        state = self._target(params, sending=False)
        user_id = _opt_int(params, "user_id")
        if user_id is None:
            raise _bad_request("user_id is empty")  # PTB always sends it
        status = self._member_status(state, user_id)
        user = self._bot_user() if user_id == self.bot_id else self._users[user_id].to_api()
        return _member_json(user, status)

    def _get_chat_administrators(self, params: JSON) -> list[JSON]:
        state = self._target(params, sending=False)
        if state.group is None:
            raise _bad_request("there are no administrators in the private chat")
        admins = [
            _member_json(self._users[uid].to_api(), status)
            for uid, status in state.group.members.items()
            if status in ("creator", "administrator") and uid in self._users
        ]
        if state.group.bot_status == "administrator":
            admins.append(_member_json(self._bot_user(), "administrator"))
        return admins

    def _get_chat_member_count(self, params: JSON) -> int:
        state = self._target(params, sending=False)
        if state.group is None:
            return 2
        present = sum(status in _PRESENT_STATUSES for status in state.group.members.values())
        return present + int(state.group.bot_present)

    def _leave_chat(self, params: JSON) -> bool:
        state = self._target(params)
        group = state.group
        if group is None:
            raise _bad_request("chat member status can't be changed in private chats")
        old, group.bot_status = group.bot_status, "left"
        bot = self._bot_user()
        self._enqueue(
            "my_chat_member",
            {
                "chat": group.to_api(),
                "from": bot,
                "date": self._timestamp(),
                "old_chat_member": _member_json(bot, old),
                "new_chat_member": _member_json(bot, "left"),
            },
        )
        return True

    def _get_file(self, params: JSON) -> JSON:
        stored = self._files.get(_opt_str(params, "file_id") or "")
        if stored is None:
            raise _bad_request("invalid file_id")
        data: JSON = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.data is not None:
            data.update(file_size=stored.size, file_path=stored.file_path)
        return data


# --------------------------------------------------------------------------- module helpers


def _json_response(status: int, payload: JSON) -> web.Response:
    return web.Response(
        body=json.dumps(payload, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
    )


def _protected(item: _Pending) -> bool:
    return item.replay and not item.delivered


def _chat_key(chat: ChatRef | str | None) -> str | None:
    if chat is None:
        return None
    if isinstance(chat, FakeUser | FakeGroup):
        return str(chat.chat_id)
    return str(chat)


def _scope_key(scope: JSON) -> str:
    parts = [str(scope.get("type"))]
    parts += [f"{name}={scope[name]}" for name in ("chat_id", "user_id") if name in scope]
    return ":".join(parts)


def _check_command(command: Any) -> None:
    if not isinstance(command, dict):
        raise _bad_request("can't parse BotCommand: BotCommand must be an Object")
    for name in ("command", "description"):
        if not isinstance(command.get(name), str):
            raise _bad_request(f"can't parse BotCommand: Can't find field \"{name}\"")
    if not _COMMAND_NAME_RE.match(command["command"]):
        raise _bad_request("BOT_COMMAND_INVALID")
    if not command["description"].strip():
        raise _bad_request("command description must be non-empty")
    if len(command["description"]) > 256:
        raise _bad_request("command description is too long")


_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
)


def _member_json(user: JSON, status: str) -> JSON:
    """A ChatMember object with the fields PTB requires for each status."""
    member: JSON = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_promote_members": False,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
            }
        )
        member.update(dict.fromkeys(_ADMIN_RIGHTS, True))
    elif status == "kicked":
        member["until_date"] = 0
    elif status == "restricted":
        member.update(
            {
                "is_member": True,
                "until_date": 0,
                "can_send_messages": False,
                "can_send_polls": False,
                "can_send_other_messages": False,
                "can_add_web_page_previews": False,
                "can_change_info": False,
                "can_invite_users": False,
                "can_pin_messages": False,
                "can_manage_topics": False,
                "can_send_audios": False,
                "can_send_documents": False,
                "can_send_photos": False,
                "can_send_videos": False,
                "can_send_video_notes": False,
                "can_send_voice_notes": False,
            }
        )
    return member


def _shorten(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _describe_message(message: FakeMessage) -> str:
    parts = [f"#{message.message_id} {_shorten(message.body)!r}"]
    if message.photo is not None or "photo" in message.content:
        parts.append("[photo]")
    if message.buttons:
        parts.append("buttons: " + " | ".join(message.button_labels()))
    if message.edits:
        parts.append(f"(edited {message.edits}x)")
    if message.deleted:
        parts.append("(deleted)")
    return " ".join(parts)
