"""The programme over HTTP: /level and its choices, a level walk that steps up after two easy
walks, a kind step down after "I need to stop", and the next-morning knee answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import create_engine, text

from tests.e2e.test_walks import walk_row
from tests.people import onboarded_chat
from walkbot.bot.knee import knee_check_message
from walkbot.clock import ShiftedClock
from walkbot.domain.programme import level_plan
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.scheduling import cues
from walkbot.store.db import SessionFactory, sync_url, transaction
from walkbot.store.models import Walk


def level_of(database_url: str, user_id: int) -> tuple[int, list[tuple[int, int, str]]]:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        level = connection.execute(
            text("SELECT level FROM users WHERE telegram_id = :id"), {"id": user_id}
        ).scalar_one()
        moves = connection.execute(
            text(
                "SELECT from_level, to_level, reason FROM level_changes"
                " WHERE user_id = :id ORDER BY id"
            ),
            {"id": user_id},
        ).all()
    engine.dispose()
    return level, [tuple(m) for m in moves]


async def seed_walk(
    sessions: SessionFactory,
    user: FakeUser,
    ended_at: datetime,
    *,
    level: int | None = 1,
    effort: int = 5,
    pain: int | None = 1,
    knee_check_at: datetime | None = None,
    end: str = "finished",
) -> int:
    """A walk rated earlier, at `level`: walked in full unless `end` says otherwise."""
    plan = level_plan(level if level is not None else 1)
    async with transaction(sessions) as session:
        walk = Walk(
            user_id=user.id,
            plan=plan.to_dict(),
            status="ended",
            created_at=ended_at - timedelta(seconds=plan.total_s),
            started_at=ended_at - timedelta(seconds=plan.total_s),
            ended_at=ended_at,
            end_reason=end,
            backward_s=plan.backward_total_s,
            active_s=plan.total_s,
            rounds_done=plan.rounds,
            effort=effort,
            knee_pain=pain,
            rated_at=ended_at,
            level=level,
            knee_check_at=knee_check_at,
        )
        session.add(walk)
        await session.flush()
        assert walk.id is not None
        return walk.id


async def test_a_level_walk_steps_up_after_two_easy_walks(
    api: FakeBotApi,
    sessions: SessionFactory,
    bot: RunningBot,
    clock: ShiftedClock,
    database_url: str,
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    await seed_walk(sessions, alice, clock.now() - timedelta(days=2), effort=4, pain=1)
    await seed_walk(sessions, alice, clock.now() - timedelta(days=1), effort=3, end="stopped")
    alice.send("/level")
    before = await alice.wait_for_text("Your level")
    assert "(so far: 1 of 2)" in before.body  # the walk stopped early does not count

    alice.send("/walk")
    card = await alice.wait_for_text("Before you start")
    assert "6 x 30 s backward / 2 min forward, 5 min warm-up and cool-down" in card.body
    alice.tap("Start", message=card)
    await alice.wait_for_text("Warm-up")
    row = walk_row(database_url, alice.id)
    assert row["level"] == 1
    # Twenty-five minutes later the finish job fires (run here rather than waited for).
    clock.jump(timedelta(seconds=level_plan(1).total_s + 1))
    assert bot.app is not None
    await cues.fire_due_cue(bot.app, int(str(row["id"])))
    effort = await alice.wait_for_text("How hard did that feel")
    alice.tap("5 moderate", message=effort)
    pain = await alice.wait_for_screen("knee pain")  # one message: the question turns over
    alice.tap("1", message=pain)
    decided = await alice.wait_for_screen("Next time")
    assert "Next time: 6 x 45 s backward. Your last two walks felt moderate." in decided.body
    assert "Anything to note" in decided.body
    assert decided.disable_notification
    assert walk_row(database_url, alice.id)["end_reason"] == "finished"
    assert level_of(database_url, alice.id) == (2, [(1, 2, "step_up:easy_twice")])

    alice.send("/level")
    shown = await alice.wait_for_text("Your level")
    assert "6 x 45 s backward (level 2 of 7)" in shown.body
    assert "Next: 6 x 1 min backward" in shown.body
    assert "(so far: 0 of 2)" in shown.body  # the walks at level 1 count no more
    assert shown.button_labels() == ["Repeat this level", "Step back: 6 x 30 s backward"]

    alice.send("/walk")
    card = await alice.wait_for_text("Before you start")
    assert "6 x 45 s backward / 2 min forward" in card.body


async def test_level_choices_and_stale_buttons(
    api: FakeBotApi, sessions: SessionFactory, bot: RunningBot, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    alice.send("/level")
    first = await alice.wait_for_text("Your level")
    assert "6 x 30 s backward (level 1 of 7)" in first.body
    assert "once a week" not in first.body
    alice.tap("Repeat this level", message=first)
    await alice.wait_for_text("two fresh walks")
    # The tapped question loses its buttons just after the reply (the tick is cosmetic).
    await api.until(lambda: not first.button_labels(), timeout=5)
    alice.send("/level")
    second = await alice.wait_for_text("Your level")
    alice.tap("Step back", message=second)
    back = await alice.wait_for_text("OK: next time")
    assert "5 x 30 s backward" in back.body
    assert level_of(database_url, alice.id) == (0, [(1, 1, "chose_repeat"), (1, 0, "chose_back")])

    # A /level message from before the change is out of date; nothing moves.
    update = alice.tap_data("lv:back:1", message=second)
    query_id = update["callback_query"]["id"]
    await api.until(lambda: api.answered_callbacks.get(query_id) is not None, timeout=5)
    assert "out of date" in (api.answered_callbacks[query_id] or "")
    alice.send("/level")
    lowest = await alice.wait_for_text("Your level")
    assert lowest.button_labels() == ["Repeat this level"]  # nothing below the first level
    assert level_of(database_url, alice.id)[0] == 0


async def test_a_screening_yes_is_told_about_the_weekly_pace(
    api: FakeBotApi, sessions: SessionFactory, bot: RunningBot
) -> None:
    bob = await onboarded_chat(api, sessions, "Bob", screening={"fall": True}, level=0)
    bob.send("/level")
    shown = await bob.wait_for_text("Your level")
    assert "5 x 30 s backward (level 0 of 7)" in shown.body
    assert "once a week at most" in shown.body


async def test_i_need_to_stop_on_a_level_walk_steps_down_kindly(
    api: FakeBotApi, sessions: SessionFactory, bot: RunningBot, database_url: str
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    alice.send("/walk")
    card = await alice.wait_for_text("Before you start")
    alice.tap("Start", message=card)
    cue = await alice.wait_for_text("Warm-up")
    alice.tap("I need to stop", message=cue)
    effort = await alice.wait_for_text("How hard did that feel")
    alice.tap("3 easy", message=effort)
    pain = await alice.wait_for_screen("knee pain")
    alice.tap("Skip", message=pain)
    decided = await alice.wait_for_screen("Next time")
    assert decided.body.startswith("✓ Effort 3 easy, knee pain skipped\n\n")
    alice.tap("Skip", message=decided)  # no note: the question closes with thanks
    done = await alice.wait_for_screen("all saved")
    assert done is effort and done.buttons == []  # all three answers on one message
    assert "Next time: 5 x 30 s backward" in done.body and "→ Skipped" in done.body
    assert "Next time: 5 x 30 s backward. Stopping when you need to" in decided.body
    assert "fail" not in decided.body.lower()
    assert level_of(database_url, alice.id) == (0, [(1, 0, "step_down:need_to_stop")])


async def test_the_morning_knee_answer_is_recorded_and_holds_the_level(
    api: FakeBotApi,
    sessions: SessionFactory,
    bot: RunningBot,
    clock: ShiftedClock,
    database_url: str,
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice", greeted=True)
    now = clock.now()
    walk_id = await seed_walk(
        sessions, alice, now - timedelta(hours=14), pain=4, knee_check_at=now - timedelta(hours=1)
    )
    # Level 1 with nothing recorded: the walk asked about did not step the level up.
    assert level_of(database_url, alice.id) == (1, [])
    # What the dispatcher sends when knee_check_at is due.
    assert bot.app is not None
    question, markup = knee_check_message(walk_id)
    await bot.app.bot.send_message(alice.id, question, reply_markup=markup)
    asked = await alice.wait_for_text("How does your knee feel this morning")
    assert len(asked.button_labels()) == 11
    alice.tap_data(f"k:{walk_id}:6", message=asked)
    reply = await alice.wait_for_text("Thanks")
    assert "6/10 is more than after your walk (4/10)" in reply.body
    assert "won't step up" in reply.body
    assert reply.disable_notification
    row = walk_row(database_url, alice.id)
    assert (row["knee_morning"], bool(row["knee_morning_worse"])) == (6, True)
    assert level_of(database_url, alice.id) == (1, [])  # held: neither up nor down
    # A second tap (or someone else's) changes nothing.
    update = alice.tap_data(f"k:{walk_id}:1", message=asked)
    query_id = update["callback_query"]["id"]
    await api.until(lambda: api.answered_callbacks.get(query_id) is not None, timeout=5)
    assert "out of date" in (api.answered_callbacks[query_id] or "")
    assert walk_row(database_url, alice.id)["knee_morning"] == 6
