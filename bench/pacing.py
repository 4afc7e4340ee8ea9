"""Real-time pacing of walkbot's limiters: run by hand, not by pytest.

    .venv/bin/python -m bench.pacing [--messages 10] [--chats 25] [--rate 25] [--starts 50]

The unit tests check the rate limiter and the dispatch pacer on a virtual clock (looptime),
where every time is exact. This measures what they do on this machine's real clock, where a
busy event loop or a loaded CPU makes things late (never early):

- ChatRateLimiter at production rates: `--messages` to one private chat while `--chats` other
  chats get one message each, all at once. Prints when each of the chat's messages went out
  against its plan (a burst of 3, then one every 1.1 s) and the gaps after the burst. (The
  overall limit's burst of 2, then 28 a second, puts the third about 36 ms after the first.)
- The dispatcher's Pacer at `--rate` starts a second: how late each of `--starts` starts was
  against its slot.

Run it on a quiet machine, then beside a busy loop (`python3 -c "while True: pass" &`) to see
how much real jitter the virtual-time tests leave out.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from itertools import pairwise
from typing import Any

from walkbot.ratelimit import ChatRateLimiter
from walkbot.scheduling.dispatch import Pacer

CHAT = 101
PACE_S = 1.1  # ChatRateLimiter's default: private_time_period 3.3 s / private_max_rate 3
BURST = 3


async def limiter_run(messages: int, chats: int) -> list[float]:
    limiter = ChatRateLimiter()
    started = time.monotonic()
    sent: list[tuple[int, float]] = []

    async def callback(chat: int) -> dict[str, Any]:
        sent.append((chat, time.monotonic() - started))
        return {"ok": True}

    def send(chat: int) -> Any:
        data = {"chat_id": chat, "text": "hi"}
        return limiter.process_request(callback, (chat,), {}, "sendMessage", data, None)

    await asyncio.gather(
        *(send(CHAT) for _ in range(messages)), *(send(1000 + n) for n in range(chats))
    )
    return [t for chat, t in sent if chat == CHAT]


async def pacer_run(rate: float, starts: int) -> list[float]:
    pacer, interval = Pacer(rate), 1.0 / rate
    before, late = time.monotonic(), []
    for n in range(starts):
        await pacer.wait()
        late.append(time.monotonic() - before - n * interval)
    return late


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--chats", type=int, default=25)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--starts", type=int, default=50)
    args = parser.parse_args()

    times = await limiter_run(args.messages, args.chats)
    plan = [0.0] * BURST + [PACE_S * (n - BURST + 1) for n in range(BURST, len(times))]
    print(f"ChatRateLimiter: {args.messages} to one chat beside {args.chats} other chats")
    for n, (at, planned) in enumerate(zip(times, plan, strict=True), 1):
        print(f"  message {n:2}: {at:7.3f} s  (plan {planned:5.2f} s, late {ms(at - planned)})")
    gaps = [later - earlier for earlier, later in pairwise(times[BURST - 1 :])]
    if gaps:
        print(
            f"  gaps after the burst (plan {PACE_S} s): min {min(gaps):.3f} s, "
            f"mean {statistics.mean(gaps):.3f} s, max {max(gaps):.3f} s"
        )

    late = await pacer_run(args.rate, args.starts)
    print(f"Pacer at {args.rate:g}/s, {args.starts} starts: lateness against each slot")
    print(
        f"  median {ms(statistics.median(late))}, max {ms(max(late))}, "
        f"early (must be none): {sum(1 for x in late if x < -0.001)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
