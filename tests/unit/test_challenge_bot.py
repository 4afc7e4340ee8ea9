"""The Telegram side of group challenges, piece by piece: who counts as writing in a group, the
deep link and what it says, the wizard's screens and the list of past challenges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telegram import Chat, Message, Update, User

from walkbot.bot import challenge_links, challenge_views, challenges
from walkbot.bot.challenge_wizard import wizard_view
from walkbot.domain.challenges import GOAL_TARGETS
from walkbot.services.challenges import Draft, JoinResult, PastChallenge

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROUP = Chat(-100123, "supergroup", title="Club")
ANN = User(1, "Ann", False)


def _update(chat: Chat, sender: User | None, sender_chat: Chat | None = None) -> Update:
    return Update(1, message=Message(7, NOW, chat, from_user=sender, sender_chat=sender_chat))


def test_who_writes_in_a_group() -> None:
    person = challenges.group_caller(_update(GROUP, ANN))
    assert person is not None and person.user_id == ANN.id and not person.anonymous_admin

    anonymous_bot = User(1087968824, "Group", True, username="GroupAnonymousBot")
    admin = challenges.group_caller(_update(GROUP, anonymous_bot, sender_chat=GROUP))
    assert admin is not None and admin.user_id is None and admin.anonymous_admin

    # Other bots, a linked channel's post, and private chats are not a group's people.
    assert challenges.group_caller(_update(GROUP, User(5, "Bot", True))) is None
    channel = Chat(-100999, "channel", title="News")
    telegram = User(777000, "Telegram", False)  # forwards a linked channel's posts
    assert challenges.group_caller(_update(GROUP, telegram, channel)) is None
    assert challenges.group_caller(_update(Chat(1, "private"), ANN)) is None


def test_a_topic_message_keeps_its_thread_and_a_reply_elsewhere_does_not() -> None:
    in_topic = Message(9, NOW, GROUP, from_user=ANN, message_thread_id=42, is_topic_message=True)
    caller = challenges.group_caller(Update(1, message=in_topic))
    assert caller is not None and caller.thread_id == 42
    # Outside a forum, a reply carries its thread's id without being in a topic.
    reply = Message(10, NOW, GROUP, from_user=ANN, message_thread_id=5)
    caller = challenges.group_caller(Update(2, message=reply))
    assert caller is not None and caller.thread_id is None


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["cAbc_-12"], "Abc_-12"),
        (["c" + "x" * 16], "x" * 16),
        (["c" + "x" * 17], None),  # longer than any code
        (["c"], None),
        (["cab/cd"], None),
        (["welcome"], None),
        ([], None),
        (None, None),
    ],
)
def test_the_deep_link_payload(args: list[str] | None, code: str | None) -> None:
    assert challenge_links.code_from_payload(args) == code


def test_the_deep_link_opens_the_private_chat_with_the_code() -> None:
    link = challenge_links.deep_link("walkbot_test_bot", "Abc_-12")
    assert link == "https://t.me/walkbot_test_bot?start=cAbc_-12"


def test_a_group_title_is_echoed_on_one_line_and_bounded() -> None:
    assert challenge_links.bounded_title("Walking\nclub ") == "Walking club"
    long = challenge_links.bounded_title("Ab" * 100)
    assert len(long) == challenge_links.TITLE_LIMIT and long.endswith("…")
    assert challenge_links.bounded_title("  ") == "your group"
    line = challenge_links.joined_after_setup("Friends")
    assert line == "🏁 You're in Friends's challenge." and "\n" not in line


def test_what_a_deep_link_did_in_one_line() -> None:
    said = {
        kind: challenge_links.join_line(JoinResult(kind, title="Club"))
        for kind in ("joined", "already", "pending", "closed", "unknown")
    }
    assert "You're in Club's challenge" in said["joined"]
    assert "already in Club's" in said["already"]
    assert "as soon as we've finished setting up" in said["pending"]
    assert said["closed"] == said["unknown"] and "out of date" in said["closed"]
    assert all("\n" not in line for line in said.values())


def _draft(step: str, **changes: object) -> Draft:
    fields: dict[str, object] = {
        "challenge_id": 5,
        "measure": "minutes",
        "kind": "ranking",
        "most_improved": False,
        "target": None,
        "days": 7,
        "step": step,
    }
    return Draft(**(fields | changes))  # type: ignore[arg-type]


def _labels(draft: Draft) -> list[str]:
    return [b.text for row in wizard_view(draft)[1].inline_keyboard for b in row]


def test_the_wizard_asks_one_thing_at_a_time_and_keeps_the_choices_in_view() -> None:
    text, _ = wizard_view(_draft("measure"))
    assert "What should count?" in text
    assert _labels(_draft("measure")) == [
        "Backward minutes",
        "Walks completed",
        "Active days",
        "Cancel",
    ]
    assert _labels(_draft("kind"))[:3] == [
        "A ranking",
        "Ranking + most improved",
        "A group goal together",
    ]
    assert _labels(_draft("days")) == ["7 days", "14 days", "28 days", "Cancel"]
    assert _labels(_draft("days", most_improved=True)) == ["14 days", "28 days", "Cancel"]
    assert _labels(_draft("start")) == ["Now", "Next Monday", "Cancel"]

    goal = _draft("target", measure="walks", kind="goal")
    assert _labels(goal)[:3] == [f"{n} walks" for n in GOAL_TARGETS["walks"]]
    start, _ = wizard_view(_draft("start", measure="walks", kind="goal", target=50, days=14))
    assert start.startswith("🏁 New challenge: Walks completed · A group goal together · goal 50")
    assert "14 days" in start.splitlines()[0]


def test_wizard_buttons_carry_the_challenge_and_the_step() -> None:
    markup = wizard_view(_draft("days"))[1]
    data = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert data == ["ch:5:days:7", "ch:5:days:14", "ch:5:days:28", "ch:5:cancel"]


def _past(**changes: object) -> PastChallenge:
    fields: dict[str, object] = {
        "challenge_id": 1,
        "title": "Club",
        "measure": "minutes",
        "kind": "ranking",
        "days": 7,
        # Monday 2 March to Sunday 8 March in London (GMT).
        "starts_at": datetime(2026, 3, 2, 0, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 3, 9, 0, 0, tzinfo=UTC),
        "winners": ("Ann",),
        "total": 95,
    }
    return PastChallenge(**(fields | changes))  # type: ignore[arg-type]


def test_past_challenges_name_winners_and_goals_in_the_groups_zone() -> None:
    text = challenge_views.past_text(
        [
            _past(),
            _past(winners=("Ann", "Bob")),
            _past(winners=()),
            _past(kind="goal", winners=(), target=100, measure="walks", total=120),
        ],
        "Europe/London",
    )
    lines = text.splitlines()
    assert lines[0] == "🏅 Past challenges"
    assert lines[1] == "• 2 Mar–8 Mar 2026 · backward minutes: winner Ann; group 95 min"
    assert "winners Ann, Bob" in lines[2]
    assert "no walks counted" in lines[3]
    assert "group goal 100 walks: reached (120 walks)" in lines[4]
    # Sydney is 11 hours ahead: the same instants end a day later there.
    assert "2 Mar–9 Mar" in challenge_views.past_text([_past()], "Australia/Sydney")
