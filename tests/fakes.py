"""A notifier that sends nothing: it records what walkbot's jobs and queue sources asked for
(in walkbot's own terms: walkbot/ports.py and the sources' senders) and answers as told."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from walkbot.app import queue_sources
from walkbot.ports import SENT, Outcome, Restate
from walkbot.services.challenge_posts import GroupPost, Posted
from walkbot.services.dispatch import Source
from walkbot.services.summaries import WeeklyReport
from walkbot.store.db import SessionFactory


@dataclass
class RecordingNotifier:
    """Every call as (port method, chat id, details); `answers[chat_id]` overrides SENT."""

    calls: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    answers: dict[int, Outcome] = field(default_factory=dict)
    next_message_id: int = 1000  # the id a posted board gets

    def _record(self, method: str, chat_id: int, **details: Any) -> Outcome:
        self.calls.append((method, chat_id, details))
        return self.answers.get(chat_id, SENT)

    def to(self, chat_id: int) -> list[str]:
        return [method for method, chat, _ in self.calls if chat == chat_id]

    async def walk_cue(
        self,
        user_id: int,
        walk_id: int,
        text: str,
        *,
        sound: bool,
        live_button: bool = False,
        restate: Restate | None = None,
    ) -> Outcome:
        return self._record(
            "walk_cue", user_id, walk_id=walk_id, text=text, sound=sound, restate=restate
        )

    async def walk_ended(self, user_id: int, text: str) -> Outcome:
        return self._record("walk_ended", user_id, text=text)

    async def rating_prompt(
        self, user_id: int, walk_id: int, *, step: str, reminder: bool
    ) -> Outcome:
        return self._record("rating_prompt", user_id, walk_id=walk_id, step=step, reminder=reminder)

    async def sixmin_cue(self, user_id: int, test_id: int, text: str, *, final: bool) -> Outcome:
        return self._record("sixmin_cue", user_id, test_id=test_id, text=text, final=final)

    async def distance_prompt(self, user_id: int, test_id: int, *, units: str) -> Outcome:
        return self._record("distance_prompt", user_id, test_id=test_id, units=units)

    async def nudge(self, chat_id: int, *, day: date, text: str, snoozable: bool) -> Outcome:
        return self._record("nudge", chat_id, day=day, text=text, snoozable=snoozable)

    async def knee_check(self, chat_id: int, walk_id: int) -> Outcome:
        return self._record("knee_check", chat_id, walk_id=walk_id)

    async def weekly_report(self, chat_id: int, report: WeeklyReport) -> Outcome:
        return self._record("weekly_report", chat_id, text=report.text)

    async def post_board(self, post: GroupPost) -> Posted:
        outcome = self._record(
            "post_board",
            post.chat_id,
            occasion=post.occasion,
            thread_id=post.thread_id,
            board=post.board,
        )
        self.next_message_id += 1
        return Posted(outcome, self.next_message_id if outcome.sent else None)

    async def edit_board(self, post: GroupPost, message_id: int) -> Outcome:
        return self._record(
            "edit_board",
            post.chat_id,
            occasion=post.occasion,
            thread_id=post.thread_id,
            board=post.board,
            message_id=message_id,
        )


def real_sources(
    sessions: SessionFactory, notifier: RecordingNotifier | None = None
) -> tuple[Source[Any], ...]:
    """The sources the app registers, sending to `notifier` (by default one nobody reads)."""
    return queue_sources(notifier or RecordingNotifier(), sessions)


@dataclass
class FixedClock:
    """A clock that stays where it is put: jobs and sources see exactly `at`."""

    at: datetime

    def now(self) -> datetime:
        return self.at
