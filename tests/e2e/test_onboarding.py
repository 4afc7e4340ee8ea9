"""Onboarding end to end: the real bot over HTTP against the fake Bot API."""

from __future__ import annotations

from datetime import time

from tests.e2e.rows import latest_row
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot


def _row(database_url: str, telegram_id: int) -> dict[str, object]:
    return latest_row(database_url, "users", telegram_id)


async def _consent(user: FakeUser) -> None:
    user.send("/start")
    await user.wait_for_text("Shall we start?")
    user.tap("Yes, let's start")


async def _answer_screening(
    user: FakeUser, *, yes_to: frozenset[int] = frozenset(), first: int = 1
) -> None:
    for n in range(first, 10):
        # One message throughout: each answer turns the question into the next one.
        question = await user.wait_for_screen(f"Safety check {n} of 9")
        user.tap("Yes" if n in yes_to else "No", message=question)


async def test_whole_onboarding_with_a_restart_in_the_middle(
    api: FakeBotApi, bot: RunningBot, database_url: str
) -> None:
    alice = api.user("Alice")
    await _consent(alice)
    await _answer_screening(alice, yes_to=frozenset({8}))  # a fall in the past year
    # Advice to keep: the last safety question turns into it, the questions go on below.
    advice = await alice.wait_for_screen("check with your doctor or physio")
    assert "handrails" in advice.body and advice.buttons == []
    experience = await alice.wait_for_text("walked backwards for exercise")
    alice.tap("A little", message=experience)
    await alice.wait_for_screen("What matters most")

    await bot.restart()  # the half-finished onboarding lives in the database

    alice.send("/start")
    resumed = await alice.wait_for_text("carry on")
    assert "What matters most" in resumed.body
    alice.tap("Balance")
    await alice.wait_for_screen("Which time zone")
    alice.send("europe/london")
    days = await alice.wait_for_text("Which days")
    assert "Got it: Europe/London" in days.body
    alice.tap("Sun")
    redrawn = await api.wait_for(lambda c: "✅ Sun" in str(c.params.get("reply_markup")))
    assert redrawn.method == "editMessageText"
    alice.tap("Done")
    await alice.wait_for_screen("What time")
    alice.send("7:45")
    await alice.wait_for_text("Kilometres or miles")
    alice.tap("Miles")
    summary = await alice.wait_for_screen("All set")
    assert summary.body.startswith("✓ Miles")  # the last choice stays in view
    # A yes in screening starts one level lower: one round fewer than the standard 6.
    assert "about 23 min" in summary.body
    assert "5 × (30 s backward + 2 min forward)" in summary.body
    assert "one round shorter" in summary.body
    assert "Mon, Wed, Fri, Sun at 07:45" in summary.body
    assert "check with your doctor or physio first" in summary.body

    row = _row(database_url, alice.id)
    assert row["onboarding_step"] is None
    assert row["timezone"] == "Europe/London"
    assert row["experience"] == "little" and row["goal"] == "balance"
    assert row["units"] == "mi"
    assert row["level"] == 0
    assert str(row["reminder_time"]).startswith(str(time(7, 45)))
    # Every tap is answered, after the message it brought (so the last may still be on its way).
    await api.until(lambda: None not in api.answered_callbacks.values(), timeout=5)
    assert "handrails" in advice.body  # the questions after it left the advice in place

    alice.send("/start")
    again = await alice.wait_for_text("Welcome back")
    assert "/settings" in again.body
    assert _row(database_url, alice.id)["timezone"] == "Europe/London"


async def test_declining_consent_stores_nothing(
    api: FakeBotApi, bot: RunningBot, database_url: str
) -> None:
    bob = api.user("Bob")
    bob.send("/start")
    await bob.wait_for_text("Shall we start?")
    bob.tap("No thanks")
    await api.wait_for(lambda c: c.method == "editMessageText")
    assert "haven't stored anything" in api.last_message(bob.id).body
    assert _row(database_url, bob.id) == {}
    bob.send("hello?")
    assert "/start" in (await bob.wait_for_text("send /start")).body


async def _reach(user: FakeUser, step_text: str) -> None:
    await _consent(user)
    await _answer_screening(user)
    await user.wait_for_screen("walked backwards for exercise")
    if step_text == "exp":
        return
    user.tap("Never")
    await user.wait_for_screen("What matters most")
    user.tap("Knees")
    await user.wait_for_screen("Which time zone")


async def test_garbage_at_every_step_gets_a_clear_answer_and_changes_nothing(
    api: FakeBotApi, bot: RunningBot, database_url: str
) -> None:
    carol = api.user("Carol")
    carol.send("/start")
    await carol.wait_for_text("Shall we start?")
    carol.send("asdfgh")  # before consent: nothing stored, told how to begin
    await carol.wait_for_text("send /start")
    carol.tap("Yes, let's start")
    question = await carol.wait_for_text("Safety check 1 of 9")
    carol.send_sticker()
    again = await carol.wait_for_text("only read text")
    assert "Safety check 1 of 9" in again.body
    carol.send("perhaps")
    assert "Yes or No" in (await carol.wait_for_text("Safety check 1 of 9")).body
    carol.tap_data("a:units:mi", message=question)  # a button from a later question
    assert "moved on" in (await carol.wait_for_text("Safety check 1 of 9")).body
    carol.tap_data("a:s0:" + "x" * 40, message=question)
    await carol.wait_for_text("Safety check 1 of 9")
    carol.send("/frobnicate")
    assert "don't know /frobnicate" in (await carol.wait_for_text("frobnicate")).body
    carol.share_location(51.5, -0.12)  # a location answers only the time-zone question
    reasked = await carol.wait_for_text("find your time zone")
    assert "Safety check 1 of 9" in reasked.body
    row = _row(database_url, carol.id)
    assert row["onboarding_step"] == "s0"
    assert row["units"] == "km" and row["timezone"] is None

    carol.tap("No", message=reasked)
    await _answer_screening(carol, first=2)
    await carol.wait_for_screen("walked backwards for exercise")
    carol.send("loads")
    assert "tap one of the buttons" in (await carol.wait_for_text("buttons")).body
    carol.tap("Regularly")
    await carol.wait_for_screen("What matters most")
    carol.tap("Heart")
    await carol.wait_for_screen("Which time zone")
    carol.send("Qwertyuiop Town")
    assert "I don't know" in (await carol.wait_for_text("Which time zone")).body
    carol.send("../../etc/passwd")
    await carol.wait_for_text("I don't know")
    carol.tap_data("a:tz:Factory")
    await carol.wait_for_text("pick again")
    carol.send("London")
    choices = await carol.wait_for_text("more than one")
    assert any("Europe/London" in label for label in choices.button_labels())
    carol.tap("Europe/London")
    await carol.wait_for_screen("Which days")
    carol.send("someday")
    await carol.wait_for_text("Mon Wed Fri")
    carol.send("weekdays")
    await carol.wait_for_text("What time")
    carol.send("25:61")
    await carol.wait_for_text("24-hour clock")
    carol.tap("07:00")
    await carol.wait_for_screen("Kilometres or miles")
    carol.send_photo()
    await carol.wait_for_text("Kilometres or miles")
    carol.send("km")
    await carol.wait_for_text("All set")
    row = _row(database_url, carol.id)
    assert (row["timezone"], row["reminder_days"], row["units"]) == ("Europe/London", 31, "km")
    assert row["onboarding_step"] is None


async def test_time_zone_from_a_shared_location(
    api: FakeBotApi, bot: RunningBot, database_url: str
) -> None:
    dan = api.user("Dan")
    await _reach(dan, "tz")
    dan.share_location(27.7172, 85.3240)
    days = await dan.wait_for_text("Which days")
    assert "Asia/Kathmandu" in days.body
    assert _row(database_url, dan.id)["timezone"] == "Asia/Kathmandu"


async def test_settings_change_one_thing(
    api: FakeBotApi, bot: RunningBot, database_url: str
) -> None:
    erin = api.user("Erin")
    await _reach(erin, "tz")
    erin.tap("New York")
    await erin.wait_for_screen("Which days")
    erin.tap("Done")
    await erin.wait_for_screen("What time")
    erin.tap("08:00")
    await erin.wait_for_screen("Kilometres or miles")
    erin.tap("Kilometres")
    await erin.wait_for_screen("All set")

    erin.send("/settings")
    await erin.wait_for_text("Your settings")
    erin.tap("Summary time")  # the menu turns into the question
    await erin.wait_for_screen("And at what time")
    erin.send("19:30")
    saved = await erin.wait_for_text("Saved")
    assert "Weekly summary: Sunday at 19:30" in saved.body
    erin.tap("Time zone")
    await erin.wait_for_screen("Which time zone")
    erin.tap("Back")
    await api.wait_for(
        lambda c: c.method == "editMessageText" and "Your settings" in str(c.params.get("text"))
    )
    row = _row(database_url, erin.id)
    assert row["timezone"] == "America/New_York" and row["editing"] is None


async def test_commands_menu_is_scoped_and_groups_get_an_intro(
    api: FakeBotApi, bot: RunningBot
) -> None:
    private = [c["command"] for c in api.commands[("all_private_chats", "")]]
    assert {"walk", "settings", "help", "export", "deleteme"} <= set(private)
    everyone = ["help", "leaderboard", "challenges", "leave"]
    assert [c["command"] for c in api.commands[("all_group_chats", "")]] == everyone
    # Admins see their own menu: everyone's commands and the ones that manage a challenge.
    admins = [c["command"] for c in api.commands[("all_chat_administrators", "")]]
    assert admins == ["help", "challenge", "leaderboard", "challenges", "leave", "groupsettings"]
    frank = api.user("Frank")
    group = api.group("Walking club")
    api.group_message(frank, group, "/start@walkbot_test_bot")
    await api.wait_for(lambda c: c.method == "sendMessage" and c.params["chat_id"] == group.id)
    intro = api.last_message(group.id).body
    assert "message me privately" in intro and "/challenge" in intro


async def test_help_and_a_duplicate_update_is_handled_once(
    api: FakeBotApi, bot: RunningBot
) -> None:
    gina = api.user("Gina")
    update = gina.send("/help")
    api.inject_update(update)  # Telegram delivers the same update again
    await gina.wait_for_text("/walk")
    gina.send("/privacy")
    await gina.wait_for_text("What I keep")
    helps = [m for m in gina.messages() if "Here's what I can do" in m.body]
    assert len(helps) == 1


async def test_each_tapped_step_costs_the_chat_one_message(
    api: FakeBotApi, bot: RunningBot
) -> None:
    """Telegram paces a chat at about one message a second, edits included, and a quick tapper
    answers faster than that: so every tapped answer after consent is one edit, the question
    becoming the next one with the choice on top, and the tap is answered too."""
    hana = api.user("Hana")
    await _consent(hana)
    question = await hana.wait_for_screen("Safety check 1 of 9")
    steps = [
        *(("No", f"Safety check {n} of 9") for n in range(2, 10)),
        ("No", "walked backwards for exercise"),
        ("Never tried it", "What matters most"),
        ("Knees and legs", "Which time zone"),
        ("London", "Which days"),
        ("Done", "What time"),
        ("08:00", "Kilometres or miles"),
        ("Kilometres", "All set"),
    ]
    for label, next_question in steps:
        hana.tap(label, message=question)
        shown = await hana.wait_for_screen(next_question)
        assert shown is question and shown.body.startswith("✓ "), shown.body
    hana.send("/help")  # handled after every earlier update from her chat has finished
    await hana.wait_for_text("Here's what I can do")

    seen = [
        (c.method, c.params.get("message_id"))
        for c in api.calls
        if c.method in ("sendMessage", "editMessageText") and c.params.get("chat_id") == hana.id
    ]
    welcome = api.messages(hana.id)[0].message_id
    assert seen == [
        ("sendMessage", None),  # the welcome
        ("sendMessage", None),  # consent given: the first question, a message of its own
        ("editMessageText", welcome),  # the welcome shows the answer, its buttons gone
        *[("editMessageText", question.message_id)] * len(steps),
        ("sendMessage", None),  # /help
    ]
    assert question.body.startswith("✓ Kilometres\n\nAll set, Hana!")
    assert len(api.calls_to("answerCallbackQuery")) == len(steps) + 1
    assert all(c.status == 200 for c in api.calls)


async def test_a_question_that_cannot_be_edited_comes_anew_and_a_lost_answer_is_let_go(
    api: FakeBotApi, bot: RunningBot
) -> None:
    ida = api.user("Ida")
    await _consent(ida)
    question = await ida.wait_for_screen("Safety check 1 of 9")
    await api.until(lambda: "→ Yes, let's start" in api.messages(ida.id)[0].body, timeout=5)
    api.fail_next("editMessageText", status=400, description="Bad Request: message can't be edited")
    api.fail_next(
        "answerCallbackQuery",
        status=400,
        description="Bad Request: query is too old and response timeout expired",
    )
    ida.tap("No", message=question)
    again = await ida.wait_for_text("Safety check 2 of 9")  # a new message, the choice on top
    assert again is not question and again.body.startswith("✓ No\n\n")
    ida.tap("No", message=again)
    await ida.wait_for_screen("Safety check 3 of 9")  # and the questions go on in that one
    # Neither failure reached the person as an apology.
    assert not any("went wrong" in m.body for m in ida.messages())
