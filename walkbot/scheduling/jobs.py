"""What every timed job in walkbot shares: the options, deterministic names, and replacing a
series of dated jobs at once (the walk's cues, the six-minute test's phrases).

The row in the database is the truth; a job only says when to look at it. Jobs run however
late they are (misfire_grace_time=None): whether a late cue is still worth sending is each
domain's late policy, not APScheduler's silent skip (its default grace is one second).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any

from telegram.ext import JobQueue

from walkbot.context import WalkbotContext

JobCallback = Callable[[WalkbotContext], Coroutine[Any, Any, None]]
JOB_OPTIONS = {"misfire_grace_time": None, "coalesce": True}


def replace_series(
    job_queue: JobQueue[Any],
    callback: JobCallback,
    *,
    prefix: str,
    data: int,
    times: Iterable[tuple[int, datetime]],
) -> int:
    """Dated jobs named `{prefix}{index}`, one per (index, when); any the series already had
    are removed first, so scheduling again after a restart or a pause never doubles a cue."""
    cancel_series(job_queue, prefix)
    count = 0
    for index, when in times:
        job_queue.run_once(
            callback, when=when, name=f"{prefix}{index}", data=data, job_kwargs=JOB_OPTIONS
        )
        count += 1
    return count


def cancel_series(job_queue: JobQueue[Any], prefix: str) -> None:
    for job in job_queue.jobs():
        if job.name is not None and job.name.startswith(prefix):
            job.schedule_removal()


def replace_once(
    job_queue: JobQueue[Any], callback: JobCallback, *, name: str, data: int, when: datetime
) -> None:
    """One dated job by name, replacing one of the same name."""
    for job in job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    job_queue.run_once(callback, when=when, name=name, data=data, job_kwargs=JOB_OPTIONS)


def row_id_of(context: WalkbotContext) -> int:
    """The row a dated job is about (its `data`, set by replace_series and replace_once)."""
    job = context.job
    assert job is not None and isinstance(job.data, int), "a walkbot job always carries a row id"
    return job.data
