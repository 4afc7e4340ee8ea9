"""Six-minute walk tests: setting up, starting, stopping, recording, and comparing, on the row.

Status: setup -> running -> recording -> done (a full test) or stopped (stopped early);
cancelled when put off before the start. `step` is the question owed: effort_before while in
setup (None once answered: ready to start), then distance -> effort_after -> symptoms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeGuard

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain import sixmin as domain
from walkbot.domain.wording import clean_text
from walkbot.store.claims import compare_and_set
from walkbot.store.models import SixMinuteTest, User

OPEN_STATUSES = ("setup", "running", "recording")
RECORDED_STATUSES = ("done", "stopped")
Step = Literal["effort_before", "distance", "effort_after", "symptoms"]
TEXT_STEPS = ("distance", "symptoms")
NOTE_LIMIT = 500


async def open_test(session: AsyncSession, *, user_id: int) -> SixMinuteTest | None:
    """The test someone is setting up, walking, or still recording: the latest open one."""
    statement = (
        select(SixMinuteTest)
        .where(SixMinuteTest.user_id == user_id, col(SixMinuteTest.status).in_(OPEN_STATUSES))
        .order_by(col(SixMinuteTest.id).desc())
    )
    return (await session.exec(statement)).first()


async def running_test(session: AsyncSession, *, user_id: int) -> SixMinuteTest | None:
    """The test being walked right now, if any."""
    test = await open_test(session, user_id=user_id)
    return test if test is not None and test.status == "running" else None


async def owned_test(session: AsyncSession, *, user_id: int, test_id: int) -> SixMinuteTest | None:
    """A test only its owner may see or change; None for anyone else's or a missing one."""
    test = await session.get(SixMinuteTest, test_id)
    if test is None or test.user_id != user_id:
        return None
    return test


async def create(
    session: AsyncSession, *, user: User, direction: domain.Direction, now: datetime
) -> SixMinuteTest | None:
    """A new test behind the setup card. None while another test is running.

    An unstarted card is cancelled; a test still being recorded is closed with what it has.
    The same card asked for again before anything was answered on it (a replayed or doubled
    tap) is that card, not a new row: replays never grow the table.
    """
    statement = select(SixMinuteTest).where(
        SixMinuteTest.user_id == user.telegram_id, col(SixMinuteTest.status).in_(OPEN_STATUSES)
    )
    wanted = domain.direction_of(direction)
    for old in (await session.exec(statement)).all():
        if old.status == "running":
            return None
        untouched = old.step == "effort_before" and old.effort_before is None
        if old.status == "setup" and old.direction == wanted and untouched:
            return old
        if old.status == "setup":
            old.status, old.step = "cancelled", None
        else:
            _close(old)
        session.add(old)
    test = SixMinuteTest(
        user_id=user.telegram_id,
        direction=wanted,
        status="setup",
        step="effort_before",
        created_at=now,
    )
    session.add(test)
    await session.flush()
    return test


def is_ready(test: SixMinuteTest) -> bool:
    return test.status == "setup" and test.step is None


async def start(session: AsyncSession, *, test: SixMinuteTest, now: datetime) -> bool:
    """Only a set-up test whose effort-before is answered starts, and only once."""
    if not is_ready(test):
        return False
    test.status, test.started_at, test.last_cue_index = "running", now, -1
    session.add(test)
    return True


async def cancel(session: AsyncSession, *, test: SixMinuteTest) -> bool:
    """'Not today' before the start."""
    if test.status != "setup":
        return False
    test.status, test.step = "cancelled", None
    session.add(test)
    return True


async def stop(session: AsyncSession, *, test: SixMinuteTest, now: datetime) -> bool:
    """The Stop button during the test: recorded as stopped early, the distance still asked."""
    if test.status != "running":
        return False
    if not await _claim(session, test, same_cue=False, status="recording"):
        return False  # "Stop." came first (the finish, the sweep): the distance is asked
    test.status, test.step, test.ended_at, test.stopped_early = "recording", "distance", now, True
    session.add(test)
    return True


async def finish(session: AsyncSession, *, test: SixMinuteTest, duration_s: int) -> bool:
    """The six minutes are up ("Stop." was said): ask for the distance."""
    if test.status != "running" or test.started_at is None:
        return False
    if not await _claim(session, test, same_cue=False, status="recording"):
        return False
    test.status, test.step = "recording", "distance"
    test.ended_at = domain.ends_at(test.started_at, duration_s)
    session.add(test)
    return True


async def cancel_for_blocked(session: AsyncSession, *, test: SixMinuteTest) -> None:
    """They blocked the bot mid-test: nothing more will be asked."""
    if test.status in OPEN_STATUSES:
        test.status = "stopped" if test.started_at is not None else "cancelled"
        test.step = None
        test.stopped_early = test.stopped_early or test.status == "stopped"
        session.add(test)


async def claim_cue(session: AsyncSession, *, test: SixMinuteTest, last_index: int) -> bool:
    """Record the phrases up to `last_index` as handled, if nobody has since `test` was read
    and it is still running (compare-and-set, as for a walk's cues: services/walks.py
    claim_cues). True means this caller says them; a Stop tap, another job or the overdue
    sweep that came first leaves nothing to say."""
    if last_index <= test.last_cue_index:
        return False
    return await _claim(session, test, last_cue_index=last_index)


async def _claim(
    session: AsyncSession, test: SixMinuteTest, *, same_cue: bool = True, **values: object
) -> bool:
    assert test.id is not None
    still = [col(SixMinuteTest.id) == test.id, col(SixMinuteTest.status) == "running"]
    if same_cue:
        still.append(col(SixMinuteTest.last_cue_index) == test.last_cue_index)
    return await compare_and_set(session, test, still, **values)


async def overdue_tests(
    session: AsyncSession, *, now: datetime, duration_s: int, grace: timedelta
) -> list[int]:
    """Running tests whose six minutes ended more than `grace` ago: their "Stop." failed (or
    its job was lost), and the sweep says it and asks for the distance."""
    statement = select(SixMinuteTest).where(
        SixMinuteTest.status == "running", col(SixMinuteTest.started_at).is_not(None)
    )
    return [
        test.id
        for test in (await session.exec(statement)).all()
        if test.id is not None
        and test.started_at is not None
        and domain.ends_at(test.started_at, duration_s) + grace <= now
    ]


@dataclass(frozen=True)
class Answered:
    accepted: bool
    next_step: Step | None = None
    error: str | None = None  # a distance that could not be read: ask again with this
    chosen: str | None = None  # what was understood, to confirm
    advice: str | None = None
    comparison: domain.Comparison | None = None  # once the last question is answered


async def answer(
    session: AsyncSession,
    *,
    test: SixMinuteTest,
    step: str,
    value: int | str | None,
    units: str,
    now: datetime,
) -> Answered:
    """Record one answer (None means Skip). Only the question owed is accepted, once."""
    if test.step != step or test.status not in ("setup", "recording"):
        return Answered(accepted=False)
    if step == "effort_before":
        if test.status != "setup" or not _is_scale(value):
            return Answered(accepted=False)
        test.effort_before, test.step = value, None
        session.add(test)
        return Answered(accepted=True, next_step=None)
    if test.status != "recording":
        return Answered(accepted=False)
    if step == "distance":
        return _distance(session, test, value, units)
    if step == "effort_after":
        if value is not None and not _is_scale(value):
            return Answered(accepted=False)
        test.effort_after, test.step = value, "symptoms"
        session.add(test)
        return Answered(accepted=True, next_step="symptoms")
    if step == "symptoms":
        note = None if value is None else clean_text(str(value)).strip()[:NOTE_LIMIT] or None
        test.symptoms = note
        _close(test)
        session.add(test)
        comparison = await compare(session, test=test, now=now, units=units)
        advice = domain.symptom_advice(note)
        return Answered(accepted=True, next_step=None, advice=advice, comparison=comparison)
    return Answered(accepted=False)


def _distance(
    session: AsyncSession, test: SixMinuteTest, value: int | str | None, units: str
) -> Answered:
    if value is None:
        test.step = "effort_after"
        session.add(test)
        return Answered(accepted=True, next_step="effort_after", chosen="Not measured")
    try:
        distance = domain.parse_distance(str(value), units=units, stopped_early=test.stopped_early)
    except domain.DistanceError as error:
        return Answered(accepted=False, error=error.message)
    test.metres, test.laps, test.lap_length_m = (
        distance.metres,
        distance.laps,
        distance.lap_length_m,
    )
    test.step = "effort_after"
    session.add(test)
    return Answered(
        accepted=True,
        next_step="effort_after",
        chosen=domain.format_distance(distance.metres, units),
    )


def _is_scale(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10


def _close(test: SixMinuteTest) -> None:
    test.status = "stopped" if test.stopped_early else "done"
    test.step = None


async def owed_text(session: AsyncSession, *, user_id: int) -> SixMinuteTest | None:
    """The test waiting for a typed answer (a distance or a note), if any."""
    statement = (
        select(SixMinuteTest)
        .where(
            SixMinuteTest.user_id == user_id,
            SixMinuteTest.status == "recording",
            col(SixMinuteTest.step).in_(TEXT_STEPS),
        )
        .order_by(col(SixMinuteTest.id).desc())
    )
    return (await session.exec(statement)).first()


async def running_tests(session: AsyncSession) -> list[SixMinuteTest]:
    """Every test under way, for rebuilding cue jobs at start-up."""
    statement = select(SixMinuteTest).where(SixMinuteTest.status == "running")
    return list((await session.exec(statement)).all())


def result_of(test: SixMinuteTest) -> domain.Result | None:
    if test.metres is None or test.started_at is None:
        return None
    return domain.Result(
        direction=domain.direction_of(test.direction),
        metres=test.metres,
        at=test.started_at,
        stopped_early=test.stopped_early,
    )


async def _recorded(session: AsyncSession, *, user_id: int) -> list[SixMinuteTest]:
    statement = (
        select(SixMinuteTest)
        .where(
            SixMinuteTest.user_id == user_id,
            col(SixMinuteTest.status).in_(RECORDED_STATUSES),
            col(SixMinuteTest.metres).is_not(None),
        )
        .order_by(col(SixMinuteTest.started_at), col(SixMinuteTest.id))
    )
    return list((await session.exec(statement)).all())


def _results(rows: list[SixMinuteTest]) -> list[domain.Result]:
    return [r for r in (result_of(row) for row in rows) if r is not None]


async def results(session: AsyncSession, *, user_id: int) -> list[domain.Result]:
    """Every recorded test with a distance, oldest first."""
    return _results(await _recorded(session, user_id=user_id))


async def compare(
    session: AsyncSession, *, test: SixMinuteTest, now: datetime, units: str
) -> domain.Comparison | None:
    """This test against the person's earlier ones; None when no distance was recorded."""
    current = result_of(test)
    if current is None:
        return None
    rows = await _recorded(session, user_id=test.user_id)
    earlier = _results([row for row in rows if row.id != test.id])
    return domain.compare(current, earlier, now=now, units=units)


async def latest_results(
    session: AsyncSession, *, user_id: int
) -> dict[domain.Direction, domain.Result]:
    """The latest full test in each direction, for the /sixmin introduction."""
    latest: dict[domain.Direction, domain.Result] = {}
    for result in await results(session, user_id=user_id):
        if not result.stopped_early:
            latest[result.direction] = result
    return latest
