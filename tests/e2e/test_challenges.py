"""Group challenges end to end, the group's side: the real bot over HTTP against the fake Bot
API with groups of several people. (The scheduled posts and walks moving the board are in
test_challenge_posts.py.)"""

from __future__ import annotations

from tests.e2e.groups import answered, challenge_rows, launch, rows, tap_through
from tests.e2e.rows import latest_row
from tests.people import onboarded_chat
from walkbot.bot import challenges as feature
from walkbot.bot import texts
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.store.db import SessionFactory


def _members(database_url: str, challenge_id: int) -> set[int]:
    found = rows(
        database_url,
        "SELECT user_id FROM challenge_members WHERE challenge_id = :id AND joined_at IS NOT NULL",
        id=challenge_id,
    )
    return {int(row["user_id"]) for row in found}


async def test_an_admin_starts_a_challenge_others_are_refused_and_members_join(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    bob = await onboarded_chat(api, sessions, "Bob", greeted=True)
    cem = api.user("Cem")  # in the group, never joins
    group = api.group("Walking club", creator=ann, members=[bob, cem])

    group.send(cem, "/challenge")
    assert (await group.wait_for_text("admins")).body == feature.ADMINS_ONLY
    assert challenge_rows(database_url) == []

    group.send(ann, "/challenge@walkbot_test_bot")
    wizard = await group.wait_for_text("What should count?")
    group.tap(ann, "Backward minutes", message=wizard)
    await group.wait_for_screen("What kind")
    group.tap(ann, "A ranking", message=wizard)
    await group.wait_for_screen("How long")
    # A member who is not an admin cannot steer the wizard.
    refused = group.tap(cem, "7 days", message=wizard)
    assert await answered(api, refused) == feature.ADMINS_ONLY
    assert "How long" in wizard.body
    group.tap(ann, "7 days", message=wizard)
    await group.wait_for_screen("Start now")
    group.tap(ann, "Now", message=wizard)
    await api.until(lambda: "Join" in wizard.button_labels(), timeout=5)
    assert "Walking club" in wizard.body and "backward minutes" in wizard.body

    [row] = challenge_rows(database_url)
    assert row["status"] == "running" and row["card_message_id"] == wizard.message_id
    assert row["created_by"] == ann.id and row["measure"] == "minutes" and row["days"] == 7

    assert await answered(api, group.tap(bob, "Join", message=wizard)) == feature.JOINED
    assert await answered(api, group.tap(ann, "Join", message=wizard)) == feature.JOINED
    assert await answered(api, group.tap(bob, "Join", message=wizard)) == feature.ALREADY_IN
    assert _members(database_url, row["id"]) == {ann.id, bob.id}

    group.send(cem, "/leaderboard")
    board = await group.wait_for_text("Walking club")
    assert "Ann" in board.body and "Bob" in board.body and "Cem" not in board.body
    assert board.disable_notification

    # One challenge at a time: a second /challenge shows the running one.
    group.send(ann, "/challenge")
    again = await group.wait_for_text("already running")
    assert "Ann" in again.body and len(challenge_rows(database_url)) == 1

    # Leaving takes them off the board.
    group.send(bob, "/leave")
    assert (await group.wait_for_text("left")).body == feature.LEFT_GROUP
    assert _members(database_url, row["id"]) == {ann.id}


async def test_an_anonymous_admin_can_start_one(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    hidden = api.user("Hidden")
    group = api.group("Physio class", kind="supergroup", creator=ann)
    group.promote(hidden, anonymous=True)
    group.send_as_group("/challenge")
    # Their taps carry their real id, which the admin list leaves out.
    card = await tap_through(
        group, hidden, "Walks completed", "A group goal", "50 walks", "14 days", "Now"
    )
    [row] = challenge_rows(database_url)
    assert row["kind"] == "goal" and row["target"] == 50 and row["created_by"] is None
    assert "Physio class" in card.body


async def test_a_newcomer_joins_through_the_deep_link_after_onboarding(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    dee = api.user("Dee")
    group = api.group("Friends", creator=ann, members=[dee])
    card = await launch(group, ann, "Active days", "A ranking", "7 days", "Now")
    [row] = challenge_rows(database_url)

    tap = group.tap(dee, "Join", message=card)
    assert await answered(api, tap) == feature.NEED_START
    url = api.callback_urls[tap["callback_query"]["id"]]
    assert url == f"https://t.me/walkbot_test_bot?start=c{row['code']}"

    # Her client opens the private chat with the payload: consent and safety come first.
    dee.send(f"/start c{row['code']}")
    welcome = await dee.wait_for_text("Shall we start?")
    assert "group challenge" in welcome.body
    dee.tap("Yes, let's start", message=welcome)
    assert _members(database_url, row["id"]) == set()  # pending until she is set up
    for n in range(1, 10):
        question = await dee.wait_for_screen(f"Safety check {n} of 9")
        dee.tap("No", message=question)
    experience = await dee.wait_for_screen("walked backwards for exercise")
    dee.tap("A little", message=experience)
    await dee.wait_for_screen("What matters most")
    dee.tap("Balance")
    await dee.wait_for_screen("Which time zone")
    dee.send("Europe/London")
    await dee.wait_for_screen("Which days")
    dee.tap("Done")
    await dee.wait_for_screen("What time")
    dee.send("8:00")
    await dee.wait_for_screen("Kilometres or miles")
    dee.tap("Kilometres")
    summary = await dee.wait_for_screen("All set")
    assert "You're in Friends's challenge" in summary.body
    assert _members(database_url, row["id"]) == {dee.id}

    # Opening the link again says so, in one line.
    dee.send(f"/start c{row['code']}")
    assert "already in" in (await dee.wait_for_text("challenge")).body


async def test_forged_and_cross_group_presses_change_nothing(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    bob = await onboarded_chat(api, sessions, "Bob", greeted=True)
    eve = await onboarded_chat(api, sessions, "Eve", greeted=True)
    club = api.group("Club", creator=ann, members=[bob])
    other = api.group("Other", creator=eve)
    card = await launch(club, ann, "Walks completed", "A ranking", "7 days", "Now")
    other_card = await launch(other, eve, "Walks completed", "A ranking", "7 days", "Now")
    club_id, other_id = (int(row["id"]) for row in challenge_rows(database_url))
    before = challenge_rows(database_url)

    # Eve, not in Club, presses Join on Club's card data from her own group's message.
    forged = other.tap_data(eve, f"ch:{club_id}:join", message=other_card)
    assert await answered(api, forged) == feature.WRONG_GROUP
    # Bob replays Club's wizard data as if still a draft, and garbage ids.
    replay = club.tap_data(bob, f"ch:{club_id}:start:now", message=card)
    assert await answered(api, replay) == feature.ADMINS_ONLY
    garbage = club.tap_data(ann, "ch:99999999999999999999:join", message=card)
    assert "out of date" in await answered(api, garbage)
    admin_replay = club.tap_data(ann, f"ch:{other_id}:days:28", message=card)
    assert "out of date" in await answered(api, admin_replay)

    assert _members(database_url, club_id) == set() and _members(database_url, other_id) == set()
    assert challenge_rows(database_url) == before


async def test_a_forum_topic_is_where_the_challenge_lives(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    group = api.group("Forum club", kind="supergroup", forum=True, creator=ann)
    topic = group.create_topic("Walking")
    group.send(ann, "/challenge", thread_id=topic)
    card = await tap_through(group, ann, "Backward minutes", "A ranking", "7 days", "Now")
    assert card.thread_id == topic
    assert challenge_rows(database_url)[0]["thread_id"] == topic
    group.send(ann, "/leaderboard", thread_id=topic)
    board = await group.wait_for_text("Forum club")
    assert board.thread_id == topic


async def test_migration_to_a_supergroup_keeps_the_challenge(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    group = api.group("Growing club", creator=ann)
    card = await launch(group, ann, "Backward minutes", "A ranking", "7 days", "Now")
    await answered(api, group.tap(ann, "Join", message=card))  # joined before the move
    [before] = challenge_rows(database_url)

    moved = group.migrate()
    await api.until(lambda: challenge_rows(database_url)[0]["chat_id"] == moved.id, timeout=5)
    [after] = challenge_rows(database_url)
    assert after["id"] == before["id"] and after["status"] == "running"
    assert _members(database_url, after["id"]) == {ann.id}

    moved.send(ann, "/leaderboard")
    assert "Ann" in (await moved.wait_for_text("Growing club")).body


async def test_removal_archives_and_re_adding_offers_a_new_challenge(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    group = api.group("Club", creator=ann)
    await launch(group, ann, "Backward minutes", "A ranking", "7 days", "Now")

    group.remove_bot(ann)
    await api.until(lambda: challenge_rows(database_url)[0]["status"] == "archived", timeout=5)
    sent_before = len(group.messages())

    group.add_bot(ann)
    intro = await group.wait_for_text("/challenge")
    assert "Walk together" in intro.body
    assert len(group.messages()) == sent_before + 1
    group.send(ann, "/challenge")
    await group.wait_for_text("What should count?")  # a new one, not "already running"
    assert latest_row(database_url, "users", ann.id)["telegram_id"] == ann.id


async def test_a_new_admin_is_an_admin_at_once_and_private_chats_are_pointed_to_groups(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    cem = await onboarded_chat(api, sessions, "Cem", greeted=True)
    group = api.group("Club", creator=ann, members=[cem])
    group.send(cem, "/challenge")
    assert (await group.wait_for_text("admins")).body == feature.ADMINS_ONLY
    # Promoted a moment later: Telegram's chat_member update clears what was remembered,
    # so the minute-long cache does not keep refusing her.
    group.promote(cem)
    group.send(cem, "/challenge")
    await group.wait_for_text("What should count?")

    cem.send("/challenge")
    assert (await cem.wait_for_text("groups")).body == feature.CHALLENGE_IN_PRIVATE


async def test_a_reply_to_a_group_that_just_moved_reaches_it_at_its_new_id(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    group = api.group("Club", creator=ann)
    await launch(group, ann, "Backward minutes", "A ranking", "7 days", "Now")
    moved = group.migrate()
    # A command sent in the old chat just before the move: its reply meets ChatMigrated.
    api.post(group.chat(), ann.as_user(), {"text": "/leaderboard"})
    note = await moved.wait_for_text("supergroup")
    assert note.body == texts.GROUP_MOVED
    assert challenge_rows(database_url)[0]["chat_id"] == moved.id
