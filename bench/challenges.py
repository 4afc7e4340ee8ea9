"""Group challenges at scale: run by hand, figures go to docs/performance.md.

    .venv/bin/python -m bench.challenges [--db sqlite|postgresql] [--members 1000]
                                         [--walks 20] [--rounds 30] [--groups 200]

(a) Board query: one running 28-day challenge with `--members` members, each with `--walks`
walks spread over the window, plus `--others` people outside it with as many walks (half of
them before the window), so the walks index has to pick the right rows. Times
`services.challenges.board` `--rounds` times per measure (minutes, walks, days, and minutes
with most improved, which adds the weekly query) and reports p50/p95, then EXPLAINs the
board's SQL as the service sent it, to show the walks index in use.

(b) Daily posts: `--groups` running challenges (5 members each), every one owed its daily
board and a card edit at the same moment. The real dispatcher, BotNotifier and ChatRateLimiter
(as `walkbot run` builds it) send to the fake Bot API with Telegram's limits on (30 msg/s
overall, 20 a minute per group, edits counted). Reports the time it took, the most messages in
any one second overall and in any minute per group, the 429s the fake sent, and per group the
daily boards that arrived: each must have exactly one (nothing lost, nothing doubled).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, event, insert, text
from sqlmodel import Session, col, update
from telegram.ext import ExtBot

from bench.seed import FIRST_ID, bench_database, future_plan, seed
from walkbot.app import queue_sources
from walkbot.bot.notifier import BotNotifier
from walkbot.domain import challenges as domain
from walkbot.ratelimit import ChatRateLimiter
from walkbot.runtime import Runtime
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, Limits
from walkbot.scheduling.dispatch import dispatch_once
from walkbot.services import challenges
from walkbot.services.challenge_posts import GroupPost
from walkbot.settings import Settings
from walkbot.store.db import create_engine as create_async_engine
from walkbot.store.db import is_sqlite, session_factory, sync_url, transaction
from walkbot.store.models import Challenge, ChallengeMember, GroupChat, Walk

GROUP_ID = -1_000_000_900_001
ZONE = "Europe/London"


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _walk(user_id: int, started: datetime, minutes: int) -> dict[str, Any]:
    seconds = minutes * 60
    return {
        "user_id": user_id,
        "plan": {},
        "status": "ended",
        "created_at": started,
        "started_at": started,
        "ended_at": started + timedelta(seconds=2 * seconds),
        "pauses": [],
        "last_cue_index": 0,
        "end_reason": "finished",
        "backward_s": seconds,
        "forward_s": seconds,
        "active_s": 2 * seconds,
        "rounds_done": 3,
        "rating_reminded": False,
    }


def _challenge(
    chat_id: int, *, code: str, starts: datetime, days: int, measure: str = "minutes"
) -> Challenge:
    w = domain.window_from(starts, days=days, zone=ZONE)
    return Challenge(
        chat_id=chat_id,
        code=code,
        status="running",
        measure=measure,
        kind="ranking",
        days=days,
        starts_at=w.starts_at,
        ends_at=w.ends_at,
        zone=ZONE,
        created_at=starts,
        results_at=w.ends_at,
    )


def seed_board(url: str, *, members: int, others: int, walks: int, now: datetime) -> int:
    """One 28-day challenge ending tomorrow; returns its id."""
    seed(url, members + others, future_plan(now))
    starts = now - timedelta(days=27)
    rows: list[dict[str, Any]] = []
    for n in range(members + others):
        user_id = FIRST_ID + n
        for k in range(walks):
            inside = n < members or k % 2 == 0
            base = starts if inside else starts - timedelta(days=28)
            at = base + timedelta(hours=(k * 32 + n) % (27 * 24), minutes=n % 60)
            rows.append(_walk(user_id, at, 5 + (n + k) % 20))
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        connection.execute(insert(Walk), rows)
    with Session(engine) as session:
        session.add(
            GroupChat(
                id=GROUP_ID, kind="supergroup", title="Bench club", created_at=now, updated_at=now
            )
        )
        challenge = _challenge(GROUP_ID, code="benchbrd", starts=starts, days=28)
        session.add(challenge)
        session.flush()
        assert challenge.id is not None
        session.add_all(
            ChallengeMember(
                challenge_id=challenge.id, user_id=FIRST_ID + n, created_at=starts, joined_at=starts
            )
            for n in range(members)
        )
        session.commit()
        challenge_id = challenge.id
    if not is_sqlite(url):
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()
    return challenge_id


async def board_times(url: str, challenge_id: int, *, rounds: int, now: datetime) -> None:
    engine = create_async_engine(url)
    sessions = session_factory(engine)
    statements: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    variants = [("minutes", False), ("walks", False), ("days", False), ("minutes", True)]
    print(f"board of {challenge_id}: p50 / p95 over {rounds} rounds")
    for measure, improved in variants:
        async with transaction(sessions) as session:
            row = await session.get(Challenge, challenge_id)
            assert row is not None
            row.measure, row.most_improved = measure, improved
            session.add(row)
        times = []
        board = None
        for _ in range(rounds):
            started = time.perf_counter()
            async with transaction(sessions) as session:
                board = await challenges.board(session, challenge_id=challenge_id, now=now)
            times.append((time.perf_counter() - started) * 1000)
        assert board is not None
        label = measure + (" + most improved" if improved else "")
        print(
            f"  {label:26} p50 {statistics.median(times):7.1f} ms  "
            f"p95 {percentile(times, 0.95):7.1f} ms  ({board.members} members, total {board.total})"
        )
    # The board's aggregates as the service sent them: members' scores (members LEFT JOIN
    # their walks in the window) and most improved's weekly buckets.
    scores = next(s for s in reversed(statements) if "JOIN users" in s[0])
    weekly = next(s for s in reversed(statements) if "JOIN walks" in s[0] and "week" in s[0])
    await explain(engine, "scores", *scores)
    await explain(engine, "weekly", *weekly)
    await engine.dispose()


async def explain(engine: Any, label: str, statement: str, parameters: Any) -> None:
    """The plan of `statement` as the service sent it (its driver's SQL and parameters),
    asked through a plain connection of the same kind."""
    sync = create_engine(sync_url(str(engine.url.render_as_string(hide_password=False))))
    sqlite = sync.dialect.name == "sqlite"
    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    with sync.connect() as connection:
        rows = connection.exec_driver_sql(prefix + statement, parameters).all()
    sync.dispose()
    print(f"  plan of the board's {label} query:")
    for row in rows:
        print("    " + str(row[-1] if sqlite else row[0]))


# ---- (b) 200 groups' daily posts at once ------------------------------------------------------


def seed_groups(url: str, *, groups: int, now: datetime) -> list[int]:
    seed(url, groups * 5, future_plan(now), first_id=FIRST_ID + 10_000_000)
    engine = create_engine(sync_url(url))
    chat_ids = [-1_000_000_800_000 - g for g in range(groups)]
    starts = now - timedelta(days=2, hours=12)
    with Session(engine) as session:
        for g, chat_id in enumerate(chat_ids):
            session.add(
                GroupChat(
                    id=chat_id, kind="supergroup", title=f"Club {g}", created_at=now, updated_at=now
                )
            )
            challenge = _challenge(chat_id, code=f"bench{g:04d}", starts=starts, days=14)
            challenge.next_board_at = now - timedelta(seconds=g % 60)  # all due within a minute
            session.add(challenge)
            session.flush()
            assert challenge.id is not None
            session.add_all(
                ChallengeMember(
                    challenge_id=challenge.id,
                    user_id=FIRST_ID + 10_000_000 + 5 * g + m,
                    created_at=starts,
                    joined_at=starts,
                )
                for m in range(5)
            )
        session.commit()
    engine.dispose()
    return chat_ids


async def daily_posts(url: str, *, groups: int, now: datetime) -> None:
    chat_ids = seed_groups(url, groups=groups, now=now)
    settings = Settings(telegram_bot_token=TEST_TOKEN, database_url=url, _env_file=None)
    engine = create_async_engine(url)
    sessions = session_factory(engine)
    clock = FixedClock(now)
    async with FakeBotApi(limits=Limits()) as api:
        bot: ExtBot[Any] = ExtBot(
            TEST_TOKEN, base_url=api.base_url, rate_limiter=ChatRateLimiter(max_retries=3)
        )
        async with bot:
            notifier = BotNotifier(bot)
            sources = queue_sources(notifier, sessions, clock=clock)
            runtime = Runtime(
                settings=settings,
                sessions=sessions,
                clock=clock,
                notifier=notifier,
                sources=sources,
            )
            # Setup, not measured: each group's card (as the handlers post it at launch).
            for chat_id in chat_ids:
                async with transaction(sessions) as session:
                    challenge = await challenges.current(session, chat_id=chat_id)
                    assert challenge is not None and challenge.id is not None
                    board = await challenges.board(session, challenge_id=challenge.id, now=now)
                assert board is not None
                posted = await notifier.post_board(GroupPost(chat_id, None, board, "card"))
                assert posted.message_id is not None
                async with transaction(sessions) as session:
                    await challenges.set_card(
                        session, challenge_id=board.challenge_id, message_id=posted.message_id
                    )
                    # A member's walk just ended: the card is owed an edit too.
                    member = FIRST_ID + 10_000_000 + 5 * chat_ids.index(chat_id)
                    session.add(Walk(**_walk(member, now - timedelta(minutes=30), 10)))
                    await session.exec(
                        update(Challenge)
                        .where(col(Challenge.id) == board.challenge_id)
                        .values(board_edit_at=now)
                    )
            setup_calls = len(api.calls)
            too_many_before = api.stats.too_many_requests
            started = time.perf_counter()
            stats = await dispatch_once(runtime)
            took = time.perf_counter() - started
    await engine.dispose()

    calls = [c for c in api.calls[setup_calls:] if c.status == 200]
    per_second: Counter[int] = Counter(int(c.received_at) for c in calls)
    dailies: Counter[int] = Counter(
        int(c.params["chat_id"])
        for c in calls
        if c.method == "sendMessage" and " of 14 · " in str(c.params.get("text", ""))
    )
    per_group: dict[int, list[float]] = defaultdict(list)
    for c in api.calls:  # the cards too: a minute per group counts everything sent there
        if c.status == 200 and int(c.params.get("chat_id", 0)) < 0:
            per_group[int(c.params["chat_id"])].append(c.received_at)
    worst_minute = max(
        max(sum(1 for u in ts if t <= u < t + 60) for t in ts) for ts in per_group.values()
    )
    print(f"{groups} groups, a daily board and a card edit each, due at once")
    print(
        f"  sent {stats.total_sent} ({dict(stats.sent)}), failed {stats.failed}, "
        f"in {took:.1f} s ({stats.total_sent / took:.1f} msg/s)"
    )
    print(f"  most in any one second overall: {max(per_second.values())} (limit 30)")
    print(f"  most in any minute in one group, card included: {worst_minute} (limit 20)")
    print(f"  429s from the fake API: {api.stats.too_many_requests - too_many_before}")
    lost = [c for c in chat_ids if dailies[c] == 0]
    doubled = [c for c in chat_ids if dailies[c] > 1]
    print(
        f"  daily boards: {sum(dailies.values())} for {groups} groups; "
        f"lost {len(lost)}, doubled {len(doubled)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--others", type=int, default=1000, help="people not in it")
    parser.add_argument("--walks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--groups", type=int, default=200)
    args = parser.parse_args()
    if min(args.members, args.walks, args.rounds, args.groups) < 1:
        parser.error("members, walks, rounds and groups must be at least 1")
    now = datetime.now(UTC).replace(microsecond=0)
    url = bench_database(args.db)
    print(f"{args.db}: {args.members} members and {args.others} others x {args.walks} walks")
    challenge_id = seed_board(
        url, members=args.members, others=args.others, walks=args.walks, now=now
    )
    asyncio.run(board_times(url, challenge_id, rounds=args.rounds, now=now))
    url = bench_database(args.db)
    asyncio.run(daily_posts(url, groups=args.groups, now=now))


if __name__ == "__main__":
    main()
