"""/summary latency for people with 10, 1,000 and 10,000 walks: run by hand, figures go to
docs/performance.md.

    .venv/bin/python -m bench.summary_latency [--runs 30] [--sqlite-only] [--explain]
        [--postgres postgresql://postgres@127.0.0.1:5432/test]

Builds a throwaway SQLite file and a throwaway PostgreSQL database (`walkbot_bench_summary`,
created and dropped here, never the tests' own nor bench/seed.py's), migrates both, and bulk-inserts walks: for each measured
person, walks every day back from "now" (several a day for 10,000, about 4.6 years), so every
week meets the target and the streak runs through the whole history (the worst case for the
streak's look-back); plus 40,000 walks of 20 other people so the index has something to skip.

Per person and backend it times, over repeated runs after a warm-up:
- sql: `gather_week` (every query of the weekly report) in a fresh transaction;
- report: `weekly_report` (the same plus text and the PNG chart drawn in a worker thread);
- stats: `all_time_stats` (/stats, whose best week must visit the whole history).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import statistics
import tempfile
import time as clock
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from walkbot.services import summaries
from walkbot.store.db import create_engine as create_async
from walkbot.store.db import session_factory, sync_url, transaction
from walkbot.store.migrate import upgrade
from walkbot.store.models import User, Walk

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SIZES = (10, 1_000, 10_000)
# The same histories with one week off four weeks ago: the usual case, where the streak is
# short and the look-back stops inside the first 12-week window.
GAP = 1_000_000
GAP_DAYS = range(24, 31)  # Monday 26 October to Sunday 1 November 2026
GAP_SIZES = (1_000, 10_000)
OTHER_PEOPLE, OTHER_WALKS = 20, 2_000
BENCH_DB = "walkbot_bench_summary"  # its own: bench/seed.py uses walkbot_bench


def user_row(user_id: int) -> dict[str, Any]:
    created = NOW - timedelta(days=3650)
    return {
        "telegram_id": user_id,
        "first_name": "Walker",
        "consented_at": created,
        "created_at": created,
        "updated_at": created,
        "timezone": "Europe/London",
        "level": 3,
        "screening": {},
        "reminder_days": 21,
        "reminder_time": time(8, 0),
        "summary_day": 6,
        "summary_time": time(18, 0),
        "units": "km",
        "active": True,
    }


def walk_rows(user_id: int, count: int, *, gap: bool = False) -> list[dict[str, Any]]:
    per_day = max(1, math.ceil(count / 1_825))
    rows = []
    for n in range(count):
        day, slot = divmod(n, per_day)
        if gap and day in GAP_DAYS:
            continue
        started = NOW - timedelta(days=day, hours=3 + slot * 2)
        rows.append(
            {
                "user_id": user_id,
                "plan": {"warmup_s": 300, "rounds": 6},
                "status": "ended",
                "created_at": started,
                "started_at": started,
                "ended_at": started + timedelta(minutes=20),
                "end_reason": "finished",
                "backward_s": 180 + (n * 37) % 420,
                "forward_s": 720,
                "active_s": 1_200,
                "rounds_done": 6,
                "effort": 3 + n % 5,
                "knee_pain": n % 4,
                "pauses": [],
                "last_cue_index": 20,
                "rating_reminded": False,
            }
        )
    return rows


def seed(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        people = [*SIZES, *(GAP + n for n in GAP_SIZES), *range(100, 100 + OTHER_PEOPLE)]
        connection.execute(insert(User), [user_row(p) for p in people])
        for user_id in people:
            count = user_id % GAP if user_id % GAP in SIZES else OTHER_WALKS
            rows = walk_rows(user_id, count, gap=user_id > GAP)
            connection.execute(insert(Walk), rows)
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        connection.commit()
    engine.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


async def timed(action: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    for _ in range(3):
        await action()
    samples = []
    for _ in range(runs):
        started = clock.perf_counter()
        await action()
        samples.append((clock.perf_counter() - started) * 1000)
    return samples


async def measure(database_url: str, label: str, runs: int) -> list[str]:
    engine = create_async(database_url)
    sessions = session_factory(engine)
    lines = []
    try:
        for size in [*SIZES, *(GAP + n for n in GAP_SIZES)]:
            async with transaction(sessions) as session:
                user = await session.get(User, size)
            assert user is not None

            async def sql(user: User = user) -> Any:
                async with transaction(sessions) as session:
                    return await summaries.gather_week(session, user=user, now=NOW, week="this")

            async def report(user: User = user) -> Any:
                async with transaction(sessions) as session:
                    result = await summaries.weekly_report(session, user=user, now=NOW, week="this")
                assert result.chart is not None
                return result

            async def stats(user: User = user) -> Any:
                async with transaction(sessions) as session:
                    return await summaries.all_time_stats(session, user=user, now=NOW)

            data = await sql()
            walks = await _count(sessions, size)
            cells = [label, f"{walks:,}", str(data.streak)]
            for action in (sql, report, stats):
                samples = await timed(action, runs)
                cells.append(f"{statistics.median(samples):.1f} / {percentile(samples, 0.95):.1f}")
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    finally:
        await engine.dispose()
    return lines


async def _count(sessions: Any, user_id: int) -> int:
    async with transaction(sessions) as session:
        return (await summaries.all_time_totals(session, user_id=user_id)).walks


def explain(database_url: str) -> None:
    """The plan of the 12-week grouped query for the 10,000-walk person."""
    from walkbot.domain import summary as domain
    from walkbot.domain.schedule import monday_of

    windows = domain.windows_back(monday_of(NOW.date()), 12, "Europe/London")
    bounds = domain.boundaries(windows)
    engine = create_engine(sync_url(database_url))
    sqlite = database_url.startswith("sqlite")
    prefix = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN"
    first, last = (b.replace(tzinfo=None) if sqlite else b for b in (bounds[0], bounds[-1]))
    query = (
        f"{prefix} SELECT count(*), sum(backward_s) FROM walks WHERE user_id = :u "  # noqa: S608
        "AND status = 'ended' AND started_at >= :a AND started_at < :b"
    )
    with engine.connect() as connection:
        for row in connection.execute(text(query), {"u": 10_000, "a": first, "b": last}):
            print("   ", " ".join(str(v) for v in row))
    engine.dispose()


def postgres_bench_url(admin_url: str) -> str:
    admin = create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
    admin.dispose()
    return make_url(admin_url).set(database=BENCH_DB).render_as_string(hide_password=False)


def drop_postgres(admin_url: str) -> None:
    admin = create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="walkbot-summary-bench-"))
    backends = [("SQLite", f"sqlite:///{workdir / 's.db'}")]
    if not args.sqlite_only:
        backends.append(("PostgreSQL", postgres_bench_url(args.postgres)))
    print(
        "| backend | walks | streak (weeks) | sql ms p50 / p95 | report ms p50 / p95 "
        "| /stats ms p50 / p95 |"
    )
    print("|---|---|---|---|---|---|")
    try:
        for label, url in backends:
            started = clock.monotonic()
            upgrade(url)
            seed(url)
            print(f"<!-- {label}: seeded in {clock.monotonic() - started:.1f} s -->", flush=True)
            if args.explain:
                explain(url)
            asyncio.run(measure(url, label, args.runs))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.sqlite_only:
            drop_postgres(args.postgres)


if __name__ == "__main__":
    main()
