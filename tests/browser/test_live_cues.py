"""The live-walk page's own cues, on Playwright's clock: a whole walk in a second or two,
served by walkbot's real web app (the walk made in the chat, started on the page).

`WALKBOT_LIVE_SCREENSHOT=docs/live-screen.png` also saves the phone-sized screenshot the README
shows (8 s left of a forward part)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, expect

from tests.browser.live import (
    WAIT_MS,
    fetches,
    phone_page,
    plan_from,
    ready_walk,
    recorded,
    start_on_page,
    tones,
)
from walkbot.domain.walks import WalkPlan
from walkbot.sandbox import FakeUser
from walkbot.sandbox.embedded import RunningBot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

# 2 x (10 s backward + 45 s forward): the forward phases are long enough for the 10 s warning
# (as the chat's heads-up), and the halfway note falls on round 2's backward start.
PLAN = WalkPlan(warmup_s=0, rounds=2, backward_s=10, forward_s=45, cooldown_s=0)
EXPECTED_SPEECH = [
    (0, "Let's go: walk backward for 10 seconds."),
    (10, "Turn around: walk forward for 45 seconds."),
    (55, "Turn around: walk backward for 10 seconds. Halfway there. Last round!"),
    (65, "Turn around: walk forward for 45 seconds."),
    (110, "Well done! That's your walk complete: 20 seconds backward. Take it easy now."),
]
EXPECTED_TONES = sorted(
    [(s, "switch") for s in (0, 10, 55, 65)]
    + [(45, "warning")]
    + [(end - left, "count") for end in (10, 55, 65, 110) for left in (3, 2, 1)]
    + [(110, "finish")]
)


async def test_a_whole_walk_cues_in_order_at_the_planned_times(
    browser: Browser, bot: RunningBot, alice: FakeUser, database_url: str
) -> None:
    walk_id = await ready_walk(alice, database_url, "2x10/45")
    context, page = await phone_page(browser, alice)
    # The phone's clock is Playwright's, far from the server's: the page must go by the skew.
    await page.clock.install(time=datetime(2026, 1, 1, 9, 0, tzinfo=UTC))
    await page.goto(f"{bot.web_url}/live/?walk={walk_id}")
    await expect(page.locator("#start")).to_be_visible(timeout=WAIT_MS)
    await page.clock.pause_at(datetime(2026, 1, 1, 9, 1, tzinfo=UTC))
    await start_on_page(page)
    await page.clock.run_for(47_000)  # 8 s left of round 1's forward part
    await expect(page.locator("#seconds-left")).to_have_text("8")
    await expect(page.locator("#next-line")).to_have_text("Next: backward for 10 s")
    if shot := os.environ.get("WALKBOT_LIVE_SCREENSHOT"):
        await page.screenshot(path=shot)
    await page.clock.run_for((PLAN.total_s - 47) * 1000 + 500)

    record = await recorded(page)
    plan = plan_from(record)
    assert plan.total_s == PLAN.total_s
    speech = [(s["at"], s["text"]) for s in record["speech"]]
    assert [text for _, text in speech] == [text for _, text in EXPECTED_SPEECH]
    assert {s["lang"] for s in record["speech"]} == {"en-GB"}
    assert record["primed"] == 1  # speech unlocked by the Start tap itself (iOS)
    got = tones(record)
    assert [kind for _, kind in got] == [kind for _, kind in EXPECTED_TONES]
    # Lateness against the plan, on the page's clock. The first cue is played when the Start
    # reply arrives, so it is as late as the server took to answer (the fake clock stands
    # still meanwhile, so that is all of it). Every later one comes from a timer set for it:
    # within a millisecond (the page's clock and Date.parse keep whole milliseconds, the
    # server's times have microseconds).
    (start,) = [f for f in fetches(record, "/control") if f["body"] == {"action": "start"}]
    cues = list(zip(speech, EXPECTED_SPEECH, strict=True))
    cues += list(zip(got, EXPECTED_TONES, strict=True))
    assert {at for (at, _), (offset, _) in cues if offset == 0} == {start["received"]}
    late = [at - plan.at(offset) for (at, _), (offset, _) in cues if offset > 0]
    assert all(abs(ms) <= 1 for ms in late), late
    assert [h["kind"] for h in record["haptics"]] == ["warning"] * 4 + ["success"]
    beats = [f["body"] for f in fetches(record, "/heartbeat")]
    assert beats and all(beat == {"visible": True} for beat in beats)
    assert len(beats) >= PLAN.total_s // 2  # every 2 s while visible and active
    await context.close()
