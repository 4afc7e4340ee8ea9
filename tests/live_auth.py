"""initData for tests: signed with the test token as Telegram signs it, for a person."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote, urlencode

from walkbot.sandbox import TEST_TOKEN
from walkbot.webapp.initdata import sign


def init_data(user_id: int, *, at: datetime, token: str = TEST_TOKEN, **extra: str) -> str:
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": user_id, "first_name": "Walker"}, separators=(",", ":")),
        "auth_date": str(int(at.timestamp())),
        **extra,
    }
    return urlencode({**fields, "hash": sign(fields, token)}, quote_via=quote)


def auth(user_id: int, *, at: datetime, token: str = TEST_TOKEN) -> dict[str, str]:
    return {"Authorization": f"tma {init_data(user_id, at=at, token=token)}"}
