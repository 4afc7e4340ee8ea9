"""Start-up time and resident memory against the number of people: run by hand, figures go to
docs/performance.md.

    .venv/bin/python -m bench.startup [--db sqlite postgresql] [--users 1000 100000 1000000]
                                      [--runs 3] [--settle 3] [--inactive-share 0.25]

For each database and size: a fresh database (bench.seed) with that many onboarded people whose
next nudge and summary are in the future, then `walkbot run` as a separate process against the
fake Bot API served here. Ready is the bot's first getUpdates call (it polls only once start-up,
including restoring walks and the first dispatch tick, is done). Resident memory is VmRSS from
/proc a few seconds after ready (the time-zone city index is built in the background then);
VmHWM is the peak. A `/help` already waiting when the bot is spawned shows when it first
answers someone. Last, the cost of one dispatch tick that finds nothing due (what the bot pays
every dispatch_interval_seconds, and once per claimed batch during a fan-out) is timed in this
process through walkbot.scheduling.dispatch.dispatch_once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.seed import bench_database, future_plan, seed
from walkbot.sandbox import TEST_TOKEN, FakeBotApi
from walkbot.store.db import sync_url


@dataclass
class Sample:
    ready_s: float
    answered_s: float  # spawn to the reply to a /help sent at ready
    rss_kib: int
    hwm_kib: int
    cpu_s: float


def proc_status(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_start(database_url: str, settle_s: float, log_path: Path) -> Sample:
    forget_updates(database_url)  # each fake server numbers its updates from 1
    async with FakeBotApi() as api:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "WARNING",
        }
        probe = api.user("Probe")
        probe.send("/help")  # waiting when the bot starts: answered once it handles updates
        with log_path.open("ab") as log:
            spawned = time.monotonic()
            bot = subprocess.Popen(
                [sys.executable, "-m", "walkbot", "run"],
                env=env,
                cwd=tempfile.gettempdir(),  # no stray .env
                stdout=log,
                stderr=log,
            )
            try:
                ready = await api.wait_for(lambda c: c.method == "getUpdates", timeout=300)
                answer = await api.wait_for(
                    lambda c: (
                        c.method == "sendMessage"
                        and c.status == 200
                        and c.params.get("chat_id") == probe.id
                    ),
                    timeout=60,
                )
                await asyncio.sleep(settle_s)
                status, cpu = proc_status(bot.pid), cpu_seconds(bot.pid)
            finally:
                bot.terminate()
                try:
                    await asyncio.to_thread(bot.wait, 5)
                except subprocess.TimeoutExpired:
                    # Not measured here: PTB's last getUpdates against the fake can take 20 s.
                    bot.kill()
                    await asyncio.to_thread(bot.wait, 10)
    return Sample(
        ready.received_at - spawned,
        answer.received_at - spawned,
        status["VmRSS"],
        status["VmHWM"],
        cpu,
    )


def forget_updates(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM update_inbox"))
    engine.dispose()


async def idle_tick_ms(database_url: str, times: int = 5) -> float:
    """Median wall time of one dispatch tick that finds nothing due (the documented entry point
    walkbot.scheduling.dispatch.dispatch_once, in this process; no message is sent)."""
    from telegram import Bot

    from walkbot.app import build_runtime
    from walkbot.scheduling.dispatch import dispatch_once
    from walkbot.settings import Settings
    from walkbot.store.db import create_engine as create_async_engine
    from walkbot.store.db import session_factory

    settings = Settings(telegram_bot_token=TEST_TOKEN, database_url=database_url, _env_file=None)
    engine = create_async_engine(database_url)
    bot = Bot(TEST_TOKEN)  # never called: nothing is due
    runtime = build_runtime(settings, session_factory(engine), None, bot)
    took = []
    try:
        for _ in range(times):
            started = time.perf_counter()
            stats = await dispatch_once(runtime)
            took.append(time.perf_counter() - started)
            assert stats.batches == 0, "something was due: the seed plan is wrong"
    finally:
        await engine.dispose()
    return statistics.median(took) * 1000


async def run(
    kinds: list[str], sizes: list[int], runs: int, settle_s: float, inactive_share: float
) -> None:
    log_path = Path(tempfile.gettempdir()) / "walkbot-bench" / "startup-bot.log"
    log_path.parent.mkdir(exist_ok=True)
    log_path.unlink(missing_ok=True)
    rows = []
    for kind in kinds:
        for size in sizes:
            url = bench_database(kind)
            seeded = time.monotonic()
            seed(url, size, future_plan(datetime.now(UTC), inactive_share=inactive_share))
            seed_s = time.monotonic() - seeded
            samples = [await one_start(url, settle_s, log_path) for _ in range(runs)]
            tick_ms = await idle_tick_ms(url)
            rows.append((kind, size, tick_ms, samples))
            print(
                f"{kind} {size:,}: seeded in {seed_s:.1f} s; ready "
                + ", ".join(f"{s.ready_s:.2f}" for s in samples)
                + " s; RSS "
                + ", ".join(f"{s.rss_kib / 1024:.0f}" for s in samples)
                + f" MiB; idle tick {tick_ms:.1f} ms",
                flush=True,
            )
    print()
    print(
        f"median of {runs} starts; RSS {settle_s:g} s after ready; "
        f"{inactive_share:.0%} of people inactive (blocked); bot log: {log_path}",
    )
    print(
        "| database | people | ready (median, min-max) | first /help answered | CPU to settle "
        "| RSS | peak RSS (VmHWM) | idle dispatch tick |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind, size, tick_ms, samples in rows:
        ready = [s.ready_s for s in samples]
        print(
            f"| {'SQLite' if kind == 'sqlite' else 'PostgreSQL'} | {size:,} "
            f"| {statistics.median(ready):.2f} s ({min(ready):.2f}-{max(ready):.2f}) "
            f"| {statistics.median(s.answered_s for s in samples):.2f} s "
            f"| {statistics.median(s.cpu_s for s in samples):.2f} s "
            f"| {statistics.median(s.rss_kib for s in samples) / 1024:.0f} MiB "
            f"| {statistics.median(s.hwm_kib for s in samples) / 1024:.0f} MiB "
            f"| {tick_ms:.1f} ms |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--users", nargs="+", type=int, default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--inactive-share", type=float, default=0.0, help="e.g. 0.25 blocked")
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(run(args.db, args.users, args.runs, args.settle, args.inactive_share))
    print(f"bench took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
