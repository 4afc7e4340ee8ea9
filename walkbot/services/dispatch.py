"""The dispatch queue on the rows: a registry of sources sharing one set of mechanics.

A source is one kind of message sent at a stored instant (a reminder, a weekly summary, a
knee check; later a group's leaderboard post). Each lives beside its feature
(services/nudge_source.py, summary_source.py, knee_source.py) and knows three things:
- `claim`: lock up to `limit` due rows with `skip_locked` (PostgreSQL: FOR UPDATE SKIP LOCKED,
  so two dispatchers never take the same row; SQLite ignores it and runs one process), decide
  each (send, or skip: too late, already walked, resting...), advance it to its next instant,
  and return what to send as `Outgoing` items;
- `deliver`: send one item through the port it was built with (bot/notifier.py implements
  them), answering an Outcome;
- `blocked`: what a refusing recipient means (a person: inactive, nothing more is due; a
  group, say, that it removed the bot);
- optionally `sweep`: upkeep at start-up and hourly (the nudge source gives instants to
  people who have none).
The composition root (app.py queue_sources) registers the sources; the queue never names one.
How to add one: docs/architecture.md.

What this module shares among them:
- `claim_due` claims for the given sources and writes each message to send down as "in
  flight" (a FailedDelivery row, detail IN_FLIGHT) in the same transaction. The caller commits
  at once, before sending: a second dispatcher then never sees the row as due, and no lock is
  held during the slow HTTP part.
- `record_results`, after sending: clears the in-flight marks of what arrived, hands a blocked
  recipient to its source, and turns a given-up message's mark into the reason.
Why this shape is at-most-once, and how a restart loses nothing: walkbot/scheduling/dispatch.py.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from walkbot.ports import Outcome, Status
from walkbot.store.models import FailedDelivery, User

log = logging.getLogger(__name__)

P = TypeVar("P")
T = TypeVar("T")
BATCH_SIZE = 50
# The detail of a claimed message not yet known to be sent. A row still saying this after its
# batch (seconds; minutes under flood control) is a message a stopped process never sent.
IN_FLIGHT = "in flight: claimed, not confirmed sent (left so, the bot stopped mid-send)"


@dataclass(frozen=True)
class Outgoing(Generic[P]):
    """One message a source owes a chat, decided and already advanced on its row."""

    source: str  # the source's name
    chat_id: int  # the recipient: a person's private chat (their user id), or a group (< 0)
    due_at: datetime
    payload: P  # what the source needs to deliver it
    # The person it is about, if any: its in-flight or failure record is theirs (exported
    # with their data, erased with them). None for a group's message about no one person.
    user_id: int | None = None
    # Its "in flight" FailedDelivery row, written with the claim and cleared by the result.
    ledger_id: int | None = None


@dataclass
class Claim(Generic[P]):
    """What a claim decided: the messages to send, and the due rows skipped, by reason."""

    send: list[Outgoing[P]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1

    @property
    def rows(self) -> int:
        return len(self.send) + self.skipped.total()


@dataclass(frozen=True)
class Result:
    item: Outgoing[Any]
    outcome: Status
    detail: str = ""


class Source(ABC, Generic[P]):
    """One kind of queued message; see the module docstring. `P`: its items' payload."""

    name: ClassVar[str]  # unique; kept in failed_deliveries.kind (at most 32 characters)

    def outgoing(
        self, chat_id: int, due_at: datetime, payload: P, *, user_id: int | None
    ) -> Outgoing[P]:
        return Outgoing(self.name, chat_id, due_at, payload, user_id=user_id)

    @abstractmethod
    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[P]:
        """Lock (skip_locked), decide and advance up to `limit` due rows. Never sends."""

    @abstractmethod
    async def deliver(self, item: Outgoing[P]) -> Outcome:
        """Send one claimed item (outside any transaction of the claim)."""

    @abstractmethod
    async def blocked(self, session: AsyncSession, *, item: Outgoing[P], now: datetime) -> None:
        """The recipient refused the message (403, or a chat Telegram no longer knows)."""

    async def sweep(self, session: AsyncSession, *, now: datetime, limit: int) -> int:
        """Occasional upkeep, at start-up and hourly (such as giving instants to rows that
        have none): returns how many rows it touched, fewer than `limit` when done."""
        return 0


def skip_locked(
    statement: SelectOfScalar[T], *, limit: int, of: Any | None = None
) -> SelectOfScalar[T]:
    """How a source locks its due rows: at most `limit`, passing over rows another dispatcher
    holds. `of`: the table to lock when the statement joins others."""
    return statement.limit(limit).with_for_update(skip_locked=True, of=of)


def due_people(column: Any, *, now: datetime, limit: int) -> SelectOfScalar[User]:
    """Active people whose instant in `column` (a users column) has come, earliest first."""
    statement = (
        select(User)
        .where(User.active == True, col(column) <= now)  # noqa: E712
        .order_by(col(column))
    )
    return skip_locked(statement, limit=limit)


def by_name(sources: Iterable[Source[Any]]) -> dict[str, Source[Any]]:
    """The registry as a lookup; two sources may not share a name (it keys their records)."""
    found: dict[str, Source[Any]] = {}
    for source in sources:
        if source.name in found:
            raise ValueError(f"two queue sources are named {source.name!r}")
        found[source.name] = source
    return found


# ---- claiming -------------------------------------------------------------------------------


async def claim_due(
    session: AsyncSession, *, sources: Iterable[Source[Any]], now: datetime, limit: int = BATCH_SIZE
) -> Claim[Any]:
    """Claim up to `limit` due rows of each source. Commit right after.

    Each message to send is also written down as "in flight" (a FailedDelivery row that
    record_results clears or fills in): if the process dies between this commit and the
    result, the chat that missed a message is on record, not just lost."""
    claimed: Claim[Any] = Claim()
    for source in sources:
        got = await source.claim(session, now=now, limit=limit)
        claimed.send.extend(got.send)
        claimed.skipped.update(got.skipped)
    ledger = [
        FailedDelivery(
            user_id=item.user_id,
            chat_id=item.chat_id,
            kind=item.source,
            due_at=item.due_at,
            failed_at=now,
            detail=IN_FLIGHT,
        )
        for item in claimed.send
    ]
    if ledger:
        session.add_all(ledger)
        await session.flush()
        claimed.send = [
            replace(item, ledger_id=row.id) for item, row in zip(claimed.send, ledger, strict=True)
        ]
    return claimed


async def still_claimed(session: AsyncSession, *, item: Outgoing[Any]) -> bool:
    """Whether a message claimed for a person may still be sent: its in-flight record goes
    with the person (ON DELETE CASCADE), so a /deleteme between the claim and the send
    leaves nothing to send and nobody to send it to."""
    if item.user_id is None or item.ledger_id is None:
        return True
    return await session.get(FailedDelivery, item.ledger_id) is not None


# ---- recording ------------------------------------------------------------------------------


async def record_results(
    session: AsyncSession,
    *,
    sources: Mapping[str, Source[Any]],
    now: datetime,
    results: list[Result],
) -> None:
    """After sending: clear the in-flight marks of what arrived; a blocked recipient is its
    source's to handle (once per source and chat, however many of its messages the block
    stopped); a give-up turns its mark into the reason (or leaves a new row)."""
    settled = [r.item.ledger_id for r in results if r.outcome != "failed" and r.item.ledger_id]
    if settled:
        await session.exec(delete(FailedDelivery).where(col(FailedDelivery.id).in_(settled)))
    refused: set[tuple[str, int]] = set()
    for result in results:
        item = result.item
        if result.outcome == "blocked" and (item.source, item.chat_id) not in refused:
            refused.add((item.source, item.chat_id))
            await sources[item.source].blocked(session, item=item, now=now)
        elif result.outcome == "failed":
            await _record_failure(session, item=item, detail=result.detail, now=now)


async def _record_failure(
    session: AsyncSession, *, item: Outgoing[Any], detail: str, now: datetime
) -> None:
    mark = await session.get(FailedDelivery, item.ledger_id) if item.ledger_id else None
    if mark is None:
        if item.user_id is not None and await session.get(User, item.user_id) is None:
            return  # erased since the claim (their mark went with them)
        mark = FailedDelivery(
            user_id=item.user_id,
            chat_id=item.chat_id,
            kind=item.source,
            due_at=item.due_at,
            failed_at=now,
        )
    mark.failed_at, mark.detail = now, detail[:256]
    session.add(mark)
