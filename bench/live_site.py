"""A tiny stand-in for walkbot's live-screen API (the contract in docs/live-screen.md), served
through Playwright's routing, for bench/live_cues.py: the page's own cue timing with no bot,
database or network in the way. Its clock runs ahead of the phone's by `skew`, as a server's
may. The browser tests use walkbot's real web app instead."""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Route

from walkbot.domain.walks import WalkPlan, phase_starts

STATIC = Path(__file__).parents[1] / "walkbot" / "webapp" / "static"
ORIGIN = "https://walkbot.test"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


@dataclass
class FakeSite:
    plan: WalkPlan
    skew: timedelta = timedelta(hours=1, seconds=3.7)
    status: str = "ready"
    started_at: datetime | None = None
    actions: list[str] = field(default_factory=list)
    heartbeats: list[bool] = field(default_factory=list)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.skew

    def walk(self) -> dict[str, Any]:
        assert self.status in ("ready", "active")
        phases = [
            {"kind": p.kind, "round": p.round, "start_s": s, "duration_s": p.duration_s}
            for p, s in zip(self.plan.phases(), phase_starts(self.plan), strict=True)
        ]
        ends = self.started_at + timedelta(seconds=self.plan.total_s) if self.started_at else None
        return {
            "id": 1,
            "status": self.status,
            "server_now": _iso(self.now()),
            "started_at": _iso(self.started_at),
            "ends_at": _iso(ends),
            "paused_since": None,
            "paused_s": 0,
            "rounds": self.plan.rounds,
            "total_s": self.plan.total_s,
            "phases": phases,
            "end_reason": None,
            "rating_step": None,
            "safety_card": "Before you start:\n• Stop any time.",
            "summary": None,
        }

    async def install(self, context: BrowserContext) -> None:
        await context.route(f"{ORIGIN}/**", self._handle)

    async def _handle(self, route: Route) -> None:
        request = route.request
        path = request.url.removeprefix(ORIGIN).split("?")[0]
        if path == "/live/" or path.startswith("/live/static/"):
            name = "index.html" if path == "/live/" else path.rsplit("/", 1)[1]
            kind = mimetypes.guess_type(name)[0] or "text/plain"
            await route.fulfill(body=(STATIC / name).read_bytes(), content_type=kind)
            return
        body: dict[str, Any] = json.loads(request.post_data) if request.post_data else {}
        prefs = {"voice": True, "tones": True, "warning": True}
        if path.endswith("/control"):
            self.actions.append(body["action"])
            if body["action"] == "start":
                self.status, self.started_at = "active", self.now()
            reply: dict[str, Any] = {"walk": self.walk(), "message": None}
        elif path.endswith("/heartbeat"):
            self.heartbeats.append(body["visible"])
            reply = {"hold_chat_cues": body["visible"]}
        else:
            reply = {"walk": self.walk(), "prefs": prefs}
        await route.fulfill(json=reply)
