"""What walkbot's jobs send, said in walkbot's own terms: the ports that scheduled work calls
and bot/notifier.py implements with Telegram messages and buttons.

A job (a walk cue, a six-minute-test phrase) or a queue source (services/*_source.py) asks a
port for "the effort question for walk 12", never for an InlineKeyboardMarkup; so
scheduling/ and services/ never import bot/ or telegram, and a test can hand them a fake
that only records what was asked. Every port answers with an `Outcome`.

The queue sources declare their own small ports beside them (NudgeSender in
services/nudge_source.py, ...); the ports of the cue jobs are here, with the one answer type
they all share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

Status = Literal["sent", "blocked", "failed"]

# Says what a message should read if it leaves now (it may have waited on flood control);
# None: it is stale, send nothing. Called just before each attempt to send it.
Restate = Callable[[], str | None]


@dataclass(frozen=True)
class Outcome:
    """How a message fared. `blocked`: the chat refuses the bot (403, or a chat Telegram no
    longer knows), so nothing more should be written to it; `failed`: given up after bounded
    retries, with the reason in `detail`. `migrated_to`: the chat was a group that became a
    supergroup, and the message went (or was tried) at this new id; the caller moves what it
    keeps under the old one."""

    status: Status
    detail: str = ""
    migrated_to: int | None = None

    @property
    def sent(self) -> bool:
        return self.status == "sent"

    @property
    def blocked(self) -> bool:
        return self.status == "blocked"


SENT = Outcome("sent")
STALE = "stale"  # Outcome.detail of a message dropped because its moment had passed


class WalkNotifier(Protocol):
    """A walk's messages outside a reply: cues while it runs, then the rating question."""

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
        """A cue, with the walk's controls (Pause, Stop, I need to stop), and the live screen's
        button when `live_button`. `restate`: what it should say instead if it only leaves
        later (held by flood control), or None to drop it; a dropped cue is "failed" with
        detail STALE."""
        ...

    async def walk_ended(self, user_id: int, text: str) -> Outcome:
        """What was done, once the walk is over (finished or stopped). It makes a sound."""
        ...

    async def rating_prompt(
        self, user_id: int, walk_id: int, *, step: str, reminder: bool
    ) -> Outcome:
        """The rating question owed at `step` (effort: how hard did it feel, 0-10 buttons;
        pain; note); `reminder`: the one gentle reminder later."""
        ...


class SixMinuteNotifier(Protocol):
    """A six-minute walk test's phrases and its first question after "Stop"."""

    async def sixmin_cue(self, user_id: int, test_id: int, text: str, *, final: bool) -> Outcome:
        """A phrase, with a Stop button while the test runs; `final` ("Stop.") has none."""
        ...

    async def distance_prompt(self, user_id: int, test_id: int, *, units: str) -> Outcome:
        """How far did you walk, after a test that ran its six minutes."""
        ...


class JobNotifier(WalkNotifier, SixMinuteNotifier, Protocol):
    """Everything the cue jobs send (Runtime.notifier)."""
