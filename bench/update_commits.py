"""Database commits per /help, counted rather than timed (so a busy machine cannot blur it):
run by hand, figures go to docs/performance.md.

    .venv/bin/python -m bench.update_commits [--people 50] [--rounds 4] [--one-by-one 100]

The embedded bot (polling, rate limiter off) against the fake Bot API on a fresh SQLite file;
every commit of any engine in the process is counted. One at a time: one person sends /help
and waits for the answer, --one-by-one times. Together: --people people each send /help at
once, --rounds times. A second after each phase lets the marks after the last replies land.
To count the code before a change, run this file with the old tree first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from walkbot.sandbox import TEST_TOKEN, FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.settings import Settings
from walkbot.store.migrate import upgrade

SETTLE_SECONDS = 1.0


class Commits:
    def __init__(self) -> None:
        self.count = 0
        event.listen(Engine, "commit", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += 1


async def measure(people: int, rounds: int, one_by_one: int) -> tuple[float, float]:
    commits = Commits()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='walkbot-commits-')) / 'bench.db'}"
    upgrade(url)
    async with FakeBotApi() as api:
        settings = Settings(
            telegram_bot_token=TEST_TOKEN,
            database_url=url,
            telegram_api_base_url=api.base_url,
            rate_limit=False,
            _env_file=None,
        )
        bot = RunningBot(settings)
        await bot.start()
        try:
            users = [api.user(f"Person {n}") for n in range(people)]
            for user in users:  # warm up
                user.send("/help")
            for user in users:
                await user.wait_for_text("/walk", timeout=30)
            await asyncio.sleep(SETTLE_SECONDS)

            commits.count = 0
            for _ in range(one_by_one):
                users[0].send("/help")
                await users[0].wait_for_text("/walk", timeout=30)
            await asyncio.sleep(SETTLE_SECONDS)
            alone = commits.count / one_by_one

            commits.count = 0
            for _ in range(rounds):
                for user in users:
                    user.send("/help")
                for user in users:
                    await user.wait_for_text("/walk", timeout=30)
            await asyncio.sleep(SETTLE_SECONDS)
            together = commits.count / (rounds * people)
        finally:
            await bot.stop()
    return alone, together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--one-by-one", type=int, default=100)
    args = parser.parse_args()
    alone, together = asyncio.run(measure(args.people, args.rounds, args.one_by_one))
    print(f"commits per /help: one at a time {alone:.2f}; {args.people} at once {together:.2f}")


if __name__ == "__main__":
    main()
