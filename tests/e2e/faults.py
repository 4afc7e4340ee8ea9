"""The fault day's people and checks: who does what, which sends may meet any fault, and what
must be true at the end (tests/e2e/test_fault_day.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import create_engine, text

from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.faults import FaultPlan
from walkbot.store.db import sync_url

# The seed CI runs with; WALKBOT_FAULT_SEED=<n> explores another day of faults.
CI_SEED = 11


def seed() -> int:
    return int(os.environ.get("WALKBOT_FAULT_SEED", CI_SEED))


# Sends walkbot retries itself (walkbot.delivery: cues, wrap-ups, the queue's messages) meet
# every kind of fault. A handler's reply is retried on flood control only (issue 11, point
# 10: retrying it on 5xx and timeouts is separate work), so it meets 429s alone.
_STARTS = ("⏪", "▶️", "⏳", "Well done", "You are doing well", "Keep up the good work", "Stop.")
_HOLDS = ("How hard did that feel", "How far did you walk", "Time for your backward walk")
_HOLDS_TOO = ("Day 1 of", "Last week (", "Your week so far (")


def retried_send(method: str, params: dict[str, Any]) -> bool:
    if method not in ("sendMessage", "sendPhoto"):
        return False
    body = str(params.get("text") or params.get("caption") or "")
    if body.startswith("Got it"):  # the six-minute test's answer: a reply
        return False
    return body.startswith(_STARTS + _HOLDS) or any(h in body for h in _HOLDS_TOO)


def fault_plan(chosen: int) -> FaultPlan:
    """The day's plan; WALKBOT_FAULT_RATE=<0..1> (default 0.25) for a harsher exploratory day."""
    rate = float(os.environ.get("WALKBOT_FAULT_RATE", "0.25"))
    return FaultPlan(chosen, rate=rate, harsh=retried_send)


@dataclass
class Ledger:
    """What the day expects: (chat, words, kind) that must arrive, unless the chat is on record
    as unreachable (a blocked person, a deleted account) or the message is on record as given
    up on (a failed_deliveries row of that kind for that chat)."""

    expected: list[tuple[int, str, str]] = field(default_factory=list)

    def expect(self, chat_id: int, kind: str, *words: str) -> None:
        self.expected.extend((chat_id, w, kind) for w in words)

    def missing(self, api: FakeBotApi, database_url: str) -> list[tuple[int, str, str]]:
        unreachable = unreachable_chats(database_url)
        recorded = given_up(database_url)
        return [
            (chat, words, kind)
            for chat, words, kind in self.expected
            if chat not in unreachable
            and (chat, kind) not in recorded
            and not arrived(api, chat, words)
        ]


def arrived(api: FakeBotApi, chat_id: int, words: str) -> bool:
    """A message holding `words` (or one of its " | " alternatives) was accepted in the chat,
    as sent or edited to: later edits change what the chat shows, not what arrived."""
    choices = [w.lower() for w in words.split(" | ")]
    return any(
        call.status == 200
        and call.method.startswith(("send", "edit"))
        and str(call.params.get("chat_id")) == str(chat_id)
        and any(
            w in str(call.params.get("text") or call.params.get("caption")).lower() for w in choices
        )
        for call in api.calls
    )


def scalar_rows(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def unreachable_chats(database_url: str) -> set[int]:
    """People on record as unreachable (blocked, or their account gone)."""
    rows = scalar_rows(database_url, "SELECT telegram_id FROM users WHERE blocked_at IS NOT NULL")
    return {int(r[0]) for r in rows}


def given_up(database_url: str) -> set[tuple[int, str]]:
    """(chat, kind) of every message on record as given up on."""
    rows = scalar_rows(database_url, "SELECT chat_id, kind FROM failed_deliveries")
    return {(int(chat), str(kind)) for chat, kind in rows}


def stranded(database_url: str, unreachable: set[int]) -> list[tuple[Any, ...]]:
    """Walks still open or with a rating question owed, tests still running, for anyone
    reachable."""
    walks = scalar_rows(
        database_url,
        "SELECT user_id, id, status, rating_step FROM walks"
        " WHERE status <> 'ended' OR rating_step IS NOT NULL",
    )
    tests = scalar_rows(
        database_url,
        "SELECT user_id, id, status, step FROM six_minute_tests WHERE status <> 'done'",
    )
    return [row for row in walks + tests if int(row[0]) not in unreachable]


def sent_to(api: FakeBotApi, missing: list[tuple[int, str, str]]) -> dict[int, list[str]]:
    """What the chats that missed something were sent (for the failure message)."""
    return {
        chat: [
            f"{c.method} {c.status} {str(c.params.get('text') or c.params.get('caption'))[:50]}"
            for c in api.calls
            if str(c.params.get("chat_id")) == str(chat)
        ]
        for chat in {chat for chat, _, _ in missing}
    }
