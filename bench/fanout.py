"""Nudge fan-out under Telegram's ~30 msg/s: run by hand, figures go to docs/performance.md.

    .venv/bin/python -m bench.fanout --users 1000 [--db sqlite|postgresql] [--interval 2]
                                     [--background 1000000 --inactive-share 0.25]
                                     [--inject-429-at 10]

Seeds N onboarded people whose nudges fell due within the last minute (bench.seed.due_plan),
optionally among many more who are not due (some blocked), starts the fake Bot API
here with Telegram-like limits (30 msg/s overall, a burst of 3/s per chat: walkbot.sandbox.Limits)
and runs `walkbot run` as a separate process against it, with the production rate limiter and a
short dispatch interval. While the nudges go out, one more person sends /help every 0.5 s; the
reply latency is the fake server's receive time of the answer minus the moment /help was queued.

It waits until every seeded person has had a nudge (or the timeout), then a few dispatch
intervals more to catch late duplicates, and reports: fan-out time (first to last nudge)
against the ideal N/30 s, delivery efficiency (ideal / actual), 429s the fake server sent,
duplicates and missing (both must be 0), rows still due in the database afterwards, and /help
p50/p95/max for the requests sent between the first and the last nudge.

--inject-429-at S makes the fake server refuse one sendMessage with a 429 (retry_after 1) S
seconds after the bot is ready, to see whether the fan-out recovers from one flood-control
answer; --help-every sets how chatty the /help person is.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.seed import bench_database, due_plan, future_plan, seed
from bench.startup import cpu_seconds, proc_status
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, FakeUser, Limits
from walkbot.scheduling.dispatch import RATE as DISPATCH_RATE
from walkbot.store.db import sync_url

RATE = 30.0  # Telegram's documented broadcast limit, msg/s per token
ASKER_ID = 4_999_999_999  # not a seeded id; never due a nudge


@dataclass
class Tally:
    """Successful sendMessage calls per seeded chat, read incrementally from api.calls."""

    ids: range
    per_chat: Counter[int] = field(default_factory=Counter)
    times: list[float] = field(default_factory=list)  # fake-server receive times, monotonic
    seen: int = 0

    def update(self, api: FakeBotApi) -> int:
        calls = api.calls
        for call in calls[self.seen :]:
            if call.method != "sendMessage" or call.status != 200:
                continue
            chat = int(call.params.get("chat_id", 0))
            if chat in self.ids:
                self.per_chat[chat] += 1
                self.times.append(call.received_at)
        self.seen = len(calls)
        return len(self.per_chat)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def ask_help(asker: FakeUser, every: float, stop: asyncio.Event, asked: list[float]) -> None:
    """/help on a fixed schedule (every `every` s), whatever the event loop is doing."""
    start = time.monotonic()
    for k in itertools.count():
        delay = start + k * every - time.monotonic()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            return
        asked.append(time.monotonic())
        asker.send("/help")


def still_due(database_url: str, due_at: datetime) -> tuple[int, int]:
    """Rows whose nudge is still at or before the seeded instant, and failed deliveries."""
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            stamp: object = due_at.astimezone(UTC).replace(tzinfo=None)
        else:
            stamp = due_at
        due = connection.execute(
            text("SELECT count(*) FROM users WHERE next_nudge_at <= :at"), {"at": stamp}
        ).scalar_one()
        failed = connection.execute(text("SELECT count(*) FROM failed_deliveries")).scalar_one()
    engine.dispose()
    return int(due), int(failed)


async def run(
    kind: str,
    users: int,
    interval: float,
    help_every: float,
    timeout: float,
    background: int,
    inactive_share: float,
    inject_429_at: float | None,
) -> None:
    workdir = Path(tempfile.gettempdir()) / "walkbot-bench"
    workdir.mkdir(exist_ok=True)
    log_path = workdir / f"fanout-bot-{kind}-{users}.log"
    database_url = bench_database(kind)
    due_at = datetime.now(UTC)
    ids = seed(database_url, users, due_plan(due_at))
    if background:
        # People not due (some blocked) around them: the claim queries must not scan them.
        later = future_plan(due_at, inactive_share=inactive_share)
        seed(database_url, background, later, first_id=ids.stop)
    tally = Tally(ids)
    asked: list[float] = []
    async with FakeBotApi(limits=Limits()) as api:
        asker = api.user("Asker", user_id=ASKER_ID)
        # Waiting when the bot starts, so its first getUpdates returns at once (a long poll with
        # nothing to fetch would hide the ready moment for 10 s); this answer is not counted.
        asker.send("/help")
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_URL": database_url,
            "DISPATCH_INTERVAL_SECONDS": str(interval),
            "LOG_LEVEL": "WARNING",
        }
        with log_path.open("wb") as log:
            spawned = time.monotonic()
            bot = subprocess.Popen(
                [sys.executable, "-m", "walkbot", "run"],
                env=env,
                cwd=tempfile.gettempdir(),
                stdout=log,
                stderr=log,
            )
            stop = asyncio.Event()
            asking: asyncio.Task[None] | None = None
            try:
                ready = await api.wait_for(lambda c: c.method == "getUpdates", timeout=120)
                await asker.next_message(timeout=30)
                asking = asyncio.create_task(ask_help(asker, help_every, stop, asked))
                cpu_start = cpu_seconds(bot.pid)
                deadline = time.monotonic() + timeout
                last_report = time.monotonic()
                inject_at = None if inject_429_at is None else time.monotonic() + inject_429_at
                while tally.update(api) < users and time.monotonic() < deadline:
                    if inject_at is not None and time.monotonic() >= inject_at:
                        inject_at = None  # one 429, as one burst of jitter would cause
                        api.fail_next("sendMessage", status=429, retry_after=1)
                        print(f"  one 429 injected at {len(tally.per_chat):,} nudged", flush=True)
                    if bot.poll() is not None:
                        raise RuntimeError(f"the bot exited ({bot.returncode}); see {log_path}")
                    if time.monotonic() - last_report >= 30:
                        last_report = time.monotonic()
                        print(f"  {len(tally.per_chat):,}/{users:,} nudged", flush=True)
                    await asyncio.sleep(0.5)
                # A few more ticks: a row claimed twice would show up now.
                await asyncio.sleep(max(3.0, 3 * interval))
                tally.update(api)
                stop.set()
                await asking
                await asyncio.sleep(2)  # the last /help answers
                cpu_s = cpu_seconds(bot.pid) - cpu_start
                rss_kib = proc_status(bot.pid)["VmRSS"]
            finally:
                stop.set()
                if asking is not None and not asking.done():
                    asking.cancel()
                bot.terminate()
                try:
                    await asyncio.to_thread(bot.wait, 60)
                except subprocess.TimeoutExpired:
                    bot.kill()
                    await asyncio.to_thread(bot.wait, 10)
        due, failed = still_due(database_url, due_at)
        replies = [
            c.received_at
            for c in api.calls
            if c.method == "sendMessage" and c.status == 200 and c.params.get("chat_id") == ASKER_ID
        ][1:]  # the first answers the /help sent before start-up
        print(
            f"{kind}: {users:,} due nudges among {users + background:,} people"
            + (f" ({inactive_share:.0%} of the others blocked)" if background else "")
        )
        refused = [c for c in api.calls if c.status == 429]
        if refused:
            first = refused[0]
            whom = "the /help asker" if first.params.get("chat_id") == ASKER_ID else "a nudge"
            started = tally.times[0] if tally.times else spawned
            print(
                f"first 429: {first.method} to {whom}, {first.received_at - started:.1f} s "
                f"after the first nudge; to the asker: "
                f"{sum(1 for c in refused if c.params.get('chat_id') == ASKER_ID)}"
            )
        report(
            kind=kind,
            users=users,
            interval=interval,
            tally=tally,
            asked=asked,
            replies=replies,
            ready_at=ready.received_at - spawned,
            spawned=spawned,
            too_many=api.stats.too_many_requests,
            due=due,
            failed=failed,
            cpu_s=cpu_s,
            rss_kib=rss_kib,
        )


def report(
    *,
    kind: str,
    users: int,
    interval: float,
    tally: Tally,
    asked: list[float],
    replies: list[float],
    ready_at: float,
    spawned: float,
    too_many: int,
    due: int,
    failed: int,
    cpu_s: float,
    rss_kib: int,
) -> None:
    delivered = len(tally.per_chat)
    duplicates = sum(n - 1 for n in tally.per_chat.values() if n > 1)
    missing = users - delivered
    times = sorted(tally.times)
    ideal = users / RATE
    print(
        f"{kind}, {users:,} due nudges, dispatch interval {interval:g} s, "
        f"fake server limits {RATE:g}/s overall"
    )
    if not times:
        print("no nudges were delivered: is the dispatcher running?")
    else:
        first, last = times[0] - spawned, times[-1] - spawned
        span = times[-1] - times[0]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        # Throughput in whole seconds from the first nudge on, to see the steady rate.
        per_second = Counter(int(t - times[0]) for t in times)
        steady = [per_second[s] for s in range(1, max(per_second))] or [len(times)]
        print(
            f"bot ready {ready_at:.2f} s after spawn; first nudge at {first:.2f} s, "
            f"last at {last:.2f} s"
        )
        print(
            f"fan-out {span:.1f} s (first to last nudge) vs ideal {ideal:.1f} s: "
            f"efficiency {ideal / max(span, 1e-9):.2f}; from ready {last - ready_at:.1f} s "
            f"(efficiency {ideal / (last - ready_at):.2f})"
        )
        print(
            f"against the dispatcher's own pace of {DISPATCH_RATE:g}/s "
            f"(walkbot.scheduling.dispatch.RATE): {users / DISPATCH_RATE:.1f} s, "
            f"efficiency {users / DISPATCH_RATE / max(span, 1e-9):.2f}"
        )
        windows = Counter(int((t - times[0]) // 30) for t in times)
        print(
            "msg/s per 30 s window: "
            + " ".join(f"{windows[w] / 30:.0f}" for w in range(max(windows) + 1))
        )
        print(
            f"rate msg/s over whole seconds: median {statistics.median(steady):.0f}, "
            f"min {min(steady)}, max {max(steady)}; longest gap between nudges {max(gaps or [0]):.2f} s"
        )
    print(
        f"delivered {delivered:,}, duplicates {duplicates}, missing {missing}, "
        f"429s received {too_many}, rows still due {due}, failed_deliveries {failed}"
    )
    if times:
        window = [
            (a, r) for a, r in zip(asked, replies, strict=False) if times[0] <= a <= times[-1]
        ]
        latencies = [r - a for a, r in window]
        if latencies:
            print(
                f"/help during the fan-out: {len(latencies)} asked, answered "
                f"p50 {percentile(latencies, 0.5):.3f} s, p95 {percentile(latencies, 0.95):.3f} s, "
                f"max {max(latencies):.3f} s"
            )
    spacing = (asked[-1] - asked[0]) / max(1, len(asked) - 1) if asked else 0.0
    print(f"/help asked {len(asked)} (every {spacing:.2f} s), answered {len(replies)}")
    print(f"bot process during the fan-out: {cpu_s:.1f} CPU s, {rss_kib / 1024:.0f} MiB resident")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--interval", type=float, default=2.0, help="dispatch interval, s")
    parser.add_argument("--help-every", type=float, default=0.5)
    parser.add_argument("--timeout", type=float, default=None, help="default 3 x N/30 + 120 s")
    parser.add_argument("--background", type=int, default=0, help="people not due, e.g. 1000000")
    parser.add_argument("--inactive-share", type=float, default=0.0, help="of the background")
    parser.add_argument(
        "--inject-429-at", type=float, default=None, help="s after ready: one 429 (retry 1 s)"
    )
    args = parser.parse_args()
    timeout = args.timeout or 3 * args.users / RATE + 120
    started = time.monotonic()
    asyncio.run(
        run(
            args.db,
            args.users,
            args.interval,
            args.help_every,
            timeout,
            args.background,
            args.inactive_share,
            args.inject_429_at,
        )
    )
    print(f"bench took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
