"""A seeded fault plan for the fake Bot API (opt-in: `FakeBotApi.fault_plan = FaultPlan(seed)`).

Each request is given a fault, or none, by a random draw seeded with the plan's seed and the
request's own identity: its method, its chat, what it says (text or caption, and its buttons'
data; a tap's data for answerCallbackQuery) and how many times the same request came before.
So the same seed gives the same faults to the same messages whatever order concurrent chats'
requests happen to arrive in, and a run can be repeated exactly from its seed.

Faults, as Telegram and the network produce them:
- "429": Too Many Requests with a retry_after of 1-2 s;
- "5xx": a burst of 502s: this request and the next retry of it;
- "slow": Telegram accepts the request (the message is stored) but answers later than the
  bot's read timeout, so the bot sees a timeout;
- "drop_before": the connection is cut before the request is handled (nothing stored);
- "drop_after": the request is accepted, then the connection is cut before the answer;
- "too_old": answerCallbackQuery refused as too old;
- a chat in `gone_chats` answers every send with 400 "chat not found" (a deleted account).
A blocked person (403) and a group's migration are the world's doing: FakeUser.block(),
FakeGroup.migrate().

At most `max_per_request` faults fall on one request (counting its retries), so a sender
that retries as walkbot.delivery does always gets through in the end: the plan tests what
the bot does with faults, not whether bad luck can outlast any retry policy.

What could Telegram itself have doubled? A message it accepted whose answer never reached the
bot ("slow", "drop_after"): a retry of it is a second copy the bot could not have avoided.
`doubles()` lists copies beyond that.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

KINDS = ("429", "5xx", "slow", "drop_before", "drop_after")
# A send the bot retries itself (walkbot.delivery): any fault. Anything else (a handler's reply,
# an edit, a read) goes through walkbot.request.RetryingRequest, which retries what Telegram
# certainly did not take: flood control and 5xx. Not a lost answer: a reply is never resent.
REPLY_KINDS = ("429", "5xx")
Harsh = Callable[[str, dict[str, Any]], bool]


@dataclass
class Verdict:
    kind: str
    status: int = 0
    description: str = ""
    parameters: dict[str, Any] | None = None


@dataclass
class Sent:
    """A message the fake accepted: its chat, its content as first sent, and whether the
    bot never got the answer (Telegram had it; the bot could not know)."""

    chat_id: int
    message_id: int
    content: str
    answer_lost: bool


@dataclass
class FaultPlan:
    seed: int
    rate: float = 0.25  # the chance that one attempt of a request meets a fault
    max_per_request: int = 2
    slow_seconds: float = 6.5  # longer than PTB's 5 s read timeout
    harsh: Harsh = field(default=lambda method, params: False)
    gone_chats: set[int] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    sent: list[Sent] = field(default_factory=list)
    _attempts: Counter[str] = field(default_factory=Counter)
    _faulted: Counter[str] = field(default_factory=Counter)
    _burst: dict[str, int] = field(default_factory=dict)
    query_data: dict[str, str] = field(default_factory=dict)  # callback query id -> its data

    def decide(self, method: str, params: dict[str, Any]) -> Verdict | None:
        """The fault for this request, or None: it goes through."""
        lowered = method.lower()
        chat = params.get("chat_id")
        if chat is not None and lowered.startswith("send") and int(chat) in self.gone_chats:
            self.counts["400 chat not found"] += 1
            return Verdict("gone", 400, "Bad Request: chat not found")
        key = self._key(lowered, params)
        if key is None:
            return None
        attempt = self._attempts[key]
        self._attempts[key] += 1
        if self._burst.get(key):
            self._burst[key] -= 1
            self._faulted[key] += 1
            self.counts["5xx"] += 1
            return Verdict("5xx", 502, "Bad Gateway")
        if self._faulted[key] >= self.max_per_request:
            return None
        draw = random.Random(f"{self.seed}|{key}|{attempt}")
        if draw.random() >= self.rate:
            return None
        if lowered == "answercallbackquery":
            kind = "too_old"
        elif self.harsh(method, params):
            kind = draw.choice(KINDS)
        else:
            kind = draw.choice(REPLY_KINDS)
        self._faulted[key] += 1
        self.counts[kind] += 1
        if kind == "too_old":
            return Verdict(
                kind,
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if kind == "429":
            wait = draw.choice((1, 2))
            told = f"Too Many Requests: retry after {wait}"
            return Verdict(kind, 429, told, {"retry_after": wait})
        if kind == "5xx":
            if self._faulted[key] < self.max_per_request:
                self._burst[key] = 1
            return Verdict(kind, 502, "Bad Gateway")
        return Verdict(kind)

    def accepted(
        self, method: str, params: dict[str, Any], result: Any, *, answer_lost: bool
    ) -> None:
        """The fake stored a message (a send that succeeded), answered or not."""
        if not method.lower().startswith("send") or not isinstance(result, dict):
            return
        chat = result.get("chat", {}).get("id")
        if chat is None:
            return
        self.sent.append(Sent(int(chat), int(result["message_id"]), _content(params), answer_lost))

    def doubles(self) -> list[tuple[int, str, int, int]]:
        """(chat, content, copies, answers lost) for every message stored more often than once
        plus the number of its copies whose answer the bot never got."""
        copies: Counter[tuple[int, str]] = Counter()
        lost: Counter[tuple[int, str]] = Counter()
        for sent in self.sent:
            copies[(sent.chat_id, sent.content)] += 1
            lost[(sent.chat_id, sent.content)] += sent.answer_lost
        return [
            (chat, content[:80], n, lost[(chat, content)])
            for (chat, content), n in copies.items()
            if n - 1 > lost[(chat, content)]
        ]

    def _key(self, method: str, params: dict[str, Any]) -> str | None:
        if method == "answercallbackquery":
            data = self.query_data.get(str(params.get("callback_query_id")))
            return None if data is None else f"answer|{data}"
        if not (method.startswith("send") or method.startswith("edit")):
            return None  # getUpdates, getMe, setMyCommands, chat look-ups: left alone
        return f"{method}|{params.get('chat_id')}|{params.get('message_id')}|{_content(params)}"


def _content(params: dict[str, Any]) -> str:
    text = str(params.get("text") or params.get("caption") or "")
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    data = []
    if isinstance(markup, dict):
        data = [
            str(b.get("callback_data") or b.get("url") or b.get("text"))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]
    return text + "|" + ",".join(data)
