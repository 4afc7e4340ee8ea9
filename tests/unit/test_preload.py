"""A stop never waits for the time-zone preload (walkbot/app.py preload_in_background).

`asyncio.run` waits for the default executor's threads before it returns; the preload used to
run there, so a SIGTERM soon after start-up waited for the index to be built (seconds on a
loaded machine, past the 10 s a stop may take). Here the preload blocks until the test lets
it go: `asyncio.run` must return while it still blocks."""

from __future__ import annotations

import asyncio
import threading

from walkbot.app import preload_in_background


def test_a_running_preload_does_not_hold_up_the_end_of_the_event_loop() -> None:
    release = threading.Event()
    started = threading.Event()

    def slow_preload() -> None:
        started.set()
        release.wait()

    async def briefly_running_bot() -> threading.Thread:
        thread = preload_in_background(slow_preload)
        await asyncio.sleep(0)
        return thread

    finished = threading.Event()
    preloads: list[threading.Thread] = []

    def run_loop() -> None:
        preloads.append(asyncio.run(briefly_running_bot()))
        finished.set()

    runner = threading.Thread(target=run_loop, daemon=True)
    runner.start()
    try:
        # A bound on a hang, not a measurement: the loop ends at once, or never.
        assert finished.wait(timeout=30), "asyncio.run waited for the preload"
        assert started.is_set() and preloads[0].is_alive()  # it was still building
        assert preloads[0].daemon  # nor does it keep the process alive at exit
    finally:
        release.set()
        runner.join(timeout=30)
