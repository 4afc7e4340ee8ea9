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
the page does, so their chat cues are held; the rest walk in the chat only. The screens run in
a process of their own (bench/live_screens.py), tapping Start at the same moment as the chat
people tap theirs (--spread S spreads the screens' Starts over S seconds). Chat-cue lateness
is reported for the chat-only walks; for the live ones, the chat messages that still went
(the finish, never held), the hand-overs, and the heartbeats' and Starts' round trips with
the screens' own event-loop lag beside them. The bot's pid is printed for `py-spy`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.seed import due_plan
from bench.seed import seed as seed_due
from walkbot.domain import walks as domain
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, FakeUser, Limits
from walkbot.store.db import sync_url
from walkbot.store.migrate import upgrade

WEBAPP_URL = "https://example.org/live/"
BEAT_S = 2.0  # the page's heartbeat period (LIVE_CONTRACT.md)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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


async def run_screens(port: int, screens: list[tuple[int, int]], spread: float) -> dict[str, Any]:
    """bench/live_screens.py in its own process: what it measured."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.live_screens",
        "--port",
        str(port),
        "--spread",
        str(spread),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await child.communicate(json.dumps(screens).encode())
    if child.returncode != 0:
        raise RuntimeError(f"bench.live_screens failed ({child.returncode})")
    result: dict[str, Any] = json.loads(out)
    return result


async def run(
    walks: int, plan_text: str, limits: bool, due: int, live: int, spread: float = 0.0
) -> None:
    plan = domain.parse_custom_plan(plan_text)
    workdir = Path(tempfile.mkdtemp(prefix="walkbot-bench-"))
    database_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'bench.db'}")
    upgrade(database_url)
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
        print(f"bot process {bot.pid} (for py-spy)", flush=True)
        try:
            await api.wait_for(lambda c: c.method == "getUpdates", timeout=30)
            cpu_before, _ = process_usage(bot.pid)
            for person in people:
                person.send(f"/walk {plan_text}")
            cards = [await p.wait_for_text("Before you start", timeout=120) for p in people]
            screens: list[tuple[int, int]] = []
            for index, (person, card) in enumerate(zip(people, cards, strict=True)):
                if index < live:
                    walk_id = int(card.buttons[-1][0].web_app["url"].rsplit("=", 1)[1])  # type: ignore[index]
                    screens.append((person.id, walk_id))
            # The screens' clients run in a process of their own (bench/live_screens.py) and
            # tap Start together with the chat-only people below.
            screening = asyncio.create_task(run_screens(port, screens, spread)) if screens else None
            for person, card in list(zip(people, cards, strict=True))[live:]:
                person.tap("Start", message=card)
            finishes = [
                p.wait_for_text("How hard did that feel", timeout=plan.total_s + 180)
                for p in people
            ]
            await asyncio.gather(*finishes)
            tally = await screening if screening is not None else {}
            cpu_after, rss = process_usage(bot.pid)
        finally:
            bot.terminate()
            await asyncio.to_thread(bot.wait, 30)
        starts = walk_starts(database_url)
        report(api, people[live:], starts, plan, cpu_after - cpu_before, rss, limits)
        if live:
            report_live(api, people[:live], starts, tally)
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
    api: FakeBotApi, people: list[FakeUser], starts: dict[int, datetime], tally: dict[str, Any]
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
    for name, key in [
        ("heartbeats", "beats"),
        ("Starts from the screen", "starts"),
        ("gaps between one screen's beats", "gaps"),
        ("screens' process loop lag", "lag"),
    ]:
        values: list[float] = tally.get(key) or [0.0]
        print(
            f"{name} {len(values)}: p50 {percentile(values, 0.5) * 1000:.0f} ms  "
            f"p95 {percentile(values, 0.95) * 1000:.0f} ms  "
            f"p99 {percentile(values, 0.99) * 1000:.0f} ms  max {max(values) * 1000:.0f} ms"
        )
    print(f"connection errors {len(tally.get('errors', []))} (retried)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--walks", type=int, default=300)
    parser.add_argument("--plan", default="3x10/10")
    parser.add_argument("--no-limits", action="store_true")
    parser.add_argument("--due", type=int, default=0, help="reminders due at start (a fan-out)")
    parser.add_argument("--live", type=int, default=0, help="walks with a live screen reporting")
    parser.add_argument(
        "--spread", type=float, default=0.0, help="seconds over which the screens' Starts spread"
    )
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(
        run(
            args.walks,
            args.plan,
            not args.no_limits,
            args.due,
            min(args.live, args.walks),
            args.spread,
        )
    )
    print(f"bench took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
