"""The live-walk page against walkbot's real web app: the bot runs (as in tests/e2e) against the
fake Bot API, and headless Chromium opens /live/ from its web layer.

Waits are for conditions (an element, a message, a row), with generous limits; the only
real-time walk is the hand-over test, where the chat's next cue must come on its time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, expect

from tests.browser.live import (
    WAIT_MS,
    fetches,
    open_live,
    ready_walk,
    recorded,
    signed_as,
    start_on_page,
)
from tests.e2e.rows import latest_row, row_when, sent_at, started_at
from tests.e2e.test_walks import EARLY_S, LATE_S
from tests.live_auth import init_data
from walkbot.sandbox import FakeBotApi, FakeUser
from walkbot.sandbox.embedded import RunningBot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def walk_of(database_url: str, user: FakeUser) -> dict[str, object]:
    return latest_row(database_url, "walks", user.id)


def paused(row: dict[str, object]) -> bool:
    raw = row.get("pauses") or "[]"
    pauses = json.loads(raw) if isinstance(raw, str) else raw  # a JSON column, read raw
    assert isinstance(pauses, list)
    return any(p.get("ended_at") is None for p in pauses)


async def test_pause_resume_stop_and_ratings_reach_the_server(
    browser: Browser, bot: RunningBot, alice: FakeUser, database_url: str
) -> None:
    walk_id = await ready_walk(alice, database_url, "2x60/60")
    context, page = await open_live(browser, bot, alice, walk_id)
    await start_on_page(page)
    await row_when(database_url, "walks", alice.id, lambda r: r["status"] == "active")
    await expect(page.locator("#round-line")).to_have_text("Round 1 of 2")
    await expect(page.locator("#next-line")).to_have_text("Next: forward for 1 min")

    await page.locator("#pause").click()
    await expect(page.locator("#paused-line")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#resume")).to_be_visible()
    await row_when(database_url, "walks", alice.id, paused)
    await page.locator("#resume").click()
    await expect(page.locator("#pause")).to_be_visible(timeout=WAIT_MS)
    await row_when(database_url, "walks", alice.id, lambda r: not paused(r))

    await page.locator("#stop").click()
    await expect(page.locator("#rate-effort")).to_be_visible(timeout=WAIT_MS)
    row = await row_when(database_url, "walks", alice.id, lambda r: r["status"] == "ended")
    assert row["end_reason"] == "stopped"
    controls = fetches(await recorded(page), "/control")
    (stop,) = [f for f in controls if f["body"]["action"] == "stop"]
    assert stop["reply"]["message"]
    await expect(page.locator("#end-message")).to_have_text(stop["reply"]["message"])
    await alice.wait_for_text("How hard did that feel")  # the chat asks too

    await page.get_by_role("button", name="5 moderate").click()
    await expect(page.locator("#rate-pain")).to_be_visible(timeout=WAIT_MS)
    await page.get_by_role("button", name="knee pain 2", exact=True).click()
    await expect(page.locator("#rate-note")).to_be_visible(timeout=WAIT_MS)
    await page.locator("#note-text").fill("Windy on the prom")
    await page.locator("#note-save").click()
    await expect(page.locator("#rated")).to_be_visible(timeout=WAIT_MS)
    row = await row_when(database_url, "walks", alice.id, lambda r: r["rating_step"] is None)
    assert (row["effort"], row["knee_pain"], row["note"]) == (5, 2, "Windy on the prom")
    await context.close()


async def test_i_need_to_stop_ends_the_walk_with_the_chats_kind_words(
    browser: Browser, bot: RunningBot, alice: FakeUser, database_url: str
) -> None:
    await ready_walk(alice, database_url, "2x60/60")
    # Opened from the menu button: no walk in the address, the server finds the open one.
    context, page = await open_live(browser, bot, alice, None)
    await start_on_page(page)
    await page.locator("#need-to-stop").click()  # no confirmation, as in the chat
    await expect(page.locator("#rate-effort")).to_be_visible(timeout=WAIT_MS)
    row = await row_when(database_url, "walks", alice.id, lambda r: r["status"] == "ended")
    assert row["end_reason"] == "need_to_stop"
    (stop,) = [
        f for f in fetches(await recorded(page), "/control") if f["body"]["action"] != "start"
    ]
    words = stop["reply"]["message"]
    assert words
    await expect(page.locator("#end-message")).to_have_text(words)
    await context.close()


async def test_settings_are_remembered_and_silence_the_voice(
    browser: Browser, bot: RunningBot, alice: FakeUser, database_url: str
) -> None:
    walk_id = await ready_walk(alice, database_url, "2x60/60")
    context, page = await open_live(browser, bot, alice, walk_id)
    await expect(page.locator("#start")).to_be_visible(timeout=WAIT_MS)
    await page.locator("#settings summary").click()
    await expect(page.locator("#pref-voice")).to_be_checked()
    await page.locator("#pref-voice").uncheck()
    await page.locator("#pref-warning").uncheck()
    await page.wait_for_function(SAVED_WITHOUT_WARNING, timeout=WAIT_MS)

    await page.reload()  # the server remembers, not the page
    await expect(page.locator("#start")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#pref-voice")).not_to_be_checked()
    await expect(page.locator("#pref-warning")).not_to_be_checked()
    await expect(page.locator("#pref-tones")).to_be_checked()
    await start_on_page(page)
    record = await recorded(page)
    assert record["speech"] == []
    assert [t["frequency"] for t in record["tones"]] == [660, 990]  # the switch tone still
    await context.close()


SAVED_WITHOUT_WARNING = """() => window.__recorded.fetches.some(
    (f) => f.method === "PUT" && f.status === 200 && f.body.warning === false)"""


async def test_hiding_the_page_hands_the_cues_back_to_the_chat(
    browser: Browser, bot: RunningBot, alice: FakeUser, api: FakeBotApi, database_url: str
) -> None:
    # 20 s backward: hiding comes a second or so after Start, so the forward cue at 20 s is
    # well after the hand-over even on a loaded machine.
    walk_id = await ready_walk(alice, database_url, "2x20/10")
    context, page = await open_live(browser, bot, alice, walk_id)
    await start_on_page(page)
    await expect(page.locator("#chat-line")).to_contain_text("resting", timeout=WAIT_MS)
    seen = len(alice.messages())

    await page.evaluate(HIDE)
    hand_over = await alice.wait_for_text("Live screen closed", timeout=10)
    assert alice.messages().index(hand_over) >= seen
    beats = fetches(await recorded(page), "/heartbeat")
    assert beats[0]["body"] == {"visible": True}
    assert beats[-1]["body"] == {"visible": False} and beats[-1]["keepalive"]
    # The chat's next switch (forward, at 20 s) comes from the bot, on its time.
    started = await started_at(database_url, "walks", alice.id)
    cue = await alice.wait_for_text("Forward again for 10 s", timeout=30)
    late = (sent_at(api, cue) - (started + timedelta(seconds=20))).total_seconds()
    assert -EARLY_S <= late < LATE_S, late

    await page.evaluate(SHOW)  # back on screen: the screen takes the walk up again
    await page.wait_for_function(BEATING_AGAIN, timeout=WAIT_MS)
    assert len((await recorded(page))["wakeLocks"]) == 2  # asked again on becoming visible
    await context.close()


def visibility(state: str) -> str:
    """What the browser does when the page is hidden or shown (switching apps, locking)."""
    hidden = "true" if state == "hidden" else "false"
    return f"""() => {{
        Object.defineProperty(document, "visibilityState", {{value: "{state}",
                              configurable: true}});
        Object.defineProperty(document, "hidden", {{value: {hidden}, configurable: true}});
        document.dispatchEvent(new Event("visibilitychange"));
    }}"""


HIDE, SHOW = visibility("hidden"), visibility("visible")
BEATING_AGAIN = """() => {
    const beats = window.__recorded.fetches.filter((f) => f.url.endsWith("/heartbeat"));
    const hidden = beats.findIndex((f) => f.body.visible === false);
    return hidden >= 0 && beats.slice(hidden + 1).some((f) => f.body.visible === true);
}"""


async def test_leaving_the_page_hands_the_cues_back_at_once(
    browser: Browser, bot: RunningBot, alice: FakeUser, database_url: str
) -> None:
    walk_id = await ready_walk(alice, database_url, "2x60/60")
    theme = {"bg_color": "#17212b", "text_color": "#f5f5f5", "button_color": "#5288c1"}
    context, page = await open_live(browser, bot, alice, walk_id, theme=theme)
    await start_on_page(page)
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 33, 43)"  # Telegram's theme colours
    assert (await recorded(page))["ready"] == 1 and (await recorded(page))["expanded"] == 1
    await expect(page.locator("#chat-line")).to_contain_text("resting", timeout=WAIT_MS)
    # Leaving the page (closing the Mini App, navigating away) fires pagehide; the page then
    # says "hidden" with a keepalive request, which the browser delivers after the page is gone.
    await page.evaluate("window.dispatchEvent(new PageTransitionEvent('pagehide'))")
    await alice.wait_for_text("Live screen closed", timeout=10)
    last = fetches(await recorded(page), "/heartbeat")[-1]
    assert last["body"] == {"visible": False} and last["keepalive"]
    await context.close()


async def test_forged_or_expired_init_data_and_another_persons_walk_are_refused(
    browser: Browser,
    bot: RunningBot,
    alice: FakeUser,
    api: FakeBotApi,
    database_url: str,
) -> None:
    walk_id = await ready_walk(alice, database_url, "2x60/60")
    refused = "I couldn't check it's you"
    now = datetime.now(UTC)
    forged = init_data(alice.id, at=now, token="123456789:not-the-bot-token")
    context, page = await open_live(browser, bot, alice, walk_id, init=forged)
    await expect(page.locator("#message-text")).to_contain_text(refused, timeout=WAIT_MS)
    assert fetches(await recorded(page), f"/walk/{walk_id}")[0]["status"] == 401
    await context.close()

    expired = init_data(alice.id, at=now - timedelta(days=2))
    context, page = await open_live(browser, bot, alice, walk_id, init=expired)
    await expect(page.locator("#message-text")).to_contain_text(refused, timeout=WAIT_MS)
    await context.close()

    bob = api.user("Bob")
    context, page = await open_live(browser, bot, bob, walk_id)
    await expect(page.locator("#message-text")).to_contain_text("isn't yours", timeout=WAIT_MS)
    status = await page.evaluate(
        """async ([walk, init]) => {
            const reply = await fetch(`api/walk/${walk}/control`, {
                method: "POST",
                headers: {Authorization: `tma ${init}`, "Content-Type": "application/json"},
                body: JSON.stringify({action: "start"}),
            });
            return reply.status;
        }""",
        [walk_id, signed_as(bob.id)],
    )
    assert status == 403
    assert walk_of(database_url, alice)["status"] == "ready"  # nothing changed
    await context.close()
