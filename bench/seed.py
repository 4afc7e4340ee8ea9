"""Fast bulk seeding of onboarded people for the benches (not for the bot itself).

    .venv/bin/python -m bench.seed --db sqlite --users 1000000 [--due] [--inactive-share 0.25]

`bench_database(kind)` gives a fresh, migrated database: a throwaway SQLite file under /tmp, or
the dedicated PostgreSQL database `walkbot_bench` (dropped and re-created; never `test`).
`seed(url, n, plan)` inserts n onboarded people: COPY on PostgreSQL, chunked executemany on
SQLite, with values encoded exactly as the models' column types store them. `future_plan` (nothing
due) and `due_plan` (every nudge due within the last minute) are the two plans the benches use.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url

from walkbot.domain.screening import QUESTIONS
from walkbot.store.db import is_sqlite
from walkbot.store.migrate import upgrade
from walkbot.store.models import User

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "walkbot_bench"
SQLITE_DIR = Path(tempfile.gettempdir()) / "walkbot-bench"
FIRST_ID = 5_000_000_001  # clear of the fake API's own ids (7_000_000_001 on)
CHUNK = 50_000

# Real zones spread around the world (and across both hemispheres' daylight-saving rules).
ZONES = (
    "Europe/London",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Helsinki",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Atlantic/Azores",
    "UTC",
)
TIMES = tuple(wall_time(h, m) for h in range(6, 21) for m in (0, 30))
ALL_DAYS = 0b1111111
COLUMNS = (
    "telegram_id",
    "first_name",
    "language_code",
    "consented_at",
    "onboarding_step",
    "screening",
    "experience",
    "goal",
    "timezone",
    "reminder_days",
    "reminder_time",
    "summary_day",
    "summary_time",
    "units",
    "level",
    "weekly_target",
    "next_nudge_at",
    "nudge_snoozed",
    "next_summary_at",
    "active",
    "blocked_at",
    "created_at",
    "updated_at",
)
SCREENING = json.dumps({q.key: False for q in QUESTIONS})


def bench_database(kind: str) -> str:
    """A fresh, migrated, empty database for a bench run; returns its URL."""
    if kind == "sqlite":
        SQLITE_DIR.mkdir(exist_ok=True)
        path = SQLITE_DIR / "bench.db"
        for leftover in (path, path.with_name("bench.db-wal"), path.with_name("bench.db-shm")):
            leftover.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    elif kind == "postgresql":
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_BENCH_DB}")
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{PG_BENCH_DB}"
    else:
        raise ValueError(f"unknown database kind {kind!r} (sqlite or postgresql)")
    upgrade(url)
    return url


def user_ids(n: int, first_id: int = FIRST_ID) -> range:
    return range(first_id, first_id + n)


@dataclass(frozen=True)
class Plan:
    """What to seed. Each person's nudge is `nudge_at` plus (id mod `nudge_spread_s`) seconds,
    their summary likewise, so the instants are spread the way real ones are (and the indexes'
    statistics are realistic). A share of people (`inactive_share`) blocked the bot: inactive,
    with nothing scheduled, as users.mark_blocked leaves them."""

    nudge_at: datetime | None
    nudge_spread_s: int = 1
    summary_at: datetime | None = None
    summary_spread_s: int = 1
    inactive_share: float = 0.0


def _rows(
    ids: range, *, now: datetime, plan: Plan, encode: dict[str, Any]
) -> Iterator[tuple[Any, ...]]:
    """Row tuples in COLUMNS order; `encode` holds the driver's encoders."""
    enc_time, enc_dt = encode["time"], encode["datetime"]
    stamp = enc_dt(now)
    times = [enc_time(t) for t in TIMES]
    six_pm = enc_time(wall_time(18, 0))
    yes, no = encode["true"], encode["false"]
    nudges, summaries = _Instants(plan.nudge_at, enc_dt), _Instants(plan.summary_at, enc_dt)
    inactive_per_mille = round(plan.inactive_share * 1000)
    for telegram_id in ids:
        active = telegram_id % 1000 >= inactive_per_mille
        yield (
            telegram_id,
            f"Walker {telegram_id % 100_000}",
            "en",
            stamp,
            None,
            SCREENING,
            "never",
            "balance",
            ZONES[telegram_id % len(ZONES)],
            ALL_DAYS,
            times[telegram_id % len(times)],
            6,
            six_pm,
            "km",
            1,
            3,
            nudges[telegram_id % plan.nudge_spread_s] if active else None,
            no,
            summaries[telegram_id % plan.summary_spread_s] if active else None,
            yes if active else no,
            None if active else stamp,
            stamp,
            stamp,
        )


class _Instants(dict[int, Any]):
    """Encoded base + k seconds, computed once per k."""

    def __init__(self, base: datetime | None, encode: Any) -> None:
        super().__init__()
        self.base, self.encode = base, encode

    def __missing__(self, offset: int) -> Any:
        value = None if self.base is None else self.encode(self.base + timedelta(seconds=offset))
        self[offset] = value
        return value


def _sqlite_encoders() -> dict[str, Any]:
    """The exact strings SQLAlchemy stores on SQLite, so the bot's comparisons hold."""
    dialect = sqlite_dialect.dialect()
    table = User.__table__  # type: ignore[attr-defined]
    as_dt = table.c.next_nudge_at.type.dialect_impl(dialect).bind_processor(dialect)
    as_time = table.c.reminder_time.type.dialect_impl(dialect).bind_processor(dialect)
    return {
        "datetime": lambda v: None if v is None else as_dt(v),
        "time": as_time,
        "true": 1,
        "false": 0,
    }


def _pg_encoders() -> dict[str, Any]:
    return {"datetime": lambda v: v, "time": lambda v: v, "true": True, "false": False}


def seed(database_url: str, n: int, plan: Plan, *, first_id: int = FIRST_ID) -> range:
    """Insert n onboarded people (reminders every day) into a migrated database."""
    ids = user_ids(n, first_id)
    now = datetime.now(UTC)
    if is_sqlite(database_url):
        _seed_sqlite(database_url, _rows(ids, now=now, plan=plan, encode=_sqlite_encoders()))
    else:
        _seed_postgresql(database_url, _rows(ids, now=now, plan=plan, encode=_pg_encoders()))
    return ids


def _seed_sqlite(database_url: str, rows: Iterator[tuple[Any, ...]]) -> None:
    marks = ", ".join("?" * len(COLUMNS))
    insert = f"INSERT INTO users ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
    connection = sqlite3.connect(str(make_url(database_url).database))
    try:
        connection.execute("PRAGMA synchronous=OFF")
        with connection:
            chunk: list[tuple[Any, ...]] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    connection.executemany(insert, chunk)
                    chunk.clear()
            if chunk:
                connection.executemany(insert, chunk)
        # No ANALYZE: the bot never runs one, so its SQLite planner works without statistics.
    finally:
        connection.close()


def _seed_postgresql(database_url: str, rows: Iterator[tuple[Any, ...]]) -> None:
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as connection:
        statement = f"COPY users ({', '.join(COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE users")  # what autovacuum would soon do


def count_users(database_url: str) -> int:
    url = make_url(database_url)
    if is_sqlite(database_url):
        with sqlite3.connect(str(url.database)) as connection:
            return int(connection.execute("SELECT count(*) FROM users").fetchone()[0])
    conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection:
        row = connection.execute("SELECT count(*) FROM users").fetchone()
        assert row is not None
        return int(row[0])


def future_plan(now: datetime, *, inactive_share: float = 0.0) -> Plan:
    """Nothing due: nudges spread over the day from an hour on, summaries over the week."""
    return Plan(
        nudge_at=now + timedelta(hours=1),
        nudge_spread_s=86_400,
        summary_at=now + timedelta(days=1),
        summary_spread_s=6 * 86_400,
        inactive_share=inactive_share,
    )


def due_plan(now: datetime, *, inactive_share: float = 0.0) -> Plan:
    """Every active person's nudge fell due within the last minute (at most 61 s ago)."""
    return Plan(
        nudge_at=now - timedelta(seconds=61),
        nudge_spread_s=60,
        summary_at=now + timedelta(days=1),
        summary_spread_s=6 * 86_400,
        inactive_share=inactive_share,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--due", action="store_true", help="nudges due now (default: later)")
    parser.add_argument("--inactive-share", type=float, default=0.0, help="e.g. 0.25")
    args = parser.parse_args()
    url = bench_database(args.db)
    started = time.monotonic()
    now = datetime.now(UTC)
    make = due_plan if args.due else future_plan
    seed(url, args.users, make(now, inactive_share=args.inactive_share))
    took = time.monotonic() - started
    print(f"{url}: {count_users(url):,} users seeded in {took:.1f} s")


if __name__ == "__main__":
    main()
