"""The live-walk page's own cues, on Playwright's clock: a whole walk in a second or two."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.browser.fake_site import ORIGIN, FakeSite
from tests.browser.live import TONE_KINDS, WAIT_MS, init_data, phone, plan_from, recorded
from walkbot.domain.walks import WalkPlan
from walkbot.sandbox import TEST_TOKEN

pytestmark = [pytest.mark.browser]

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


def tones(record: dict[str, Any]) -> list[tuple[float, str]]:
    """The first oscillator of each tone, by kind (finish is the rising three from 660 Hz,
    told from a switch by its 880 Hz second note)."""
    found: list[tuple[float, str]] = []
    raw = record["tones"]
    i = 0
    while i < len(raw):
        kind = TONE_KINDS[raw[i]["frequency"]]
        size = {"switch": 2, "warning": 2, "count": 1}[kind]
        if kind == "switch" and i + 1 < len(raw) and raw[i + 1]["frequency"] == 880:
            kind, size = "finish", 3
        found.append((raw[i]["at"], kind))
        i += size
    return found


async def test_a_whole_walk_cues_in_order_at_the_planned_times(browser: Browser) -> None:
    site = FakeSite(PLAN)
    context = await phone(browser, init_data(TEST_TOKEN, 42), 42)
    await site.install(context)
    page = await context.new_page()
    await page.clock.install(time=datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    await page.goto(f"{ORIGIN}/live/?walk=1")
    await expect(page.locator("#start")).to_be_visible(timeout=WAIT_MS)
    await page.clock.pause_at(datetime(2026, 12, 6, 9, 1, tzinfo=UTC))
    await page.locator("#start").click()
    await expect(page.locator("#phase-word")).to_have_text("BACKWARD", timeout=WAIT_MS)
    await page.clock.run_for(PLAN.total_s * 1000 + 500)

    record = await recorded(page)
    plan = plan_from(record)
    speech = [(s["at"], s["text"]) for s in record["speech"]]
    assert [text for _, text in speech] == [text for _, text in EXPECTED_SPEECH]
    assert {s["lang"] for s in record["speech"]} == {"en-GB"}
    late = [at - plan.at(offset) for (at, _), (offset, _) in zip(speech, EXPECTED_SPEECH, strict=True)]
    assert all(0 <= ms <= 1 for ms in late), late
    got = tones(record)
    assert [kind for _, kind in got] == [kind for _, kind in EXPECTED_TONES]
    tone_late = [at - plan.at(offset) for (at, _), (offset, _) in zip(got, EXPECTED_TONES, strict=True)]
    assert all(0 <= ms <= 1 for ms in tone_late), tone_late
    assert [h["kind"] for h in record["haptics"]] == ["warning"] * 4 + ["success"]
    await context.close()
