"""Every table's rows, read straight from the database, to show that something changed
nothing: `snapshot` before, `snapshot` after, compare. Bookkeeping that records that an
update arrived is left out, as it changes with every update by design: the update inbox, and
when a group was last heard from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, select

from walkbot.sandbox.embedded import RunningBot
from walkbot.scheduling import dispatch
from walkbot.store.db import sync_url
from walkbot.store.models import metadata

BOOKKEEPING = frozenset({"update_inbox"})
SEEN_AT = frozenset({("group_chats", "updated_at")})

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(database_url: str, *, leave_out: frozenset[str] = BOOKKEEPING) -> Snapshot:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(
                    (
                        tuple(row)
                        for row in connection.execute(
                            select(*(c for c in table.c if (table.name, c.name) not in SEEN_AT))
                        )
                    ),
                    key=repr,
                )
                for table in metadata.sorted_tables
                if table.name not in leave_out
            }
    finally:
        engine.dispose()


def changes(before: Snapshot, after: Snapshot) -> dict[str, tuple[list[Any], list[Any]]]:
    """Per table: (rows gone, rows new); tables that did not change are left out."""
    found = {}
    for name, rows in after.items():
        old = before.get(name, [])
        gone = [row for row in old if row not in rows]
        new = [row for row in rows if row not in old]
        if gone or new:
            found[name] = (gone, new)
    return found


def hold_the_queue(bot: RunningBot) -> None:
    """No more dispatch ticks: a test about handlers must not meet a reminder or the sweep that
    schedules people (seed them with scheduled=True, so a tick already under way has nothing
    to do for them either)."""
    app: Any = bot.app
    assert app is not None and app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name(dispatch.JOB_NAME):
        job.schedule_removal()
