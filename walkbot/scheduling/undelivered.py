"""What a job does with a message given up on (after walkbot.delivery's bounded retries): puts
it on record (services/undelivered.py). A block is the caller's to handle; a sent message
needs nothing."""

from __future__ import annotations

import logging

from walkbot.context import WalkbotApp, runtime_of
from walkbot.ports import Outcome
from walkbot.services import undelivered

log = logging.getLogger(__name__)

# FailedDelivery.kind for each message a job sends outside the queue.
WALK_CUE, WALK_END, RATING = "walk-cue", "walk-end", "rating"
SIXMIN_CUE, DISTANCE = "sixmin-cue", "sixmin-distance"


async def note(app: WalkbotApp, outcome: Outcome, *, user_id: int, kind: str) -> None:
    if outcome.status != "failed":
        return
    rt = runtime_of(app)
    try:
        async with rt.transaction() as session:
            await undelivered.given_up(
                session, user_id=user_id, kind=kind, detail=outcome.detail, now=rt.clock.now()
            )
    except Exception:  # the store is failing too: the log is all that is left
        log.warning("could not record a %s given up on", kind, exc_info=True)
