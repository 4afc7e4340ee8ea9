"""The live screen end to end: the real bot polling the fake Bot API, its web layer on a
loopback port (polling mode), and the screen's API called over HTTP with initData signed by
the test token. The walk row and the chat are checked after each call from the screen.

Timing: the cue jobs run in real time (as in test_walks.py). The screen beats every 0.5 s,
ten times inside the 5 s a cue is held for, so a stalled machine does not hand over early."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.rows import latest_row, sent_at, started_at
from tests.e2e.test_walks import EARLY_S, LATE_S
from tests.live_auth import auth
from tests.people import onboarded_chat
from walkbot.bot import texts
from walkbot.clock import ShiftedClock
from walkbot.domain.live import LIVE_HEARTBEAT_TIMEOUT
from walkbot.sandbox import FakeBotApi, FakeMessage, FakeUser
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory

pytestmark = pytest.mark.e2e

WEBAPP_URL = "https://example.org/live/"
BEAT_S = 0.5


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webapp_url": WEBAPP_URL})


@pytest.fixture
async def live_bot(live_settings: Settings, clock: ShiftedClock) -> AsyncIterator[RunningBot]:
    running = RunningBot(live_settings, clock=clock, web_port=0)  # polling, web layer on
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def alice(api: FakeBotApi, sessions: SessionFactory, live_bot: RunningBot) -> FakeUser:
    return await onboarded_chat(api, sessions, "Alice")


class Screen:
    """The live screen of one person, as the page calls the API."""

    def __init__(self, http: httpx.AsyncClient, user_id: int) -> None:
        self.http, self.user_id = http, user_id

    def _auth(self) -> dict[str, str]:
        return auth(self.user_id, at=datetime.now(UTC))

    async def control(self, walk_id: int, action: str) -> httpx.Response:
        return await self.http.post(
            f"/live/api/walk/{walk_id}/control", json={"action": action}, headers=self._auth()
        )

    async def beat(self, walk_id: int, *, visible: bool = True) -> dict[str, Any]:
        response = await self.http.post(
            f"/live/api/walk/{walk_id}/heartbeat", json={"visible": visible}, headers=self._auth()
        )
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    async def rate(self, walk_id: int, **answer: object) -> httpx.Response:
        return await self.http.post(
            f"/live/api/walk/{walk_id}/rating", json=answer, headers=self._auth()
        )

    async def beat_until(self, walk_id: int, instant: datetime) -> None:
        while datetime.now(UTC) < instant:
            assert (await self.beat(walk_id))["hold_chat_cues"]
            await asyncio.sleep(BEAT_S)


@pytest.fixture
async def screen(live_bot: RunningBot, alice: FakeUser) -> AsyncIterator[Screen]:
    async with httpx.AsyncClient(base_url=live_bot.web_url, timeout=10) as http:
        yield Screen(http, alice.id)


def walk_row(database_url: str, user_id: int) -> dict[str, object]:
    return latest_row(database_url, "walks", user_id)


def web_app_urls(message: FakeMessage) -> list[str]:
    return [b.web_app["url"] for row in message.buttons for b in row if b.web_app is not None]


def cues_in(user: FakeUser) -> list[str]:
    return [m.body for m in user.messages() if "BACKWARD for" in m.body or "Forward" in m.body]


async def card(user: FakeUser, args: str) -> tuple[FakeMessage, int, str]:
    user.send(f"/walk {args}")
    message = await user.wait_for_text("Before you start")
    [url] = web_app_urls(message)
    walk_id = int(url.rsplit("=", 1)[1])
    return message, walk_id, url


async def test_the_card_the_first_cue_and_the_menu_offer_the_screen_and_a_stop_from_it_is_a_stop(
    api: FakeBotApi, alice: FakeUser, screen: Screen, database_url: str
) -> None:
    message, walk_id, url = await card(alice, "2x10/10")
    assert url == f"{WEBAPP_URL}?walk={walk_id}"
    assert api.menu_buttons[None] == {
        "type": "web_app",
        "text": "Live screen",
        "web_app": {"url": WEBAPP_URL},
    }
    alice.tap("Start", message=message)
    first = await alice.wait_for_text("BACKWARD for 10 s")
    assert web_app_urls(first) == [url]  # the first cue offers the screen too
    await asyncio.sleep(1.1)  # a second walked, so the summary has something to say

    stopped = await screen.control(walk_id, "stop")
    assert stopped.status_code == 200
    body = stopped.json()
    assert body["walk"]["status"] == "ended" and body["walk"]["rating_step"] == "effort"
    summary = await alice.wait_for_text("Good call to stop")
    assert body["message"] == summary.body == body["walk"]["summary"]
    effort = await alice.wait_for_text("How hard did that feel")
    assert walk_row(database_url, alice.id)["end_reason"] == "stopped"
    again = await screen.control(walk_id, "stop")  # no longer applies
    assert again.status_code == 409 and again.json()["walk"]["status"] == "ended"

    # Effort answered in the chat, then on the screen: 409, stored once.
    alice.tap("5 moderate", message=effort)
    await alice.wait_for_screen("knee pain")
    late = await screen.rate(walk_id, step="effort", value=9)
    assert late.status_code == 409 and late.json()["walk"]["rating_step"] == "pain"
    assert walk_row(database_url, alice.id)["effort"] == 5
    # Pain on the screen: stored, and the chat moves on to the note.
    pain = await screen.rate(walk_id, step="pain", value=2)
    assert pain.status_code == 200 and pain.json()["walk"]["rating_step"] == "note"
    await alice.wait_for_text("Anything to note")
    note = await screen.rate(walk_id, step="note", text="Windy but fine")
    assert note.json()["walk"]["rating_step"] is None
    await alice.wait_for_text("all saved")
    row = walk_row(database_url, alice.id)
    assert (row["effort"], row["knee_pain"], row["note"]) == (5, 2, "Windy but fine")
    assert (await screen.rate(walk_id, step="note", text="twice")).status_code == 409


async def test_start_pause_resume_and_need_to_stop_from_the_screen_are_the_chat_buttons(
    alice: FakeUser, screen: Screen, database_url: str
) -> None:
    _, walk_id, _ = await card(alice, "2x30/30")
    started = await screen.control(walk_id, "start")
    assert started.status_code == 200 and started.json()["walk"]["status"] == "active"
    assert (await screen.control(walk_id, "start")).status_code == 409

    paused = await screen.control(walk_id, "pause")
    chat = await alice.wait_for_text("Paused")
    assert paused.json()["message"] == chat.body
    assert chat.disable_notification and chat.button_labels()[0] == "▶ Resume"
    walk = paused.json()["walk"]
    assert walk["status"] == "paused" and walk["paused_since"] and walk["ends_at"] is None

    resumed = await screen.control(walk_id, "resume")
    chat = await alice.wait_for_text("Off we go again")
    assert resumed.json()["message"] == chat.body
    assert resumed.json()["walk"]["paused_s"] >= 0 and resumed.json()["walk"]["ends_at"]

    need = await screen.control(walk_id, "need_to_stop")
    chat = await alice.wait_for_text("listening to your body")
    assert need.json()["message"] == chat.body
    assert chat.body.startswith(texts.NEED_TO_STOP_REPLY)
    await alice.wait_for_text("How hard did that feel")
    row = walk_row(database_url, alice.id)
    assert (row["status"], row["end_reason"]) == ("ended", "need_to_stop")


async def test_heartbeats_hold_the_chat_cues_and_hidden_hands_them_back(
    api: FakeBotApi, alice: FakeUser, screen: Screen, database_url: str
) -> None:
    _, walk_id, _ = await card(alice, "2x10/10")
    assert (await screen.control(walk_id, "start")).status_code == 200  # started on the screen
    started = await started_at(database_url, "walks", alice.id)
    # Through the first cue (0 s) and the switch to forward (10 s): the screen cues them.
    await screen.beat_until(walk_id, started + timedelta(seconds=12))
    assert cues_in(alice) == []
    assert walk_row(database_url, alice.id)["last_cue_index"] == 1  # claimed, not lost

    assert (await screen.beat(walk_id, visible=False)) == {"hold_chat_cues": False}
    handover = await alice.wait_for_text("Live screen closed")
    assert "Walking forward" in handover.body and "round 1 of 2" in handover.body
    assert handover.button_labels()[:2] == ["⏸ Pause", "⏹ Stop"]
    nxt = await alice.wait_for_text("BACKWARD for 10 s", timeout=12)  # round 2, on time
    late = (sent_at(api, nxt) - (started + timedelta(seconds=20))).total_seconds()
    assert -EARLY_S <= late < LATE_S
    alice.send("/stop")
    await alice.wait_for_text("Good call to stop")


async def test_heartbeats_that_stop_hand_the_cues_back_at_once(
    api: FakeBotApi, alice: FakeUser, screen: Screen, database_url: str
) -> None:
    message, walk_id, _ = await card(alice, "2x10/10")
    alice.tap("Start", message=message)  # started in the chat, then the screen opened
    await alice.wait_for_text("BACKWARD for 10 s")
    started = await started_at(database_url, "walks", alice.id)
    await screen.beat_until(walk_id, started + timedelta(seconds=2))
    last_beat = datetime.now(UTC)
    await screen.beat(walk_id)
    # The screen goes quiet (the phone locked): the watchdog hands over just after 5 s.
    handover = await alice.wait_for_text("Live screen closed", timeout=10)
    after = (sent_at(api, handover) - last_beat).total_seconds()
    assert (
        LIVE_HEARTBEAT_TIMEOUT.total_seconds()
        <= after
        < LIVE_HEARTBEAT_TIMEOUT.total_seconds() + LATE_S
    )
    assert "BACKWARD" in handover.body
    forward = await alice.wait_for_text("Forward", timeout=10)  # the 10 s cue, in the chat
    late = (sent_at(api, forward) - (started + timedelta(seconds=10))).total_seconds()
    assert -EARLY_S <= late < LATE_S
    assert not forward.body.startswith("📱")  # handed over once, by the watchdog
    alice.send("/stop")
    await alice.wait_for_text("Good call to stop")
