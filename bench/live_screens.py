"""The live screens of bench.cue_latency, in a process of their own (issue 12).

    python -m bench.live_screens --port P [--spread 0.0]  < screens.json  > results.json

Reads `[[user_id, walk_id], ...]` on stdin, then every screen taps Start on the live screen's
API together (their switches coincide: the point of the bench), spread over `--spread` seconds
if asked, and says "visible" every 2 s until the walk is over, as the page does: it beats once
it has the Start's reply and then on a timer that does not wait for replies, each page at its
own phase (a phone's timer is not in step with the
others'). Prints one JSON object: the heartbeats' and the Starts' round trips, the connection
errors, and how late this process's own event loop ran (so a round trip that is the client's
own lag shows as such, not as the bot's).

A process of its own so that the fake Bot API (bench.cue_latency's process) and 300 HTTP
clients do not share one event loop: in one process the round trips measured included the
bench's own lag.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import time
from urllib.parse import quote, urlencode

import httpx

from walkbot.sandbox import TEST_TOKEN
from walkbot.webapp.initdata import sign

BEAT_S = 2.0  # the page's heartbeat period (LIVE_CONTRACT.md)
LAG_TICK_S = 0.1


def init_data(user_id: int) -> str:
    fields = {
        "user": json.dumps({"id": user_id, "first_name": "Walker"}),
        "auth_date": str(int(time.time())),
    }
    return urlencode({**fields, "hash": sign(fields, TEST_TOKEN)}, quote_via=quote)


class Tally:
    def __init__(self) -> None:
        self.beats: list[float] = []
        self.starts: list[float] = []
        self.errors: list[str] = []
        self.lag: list[float] = []
        self.gaps: list[float] = []  # between one screen's beats, as sent


# One TLS context for all the clients: building one per client blocked this process's loop for
# seconds at the start, when 300 clients are made at once (plain HTTP here; unused).
TLS = httpx.create_ssl_context()


async def screen(port: int, user_id: int, walk_id: int, delay: float, tally: Tally) -> None:
    """One phone: its own HTTP client and connections (one client shared by 300 screens
    spent this process's CPU scanning its connection pool, a cost no phone has)."""
    await asyncio.sleep(delay)
    address = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=address, timeout=60, verify=TLS) as http:
        await walk_on_screen(http, user_id, walk_id, tally)


async def walk_on_screen(http: httpx.AsyncClient, user_id: int, walk_id: int, tally: Tally) -> None:
    headers = {"Authorization": f"tma {init_data(user_id)}"}
    api = f"/live/api/walk/{walk_id}"
    for attempt in range(3):  # a page retries a Start that got no answer
        sent = time.monotonic()
        try:
            response = await http.post(f"{api}/control", json={"action": "start"}, headers=headers)
            break
        except httpx.TransportError:
            tally.errors.append("start")
            if attempt == 2:
                raise
    tally.starts.append(time.monotonic() - sent)
    response.raise_for_status()
    # As the page: a beat at once on the reply, then one every 2 s on its own timer
    # (setInterval), each sent without waiting for the one before to be answered. The pages'
    # timers are not in step (the Starts' replies are close together here), so the second
    # beat comes after a random part of the period.
    over = asyncio.Event()
    beats: set[asyncio.Task[None]] = set()
    next_at = time.monotonic() - random.Random(user_id).uniform(0, BEAT_S)
    last: float | None = None
    while not over.is_set():
        sent = time.monotonic()
        if last is not None:
            tally.gaps.append(sent - last)
        last = sent
        task = asyncio.create_task(one_beat(http, api, headers, tally, over))
        beats.add(task)
        task.add_done_callback(beats.discard)
        next_at += BEAT_S
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(over.wait(), max(0.0, next_at - time.monotonic()))
    await asyncio.gather(*beats)


async def one_beat(
    http: httpx.AsyncClient,
    api: str,
    headers: dict[str, str],
    tally: Tally,
    over: asyncio.Event,
) -> None:
    sent = time.monotonic()
    try:
        beat = await http.post(f"{api}/heartbeat", json={"visible": True}, headers=headers)
    except httpx.TransportError:  # as the page does: the next beat tries again
        tally.errors.append("heartbeat")
        return
    tally.beats.append(time.monotonic() - sent)
    if beat.status_code == 200 and not beat.json()["hold_chat_cues"]:
        over.set()  # the walk is over


async def watch_lag(tally: Tally, stop: asyncio.Event) -> None:
    while not stop.is_set():
        asked = time.monotonic()
        await asyncio.sleep(LAG_TICK_S)
        tally.lag.append(time.monotonic() - asked - LAG_TICK_S)


async def run(port: int, screens: list[tuple[int, int]], spread: float) -> Tally:
    tally = Tally()
    stop = asyncio.Event()
    lag = asyncio.create_task(watch_lag(tally, stop))
    spacing = random.Random(0)
    await asyncio.gather(
        *(
            screen(port, user_id, walk_id, spacing.uniform(0, spread), tally)
            for user_id, walk_id in screens
        )
    )
    stop.set()
    await lag
    return tally


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spread", type=float, default=0.0, help="seconds the Starts spread")
    args = parser.parse_args()
    screens = [(int(u), int(w)) for u, w in json.loads(sys.stdin.read())]
    tally = asyncio.run(run(args.port, screens, args.spread))
    json.dump(vars(tally), sys.stdout)


if __name__ == "__main__":
    main()
