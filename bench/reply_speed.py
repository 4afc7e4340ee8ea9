"""Replies at the speed of the framework: run by hand, figures go to docs/performance.md.

    .venv/bin/python -m bench.reply_speed [--people 100] [--each 10] [--rounds 3] [--rate 100]
                                          [--seconds 10] [--onboarders 10] [--think 0.3 1.0]
                                          [--only echo walkbot onboarding] [--py-spy DIR]

About two minutes with the defaults.

In one run, each bot as a separate process against the fake Bot API served here (real HTTP on
loopback), a fresh fake server for each:

(a) a bare PTB bot: ApplicationBuilder with the same base_url, one CommandHandler('help') that
    sends walkbot's help text, PTB's defaults otherwise;
(b) walkbot itself (`walkbot run`, a throwaway SQLite file, RATE_LIMIT=false);

both driven by the same load, fake server limits off: a closed loop (each of --people people
sends /help, waits for the answer, sends the next, --each times; --rounds times per bot, the
bots taking turns, as the machine's other work comes and goes) and then an open loop (/help
at a fixed --rate per second for --seconds, round robin over the same people). Latency is the
fake server's receive time of the sendMessage minus the moment the update was queued for the
bot's getUpdates. It prints updates/s, p50/p95/p99 and the bot's CPU per update for both, and
walkbot's share of the bare bot's throughput.

(c) onboarding at human speed: walkbot with its rate limiter on (the production setting)
against the fake server with Telegram-like limits (a private chat: 3 at once, then 1 a second);
--onboarders people each send /start and tap through every onboarding question, waiting
--think seconds (uniform) after each question arrives before tapping. It prints tap -> next
question (the first sendMessage or editMessageText in that chat carrying the next question's
text) p50/p95/max, the messages (sends and edits) the bot spent per step, and 429s. Ten people
tapping every 0.3-1 s already ask for about 15 messages a second; twenty would reach Telegram's
30 a second for the whole bot, and measure that limit rather than each chat's.

Each bot is measured once it is idle after start-up (at least --settle seconds; walkbot builds
its city index in the background then) and after one warm-up /help from everyone. --py-spy DIR
runs the bots under `py-spy record` (if installed; not a project dependency) and leaves their
collapsed stacks per phase in DIR, for flamegraph.pl or a diff of two runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.fanout import percentile
from bench.startup import cpu_seconds
from walkbot.sandbox import TEST_TOKEN, FakeBotApi, FakeMessage, FakeUser, Limits

WORKDIR = Path(tempfile.gettempdir()) / "walkbot-bench"
ROOT = Path(__file__).resolve().parent.parent  # where `-m bench...` imports from; no .env
FIRST_PERSON = 6_000_000_001  # clear of the fake API's own ids


class TimedApi(FakeBotApi):
    """The fake Bot API, telling the bench about every answered send and edit as it happens
    (polling api.calls for thousands of waiters would cost the bench more than the bots)."""

    def __init__(self, *, limits: Limits | None = None) -> None:
        super().__init__(limits=limits)
        self.asked: dict[int, deque[float]] = defaultdict(deque)  # chat -> queued /help times
        self.latencies: list[float] = []
        self.answered: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._enough = (0, asyncio.Event())  # (how many answers, set once there are as many)
        # chat -> (text that marks the next question, the future its arrival time resolves)
        self.expecting: dict[int, tuple[str, asyncio.Future[float]]] = {}
        self.shown: defaultdict[int, int] = defaultdict(int)  # sends and edits per chat

    async def __aenter__(self) -> TimedApi:
        await self.start()
        return self

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        received: float,
        status: int,
        body: dict[str, Any],
    ) -> web.Response:
        response = super()._record(method, params, received, status, body)
        if status == 200 and method in ("sendMessage", "editMessageText"):
            chat = int(params.get("chat_id", 0))
            self.shown[chat] += 1
            if method == "sendMessage" and self.asked[chat]:
                self.latencies.append(received - self.asked[chat].popleft())
                self.answered[chat].set()
                if len(self.latencies) >= self._enough[0]:
                    self._enough[1].set()
            expected = self.expecting.get(chat)
            if expected is not None and expected[0] in str(params.get("text", "")):
                del self.expecting[chat]
                if not expected[1].done():
                    expected[1].set_result(received)
        return response

    def ask_help(self, person: FakeUser) -> None:
        self.asked[person.chat_id].append(time.monotonic())
        person.send("/help")

    async def answers(self, count: int) -> None:
        """Until `count` /help answers have been timed since latencies were last cleared."""
        self._enough = (count, asyncio.Event())
        if len(self.latencies) < count:
            await self._enough[1].wait()

    def expect(self, chat: int, marker: str) -> asyncio.Future[float]:
        arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.expecting[chat] = (marker, arrived)
        return arrived


@dataclass
class Load:
    name: str
    updates: int
    seconds: float
    latencies: list[float]
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def line(self) -> str:
        lat = self.latencies
        return (
            f"{self.name:<8} {self.updates:>6,} updates in {self.seconds:6.2f} s = "
            f"{self.rate:6.0f}/s; p50 {1000 * percentile(lat, 0.5):6.1f} ms, "
            f"p95 {1000 * percentile(lat, 0.95):6.1f} ms, p99 {1000 * percentile(lat, 0.99):6.1f} "
            f"ms, max {1000 * max(lat):6.1f} ms; bot CPU {1000 * self.cpu_s / self.updates:.2f} "
            "ms/update"
        )


@dataclass
class Options:
    people: int
    each: int
    rounds: int
    rate: float
    seconds: float
    onboarders: int
    think: tuple[float, float]
    settle: float
    py_spy: Path | None
    seed: int


# -- the bots -------------------------------------------------------------------------------


def serve_echo() -> None:
    """The bare PTB bot: /help answered with walkbot's help text, nothing else."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

    from walkbot.bot.texts import HELP

    async def help_command(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            await update.effective_chat.send_message(HELP)

    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .build()
    )
    app.add_handler(CommandHandler("help", help_command))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


@contextlib.asynccontextmanager
async def bot_process(
    kind: str, api: FakeBotApi, *, rate_limit: bool, phase: str, options: Options
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`kind` (echo or walkbot) polling `api`; ready (its first answer back) when yielded."""
    WORKDIR.mkdir(exist_ok=True)
    database = WORKDIR / f"reply-speed-{os.getpid()}-{phase}.db"
    _remove_database(database)
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": f"sqlite:///{database}",
        "RATE_LIMIT": "true" if rate_limit else "false",
        "LOG_LEVEL": "WARNING",
    }
    if kind == "echo":
        command = [sys.executable, "-m", "bench.reply_speed", "--serve-echo"]
    else:
        command = [sys.executable, "-m", "walkbot", "run"]
    if options.py_spy is not None and shutil.which("py-spy"):
        options.py_spy.mkdir(parents=True, exist_ok=True)
        stacks = options.py_spy / f"{phase}.txt"
        command = ["py-spy", "record", "--format", "raw", "-o", str(stacks), "--", *command]
    probe = api.user("Probe", user_id=FIRST_PERSON - 1)
    probe.send("/help")  # waiting when the bot starts: its answer says the bot is ready
    log_path = WORKDIR / f"reply-speed-{phase}.log"
    with log_path.open("wb") as log:
        bot = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        try:
            await api.wait_for(
                lambda c: c.method == "sendMessage" and c.params.get("chat_id") == probe.id,
                timeout=120,
            )
            await _settle(_pid(bot), options.settle)
            yield bot
        finally:
            # The bot itself, not py-spy around it: py-spy writes its stacks when the bot ends.
            os.kill(_pid(bot), signal.SIGTERM)
            try:
                await asyncio.to_thread(bot.wait, 10)
            except subprocess.TimeoutExpired:
                bot.kill()
                await asyncio.to_thread(bot.wait, 10)
            _remove_database(database)


async def _settle(pid: int, at_least: float) -> None:
    """At least `at_least` seconds, then until the bot is idle (under 10% of a core for half a
    second; walkbot builds its city index in a thread after start-up), 30 s at most."""
    await asyncio.sleep(at_least)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if cpu_seconds(pid) - before < 0.05:
            return


def _remove_database(database: Path) -> None:
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.unlink(missing_ok=True)


def _pid(bot: subprocess.Popen[bytes]) -> int:
    """The Python process's pid (under py-spy, its child)."""
    children = Path(f"/proc/{bot.pid}/task/{bot.pid}/children")
    if children.exists() and (listed := children.read_text().split()):
        return int(listed[0])
    return bot.pid


# -- (a) and (b): /help under load ---------------------------------------------------------


async def closed_loop(api: TimedApi, people: list[FakeUser], each: int, pid: int) -> Load:
    async def person(who: FakeUser) -> None:
        answered = api.answered[who.chat_id]
        for _ in range(each):
            answered.clear()
            api.ask_help(who)
            await asyncio.wait_for(answered.wait(), 60)

    api.latencies.clear()
    cpu, started = cpu_seconds(pid), time.monotonic()
    await asyncio.gather(*(person(p) for p in people))
    seconds = time.monotonic() - started
    return Load("closed", len(people) * each, seconds, list(api.latencies), cpu_seconds(pid) - cpu)


async def open_loop(
    api: TimedApi, people: list[FakeUser], rate: float, seconds: float, pid: int
) -> Load:
    """/help at a fixed rate whatever the bot does; the rate is kept over the whole run (a late
    tick sends what fell due), so a slow bot builds a queue instead of slowing the load."""
    total = round(rate * seconds)
    api.latencies.clear()
    cpu, started = cpu_seconds(pid), time.monotonic()
    for k in range(total):
        delay = started + k / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        api.ask_help(people[k % len(people)])
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(api.answers(total), 60)
    elapsed = time.monotonic() - started
    if len(api.latencies) < total:
        print(f"  open loop: only {len(api.latencies)} of {total} answered in time")
    return Load(
        f"open {rate:g}/s", len(api.latencies), elapsed, list(api.latencies), cpu_seconds(pid) - cpu
    )


@dataclass
class Subject:
    """One bot under the /help loads, with its own fake server and people."""

    kind: str
    api: TimedApi
    people: list[FakeUser]
    pid: int = 0
    rounds: list[Load] = field(default_factory=list)

    @property
    def closed(self) -> Load:
        return Load(
            "closed",
            sum(r.updates for r in self.rounds),
            sum(r.seconds for r in self.rounds),
            [latency for r in self.rounds for latency in r.latencies],
            sum(r.cpu_s for r in self.rounds),
        )


async def help_loads(kinds: Sequence[str], options: Options) -> dict[str, tuple[Load, Load]]:
    """Every bot started at once and measured in turns (closed-loop rounds alternating which
    goes first, then the open loops), so a machine that gets busier or quieter during the run
    weighs on them alike."""
    async with contextlib.AsyncExitStack() as stack:
        subjects = []
        for kind in kinds:
            api = await stack.enter_async_context(TimedApi())
            people = [api.user(f"P{i}", user_id=FIRST_PERSON + i) for i in range(options.people)]
            subjects.append(Subject(kind, api, people))
        bots = await asyncio.gather(
            *(
                stack.enter_async_context(
                    bot_process(
                        s.kind, s.api, rate_limit=False, phase=f"help-{s.kind}", options=options
                    )
                )
                for s in subjects
            )
        )
        for subject, bot in zip(subjects, bots, strict=True):
            subject.pid = _pid(bot)
            await closed_loop(subject.api, subject.people, 1, subject.pid)  # warm-up
        for n in range(options.rounds):
            for subject in subjects if n % 2 == 0 else subjects[::-1]:
                subject.rounds.append(
                    await closed_loop(subject.api, subject.people, options.each, subject.pid)
                )
        results = {}
        for subject in subjects:
            await asyncio.sleep(0.5)
            opened = await open_loop(
                subject.api, subject.people, options.rate, options.seconds, subject.pid
            )
            results[subject.kind] = (subject.closed, opened)
    for subject in subjects:
        closed, opened = results[subject.kind]
        print(f"{subject.kind}:")
        print("  " + closed.line())
        print("  " + opened.line())
        rates = " ".join(f"{r.rate:.0f}" for r in subject.rounds)
        print(f"  closed-loop rounds, updates/s: {rates}")
    return results


# -- (c): onboarding at human speed -----------------------------------------------------------

# (button to tap, text that shows the next question has arrived)
ONBOARDING_TAPS: tuple[tuple[str, str], ...] = (
    ("Yes, let's start", "Safety check 1 of 9"),
    *(("No", f"Safety check {n + 1} of 9") for n in range(1, 9)),
    ("No", "walked backwards for exercise"),
    ("Never tried it", "What matters most"),
    ("Knees and legs", "Which time zone"),
    ("London", "Which days"),
    ("Done", "What time on those days"),
    ("08:00", "Kilometres or miles"),
    ("Kilometres", "All set"),
)


def _button_message(api: FakeBotApi, chat: int, label: str) -> FakeMessage:
    """The newest message in the chat with a button labelled exactly `label`."""
    for message in reversed(api.messages(chat)):
        if label in message.button_labels():
            return message
    raise AssertionError(f"no button {label!r} in chat {chat}")


@dataclass
class Onboarded:
    waits: list[float] = field(default_factory=list)
    steps: int = 0


async def onboard(
    api: TimedApi, who: FakeUser, think: tuple[float, float], rng: random.Random, into: Onboarded
) -> None:
    arrived = api.expect(who.chat_id, "Shall we start?")
    who.send("/start")
    await asyncio.wait_for(arrived, 60)
    for label, marker in ONBOARDING_TAPS:
        await asyncio.sleep(rng.uniform(*think))
        arrived = api.expect(who.chat_id, marker)
        tapped = time.monotonic()
        who.tap(label, message=_button_message(api, who.chat_id, label))
        into.waits.append(await asyncio.wait_for(arrived, 60) - tapped)
        into.steps += 1


async def onboarding(options: Options) -> Onboarded:
    rng = random.Random(options.seed)
    result = Onboarded()
    async with TimedApi(limits=Limits(sustained_per_chat=True)) as api:
        people = [
            api.user(f"O{i}", user_id=FIRST_PERSON + 10_000 + i) for i in range(options.onboarders)
        ]
        async with bot_process(
            "walkbot", api, rate_limit=True, phase="onboarding", options=options
        ):
            started = time.monotonic()

            async def one(i: int, who: FakeUser) -> None:
                await asyncio.sleep(i * 0.05)  # people arrive over a second, not in one tick
                await onboard(api, who, options.think, random.Random(rng.random()), result)

            await asyncio.gather(*(one(i, p) for i, p in enumerate(people)))
            took = time.monotonic() - started
        shown = sum(api.shown[p.chat_id] for p in people) - len(people)  # less the welcomes
        too_many = api.stats.too_many_requests
    waits = result.waits
    print(
        f"onboarding, {options.onboarders} people, think {options.think[0]:g}-"
        f"{options.think[1]:g} s, rate limiter on, Telegram-like limits:"
    )
    print(
        f"  tap -> next question over {len(waits)} taps: p50 {1000 * percentile(waits, 0.5):.0f} "
        f"ms, p95 {1000 * percentile(waits, 0.95):.0f} ms, max {1000 * max(waits):.0f} ms, "
        f"mean {1000 * statistics.fmean(waits):.0f} ms"
    )
    print(
        f"  messages (sends + edits) per step: {shown / max(1, result.steps):.2f}; "
        f"429s: {too_many}; {took:.1f} s for everyone"
    )
    return result


# -- main ---------------------------------------------------------------------------------------


async def run(only: Sequence[str], options: Options) -> None:
    kinds = [kind for kind in ("echo", "walkbot") if kind in only]
    results = await help_loads(kinds, options) if kinds else {}
    if len(results) == 2:
        (echo_closed, echo_open), (bot_closed, bot_open) = results["echo"], results["walkbot"]
        print(
            f"walkbot / bare PTB, closed loop: {bot_closed.rate / echo_closed.rate:.2f} of the "
            f"throughput; p99 {1000 * percentile(bot_closed.latencies, 0.99):.0f} ms against "
            f"{1000 * percentile(echo_closed.latencies, 0.99):.0f} ms; CPU per update "
            f"{bot_closed.cpu_s / bot_closed.updates / (echo_closed.cpu_s / echo_closed.updates):.1f}x"
        )
        print(
            f"walkbot / bare PTB, open loop at {options.rate:g}/s: p99 "
            f"{1000 * percentile(bot_open.latencies, 0.99):.0f} ms against "
            f"{1000 * percentile(echo_open.latencies, 0.99):.0f} ms; CPU per update "
            f"{bot_open.cpu_s / bot_open.updates / (echo_open.cpu_s / echo_open.updates):.1f}x"
        )
    if "onboarding" in only:
        await onboarding(options)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--each", type=int, default=10, help="/help per person, closed loop")
    parser.add_argument("--rounds", type=int, default=3, help="closed loops per bot, in turns")
    parser.add_argument("--rate", type=float, default=100.0, help="open loop, updates/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="open loop length")
    parser.add_argument("--onboarders", type=int, default=10)
    parser.add_argument("--think", type=float, nargs=2, default=(0.3, 1.0), metavar=("MIN", "MAX"))
    parser.add_argument(
        "--settle", type=float, default=3.0, help="s after ready before waiting for idle"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("echo", "walkbot", "onboarding"),
        default=("echo", "walkbot", "onboarding"),
    )
    parser.add_argument("--py-spy", type=Path, default=None, help="py-spy stacks of the bots here")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if min(args.people, args.each, args.rounds, args.onboarders) < 1 or args.rate <= 0:
        parser.error("--people, --each, --rounds, --onboarders and --rate must be positive")
    if args.serve_echo:
        serve_echo()
        return
    options = Options(
        people=args.people,
        each=args.each,
        rounds=args.rounds,
        rate=args.rate,
        seconds=args.seconds,
        onboarders=args.onboarders,
        think=(args.think[0], args.think[1]),
        settle=args.settle,
        py_spy=args.py_spy,
        seed=args.seed,
    )
    started = time.monotonic()
    asyncio.run(run(args.only, options))
    print(f"bench took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
