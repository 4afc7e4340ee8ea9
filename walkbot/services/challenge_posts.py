"""A group challenge's posts as sources of the dispatch queue (services/dispatch.py).

Four kinds, each at an instant on the `challenges` row (see docs/architecture.md):
- BoardEdits ("challenge-board"): the card edited in place after walks, joins and leaves,
  at most once per `Settings.board_edit_gap_seconds`, so edits and posts together stay well
  inside Telegram's 20 messages a minute per group (edits count too);
- DailyBoards ("challenge-daily"): the board at the group's post time, skipped when found
  more than BOARD_CATCH_UP late (yesterday's board at breakfast is noise);
- LastCalls ("challenge-last-call"): "3 days left", the same catch-up rule;
- Results ("challenge-results"): the final post; it ends the challenge and is sent however
  late, since nothing replaces it.
Each item's payload is the challenge id; the board is read at delivery in a short transaction
of its own, so it shows the scores as they are when the post leaves. Group posts concern no
one person: `user_id=None`, and their records keep only the chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from walkbot.ports import Outcome
from walkbot.services.challenges import Board

Occasion = Literal["card", "daily", "last_call", "results"]


@dataclass(frozen=True)
class GroupPost:
    """One board to show in a group, and why it is shown."""

    chat_id: int
    thread_id: int | None  # the forum topic the challenge lives in; None: the main chat
    board: Board
    occasion: Occasion


@dataclass(frozen=True)
class Posted:
    """A new board message's fate, and its id when it arrived (to edit it later)."""

    outcome: Outcome
    message_id: int | None = None


class ChallengePoster(Protocol):
    """What the challenge sources send; bot/notifier.py renders and sends it, silently."""

    async def post_board(self, post: GroupPost) -> Posted:
        """A new silent message with the board (and a Join button while one may join)."""
        ...

    async def edit_board(self, post: GroupPost, message_id: int) -> Outcome:
        """The board message `message_id` edited in place. "Message is not modified" is sent;
        a message Telegram no longer has (deleted, too old) is failed with detail GONE."""
        ...


GONE = "gone"  # edit_board's detail when the message to edit no longer exists
