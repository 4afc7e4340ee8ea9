"""Every command walkbot handles, enumerated from the features' registrations (so a new
command is covered by adding it), in the chats it is handled in, given hostile arguments (and
an unknown command, and plain text): a clear answer within Telegram's 4,096 characters, never
the apology for a fault, and no table changed. The arguments are a bounded, fixed set (the
parsers behind them get many more, generated, in tests/unit/test_input_properties.py)."""

from __future__ import annotations

from tests.e2e.groups import rows
from tests.e2e.snapshots import changes, hold_the_queue, snapshot
from tests.people import onboarded_chat
from walkbot.bot import handlers, texts
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.sandbox.fakeapi import FakeMessage
from walkbot.store.db import SessionFactory

TELEGRAM_LIMIT = 4096
ARGUMENTS = (
    "ab\u202e\u2066c" * 820,  # 4,096 with the command: long, and bidi controls throughout
    "\x00\x07\x1b[31m x\x00y \r\n z",  # control characters
    "99999999999999999999999 -1 0x10 1e999",  # numbers out of range, wrong formats
    "12:99 2026-02-30 zone Mars/Olympus time 25:61",
    "🙂\u0301\ufeff 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ١٢٣ ²",
)
PRIVATE = sorted({name for name, chats in handlers.commands() if chats == "private"})
GROUPS = sorted({name for name, chats in handlers.commands() if chats == "groups"})


def assert_clear(messages: list[FakeMessage], said: str) -> None:
    assert messages, f"no answer to {said[:30]!r}"
    for message in messages:
        assert len(message.body) <= TELEGRAM_LIMIT, said[:30]
        assert texts.ERROR not in message.body, said[:30]


def test_the_commands_are_enumerated_from_the_registrations() -> None:
    assert {"walk", "pause", "settings", "deleteme", "start", "challenge"} <= set(PRIVATE)
    assert {"challenge", "groupsettings", "leaderboard", "leave"} <= set(GROUPS)


async def test_every_command_answers_hostile_arguments_and_changes_nothing(
    api: FakeBotApi, sessions: SessionFactory, bot: RunningBot, database_url: str
) -> None:
    """One person per private command and one group per group command, side by side (each
    chat is paced on its own; a group takes 20 messages a minute). An admin and a member
    send every argument; in a group, a last /leaderboard is answered after all of them."""
    # Every private command; then an unknown command, and plain text when nothing is owed.
    heads = [*(f"/{command} " for command in PRIVATE), "/nosuchthing ", ""]
    hold_the_queue(bot)
    people = {
        head: await onboarded_chat(api, sessions, f"P{i}", scheduled=True)
        for i, head in enumerate(heads)
    }
    groups = {}
    for command in GROUPS:
        ann, bob = api.user("Ann"), api.user("Bob")
        groups[command] = (api.group(command, creator=ann, members=[bob]), ann, bob)
    # First contact, before the snapshot: a person's names are brought up to date, and a
    # group is recorded when an admin first manages it (/groupsettings).
    for person in people.values():
        person.send("/help")
    for group, ann, _ in groups.values():
        group.send(ann, "/groupsettings")
    for person in people.values():
        await person.wait_for_text(texts.HELP[:30], timeout=10)
    for group, _, _ in groups.values():
        await group.wait_for_text("Daily board", timeout=10)
        group.skip_to_end()
    before = snapshot(database_url)

    for head, person in people.items():
        for argument in ARGUMENTS:
            person.send(f"{head}{argument}"[:TELEGRAM_LIMIT])
    for command, (group, ann, bob) in groups.items():
        for who in (ann, bob):
            for argument in ARGUMENTS:
                group.send(who, f"/{command} {argument}"[:TELEGRAM_LIMIT])
        group.send(bob, "/leaderboard")

    for head, person in people.items():
        for argument in ARGUMENTS:
            assert_clear([await person.next_message(timeout=20)], f"{head}{argument}")
    for command, (group, _, _) in groups.items():
        await group.wait_for_text("challenge", timeout=20)
        assert_clear(group.messages(), f"/{command}")
    # An admin's /challenge opens the wizard whatever follows it, as a plain /challenge does
    # (a draft, archived by the next one); a member's opens nothing.
    found = changes(before, snapshot(database_url))
    assert set(found) <= {"challenges"}, found
    wizard, ann, _ = groups["challenge"]
    opened = rows(database_url, "SELECT chat_id, created_by, status FROM challenges")
    assert {(r["chat_id"], r["created_by"]) for r in opened} <= {(wizard.id, ann.id)}
    assert len(opened) <= len(ARGUMENTS)
    assert {r["status"] for r in opened} <= {"draft", "archived"}
