"""Group challenges end to end, the commands around a challenge: /groupsettings, the most
improved wizard, /challenge end and /challenges, /leave in private, Join before setting up,
names on boards. The real bot over HTTP against the fake Bot API. (Creating, joining, topics,
migration and removal: test_challenges.py; the scheduled posts: the posts' own tests.)"""

from __future__ import annotations

from tests.e2e.groups import answered, challenge_rows, launch, rows
from tests.people import onboarded_chat
from walkbot.bot import challenge_links
from walkbot.bot import challenges as feature
from walkbot.clock import ShiftedClock
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import Walk


def _member_rows(database_url: str, challenge_id: int) -> dict[int, object]:
    """user id -> joined_at (None: pending) for one challenge."""
    found = rows(
        database_url,
        "SELECT user_id, joined_at FROM challenge_members WHERE challenge_id = :id",
        id=challenge_id,
    )
    return {int(row["user_id"]): row["joined_at"] for row in found}


async def test_group_settings_are_for_admins_and_echo_little(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    bob = api.user("Bob")
    group = api.group("Club", creator=ann, members=[bob])

    group.send(bob, "/groupsettings time 06:00")
    assert (await group.wait_for_text("admins")).body == feature.ADMINS_ONLY
    assert rows(database_url, "SELECT * FROM group_chats") == []

    group.send(ann, "/groupsettings")
    shown = await group.wait_for_text("Time zone")
    assert "Europe/London" in shown.body and "Daily board: 19:00" in shown.body
    assert "/groupsettings zone" in shown.body  # how to change them

    group.send(ann, "/groupsettings zone Paris")  # France's, or Texas's?
    assert "Europe/Paris" in (await group.wait_for_text("Which one")).body
    group.send(ann, "/groupsettings zone Lisbon")
    assert "Europe/Lisbon" in (await group.wait_for_text("Saved")).body
    group.send(ann, "/groupsettings time 7:30")
    assert "Daily board: 07:30" in (await group.wait_for_text("Saved")).body
    [row] = rows(database_url, "SELECT * FROM group_chats")
    assert row["timezone"] == "Europe/Lisbon" and str(row["post_time"]).startswith("07:30")

    # Nonsense is answered kindly, and only a bounded piece of it is repeated.
    group.send(ann, "/groupsettings zone " + "Atlantis" * 20)
    unknown = await group.wait_for_text("couldn't find")
    echoed = unknown.body.split("“")[1].split("”")[0]
    assert len(echoed) <= feature.ECHO_LIMIT and echoed.startswith("AtlantisAtlantis")
    group.send(ann, "/groupsettings time 25:99")
    assert "“25:99”" in (await group.wait_for_text("as a time")).body
    group.send(ann, "/groupsettings colour blue")
    assert (await group.wait_for_text("sets")).body == feature.SETTINGS_USAGE
    [row] = rows(database_url, "SELECT * FROM group_chats")
    assert row["timezone"] == "Europe/Lisbon" and str(row["post_time"]).startswith("07:30")


async def test_most_improved_offers_two_and_four_weeks_and_can_start_next_monday(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    group = api.group("Class", creator=ann)
    group.send(ann, "/challenge")
    wizard = await group.wait_for_text("What should count?")
    group.tap(ann, "Backward minutes", message=wizard)
    await group.wait_for_screen("What kind")
    group.tap(ann, "most improved", message=wizard)
    await group.wait_for_screen("How long")
    # A first week to beat, and later weeks to beat it in: 14 or 28 days only.
    assert wizard.button_labels() == ["14 days", "28 days", "Cancel"]
    assert "most improved" in wizard.body  # the choices so far stay in view
    group.tap(ann, "28 days", message=wizard)
    await group.wait_for_screen("Start now")
    group.tap(ann, "Next Monday", message=wizard)
    await api.until(lambda: "Join" in wizard.button_labels(), timeout=5)
    assert "Starts" in wizard.body  # not begun yet
    [row] = challenge_rows(database_url)
    assert row["status"] == "running" and row["most_improved"] and row["days"] == 28


async def test_a_wizard_can_be_cancelled(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    group = api.group("Club", creator=ann)
    group.send(ann, "/challenge")
    wizard = await group.wait_for_text("What should count?")
    group.tap(ann, "Cancel", message=wizard)
    await group.wait_for_screen(feature.CANCELLED)
    assert wizard.button_labels() == []
    assert [row["status"] for row in challenge_rows(database_url)] == ["archived"]
    stale = group.tap_data(ann, f"ch:{challenge_rows(database_url)[0]['id']}:measure:walks")
    assert "out of date" in await answered(api, stale)
    group.send(ann, "/leaderboard")
    assert (await group.wait_for_text("No challenge")).body == feature.NONE_RUNNING


async def test_an_admin_ends_it_early_and_it_is_listed_with_its_winner(
    api: FakeBotApi,
    bot: RunningBot,
    sessions: SessionFactory,
    database_url: str,
    clock: ShiftedClock,
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    bob = await onboarded_chat(api, sessions, "Bob", greeted=True)
    group = api.group("Club", creator=ann, members=[bob])
    group.send(ann, "/challenges")
    assert (await group.wait_for_text("finished")).body == feature.NO_PAST
    card = await launch(group, ann, "Backward minutes", "A ranking", "7 days", "Now")
    for person in (ann, bob):
        assert await answered(api, group.tap(person, "Join", message=card)) == feature.JOINED
    # Bob walked 12 backward minutes in private, and rated it: how he felt stays private.
    now = clock.now()
    async with transaction(sessions) as session:
        session.add(
            Walk(
                user_id=bob.id,
                plan={},
                status="ended",
                created_at=now,
                started_at=now,
                ended_at=now,
                end_reason="finished",
                backward_s=12 * 60,
                active_s=15 * 60,
                effort=9,
                knee_pain=6,
                note="left knee grumbled SECRET",
            )
        )

    group.send(bob, "/challenge end")
    assert (await group.wait_for_text("admins")).body == feature.ADMINS_ONLY
    assert challenge_rows(database_url)[0]["status"] == "running"
    group.send(ann, "/challenge end")
    assert (await group.wait_for_text("Ending")).body == feature.ENDING
    [row] = challenge_rows(database_url)
    assert row["status"] == "ended" and row["ended_at"] is not None

    group.send(ann, "/leaderboard")
    assert (await group.wait_for_text("No challenge")).body == feature.NONE_RUNNING
    group.send(bob, "/challenges")
    past = await group.wait_for_text("Past challenges")
    assert "winner Bob" in past.body and "12 min" in past.body
    said = " ".join(message.body for message in group.messages())
    assert "SECRET" not in said and "grumbled" not in said


async def test_leave_in_private_leaves_every_group(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    bob = await onboarded_chat(api, sessions, "Bob", greeted=True)
    club = api.group("Club", creator=ann, members=[bob])
    team = api.group("Team", creator=ann, members=[bob])
    for group in (club, team):
        card = await launch(group, ann, "Walks completed", "A ranking", "7 days", "Now")
        assert await answered(api, group.tap(bob, "Join", message=card)) == feature.JOINED
    club_id, team_id = (int(row["id"]) for row in challenge_rows(database_url))

    bob.send("/leave")
    assert (await bob.wait_for_text("left")).body == "You've left: Club, Team."
    assert _member_rows(database_url, club_id) == {} == _member_rows(database_url, team_id)
    bob.send("/leave")
    assert (await bob.wait_for_text("not in")).body == feature.NOT_IN_ANY
    club.send(bob, "/leave")
    assert (await club.wait_for_text("not in")).body == feature.NOT_IN


async def test_join_before_setting_up_waits_for_onboarding(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    dee = api.user("Dee")
    outsider = await onboarded_chat(api, sessions, "Olly", greeted=True)
    group = api.group("Friends", creator=ann, members=[dee])
    card = await launch(group, ann, "Active days", "A ranking", "7 days", "Now")
    [row] = challenge_rows(database_url)

    # Dee agreed in private but has not answered the safety questions yet.
    dee.send("/start")
    dee.tap("Yes, let's start", message=await dee.wait_for_text("Shall we start?"))
    await dee.wait_for_screen("Safety check 1 of 9")
    assert await answered(api, group.tap(dee, "Join", message=card)) == feature.PENDING
    assert _member_rows(database_url, row["id"]) == {dee.id: None}  # not on the board yet
    group.send(ann, "/leaderboard")
    assert "Dee" not in (await group.wait_for_text("Friends")).body

    # Someone not in the group cannot join from a card they were shown.
    assert await answered(api, group.tap(outsider, "Join", message=card)) == feature.NOT_A_MEMBER
    assert set(_member_rows(database_url, row["id"])) == {dee.id}


async def test_a_member_can_appear_by_initials(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    bea = await onboarded_chat(api, sessions, "Beatrice Lane", greeted=True)
    group = api.group("Club", creator=ann, members=[bea])
    card = await launch(group, ann, "Backward minutes", "A ranking", "7 days", "Now")
    assert await answered(api, group.tap(bea, "Join", message=card)) == feature.JOINED

    bea.send("/settings")
    menu = await bea.wait_for_text("Your settings")
    assert "Name on group boards: First name" in menu.body
    bea.tap("Name on group boards", message=menu)
    await bea.wait_for_screen("group challenge boards")
    bea.tap("Initials")
    assert "Name on group boards: Initials" in (await bea.wait_for_screen("Saved")).body
    assert (
        rows(database_url, "SELECT board_name FROM users WHERE telegram_id = :id", id=bea.id)[0][
            "board_name"
        ]
        == "initials"
    )

    group.send(ann, "/leaderboard")
    board = await group.wait_for_text("Club")
    assert "B. L." in board.body and "Beatrice" not in board.body


async def test_the_bot_added_to_a_group_introduces_challenges(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    group = api.group("New club", creator=ann)
    group.bot_status = "left"
    group.add_bot(ann)
    intro = await group.wait_for_text("/challenge")
    assert "only totals ever reach the group" in intro.body
    [row] = rows(database_url, "SELECT * FROM group_chats")
    assert row["id"] == group.id and row["title"] == "New club" and row["active"]
    assert str(row["post_time"]).startswith("19:00")


async def test_a_deep_link_joins_only_members_of_its_group(
    api: FakeBotApi, bot: RunningBot, sessions: SessionFactory, database_url: str
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", greeted=True)
    bob = await onboarded_chat(api, sessions, "Bob", greeted=True)
    olly = await onboarded_chat(api, sessions, "Olly", greeted=True)
    group = api.group("Friends", creator=ann, members=[bob])
    await launch(group, ann, "Walks completed", "A ranking", "7 days", "Now")
    [row] = challenge_rows(database_url)
    link = f"/start c{row['code']}"

    # The link was passed on beyond the group: it joins no one outside it.
    olly.send(link)
    assert (await olly.wait_for_text("not in")).body == challenge_links.NOT_IN_GROUP
    stranger = api.user("Stan")
    stranger.send(link)
    welcome = await stranger.wait_for_text("Shall we start?")
    assert welcome.body.startswith(challenge_links.NOT_IN_GROUP)
    yes = [b.callback_data for line in welcome.buttons for b in line if b.text.startswith("Yes")]
    assert yes == ["consent:yes"]  # no code to join by after setting up
    # Forged consent data with the code joins no one either.
    stranger.tap_data(f"consent:yes:{row['code']}", message=welcome)
    await stranger.wait_for_screen("Safety check 1 of 9")
    assert _member_rows(database_url, row["id"]) == {}

    # A member of the group opening it is in at once.
    bob.send(link)
    assert "You're in Friends's challenge" in (await bob.wait_for_text("Friends")).body
    assert set(_member_rows(database_url, row["id"])) == {bob.id}
