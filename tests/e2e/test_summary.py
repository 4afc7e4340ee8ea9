"""/summary and /stats end to end: a photo with its caption over HTTP, the text fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.people import add_onboarded_person
from walkbot.bot.summary import send_report
from walkbot.clock import ShiftedClock
from walkbot.delivery import Result
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.services import summaries
from walkbot.services.users import get_user
from walkbot.store.db import SessionFactory, transaction
from walkbot.store.models import LevelChange, SixMinuteTest, Walk

# Wednesday 25 November 2026, 12:00 in London (GMT): the week is Mon 23 - Sun 29 November.
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"


async def onboard_with_walks(api: FakeBotApi, sessions: SessionFactory, name: str) -> FakeUser:
    person = api.user(name)
    async with transaction(sessions) as session:
        await add_onboarded_person(session, person.id, name, now=NOW - timedelta(weeks=8), level=4)
        # Two walks this week (Mon, Tue), three last week, three the week before, none before.
        for days_ago, backward_s, effort, pain in [
            (2, 240, 4, 2),
            (1, 300, 6, 1),
            (5, 180, 5, 3),
            (7, 180, 5, 3),
            (9, 180, 5, 3),
            (11, 180, 5, 3),
            (14, 120, 4, None),
            (16, 120, 4, None),
        ]:
            started = NOW - timedelta(days=days_ago, hours=2)
            session.add(
                Walk(
                    user_id=person.id,
                    plan={},
                    status="ended",
                    created_at=started,
                    started_at=started,
                    ended_at=started + timedelta(minutes=20),
                    end_reason="finished",
                    backward_s=backward_s,
                    active_s=1200,
                    effort=effort,
                    knee_pain=pain,
                )
            )
        session.add(
            LevelChange(
                user_id=person.id,
                changed_at=NOW - timedelta(days=1),
                from_level=3,
                to_level=4,
                reason="step_up",
            )
        )
        session.add(
            SixMinuteTest(
                user_id=person.id,
                direction="backward",
                status="done",
                created_at=NOW - timedelta(days=10),
                started_at=NOW - timedelta(days=10),
                metres=288.0,
            )
        )
    return person


@pytest.fixture
async def alice(
    api: FakeBotApi, sessions: SessionFactory, clock: ShiftedClock, bot: RunningBot
) -> FakeUser:
    clock.set(NOW)
    return await onboard_with_walks(api, sessions, "Alice")


async def test_summary_arrives_as_a_photo_with_the_text_as_caption(
    api: FakeBotApi, alice: FakeUser
) -> None:
    alice.send("/summary")
    message = await alice.wait_for_text("Your week so far", timeout=15)
    assert message.text is None and message.caption is not None
    assert message.document is not None and message.document.startswith(PNG)
    caption = message.caption
    assert "(Mon 23 Nov – Sun 29 Nov)" in caption
    assert "2 of 3 walks so far: one more" in caption
    assert "Backward: 9 min" in caption and "In all: 40 min" in caption
    assert "Effort: 5.0/10" in caption
    assert "Knee pain: easing, 1.5/10 (was 3.0)" in caption
    assert "Streak: 2 weeks in a row" in caption  # this week is still open, so it cannot break
    assert "Level 3 → 4 (stepped up)" in caption
    assert "Latest 6-minute test: 288 m backward, Sun 15 Nov" in caption
    assert "Next week: level 4" in caption
    assert len(caption) <= 1024

    photos = [c for c in api.calls_to("sendPhoto") if c.status == 200]
    assert len(photos) == 1
    assert photos[0].params["caption"] == caption
    assert photos[0].params["photo"]["data"].startswith(PNG)
    assert not photos[0].params.get("disable_notification")  # a reply the person asked for


async def test_summary_last_reports_the_previous_full_week(alice: FakeUser) -> None:
    alice.send("/summary last")
    message = await alice.wait_for_text("Last week", timeout=15)
    assert "(Mon 16 Nov – Sun 22 Nov)" in message.body
    assert "3 of 3 walks: target met" in message.body
    assert "Streak: 2 weeks in a row" in message.body
    assert "This week's plan: level 4" in message.body


async def test_stats_lists_totals_best_week_levels_and_tests(alice: FakeUser) -> None:
    alice.send("/stats")
    message = await alice.wait_for_text("Your walking since", timeout=15)
    assert "8 walks" in message.body
    assert "Best week: Mon 16 Nov, 9 min backward in 3 walks" in message.body
    assert "level 3 → 4" in message.body
    assert "288 m backward" in message.body


async def test_summary_falls_back_to_text_when_the_chart_cannot_be_drawn(
    api: FakeBotApi, alice: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from walkbot import charts

    def broken(*_: object) -> bytes:
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(charts, "week_chart", broken)
    alice.send("/summary")
    message = await alice.wait_for_text("Your week so far", timeout=15)
    assert message.text is not None and "2 of 3 walks" in message.text
    assert api.calls_to("sendPhoto") == []


async def test_a_long_report_goes_as_text_then_a_silent_photo(
    api: FakeBotApi, alice: FakeUser, bot: RunningBot, sessions: SessionFactory
) -> None:
    alice.send("/summary")  # a bot can only write to someone who has written to it
    await alice.wait_for_text("Your week so far", timeout=15)
    async with transaction(sessions) as session:
        user = await get_user(session, telegram_id=alice.id)
        assert user is not None
        report = await summaries.weekly_report(session, user=user, now=NOW, week="this")
    assert report.chart is not None
    long = summaries.WeeklyReport(report.text + "\n" + "x" * 1100, report.chart, report.data)
    assert bot.app is not None
    delivery = await send_report(bot.app.bot, alice.id, long, silent=True)
    assert delivery.result is Result.SENT
    text = await alice.next_message()
    photo = await alice.next_message()
    assert text.text == long.text and text.disable_notification
    assert photo.caption is None and photo.document is not None and photo.disable_notification


async def test_summary_and_stats_wait_until_setup_is_finished(
    api: FakeBotApi, bot: RunningBot
) -> None:
    carol = api.user("Carol")
    carol.send("/summary")
    await carol.wait_for_text("/start")
    carol.send("/start")
    consent = await carol.wait_for_text("your coach for backward walking")
    carol.tap("Yes, let's start", message=consent)
    await carol.wait_for_text("Safety check 1 of 9")
    for command in ("/summary", "/stats"):
        carol.send(command)
        await carol.wait_for_text("finish setting you up")
    assert api.calls_to("sendPhoto") == []
