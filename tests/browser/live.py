"""Driving the live-walk page in headless Chromium: signed initData, the stubs, the plan.

Debian's `chromium` through Playwright's Python package (never Playwright's own download);
`.ci/run` installs chromium when it is missing, and the tests skip, saying so, without it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Playwright, ViewportSize, expect

from tests.e2e.rows import row_when
from tests.live_auth import init_data
from walkbot.sandbox import FakeUser
from walkbot.sandbox.embedded import RunningBot

STUBS = (Path(__file__).parent / "stubs.js").read_text()
PHONE: ViewportSize = {"width": 390, "height": 844}
TELEGRAM_SCRIPT = "https://telegram.org/**"
# Generous: these wait for a condition (an element, a reply), never for time to pass, so a
# slow machine only makes them slower. Nothing here is a sleep.
WAIT_MS = 30_000

# The page's tones (walkbot/webapp/static/live.js TONES), by their first frequency.
TONE_KINDS = {660: "switch", 440: "warning", 880: "count"}


def chromium_path() -> str | None:
    return shutil.which("chromium")


def signed_as(user_id: int) -> str:
    """initData for `user_id` as a client sends it now, with a field the server does not know
    (clients add fields; they are signed like the rest)."""
    return init_data(user_id, at=datetime.now(UTC), signature="a-field-the-server-does-not-know")


async def launch(playwright: Playwright) -> Browser:
    executable = chromium_path()
    assert executable is not None
    return await playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])


async def phone(
    browser: Browser, init: str, user_id: int, *, theme: dict[str, str] | None = None
) -> BrowserContext:
    """A phone-sized context with Telegram, speech and Web Audio stubbed; telegram.org is
    unreachable (the page must survive its script failing to load)."""
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, locale="en-GB")
    config = {"initData": init, "user": {"id": user_id}, "theme": theme or {}}
    await context.add_init_script(f"window.__stubConfig = {json.dumps(config)};\n{STUBS}")
    await context.route(TELEGRAM_SCRIPT, lambda route: route.abort())
    return context


async def recorded(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("window.__recorded")
    return result


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


@dataclass(frozen=True)
class Plan:
    """The page's view of a started walk: server instants mapped to the page's clock."""

    ends_at_ms: float  # the page's clock
    total_s: int

    def at(self, offset_s: float) -> float:
        return self.ends_at_ms - (self.total_s - offset_s) * 1000


def plan_from(record: dict[str, Any]) -> Plan:
    """From the page's Start request as the stub recorded it: the server's ends_at, mapped to
    the page's clock with the skew the page itself must have used."""
    start = next(
        f
        for f in record["fetches"]
        if f["url"].endswith("/control") and f["body"] == {"action": "start"}
    )
    walk = start["reply"]["walk"]
    skew = _ms(walk["server_now"]) - (start["sent"] + start["received"]) / 2
    return Plan(ends_at_ms=_ms(walk["ends_at"]) - skew, total_s=walk["total_s"])


def _ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000


# --- the real bot's side ----------------------------------------------------------------


async def ready_walk(user: FakeUser, database_url: str, plan: str) -> int:
    """/walk `plan` in the chat: the card with Start; the walk row's id."""
    user.send(f"/walk {plan}")
    await user.wait_for_text("Before you start")
    row = await row_when(database_url, "walks", user.id, lambda r: r.get("status") == "ready")
    walk_id = row["id"]
    assert isinstance(walk_id, int)
    return walk_id


async def phone_page(
    browser: Browser, user: FakeUser, *, init: str = "", theme: dict[str, str] | None = None
) -> tuple[BrowserContext, Page]:
    """A phone's page signed in as `user` (or with the initData given)."""
    context = await phone(browser, init or signed_as(user.id), user.id, theme=theme)
    return context, await context.new_page()


async def open_live(
    browser: Browser,
    bot: RunningBot,
    user: FakeUser,
    walk_id: int | None,
    *,
    init: str = "",
    theme: dict[str, str] | None = None,
) -> tuple[BrowserContext, Page]:
    """The live screen as the walk's button opens it (no walk: as the menu button does)."""
    context, page = await phone_page(browser, user, init=init, theme=theme)
    query = "" if walk_id is None else f"?walk={walk_id}"
    await page.goto(f"{bot.web_url}/live/{query}")
    return context, page


async def start_on_page(page: Page) -> None:
    await expect(page.locator("#start")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#safety-card")).to_contain_text("Before you start")
    await page.locator("#start").click()
    await expect(page.locator("#live")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("#phase-word")).to_have_text("BACKWARD")


def fetches(record: dict[str, Any], ending: str) -> list[dict[str, Any]]:
    return [f for f in record["fetches"] if f["url"].split("?")[0].endswith(ending)]
