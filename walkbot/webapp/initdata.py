"""Telegram Mini App `initData`, validated as the Bot API documents
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app).

    secret_key       = HMAC_SHA256(key=b"WebAppData", msg=bot_token)
    data_check_string = every received field but `hash`, sorted by key, "key=value" joined
                        by "\\n", with the values URL-decoded as received
    valid            = hex(HMAC_SHA256(key=secret_key, msg=data_check_string)) == hash

Pure: no clock (`now` is passed in), no I/O. The field list is never hard-coded: clients add
fields (`signature`, `chat_instance`, `start_param`...) and they are signed like the rest.
Stricter than aiogram's `check_webapp_signature` on purpose: a field given twice is refused
(a dict would keep one of them silently, so what is checked and what is read could differ),
empty values are kept (dropping them, as parse_qsl does by default, breaks the signature of a
field sent empty), malformed pairs are refused, and `auth_date` is checked in both directions
(too old, and from the future beyond a small clock skew).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

WEB_APP_KEY = b"WebAppData"
DEFAULT_MAX_AGE = timedelta(days=1)
FUTURE_SKEW = timedelta(seconds=60)
MAX_INIT_DATA_CHARS = 8192  # Telegram's is well under 1 KB; refuse to parse anything huge


class InitDataError(ValueError):
    """initData that proves nothing. The message names the check that failed, never a value."""


@dataclass(frozen=True)
class WebAppIdentity:
    """Who sent the request, as Telegram signed it."""

    user_id: int
    auth_date: datetime
    fields: dict[str, str]  # every received field but `hash`, decoded


def secret_key(bot_token: str) -> bytes:
    return hmac.new(WEB_APP_KEY, bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields))


def sign(fields: dict[str, str], bot_token: str) -> str:
    """The hash Telegram puts in initData for `fields` (everything but `hash`). Tests and the
    console use it to make initData; the server compares against it."""
    return hmac.new(
        secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()


def _fields(init_data: str) -> tuple[dict[str, str], str]:
    if not init_data:
        raise InitDataError("no initData")
    if len(init_data) > MAX_INIT_DATA_CHARS:
        raise InitDataError("initData too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True, errors="strict")
    except (ValueError, UnicodeDecodeError) as error:
        raise InitDataError("initData is not a query string") from error
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise InitDataError("a field appears twice")
        fields[key] = value
    given = fields.pop("hash", None)
    if not given:
        raise InitDataError("no hash")
    return fields, given


def validate(
    init_data: str,
    bot_token: str,
    *,
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
) -> WebAppIdentity:
    """The person behind `init_data`, or InitDataError. The signature is checked before any
    field is believed; the person's id comes only from the signed `user` field."""
    fields, given = _fields(init_data)
    expected = sign(fields, bot_token)
    # Bytes on both sides, so a non-ASCII "hash" is just a mismatch (compare_digest refuses
    # non-ASCII str), and constant time in the content.
    if not hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace")):
        raise InitDataError("bad signature")
    auth_date = _auth_date(fields.get("auth_date"))
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    if auth_date < now - max_age:
        raise InitDataError("initData expired")
    if auth_date > now + FUTURE_SKEW:
        raise InitDataError("auth_date in the future")
    return WebAppIdentity(user_id=_user_id(fields.get("user")), auth_date=auth_date, fields=fields)


def _auth_date(raw: str | None) -> datetime:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise InitDataError("no valid auth_date")
    return datetime.fromtimestamp(int(raw), tz=UTC)


def _user_id(raw: str | None) -> int:
    if raw is None:
        raise InitDataError("no user")
    try:
        user = json.loads(raw)
    except ValueError as error:
        raise InitDataError("user is not JSON") from error
    user_id = user.get("id") if isinstance(user, dict) else None
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id < 2**53:
        raise InitDataError("user has no valid id")
    return user_id
