"""Cue lateness with many simultaneous walks: run by hand, figures go to docs/performance.md.

    .venv/bin/python -m bench.cue_latency --walks 300 --plan 3x10/10 [--no-limits] [--due 3000]
        [--live 150]

Starts the fake Bot API here (Telegram-like limits on unless --no-limits), runs `walkbot run`
as a separate process against it, seeds onboarded people, has each send /walk and tap Start,
and compares when the fake server received every cue with when the timeline planned it.
--due N also seeds N people whose reminder is due as the bot starts, so the walks run during a
nudge fan-out (the dispatcher's sends are background: cues should not wait behind them).
--live N gives the first N people a live screen (issue 12): they Start from the screen's API
(initData signed with the test token) and it says "visible" every 2 s for the whole walk, as
the page does, so their chat cues are held; the rest walk in the chat only. Chat-cue lateness
is reported for the chat-only walks; for the live ones, the chat messages that still went
(the finish, never held) and the heartbeats' round-trip times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
from sqlalchemy import create_engine, text

from bench.seed import due_plan
from bench.seed import seed as seed_due
from walkbot.domain import walks as domain
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, FakeUser, Limits
from walkbot.store.db import sync_url
from walkbot.store.migrate import upgrade
from walkbot.webapp.initdata import sign

WEBAPP_URL = "https://example.org/live/"
BEAT_S = 2.0  # the page's heartbeat period (LIVE_CONTRACT.md)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def init_data(user_id: int) -> str:
    fields = {
        "user": json.dumps({"id": user_id, "first_name": "Walker"}),
        "auth_date": str(int(time.time())),
    }
    return urlencode({**fields, "hash": sign(fields, TEST_TOKEN)}, quote_via=quote)


async def live_screen(
    http: httpx.AsyncClient,
    user_id: int,
    walk_id: int,
    rtts: list[float],
    errors: list[str],
    seed: int,
) -> None:
    """Start from the screen, then "visible" every 2 s until the walk is over (as the page)."""
    headers = {"Authorization": f"tma {init_data(user_id)}"}
    api = f"/live/api/walk/{walk_id}"
    for attempt in range(3):  # a page retries a Start that got no answer
        try:
            response = await http.post(f"{api}/control", json={"action": "start"}, headers=headers)
            break
        except httpx.TransportError:
            errors.append("start")
            if attempt == 2:
                raise
    response.raise_for_status()
    await asyncio.sleep(random.Random(seed).uniform(0, BEAT_S))  # pages are not in step
    while True:
        sent = time.monotonic()
        try:
            beat = await http.post(f"{api}/heartbeat", json={"visible": True}, headers=headers)
        except httpx.TransportError:  # as the page does: the next beat tries again
            errors.append("heartbeat")
            await asyncio.sleep(BEAT_S)
            continue
        rtts.append(time.monotonic() - sent)
        if not beat.json()["hold_chat_cues"]:
            return  # the walk is over
        await asyncio.sleep(max(0.0, BEAT_S - (time.monotonic() - sent)))


def seed(database_url: str, user_ids: list[int]) -> None:
    engine = create_engine(sync_url(database_url))
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        for user_id in user_ids:
            connection.execute(
                text(
                    "INSERT INTO users (telegram_id, first_name, consented_at, screening, "
                    "timezone, reminder_days, reminder_time, summary_day, summary_time, units, "
                    "level, active, created_at, updated_at) VALUES (:id, 'Walker', :now, '{}', "
                    "'Europe/London', 21, '08:00:00', 6, '18:00:00', 'km', 1, true, :now, :now)"
                ),
                {"id": user_id, "now": now},
            )
    engine.dispose()


def walk_starts(database_url: str) -> dict[int, datetime]:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT user_id, started_at FROM walks")).all()
    engine.dispose()
    starts = {}
    for user_id, started in rows:
        value = (
            datetime.fromisoformat(str(started)) if not isinstance(started, datetime) else started
        )
        starts[int(user_id)] = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return starts


def process_usage(pid: int) -> tuple[float, int]:
    """CPU seconds used and resident memory in KiB, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS")
    )
    return cpu, rss


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(walks: int, plan_text: str, limits: bool, due: int, live: int) -> None:
    plan = domain.parse_custom_plan(plan_text)
    workdir = Path(tempfile.mkdtemp(prefix="walkbot-bench-"))
    database_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.db'}")
    upgrade(database_url)
    rtts: list[float] = []
    errors: list[str] = []
    async with FakeBotApi(limits=Limits() if limits else None) as api:
        people = [api.user(f"W{i}") for i in range(walks)]
        seed(database_url, [p.id for p in people])
        nudged = seed_due(database_url, due, due_plan(datetime.now(UTC))) if due else range(0)
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
            "PORT": str(port := free_port()),
            "WEBAPP_URL": WEBAPP_URL,
        }
        bot = subprocess.Popen([sys.executable, "-m", "walkbot", "run"], env=env)
        try:
            await api.wait_for(lambda c: c.method == "getUpdates", timeout=30)
            cpu_before, _ = process_usage(bot.pid)
            for person in people:
                person.send(f"/walk {plan_text}")
            cards = [await p.wait_for_text("Before you start", timeout=120) for p in people]
            http = httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                timeout=60,
                limits=httpx.Limits(max_connections=live + 10),
            )
            screens = []
            for index, (person, card) in enumerate(zip(people, cards, strict=True)):
                if index < live:
                    walk_id = int(card.buttons[-1][0].web_app["url"].rsplit("=", 1)[1])  # type: ignore[index]
                    screens.append(live_screen(http, person.id, walk_id, rtts, errors, index))
                else:
                    person.tap("Start", message=card)
            screening = asyncio.gather(*screens)
            finishes = [
                p.wait_for_text("How hard did that feel", timeout=plan.total_s + 180)
                for p in people
            ]
            await asyncio.gather(*finishes)
            await screening
            await http.aclose()
            cpu_after, rss = process_usage(bot.pid)
        finally:
            bot.terminate()
            await asyncio.to_thread(bot.wait, 30)
        starts = walk_starts(database_url)
        report(api, people[live:], starts, plan, cpu_after - cpu_before, rss, limits)
        if live:
            report_live(api, people[:live], starts, rtts, errors)
        if due:
            sent = [
                c.wall
                for c in api.calls
                if c.method == "sendMessage"
                and c.status == 200
                and c.params.get("chat_id") in nudged
            ]
            print(f"nudges due at start {due:,}: {len(sent):,} sent by the time the walks ended")


def report(
    api: FakeBotApi,
    people: list[FakeUser],
    starts: dict[int, datetime],
    plan: domain.WalkPlan,
    cpu_s: float,
    rss_kib: int,
    limits: bool,
) -> None:
    lateness: list[float] = []
    lost = 0
    if not people:
        print(f"chat-only walks: none; bot process: {cpu_s:.1f} CPU s, {rss_kib / 1024:.0f} MiB")
        return
    for person in people:
        timeline = domain.build_timeline(plan, starts[person.id])
        received = [
            c.wall
            for c in api.calls
            if c.method == "sendMessage"
            and c.status == 200
            and c.params.get("chat_id") == person.id
            and c.wall >= starts[person.id]
            and "How hard" not in str(c.params.get("text"))
        ]
        lost += max(0, len(timeline.cues) - len(received))
        for cue, wall in zip(timeline.cues, received, strict=False):
            lateness.append((wall - cue.at).total_seconds())
    print(f"limits {'on' if limits else 'off'}: {len(people)} chat-only walks of {plan.describe()}")
    print(f"cues {len(lateness)}, lost {lost}, 429s received {api.stats.too_many_requests}")
    print(
        f"lateness s: p50 {percentile(lateness, 0.5):.3f}  p95 {percentile(lateness, 0.95):.3f}  p99 {percentile(lateness, 0.99):.3f}  max {max(lateness):.3f}  mean {statistics.fmean(lateness):.3f}"
    )
    print(f"bot process: {cpu_s:.1f} CPU s, {rss_kib / 1024:.0f} MiB resident")


def report_live(
    api: FakeBotApi,
    people: list[FakeUser],
    starts: dict[int, datetime],
    rtts: list[float],
    errors: list[str],
) -> None:
    """What the chat still got during walks with a live screen, and the heartbeats' cost."""
    ids = {p.id for p in people}
    texts = [
        str(c.params.get("text"))
        for c in api.calls
        if c.method == "sendMessage"
        and c.status == 200
        and c.params.get("chat_id") in ids
        and c.wall >= starts[int(c.params["chat_id"])]
    ]
    held = sum(1 for t in texts if "BACKWARD for" in t or "Forward again" in t)
    handovers = sum(1 for t in texts if "Live screen closed" in t)
    print(
        f"live screens {len(people)}: chat cues sent {held} (held: all but the finish), "
        f"hand-overs {handovers}, chat messages {len(texts)} "
        f"({len(texts) / max(1, len(people)):.1f} a walk: the finish and the rating question)"
    )
    if rtts:
        print(
            f"heartbeats {len(rtts)}: round trip p50 {percentile(rtts, 0.5) * 1000:.0f} ms  "
            f"p95 {percentile(rtts, 0.95) * 1000:.0f} ms  max {max(rtts) * 1000:.0f} ms; "
            f"connection errors {len(errors)} (retried)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--walks", type=int, default=300)
    parser.add_argument("--plan", default="3x10/10")
    parser.add_argument("--no-limits", action="store_true")
    parser.add_argument("--due", type=int, default=0, help="reminders due at start (a fan-out)")
    parser.add_argument("--live", type=int, default=0, help="walks with a live screen reporting")
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(
        run(args.walks, args.plan, not args.no_limits, args.due, min(args.live, args.walks))
    )
    print(f"bench took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
