"""A walk whose finish never went is wrapped up by the overdue sweep (issue 11, point 4), and
/walk never calls a walk both under way and complete."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from tests.e2e.rows import latest_row, row_when
from tests.people import onboarded_chat
from walkbot.clock import ShiftedClock
from walkbot.sandbox import FakeBotApi
from walkbot.sandbox.embedded import RunningBot
from walkbot.services import walks as walk_service
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory


def drop_cue_jobs(bot: RunningBot, walk_id: int) -> None:
    """The walk's jobs are lost, as when the process that held them went away."""
    app: Any = bot.app
    for job in app.job_queue.jobs():
        if job.name and job.name.startswith(f"walk:{walk_id}:cue:"):
            job.schedule_removal()


@pytest.fixture
async def sweeping(settings: Settings) -> AsyncIterator[RunningBot]:
    quick = settings.model_copy(update={"overdue_sweep_seconds": 1, "overdue_grace_seconds": 1})
    running = RunningBot(quick)
    await running.start()
    yield running
    await running.stop()


async def test_a_finish_lost_to_a_database_fault_is_wrapped_up_by_the_sweep(
    api: FakeBotApi,
    sessions: SessionFactory,
    sweeping: RunningBot,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_end = walk_service.end
    failed: list[int] = []

    async def end_with_the_database_down(session: Any, **kwargs: Any) -> Any:
        if kwargs["reason"] == "finished" and not failed:  # the finish cue's transaction fails
            failed.append(1)
            raise OperationalError("UPDATE walks", {}, Exception("connection refused"))
        return await real_end(session, **kwargs)

    monkeypatch.setattr(walk_service, "end", end_with_the_database_down)
    alice = await onboarded_chat(api, sessions, "Alice")
    alice.send("/walk 1x10/10")
    card = await alice.wait_for_text("Before you start")
    alice.tap("Start", message=card)
    await alice.wait_for_text("BACKWARD")
    await alice.wait_for_text("Forward", timeout=15)
    await api.until(lambda: bool(failed), timeout=15)  # the finish, at 20 s, met the fault
    assert latest_row(database_url, "walks", alice.id)["status"] == "active"
    await alice.wait_for_text("Well done", timeout=10)  # the sweep's, a second or two later
    await alice.wait_for_text("How hard did that feel")
    row = await row_when(database_url, "walks", alice.id, lambda r: r["status"] == "ended")
    assert (row["end_reason"], row["rating_step"]) == ("finished", "effort")
    await asyncio.sleep(2.5)  # two more sweeps: nothing is sent twice
    assert sum("How hard did that feel" in m.body for m in alice.messages()) == 1


async def test_walk_wraps_up_a_walk_past_its_end_instead_of_calling_it_under_way_and_complete(
    api: FakeBotApi,
    sessions: SessionFactory,
    bot: RunningBot,
    clock: ShiftedClock,
    database_url: str,
) -> None:
    alice = await onboarded_chat(api, sessions, "Alice")
    alice.send("/walk 1x10/10")
    card = await alice.wait_for_text("Before you start")
    alice.tap("Start", message=card)
    await alice.wait_for_text("BACKWARD")
    walk = await row_when(database_url, "walks", alice.id, lambda r: r["status"] == "active")
    drop_cue_jobs(bot, int(str(walk["id"])))
    clock.jump(timedelta(minutes=5))  # past its end; the default sweep (60 s) has not come
    assert latest_row(database_url, "walks", alice.id)["status"] == "active"

    alice.send("/walk")
    await alice.wait_for_text("How hard did that feel")
    new_card = await alice.wait_for_text("Before you start")
    assert new_card.button_labels()[0] == "▶ Start"
    assert not any("on a walk right now" in m.body for m in alice.messages())
    rows = latest_row(database_url, "walks", alice.id)
    assert rows["status"] == "ready"  # the new card's walk; the old one ended
