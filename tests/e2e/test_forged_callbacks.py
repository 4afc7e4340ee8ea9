"""Forged button presses, for EVERY registered callback prefix (issue 11, "Bad and hostile
input"): other people's walks, ratings, knee checks and six-minute tests; another group's
challenge; replayed presses; data cut short at every separator, longer than Telegram's 64
bytes, and garbage in every field. Every table is read before and after: nothing changes, each
press is answered (or let go) without the apology for a fault, and nothing is logged as an
error.

The presses are built from every button the views can build (tests/unit/test_callbacks.py:
every_view, one per shape of data), so a new prefix or a new button is covered by existing.
Rows that do not belong to the presser replace the ids; buttons that act on the presser's own
state (settings, consent, /deleteme, level, reminders, a new six-minute test) are pressed only
malformed, since pressed whole they are the presser's own choice."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.snapshots import changes, hold_the_queue, snapshot
from tests.people import onboarded_chat
from tests.unit.test_callbacks import every_view
from walkbot.bot import callbacks, texts
from walkbot.clock import ShiftedClock
from walkbot.domain.walks import parse_custom_plan
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.sandbox.fakeapi import FakeGroup
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import Challenge, GroupChat, SixMinuteTest, Walk

ID = "#"  # where a shape names a row
Press = Callable[[], dict[str, Any]]
GARBAGE = ("", "²", "9" * 40)


def shapes() -> list[tuple[str, ...]]:
    """One button's data per shape, its row id (if any) as ID: a shape is the prefix with the
    action after a row id (`w:#:stop`), or else the prefix alone (`a:s0:y`)."""
    found: dict[tuple[str, ...], tuple[str, ...]] = {}
    for _name, markup in every_view():
        for row in markup.inline_keyboard:
            for button in row:
                assert isinstance(button.callback_data, str)
                fields = tuple(
                    ID if field.isdigit() and len(field) > 8 else field
                    for field in button.callback_data.split(callbacks.SEPARATOR)
                )
                key = fields[:3] if len(fields) > 1 and fields[1] == ID else (fields[0], "")
                found.setdefault(key, fields)
    return sorted(found.values())


def join(fields: tuple[str, ...] | list[str]) -> str:
    return callbacks.SEPARATOR.join(fields)


def malformed(fields: tuple[str, ...]) -> set[str]:
    """Cut short at every separator, longer than 64 bytes, and garbage in each field."""
    whole = join([f if f != ID else "123" for f in fields])
    found = {join(fields[:n]) + ":" for n in range(1, len(fields))}
    found.add(whole + ":" + "x" * 64)
    for position in {1, len(fields) - 1}:
        for junk in GARBAGE:
            changed = [f if f != ID else "123" for f in fields]
            changed[position] = junk
            found.add(join(changed))
    return {data.replace(ID, "123") for data in found}


def foreign(fields: tuple[str, ...], ids: list[int]) -> set[str]:
    """The shape pressed on rows of someone else's (every id given, whatever its kind)."""
    if ID not in fields:
        return set()
    return {join([str(row) if f == ID else f for f in fields]) for row in ids}


async def other_peoples_rows(
    sessions: SessionFactory, alice: FakeUser, club: FakeGroup, other: FakeGroup, now: Any
) -> dict[str, int]:
    """Alice's walk under way, her walk owing its rating, her six-minute tests; a challenge
    running in Club and a draft in Other. Written straight to the store: no jobs, nothing due."""
    plan = parse_custom_plan("1x1800/1800").to_dict()
    async with transaction(sessions) as session:
        active = Walk(
            user_id=alice.id,
            plan=plan,
            status="active",
            created_at=now - timedelta(minutes=1),
            started_at=now - timedelta(minutes=1),
            last_cue_index=0,
        )
        rated = Walk(
            user_id=alice.id,
            plan=plan,
            status="ended",
            end_reason="need_to_stop",
            created_at=now - timedelta(hours=2),
            started_at=now - timedelta(hours=2),
            ended_at=now - timedelta(hours=1),
            rating_step="effort",
        )
        setup = SixMinuteTest(user_id=alice.id, direction="forward", created_at=now)
        recording = SixMinuteTest(
            user_id=alice.id,
            direction="backward",
            status="recording",
            step="distance",
            created_at=now - timedelta(minutes=9),
            started_at=now - timedelta(minutes=8),
            ended_at=now - timedelta(minutes=2),
        )
        for group in (club, other):
            session.add(GroupChat(id=group.id, title=group.title, created_at=now, updated_at=now))
        running = Challenge(
            chat_id=club.id,
            code="clubrunning0001",
            status="running",
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=6),
            zone="Europe/London",
            created_by=club.creator.id if club.creator else None,
            created_at=now - timedelta(days=1),
        )
        draft = Challenge(
            chat_id=other.id,
            code="otherdraft00001",
            zone="Europe/London",
            created_by=other.creator.id if other.creator else None,
            created_at=now,
        )
        session.add_all([active, rated, setup, recording, running, draft])
        await session.flush()
        found = {
            "active walk": active.id,
            "walk owing a rating": rated.id,
            "test in set-up": setup.id,
            "test recording": recording.id,
            "Club's challenge": running.id,
            "Other's draft": draft.id,
        }
    return {name: row for name, row in found.items() if row is not None}


async def test_forged_presses_for_every_prefix_change_nothing(
    api: FakeBotApi,
    sessions: SessionFactory,
    bot: RunningBot,
    database_url: str,
    clock: ShiftedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    hold_the_queue(bot)
    alice = await onboarded_chat(api, sessions, "Alice", greeted=True, scheduled=True)
    forgers = [
        await onboarded_chat(api, sessions, f"Bob{i}", greeted=True, scheduled=True)
        for i in range(8)
    ]
    ann, eve = api.user("Ann"), api.user("Eve")
    club = api.group("Club", creator=ann, members=[forgers[0]])
    other = api.group("Other", creator=eve)
    rows = await other_peoples_rows(sessions, alice, club, other, clock.now())
    for forger in forgers:  # each has a message of the bot's to press on
        forger.send("/help")
    for forger in forgers:
        await forger.wait_for_text(texts.HELP[:30], timeout=10)
    club.send(ann, "/help")
    other.send(eve, "/help")
    await club.wait_for_text("walkbot", timeout=10)
    await other.wait_for_text("walkbot", timeout=10)

    every_shape = shapes()
    assert {fields[0] for fields in every_shape} == set(callbacks.PREFIXES)  # every prefix
    ids = list(rows.values())
    club_card, other_card = club.messages()[-1], other.messages()[-1]
    before = snapshot(database_url)
    caplog.set_level(logging.ERROR)
    # Who presses what, on which message. A chat's presses go one after another (more than
    # ten waiting in one private chat are cut as a flood, bot/ordering.py); chats side by side.
    queues: dict[str, list[Press]] = {f"bob{i}": [] for i in range(len(forgers))}
    private = sorted(
        {data for fields in every_shape for data in malformed(fields) | foreign(fields, ids)}
    )
    for n, data in enumerate(private):
        forger = forgers[n % len(forgers)]
        queues[f"bob{n % len(forgers)}"].append(functools.partial(forger.tap_data, data))
    # In the groups: Eve (Other's admin) on Club's challenge, Bob (Club's member) on Other's
    # draft and on Club's running challenge as if its wizard (admins only), and garbage.
    club_id = rows["Club's challenge"]
    queues["other"], queues["club"] = [], []
    for fields in (f for f in every_shape if f[0] == callbacks.CHALLENGE):
        for data in sorted(malformed(fields) | foreign(fields, [club_id])):
            queues["other"].append(functools.partial(other.tap_data, eve, data, message=other_card))
        for data in sorted(foreign(fields, [rows["Other's draft"], club_id])):
            if data != f"ch:{club_id}:join":  # Bob may join his own group's challenge
                queues["club"].append(
                    functools.partial(club.tap_data, forgers[0], data, message=club_card)
                )
    # Alice replays her own Start on the walk she is already on.
    queues["alice"] = [functools.partial(alice.tap_data, f"w:{rows['active walk']}:start")]

    def answered(query: str) -> bool:
        return api.answered_callbacks[query] is not None

    async def press(queue: list[Press]) -> None:
        for forge in queue:
            update = forge()
            query: str = update["callback_query"]["id"]
            await api.until(functools.partial(answered, query), 10)

    await asyncio.gather(*(press(queue) for queue in queues.values()))
    chats = [alice, *forgers]
    assert not [m.body for c in chats for m in c.messages() if texts.ERROR in m.body]
    assert not [m.body for g in (club, other) for m in g.messages() if texts.ERROR in m.body]
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert changes(before, snapshot(database_url)) == {}
    assert sum(map(len, queues.values())) > 300
