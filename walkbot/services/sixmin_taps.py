"""What the six-minute test's buttons decide, as small results the handlers turn into words.
The test itself moves in services/sixmin.py; this adds who may tap, and the walk it must not
overlap."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain import sixmin as domain
from walkbot.domain.screening import needs_support
from walkbot.services import sixmin, walks
from walkbot.services.users import get_user
from walkbot.store.models import SixMinuteTest

BeginKind = Literal["stale", "walking", "running", "created"]
TapKind = Literal["stale", "started", "cancelled", "stopped", "answered"]
_DONE: dict[str, TapKind] = {"start": "started", "cancel": "cancelled", "stop": "stopped"}


@dataclass(frozen=True)
class Begun:
    kind: BeginKind
    test_id: int = 0  # created: the new test, behind its setup card
    needs_support: bool = False  # created: the setup card for someone who flagged a risk


@dataclass(frozen=True)
class Tap:
    """A button on a test: `start`, `cancel` or `stop`, or `answer` to `step` (value None is
    Skip, or None to the symptoms question)."""

    test_id: int
    action: str
    step: str = ""
    value: int | None = None


@dataclass(frozen=True)
class Tapped:
    kind: TapKind
    test: SixMinuteTest | None = None
    units: str = "km"
    answered: sixmin.Answered | None = None  # answered: what was taken and what comes next


async def begin(
    session: AsyncSession, *, user_id: int, direction: domain.Direction, now: datetime
) -> Begun:
    """Forward or Backward on the /sixmin introduction: a new test, unless a walk is under way
    (one timed thing at a time), setup is unfinished, or another test is running."""
    user = await get_user(session, telegram_id=user_id)
    walk = await walks.open_walk(session, user_id=user_id)
    if walk is not None and walk.status == "active":
        return Begun("walking")
    if user is None or user.onboarding_step is not None:
        return Begun("stale")
    test = await sixmin.create(session, user=user, direction=direction, now=now)
    if test is None or test.id is None:
        return Begun("running")
    return Begun("created", test_id=test.id, needs_support=needs_support(user.screening))


async def tap(session: AsyncSession, *, user_id: int, request: Tap | None, now: datetime) -> Tapped:
    """A button on one's own test, taken only when the test's state allows it. None (data no
    button carries) is stale, like a tap on someone else's test."""
    if request is None:
        return Tapped("stale")
    test = await sixmin.owned_test(session, user_id=user_id, test_id=request.test_id)
    if test is None:
        return Tapped("stale")
    user = await get_user(session, telegram_id=user_id)
    units = user.units if user is not None else "km"
    if request.action == "answer":
        answered = await sixmin.answer(
            session, test=test, step=request.step, value=request.value, units=units, now=now
        )
        return Tapped("answered", test, units, answered) if answered.accepted else Tapped("stale")
    if request.action == "start":
        done = await sixmin.start(session, test=test, now=now)
    elif request.action == "cancel":
        done = await sixmin.cancel(session, test=test)
    elif request.action == "stop":
        done = await sixmin.stop(session, test=test, now=now)
    else:
        done = False
    return Tapped(_DONE[request.action], test, units) if done else Tapped("stale")
