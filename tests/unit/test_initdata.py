"""initData validation against the Bot API's documented algorithm
(https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app).

The reference below is written out step by step from the documentation, independently of
walkbot.webapp.initdata, and the initData strings are built as Telegram's clients build them
(URL-encoded with %XX, the `user` field as JSON)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

import pytest

from walkbot.webapp.initdata import InitDataError, validate

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawX"
OTHER_TOKEN = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawY"
NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
ALICE = 279058397
USER = json.dumps(
    {"id": ALICE, "first_name": "Vladislav", "last_name": "Kibenko", "language_code": "en"},
    separators=(",", ":"),
)


def reference_hash(fields: list[tuple[str, str]], token: str) -> str:
    """The documentation, literally: the secret key is the HMAC-SHA-256 of the token with the
    key "WebAppData"; the data-check-string is every field but hash, sorted alphabetically,
    as key=<value> joined by a line feed; the hash is the hex HMAC-SHA-256 of it."""
    secret = hmac.new(b"WebAppData", token.encode("utf-8"), hashlib.sha256).digest()
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields) if k != "hash")
    return hmac.new(secret, check.encode("utf-8"), hashlib.sha256).hexdigest()


def init_data(
    *,
    token: str = TOKEN,
    auth_date: datetime = NOW,
    user: str | None = USER,
    extra: tuple[tuple[str, str], ...] = (),
    hash_override: str | None = None,
) -> str:
    fields = [
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
        ("auth_date", str(int(auth_date.timestamp()))),
    ]
    if user is not None:
        fields.append(("user", user))
    fields.extend(extra)
    digest = hash_override if hash_override is not None else reference_hash(fields, token)
    return urlencode([*fields, ("hash", digest)], quote_via=quote)


def test_a_signed_init_data_gives_the_person_in_it() -> None:
    identity = validate(init_data(), TOKEN, now=NOW)
    assert identity.user_id == ALICE
    assert identity.auth_date == NOW
    assert json.loads(identity.fields["user"])["first_name"] == "Vladislav"


def test_fields_the_server_does_not_know_are_signed_and_accepted() -> None:
    """Clients add fields (signature since Bot API 8.0, chat_instance, start_param, and
    whatever comes next): they are part of the data-check-string, never a fixed list."""
    extra = (
        ("signature", "SGVsbG8gV29ybGQ_-=="),
        ("chat_instance", "-8214765102823450986"),
        ("chat_type", "sender"),
        ("start_param", ""),  # sent empty: kept, or the signature would not match
        ("zz_future_field", "ünïcode & = ? % +"),
    )
    assert validate(init_data(extra=extra), TOKEN, now=NOW).user_id == ALICE


def test_an_added_unsigned_field_is_refused() -> None:
    good = init_data()
    with pytest.raises(InitDataError, match="signature"):
        validate(good + "&is_admin=1", TOKEN, now=NOW)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user", USER.replace(str(ALICE), "1")),  # another person's id
        ("auth_date", str(int(NOW.timestamp()) + 1)),
        ("query_id", "AAHdF6IQAAAAAN0XohDhrOrd"),
    ],
)
def test_a_tampered_field_is_refused(field: str, value: str) -> None:
    fields = dict(kv.split("=", 1) for kv in init_data().split("&"))  # raw (still encoded) pairs
    fields[field] = quote(value, safe="")
    with pytest.raises(InitDataError, match="signature"):
        validate("&".join(f"{k}={v}" for k, v in fields.items()), TOKEN, now=NOW)


def test_another_bots_token_is_refused() -> None:
    with pytest.raises(InitDataError, match="signature"):
        validate(init_data(token=OTHER_TOKEN), TOKEN, now=NOW)


@pytest.mark.parametrize("hash_value", ["", "0" * 64, "zz", "é" * 64, reference_hash([], TOKEN)])
def test_a_missing_or_wrong_hash_is_refused(hash_value: str) -> None:
    with pytest.raises(InitDataError):
        validate(init_data(hash_override=hash_value), TOKEN, now=NOW)


def test_no_hash_field_at_all_is_refused() -> None:
    without = "&".join(p for p in init_data().split("&") if not p.startswith("hash="))
    with pytest.raises(InitDataError, match="no hash"):
        validate(without, TOKEN, now=NOW)


def test_the_hash_is_case_insensitive_hex() -> None:
    data = init_data()
    head, digest = data.rsplit("hash=", 1)
    assert validate(f"{head}hash={digest.upper()}", TOKEN, now=NOW).user_id == ALICE


def test_expired_init_data_is_refused_and_the_limit_is_inclusive() -> None:
    max_age = timedelta(hours=1)
    assert validate(init_data(auth_date=NOW - max_age), TOKEN, now=NOW, max_age=max_age)
    with pytest.raises(InitDataError, match="expired"):
        validate(
            init_data(auth_date=NOW - max_age - timedelta(seconds=1)),
            TOKEN,
            now=NOW,
            max_age=max_age,
        )


def test_auth_date_from_the_future_is_refused_beyond_a_minute_of_skew() -> None:
    assert validate(init_data(auth_date=NOW + timedelta(seconds=60)), TOKEN, now=NOW)
    with pytest.raises(InitDataError, match="future"):
        validate(init_data(auth_date=NOW + timedelta(seconds=61)), TOKEN, now=NOW)


def test_a_field_given_twice_is_refused_even_when_signed() -> None:
    """A dict would keep one of the two silently (aiogram's parse does): which one is signed
    and which one is read must never differ."""
    data = init_data()
    for duplicate in ("&user=" + quote(USER, safe=""), "&auth_date=1", "&hash=" + "0" * 64):
        with pytest.raises(InitDataError):
            validate(data + duplicate, TOKEN, now=NOW)


@pytest.mark.parametrize(
    "user",
    [
        None,
        "not json",
        "[1, 2]",
        '{"first_name": "no id"}',
        '{"id": "279058397"}',
        '{"id": true}',
        '{"id": -5}',
        '{"id": 1.5}',
    ],
)
def test_a_signed_init_data_without_a_usable_user_id_is_refused(user: str | None) -> None:
    with pytest.raises(InitDataError, match="user"):
        validate(init_data(user=user), TOKEN, now=NOW)


@pytest.mark.parametrize("raw", ["", "hash", "a=1&&b=2", "%ff=1&hash=00", "x" * 9000])
def test_garbage_is_refused_without_raising_anything_else(raw: str) -> None:
    with pytest.raises(InitDataError):
        validate(raw, TOKEN, now=NOW)


@pytest.mark.parametrize("auth_date", ["", "abc", "-1", "1e9", "١٢٣", "9" * 20])
def test_a_signed_but_unreadable_auth_date_is_refused(auth_date: str) -> None:
    fields = [("auth_date", auth_date), ("user", USER)]
    data = urlencode([*fields, ("hash", reference_hash(fields, TOKEN))], quote_via=quote)
    with pytest.raises(InitDataError, match="auth_date"):
        validate(data, TOKEN, now=NOW)


def test_values_are_url_decoded_before_signing() -> None:
    """The data-check-string holds decoded values: a client encoding a space as %20 and one
    encoding it as + produce the same signed text."""
    fields = [("auth_date", str(int(NOW.timestamp()))), ("user", USER), ("note", "a b")]
    digest = reference_hash(fields, TOKEN)
    plus = urlencode([*fields, ("hash", digest)])  # quote_plus: "a+b"
    percent = urlencode([*fields, ("hash", digest)], quote_via=quote)  # "a%20b"
    assert validate(plus, TOKEN, now=NOW).fields["note"] == "a b"
    assert validate(percent, TOKEN, now=NOW).fields["note"] == "a b"
