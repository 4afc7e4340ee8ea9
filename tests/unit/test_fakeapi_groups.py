"""The fake Bot API's groups, read back by a real PTB Bot over HTTP: admins (anonymous ones
left out of the list but not out of getChatMember), the bot removed and re-added, a basic
group migrating to a supergroup, forum topics, edits counted against a group's budget, and
update shapes PTB parses.

On looptime's loop with the fake counting on the same clock, so a minute passes in none.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter

from walkbot.sandbox import GROUP_ANONYMOUS_BOT, TEST_TOKEN, FakeBotApi, FakeUser, Limits

pytestmark = [pytest.mark.looptime, pytest.mark.usefixtures("fake_api_on_loop_time")]

JOIN = InlineKeyboardMarkup([[InlineKeyboardButton("Join", callback_data="ch:1:join")]])


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(TEST_TOKEN, base_url=api.base_url) as client:
        yield client


async def updates(bot: Bot, **kwargs: object) -> list[Update]:
    """Everything queued now, confirmed so the next call starts after it."""
    got = await bot.get_updates(timeout=0, **kwargs)  # type: ignore[arg-type]
    if got:
        await bot.get_updates(offset=got[-1].update_id + 1, timeout=0)
    return list(got)


async def test_ids_look_like_telegrams(api: FakeBotApi) -> None:
    basic, super_, forum = (
        api.group("A"),
        api.group("B", kind="supergroup"),
        api.group("C", forum=True),
    )
    assert basic.id == -400000001
    assert (super_.id, forum.id) == (-1001000000001, -1001000000002)
    assert forum.chat() == {"id": forum.id, "type": "supergroup", "title": "C", "is_forum": True}
    assert basic.chat() == {"id": basic.id, "type": "group", "title": "A"}
    assert api.groups == {basic.id: basic, super_.id: super_, forum.id: forum}


async def test_admins_and_members(api: FakeBotApi, bot: Bot) -> None:
    carol, ann, anon, bob = (api.user(n) for n in ("Carol", "Ann", "Anon", "Bob"))
    group = api.group("Club", creator=carol, admins=[ann], members=[bob])
    group.promote(anon, anonymous=True)

    admins = await bot.get_chat_administrators(group.id)
    # The anonymous admin is left out of the list (ptb-notes), the creator and Ann are in.
    assert [(a.status, a.user.id, getattr(a, "is_anonymous", None)) for a in admins] == [
        (ChatMemberStatus.OWNER, carol.id, False),
        (ChatMemberStatus.ADMINISTRATOR, ann.id, False),
    ]
    anonymous = await bot.get_chat_member(group.id, anon.id)
    assert anonymous.status == ChatMemberStatus.ADMINISTRATOR
    assert anonymous.is_anonymous is True  # type: ignore[attr-defined]
    assert (await bot.get_chat_member(group.id, bob.id)).status == ChatMemberStatus.MEMBER
    stranger = await bot.get_chat_member(group.id, 42)
    assert (stranger.status, stranger.user.id) == (ChatMemberStatus.LEFT, 42)
    group.remove(bob, kicked=True)
    assert (await bot.get_chat_member(group.id, bob.id)).status == ChatMemberStatus.BANNED
    assert group.members == [carol, ann, anon] and group.admins == [ann, anon]

    # The bot made an admin shows in the list too, as on Telegram.
    group.add_bot(carol, as_admin=True)
    ids = [a.user.id for a in await bot.get_chat_administrators(group.id)]
    assert ids == [carol.id, ann.id, bot.id]

    chat = await bot.get_chat(group.id)
    assert (chat.id, chat.type, chat.title, chat.is_forum) == (group.id, "group", "Club", None)
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.get_chat_administrators(-999)
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.get_chat_member(-999, carol.id)


async def test_a_removed_bot_is_refused_until_added_again(api: FakeBotApi, bot: Bot) -> None:
    carol = api.user("Carol")
    group = api.group("Club", creator=carol)
    sent = await bot.send_message(group.id, "Hello club")
    group.remove_bot(carol)
    with pytest.raises(Forbidden) as refused:
        await bot.send_message(group.id, "Still there?")
    assert refused.value.message == "Forbidden: bot was kicked from the group chat"
    with pytest.raises(Forbidden):
        await bot.edit_message_text("Edited", chat_id=group.id, message_id=sent.message_id)
    group.send(carol, "/leaderboard")  # the bot is not there to see it
    group.add_bot(carol)
    await bot.send_message(group.id, "Back")
    assert [m.body for m in group.messages()] == ["Hello club", "Back"]

    removed, added = await updates(bot)
    for change, old, new in (
        (removed, ChatMemberStatus.MEMBER, ChatMemberStatus.BANNED),
        (added, ChatMemberStatus.BANNED, ChatMemberStatus.MEMBER),
    ):
        assert change.my_chat_member is not None
        assert change.my_chat_member.chat.id == group.id
        assert change.my_chat_member.from_user.id == carol.id
        assert change.my_chat_member.new_chat_member.user.id == bot.id
        assert (
            change.my_chat_member.old_chat_member.status,
            change.my_chat_member.new_chat_member.status,
        ) == (old, new)


async def test_migration_moves_the_group_and_the_old_id_says_where(
    api: FakeBotApi, bot: Bot
) -> None:
    carol, bob = api.user("Carol"), api.user("Bob")
    old = api.group("Club", creator=carol, members=[bob])
    card = await bot.send_message(old.id, "Card")
    new = old.migrate()
    assert new.id == -1001000000001 and new.kind == "supergroup"
    assert (new.creator, new.members, old.migrated_to) == (carol, [carol, bob], new)
    assert api.groups[new.id] is new

    with pytest.raises(ChatMigrated) as moved:
        await bot.send_message(old.id, "Board")
    assert moved.value.new_chat_id == new.id
    with pytest.raises(ChatMigrated) as moved:
        await bot.edit_message_text("Board", chat_id=old.id, message_id=card.message_id)
    assert moved.value.new_chat_id == new.id
    sent = await bot.send_message(new.id, "Board")
    assert (sent.chat.id, sent.chat.type) == (new.id, "supergroup")

    left, arrived = await updates(bot)
    assert left.message is not None and arrived.message is not None
    assert (left.message.chat.id, left.message.chat.type) == (old.id, "group")
    assert left.message.migrate_to_chat_id == new.id
    assert (arrived.message.chat.id, arrived.message.chat.type) == (new.id, "supergroup")
    assert arrived.message.migrate_from_chat_id == old.id
    assert left.message.from_user is not None and arrived.message.from_user is not None
    assert left.message.from_user.id == arrived.message.from_user.id == carol.id


async def test_topics_hold_their_messages(api: FakeBotApi, bot: Bot) -> None:
    carol = api.user("Carol")
    forum = api.group("Club", forum=True, creator=carol)
    walks = forum.create_topic("Walks")
    created = await updates(bot)
    assert created[0].message is not None
    assert created[0].message.forum_topic_created is not None
    assert created[0].message.forum_topic_created.name == "Walks"
    assert created[0].message.message_thread_id == walks

    sent = await bot.send_message(forum.id, "In the topic", message_thread_id=walks)
    assert (sent.message_thread_id, sent.is_topic_message) == (walks, True)
    await bot.send_message(forum.id, "In General")
    assert [m.body for m in forum.messages(thread_id=walks)] == ["In the topic"]
    assert [m.body for m in forum.messages(thread_id=None)] == ["In General"]
    assert [m.body for m in forum.messages()] == ["In the topic", "In General"]

    with pytest.raises(BadRequest, match=r"^Message thread not found$"):
        await bot.send_message(forum.id, "Nowhere", message_thread_id=walks + 100)
    plain = api.group("Plain")
    with pytest.raises(BadRequest, match=r"^Message thread not found$"):
        await bot.send_message(plain.id, "Nowhere", message_thread_id=walks)

    # A member writes in the topic; a tap on the topic's message carries its thread.
    forum.send(carol, "/leaderboard", thread_id=walks)
    await bot.send_message(forum.id, "Board", message_thread_id=walks, reply_markup=JOIN)
    forum.tap(carol, "Join")
    message, tap = await updates(bot)
    assert message.message is not None
    assert (message.message.message_thread_id, message.message.is_topic_message) == (walks, True)
    assert message.message.text == "/leaderboard" and message.message.entities[0].length == 12
    assert tap.callback_query is not None
    tapped = tap.callback_query.message
    assert isinstance(tapped, Message)
    assert (tapped.chat.id, tapped.message_thread_id) == (forum.id, walks)


async def test_edits_count_against_the_group_budget() -> None:
    async with (
        FakeBotApi(limits=Limits(per_group_per_minute=2)) as api,
        Bot(TEST_TOKEN, base_url=api.base_url) as bot,
    ):
        group, alice = api.group("Club"), api.user("Alice")
        card = await bot.send_message(group.id, "Card")
        await bot.edit_message_text("Card, day 1", chat_id=group.id, message_id=card.message_id)
        with pytest.raises(RetryAfter) as paused:
            await bot.edit_message_text("Card, day 2", chat_id=group.id, message_id=card.message_id)
        assert paused.value.retry_after == 61
        with pytest.raises(RetryAfter):
            await bot.send_message(group.id, "Board")
        await asyncio.sleep(60)
        # A minute on, the budget is back: two more, then a third is refused.
        await bot.edit_message_reply_markup(group.id, card.message_id, reply_markup=JOIN)
        await bot.send_message(group.id, "Board")
        with pytest.raises(RetryAfter):
            await bot.edit_message_reply_markup(group.id, card.message_id)
        assert [c.status for c in api.calls_to("editMessageText")] == [200, 429]
        assert [c.status for c in api.calls_to("editMessageReplyMarkup")] == [200, 429]
        assert [c.status for c in api.calls_to("sendMessage")] == [200, 429, 200]

        # A private chat's edits are not counted: one message edited five times.
        alice.send("/start")
        note = await bot.send_message(alice.id, "Note")
        for n in range(5):
            await bot.edit_message_text(f"Note {n}", chat_id=alice.id, message_id=note.message_id)
        assert api.messages(alice.id)[0].edits == 5


async def test_anonymous_admin_messages_come_from_the_group(api: FakeBotApi, bot: Bot) -> None:
    carol, anon = api.user("Carol"), api.user("Anon")
    group = api.group("Club", creator=carol)
    group.promote(anon, anonymous=True)
    group.send(anon, "/challenge")
    group.send_as_group("/groupsettings")
    await bot.send_message(group.id, "Card", reply_markup=JOIN)
    group.tap(anon, "Join")

    first, second, tap = await updates(bot)
    for update, text in ((first, "/challenge"), (second, "/groupsettings")):
        message = update.message
        assert message is not None and message.from_user is not None
        assert message.sender_chat is not None
        assert (message.from_user.id, message.from_user.username, message.from_user.is_bot) == (
            GROUP_ANONYMOUS_BOT["id"],
            "GroupAnonymousBot",
            True,
        )
        assert (message.sender_chat.id, message.sender_chat.title) == (group.id, "Club")
        assert message.text == text
        assert message.entities[0].type == "bot_command"
    # Their taps carry their real id.
    assert tap.callback_query is not None and tap.callback_query.from_user.id == anon.id
    await bot.answer_callback_query(tap.callback_query.id, url="t.me/walkbot_test_bot?start=cX")
    assert api.callback_urls == {tap.callback_query.id: "t.me/walkbot_test_bot?start=cX"}
    assert api.answered_callbacks == {tap.callback_query.id: ""}


async def test_chat_member_updates_only_when_asked(api: FakeBotApi, bot: Bot) -> None:
    carol, dave, erin = api.user("Carol"), api.user("Dave"), api.user("Erin")
    group = api.group("Club", creator=carol)
    group.add(dave)
    assert await updates(bot) == []  # Telegram's default leaves chat_member out
    group.add(erin)
    (joined,) = await updates(bot, allowed_updates=["chat_member", "message"])
    assert joined.chat_member is not None
    assert (joined.chat_member.chat.id, joined.chat_member.new_chat_member.user.id) == (
        group.id,
        erin.id,
    )
    assert joined.chat_member.old_chat_member.status == ChatMemberStatus.LEFT
    assert joined.chat_member.new_chat_member.status == ChatMemberStatus.MEMBER
    group.remove(erin)
    (gone,) = await updates(bot)  # the last allowed_updates holds, as on Telegram
    assert gone.chat_member is not None
    assert gone.chat_member.new_chat_member.status == ChatMemberStatus.LEFT


async def test_writing_in_a_group_does_not_start_the_bot(api: FakeBotApi, bot: Bot) -> None:
    bob: FakeUser = api.user("Bob")
    group = api.group("Club", members=[bob])
    api.group_message(bob, group, "/leaderboard@walkbot_test_bot")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(bob.id, "Hi Bob")
    bob.send("/start")
    await bot.send_message(bob.id, "Hi Bob")
