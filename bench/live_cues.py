"""The live page's own cue lateness on the real clock (issue 12).

The browser test (tests/browser/test_live_cues.py) runs a whole walk on Playwright's fake
clock, where every timer fires exactly on time; this runs the same page in real time in
Debian's headless chromium, against a stand-in API (bench/live_site.py) so that only the page
is measured: each spoken cue and each tone is recorded with the page's Date.now() when the page
asks for it (speechSynthesis.speak, oscillator.start), and compared with its planned instant
(the walk's ends_at from the Start reply, on the system clock: the stand-in's clock is the
system clock plus a known skew, which the page must estimate). The first cue, played on the Start reply, is left out: the stand-in answers at
once, and with walkbot it is as late as the Start request's round trip.

    python -m bench.live_cues [--plan 2x10/45] [--pages 1] [--busy 0]

`--pages N` runs N live screens at once in one browser (each its own walk); `--busy N`
starts N busy-looping processes beside it, to see what a loaded phone does to the timers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

from playwright.async_api import Browser, async_playwright, expect

from bench.live_site import ORIGIN, FakeSite
from tests.browser.live import Plan, launch, phone, recorded, signed_as, tones
from walkbot.domain.walks import WalkPlan, parse_custom_plan, phase_starts


async def one_walk(browser: Browser, plan_text: str, index: int) -> list[float]:
    plan = parse_custom_plan(plan_text)
    site = FakeSite(plan)
    context = await phone(browser, signed_as(1000 + index), 1000 + index)
    await site.install(context)
    page = await context.new_page()
    await page.goto(f"{ORIGIN}/live/?walk=1")
    await expect(page.locator("#start")).to_be_visible(timeout=30_000)
    await page.locator("#start").click()
    await expect(page.locator("#live")).to_be_visible(timeout=30_000)
    await asyncio.sleep(plan.total_s + 2)
    record: dict[str, Any] = await recorded(page)
    await context.close()
    # The stand-in's clock is the system clock plus its skew, and the page's Date.now() is the
    # system clock (no fake clock here): so the true plan on the page's clock is known, and the
    # page's own estimate of the skew (from the middle of its Start request) is measured too.
    start = next(f for f in record["fetches"] if f["url"].endswith("/control"))
    ends_at = _ms(start["reply"]["walk"]["ends_at"]) - site.skew.total_seconds() * 1000
    walk = Plan(ends_at_ms=ends_at, total_s=plan.total_s)
    offsets = _expected_offsets(plan)
    speech = [s["at"] for s in record["speech"]]
    toned = [at for at, _ in tones(record)]
    assert len(speech) == len(offsets["speech"]), (len(speech), offsets["speech"])
    assert len(toned) == len(offsets["tones"]), (len(toned), offsets["tones"])
    pairs = list(zip(speech, offsets["speech"], strict=True))
    pairs += list(zip(toned, offsets["tones"], strict=True))
    return [at - walk.at(offset) for at, offset in pairs if offset > 0]


def _ms(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp() * 1000


def _expected_offsets(plan: WalkPlan) -> dict[str, list[int]]:
    """The page's cues (walkbot/webapp/static/live.js buildEvents), in time order."""
    phases, starts = plan.phases(), phase_starts(plan)
    speech = [*starts, plan.total_s]
    tone_list: list[int] = []
    for i, phase in enumerate(phases):
        start, end = starts[i], starts[i] + phase.duration_s
        tone_list.append(start)
        following = phases[i + 1] if i + 1 < len(phases) else None
        turns = following is not None and (following.kind == "backward") != (
            phase.kind == "backward"
        )
        if following is not None and phase.duration_s >= 45 and turns:
            tone_list.append(end - 10)
        tone_list += [end - left for left in (3, 2, 1) if phase.duration_s > left]
    tone_list.append(plan.total_s)
    return {"speech": speech, "tones": sorted(tone_list)}


async def main(plan: str, pages: int) -> list[float]:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            results = await asyncio.gather(*(one_walk(browser, plan, i) for i in range(pages)))
        finally:
            await browser.close()
    return [ms for walk in results for ms in walk]


def report(late: list[float]) -> str:
    ordered = sorted(late)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    return (
        f"cues {len(ordered)}: lateness ms min {ordered[0]:.1f} p50 {statistics.median(ordered):.1f}"
        f" p95 {pct(0.95):.1f} p99 {pct(0.99):.1f} max {ordered[-1]:.1f}"
    )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", default="2x10/45")
    parser.add_argument("--pages", type=int, default=1)
    parser.add_argument("--busy", type=int, default=0)
    args = parser.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    began = time.monotonic()
    try:
        late = asyncio.run(main(args.plan, args.pages))
    finally:
        for process in busy:
            process.kill()
    print(
        f"plan {args.plan}, {args.pages} page(s), {args.busy} busy process(es), "
        f"{time.monotonic() - began:.0f} s"
    )
    print(report(late))


if __name__ == "__main__":
    cli()
