"""A group challenge's posts end to end: the real bot polling the fake Bot API over HTTP, a
challenge set up through the services on the bot's database (the commands that create one are
tested with the handlers), private walks moving the card, and the daily board, "3 days left"
and the results arriving at their times as the ShiftedClock jumps; silent, in the forum topic;
a group that became a supergroup gets its next post at the new id."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.people import onboarded_chat
from walkbot.bot.notifier import BotNotifier
from walkbot.clock import ShiftedClock
from walkbot.sandbox import FakeBotApi, FakeGroup, FakeMessage, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.services import challenges
from walkbot.services.challenge_posts import GroupPost
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, transaction

# Monday 7 December 2026, noon in London (GMT). A 7-day challenge launched then runs to
# Monday 14th 00:00: boards at 19:00 each day but Friday's, which is "3 days left".
LAUNCH = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
DAILY = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)
LAST_CALL = datetime(2026, 12, 11, 19, 0, tzinfo=UTC)
END = datetime(2026, 12, 14, 0, 0, tzinfo=UTC)
LEAD = timedelta(seconds=1.5)  # the clock is set this long before a post is due


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"dispatch_interval_seconds": 0.2, "board_edit_gap_seconds": 0.5}
    )


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock(LAUNCH)


async def launch(
    sessions: SessionFactory, bot: RunningBot, group: FakeGroup, thread_id: int | None
) -> tuple[int, FakeMessage]:
    """A running 7-day challenge counting walks, its card posted as the handlers would."""
    now = LAUNCH
    async with transaction(sessions) as session:
        await challenges.group_seen(
            session, chat_id=group.id, kind=group.kind, title=group.title, now=now
        )
        draft = await challenges.open_draft(
            session,
            chat_id=group.id,
            thread_id=thread_id,
            created_by=None,
            creator_zone="Europe/London",
            now=now,
        )
        assert isinstance(draft, challenges.Draft)
        for step, value in (("measure", "walks"), ("kind", "ranking"), ("days", "7")):
            await challenges.choose(
                session,
                challenge_id=draft.challenge_id,
                chat_id=group.id,
                step=step,
                value=value,
                now=now,
            )
        board = await challenges.choose(
            session,
            challenge_id=draft.challenge_id,
            chat_id=group.id,
            step="start",
            value="now",
            now=now,
        )
        assert isinstance(board, challenges.Board)
    assert bot.app is not None
    posted = await BotNotifier(bot.app.bot).post_board(
        GroupPost(group.id, thread_id, board, "card")
    )
    assert posted.outcome.sent and posted.message_id is not None
    async with transaction(sessions) as session:
        await challenges.set_card(
            session, challenge_id=draft.challenge_id, message_id=posted.message_id
        )
    card = group.messages()[-1]
    return draft.challenge_id, card


async def join(
    sessions: SessionFactory, challenge_id: int, chat_id: int, *people: FakeUser
) -> None:
    async with transaction(sessions) as session:
        for person in people:
            joined = await challenges.join(
                session, challenge_id=challenge_id, chat_id=chat_id, user_id=person.id, now=LAUNCH
            )
            assert joined.kind == "joined"


async def a_short_walk(person: FakeUser) -> None:
    """The quickest walk that counts: start one, and stop after a second or two of it."""
    person.send("/walk 3x30/30")
    card = await person.wait_for_text("Before you start")
    person.tap("Start", message=card)
    cue = await person.wait_for_text("BACKWARD")
    await asyncio.sleep(1.2)  # some seconds walked: a walk of none does not count
    person.tap("I need to stop", message=cue)
    await person.wait_for_text("How hard did that feel")


async def moved_to(
    sessions: SessionFactory, challenge_id: int, chat_id: int, timeout: float = 5
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with transaction(sessions) as session:
            running = await challenges.current(session, chat_id=chat_id)
        if running is not None and running.id == challenge_id:
            return
        assert asyncio.get_running_loop().time() < deadline, "the challenge did not move"
        await asyncio.sleep(0.1)


async def card_reads(api: FakeBotApi, card: FakeMessage, words: str, timeout: float = 8) -> None:
    await api.until(lambda: words in (card.text or ""), timeout, card.chat_id)


async def test_walks_move_the_card_and_the_posts_come_on_time_in_the_topic(
    api: FakeBotApi, sessions: SessionFactory, bot: RunningBot, clock: ShiftedClock
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", now=LAUNCH)
    ben = await onboarded_chat(api, sessions, "Ben", now=LAUNCH)
    group = api.group("Walking club", forum=True, creator=ann, members=[ben])
    topic = group.create_topic("Backward walks")
    challenge_id, card = await launch(sessions, bot, group, topic)
    assert (card.thread_id, card.disable_notification) == (topic, True)
    assert card.button_labels() == ["Join"]
    await join(sessions, challenge_id, group.id, ann, ben)
    await card_reads(api, card, "2 walkers")  # the joins are an edit too

    await a_short_walk(ann)
    await card_reads(api, card, "1. Ann  ▓▓▓▓▓▓▓▓▓▓ 1 walk")
    assert "2. Ben  ░░░░░░░░░░ 0 walks" in (card.text or "")
    assert card.button_labels() == ["Join"]

    group.skip_to_end()
    clock.set(DAILY - LEAD)
    daily = await group.wait_for_text("Day 1 of 7", timeout=8)
    assert "1. Ann" in daily.body and "Group total: 1 walk · 2 walkers" in daily.body
    assert (daily.thread_id, daily.disable_notification) == (topic, True)

    clock.set(LAST_CALL - LEAD)
    last_call = await group.wait_for_text("3 days left", timeout=8)
    assert "You've got this" in last_call.body
    assert (last_call.thread_id, last_call.disable_notification) == (topic, True)

    clock.set(END - LEAD)
    results = await group.wait_for_text("Results", timeout=8)
    assert "🥇 Winner: Ann with 1 walk!" in results.body
    assert "Group total: 1 walk · 2 walkers" in results.body
    assert (results.thread_id, results.disable_notification) == (topic, True)
    assert results.buttons == []
    await api.until(lambda: card.buttons == [], 5, group.id)  # the card closes: no Join
    await asyncio.sleep(1)  # a few ticks: nothing more, and no board posted twice
    posted = [m.body.splitlines()[0] for m in group.messages()[1:]]
    assert len(posted) == 3, posted
    assert all(m.thread_id == topic for m in group.messages())


async def test_a_group_that_became_a_supergroup_gets_its_next_post_at_the_new_id(
    api: FakeBotApi, sessions: SessionFactory, bot: RunningBot, clock: ShiftedClock
) -> None:
    ann = await onboarded_chat(api, sessions, "Ann", now=LAUNCH)
    family = api.group("Family walkers", kind="group", creator=ann)
    challenge_id, card = await launch(sessions, bot, family, None)
    await join(sessions, challenge_id, family.id, ann)
    await card_reads(api, card, "1 walker")

    supergroup = family.migrate()
    clock.set(DAILY - LEAD)
    daily = await supergroup.wait_for_text("Day 1 of 7", timeout=8)
    assert daily.disable_notification and daily.thread_id is None
    await moved_to(sessions, challenge_id, supergroup.id)  # just after the post arrived

    # The card stayed behind in the old chat: the next edit puts a new one in the supergroup.
    await a_short_walk(ann)
    await api.until(
        lambda: any(
            "1. Ann" in m.body and m.button_labels() == ["Join"] for m in supergroup.messages()
        ),
        8,
        supergroup.id,
    )
    clock.set(DAILY + timedelta(days=1) - LEAD)
    await supergroup.wait_for_text("Day 2 of 7", timeout=8)
    assert len(family.messages()) == 1  # only the first card ever went to the old id
