"""/export holds everything walkbot keeps about a person; /deleteme leaves nothing in any table.

Which tables hold a person is read from the models, not listed here: a new table with a user
id fails these tests until the export and the erasure cover it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Table, create_engine, select
from sqlmodel import select as sql_select
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.fakes import RecordingNotifier
from tests.personal import (
    ALSO_A_PERSON,
    NOT_A_PERSON,
    PERSONAL_TABLES,
    T0,
    is_bigint,
    person_column,
    rows_naming,
    seed_everywhere,
)
from walkbot.clock import SystemClock
from walkbot.domain.profile import DAY_NAMES, DAY_NAMES_LONG, days_to_mask
from walkbot.ports import Outcome
from walkbot.runtime import Runtime
from walkbot.sandbox import TEST_TOKEN
from walkbot.scheduling.dispatch import dispatch_once
from walkbot.services.dispatch import IN_FLIGHT, Claim, Outgoing, Source
from walkbot.services.privacy import LEFT_OUT, ExportFile, _cell, export_files, export_user
from walkbot.services.users import Person, create_user, delete_user
from walkbot.settings import Settings
from walkbot.store.db import SessionFactory, sync_url, transaction
from walkbot.store.models import (
    Challenge,
    ChallengeMember,
    FailedDelivery,
    GroupChat,
    LevelChange,
    RestPeriod,
    SixMinuteTest,
    Walk,
    metadata,
)

ALICE, BOB = 7_100_000_001, 7_100_000_002


async def _seed(sessions: SessionFactory, user_id: int, *, note: str | None = None) -> None:
    async with transaction(sessions) as session:
        await create_user(session, person=Person(user_id, "Someone", language_code="en-GB"), now=T0)
        await session.flush()
        walk = Walk(
            user_id=user_id,
            plan={"warmup_s": 0, "rounds": 1, "backward_s": 10, "forward_s": 10},
            status="ended",
            created_at=T0,
            started_at=T0,
            ended_at=T0 + timedelta(minutes=2),
            pauses=[{"at": T0.isoformat(), "until": None}],
            forward_s=10,
            level=1,
            knee_pain=4,
            note=note,
            rated_at=T0 + timedelta(minutes=3),
            knee_check_sent_at=T0 + timedelta(days=1),
            knee_morning=5,
            knee_morning_worse=True,
        )
        session.add(walk)
        await session.flush()
        session.add(
            LevelChange(
                user_id=user_id,
                changed_at=T0,
                from_level=1,
                to_level=2,
                reason="step_up",
                walk_id=walk.id,
            )
        )
        session.add(
            SixMinuteTest(
                user_id=user_id,
                direction="backward",
                status="done",
                created_at=T0,
                metres=312.0,
                symptoms=note,
            )
        )
        session.add(
            RestPeriod(user_id=user_id, starts_at=T0, ends_at=T0 + timedelta(days=7), created_at=T0)
        )
        session.add(FailedDelivery(user_id=user_id, kind="nudge", failed_at=T0, detail="timed out"))
        session.add(
            FailedDelivery(
                user_id=user_id, kind="summary", due_at=T0, failed_at=T0, detail=IN_FLIGHT
            )
        )


async def test_export_has_what_it_once_missed(sessions: SessionFactory) -> None:
    """Language, pauses, forward seconds, rating and knee-check times, the walk behind a
    level change, creation times, and messages still in flight."""
    await _seed(sessions, ALICE)
    async with transaction(sessions) as session:
        raw = await export_user(session, telegram_id=ALICE, now=T0)
    assert raw is not None
    data = json.loads(raw)
    assert data["profile"]["language_code"] == "en-GB"
    assert data["profile"]["blocked_at"] is None and data["profile"]["editing"] is None
    assert data["profile"]["reminder_days"] == ["Mon", "Wed", "Fri"]
    assert data["profile"]["summary_day"] == "Sunday"
    assert data["profile"]["reminder_time"] == "08:00"
    walk = data["walks"][0]
    assert walk["pauses"] == [{"at": T0.isoformat(), "until": None}]
    assert walk["forward_s"] == 10 and walk["created_at"] == T0.isoformat()
    assert walk["rated_at"] == "2026-03-02T08:03:00+00:00"
    assert walk["knee_check_sent_at"] == "2026-03-03T08:00:00+00:00"
    assert (walk["knee_morning"], walk["knee_morning_worse"]) == (5, True)
    assert [(c["to_level"], c["walk_id"]) for c in data["level_changes"]] == [(2, walk["id"])]
    assert data["six_minute_tests"][0]["metres"] == 312.0
    assert data["rest_periods"][0]["ends_at"] == (T0 + timedelta(days=7)).isoformat()
    assert [(f["kind"], f["detail"], f["chat_id"]) for f in data["failed_deliveries"]] == [
        ("nudge", "timed out", ALICE),
        ("summary", IN_FLIGHT, ALICE),
    ]


def _csv_rows(file: ExportFile) -> list[dict[str, str]]:
    assert file.content.startswith(b"\xef\xbb\xbf"), "a BOM, so Excel reads UTF-8"
    return list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))


async def test_the_files_are_the_json_and_csvs_a_spreadsheet_opens_safely(
    sessions: SessionFactory,
) -> None:
    await _seed(sessions, ALICE, note='=HYPERLINK("http://x") café 🚶')
    async with transaction(sessions) as session:
        files = await export_files(session, telegram_id=ALICE, now=T0)
    assert files is not None
    assert [f.filename for f in files] == [
        "walkbot-data.json",
        "walkbot-walks.csv",
        "walkbot-six-minute-tests.csv",
    ]
    document = json.loads(files[0].content)
    assert document["walks"][0]["note"] == '=HYPERLINK("http://x") café 🚶'  # as written

    [walk] = _csv_rows(files[1])
    assert walk["note"] == '\'=HYPERLINK("http://x") café 🚶'  # text, not a formula
    assert walk["started_at"] == T0.isoformat() and walk["ended_at"] == "2026-03-02T08:02:00+00:00"
    assert walk["effort"] == ""  # not rated: an empty cell, not "None"
    assert json.loads(walk["plan"])["backward_s"] == 10
    assert "user_id" not in walk
    [test] = _csv_rows(files[2])
    assert (test["direction"], test["metres"], test["symptoms"][:2]) == ("backward", "312.0", "'=")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_a_cell_that_would_run_as_a_formula_stays_text(text: str) -> None:
    assert _cell(text) == "'" + text
    assert _cell("a=1") == "a=1" and _cell(-1) == -1  # numbers are numbers


async def test_nothing_to_export_for_someone_never_met(sessions: SessionFactory) -> None:
    async with transaction(sessions) as session:
        assert await export_files(session, telegram_id=ALICE, now=T0) is None


# --- every table and column that holds a person, found from the models -----------------------

# Columns /export leaves out on purpose; the reasons are in walkbot.services.privacy.LEFT_OUT.
ALLOWED_OUT = {
    "walks.user_id",
    "level_changes.user_id",
    "six_minute_tests.user_id",
    "rest_periods.user_id",
    "failed_deliveries.user_id",
    "challenge_members.user_id",
    "update_inbox.user_id",
    "update_inbox.body",
}
# Stored as numbers, exported in words: how to read the words back.
IN_WORDS: dict[str, Callable[[Any], object]] = {
    "users.reminder_days": lambda names: days_to_mask({DAY_NAMES.index(n) for n in names}),
    "users.summary_day": lambda name: DAY_NAMES_LONG.index(name),
}


def test_the_models_have_personal_tables_to_check() -> None:
    """Guards the discovery itself: if it found nothing, the test below would prove nothing."""
    names = {table.name for table in PERSONAL_TABLES}
    assert {"users", "walks", "failed_deliveries", "challenge_members"} <= names
    assert "update_inbox" in names  # its bodies are someone's messages


def test_every_telegram_sized_column_is_accounted_for() -> None:
    """A person's id needs BIGINT. Every BIGINT column is a row id, a person's own column, or
    said (ALSO_A_PERSON / NOT_A_PERSON in tests/personal.py): a new column such as
    `invited_by` must be placed there, and so considered by /export and /deleteme."""
    unplaced = [
        f"{table.name}.{column.name}"
        for table in metadata.sorted_tables
        for column in table.columns
        if is_bigint(column)
        and column is not person_column(table)
        and column is not table.autoincrement_column
        and not any(fk.column.table.name != "users" for fk in column.foreign_keys)
        and f"{table.name}.{column.name}" not in ALSO_A_PERSON | NOT_A_PERSON
    ]
    assert unplaced == []


def test_the_columns_left_out_of_the_export_are_the_ones_meant() -> None:
    assert set(LEFT_OUT) == ALLOWED_OUT
    assert all(LEFT_OUT.values()), "each left-out column says why"


@pytest.fixture
def alice_and_bob_everywhere(database_url: str) -> Iterator[tuple[Engine, dict[str, Any]]]:
    """A row in every personal table about Alice, and one about Bob; Alice's primary keys."""
    engine = create_engine(sync_url(database_url))
    alice: dict[str, Any] = {}
    with engine.begin() as connection:
        seed_everywhere(connection, ALICE, seeded=alice)
        seed_everywhere(connection, BOB, seeded={})
    yield engine, alice
    engine.dispose()


def _stored(engine: Engine, table: Table, person: int) -> dict[str, Any]:
    column = person_column(table)
    assert column is not None
    with engine.connect() as connection:
        row = connection.execute(select(table).where(column == person)).mappings().one()
    return dict(row)


def _as_exported(column: Column[Any], value: object) -> object:
    """What the export should say for a stored value (JSON has no dates or times)."""
    name = f"{column.table.name}.{column.name}"
    if name in IN_WORDS:
        return value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def _read_back(column: Column[Any], exported: object) -> object:
    name = f"{column.table.name}.{column.name}"
    return IN_WORDS[name](exported) if name in IN_WORDS else exported


@pytest.mark.parametrize("table", PERSONAL_TABLES, ids=lambda table: table.name)
async def test_every_column_about_a_person_is_exported_and_erased(
    sessions: SessionFactory,
    alice_and_bob_everywhere: tuple[Engine, dict[str, Any]],
    table: Table,
) -> None:
    engine, _ = alice_and_bob_everywhere
    stored = _stored(engine, table, ALICE)
    async with transaction(sessions) as session:
        raw = await export_user(session, telegram_id=ALICE, now=T0)
    assert raw is not None
    data = json.loads(raw)
    section = "profile" if table.name == "users" else table.name
    assert section in data, f"/export leaves out {table.name}: add it under that name"
    records = [data[section]] if section == "profile" else data[section]
    assert len(records) == 1, f"/export of {table.name}: only Alice's row"
    record = records[0]
    for column in table.columns:
        name = f"{table.name}.{column.name}"
        if name in ALLOWED_OUT:
            assert column.name not in record, f"{name} is meant to be left out"
            continue
        assert column.name in record, f"/export leaves out {name}"
        assert _read_back(column, record[column.name]) == _as_exported(
            column, stored[column.name]
        ), f"/export of {name}"

    async with transaction(sessions) as session:
        assert await delete_user(session, telegram_id=ALICE, now=T0)
    with engine.connect() as connection:
        left = rows_naming(connection, ALICE)
        assert left == {}, f"/deleteme leaves Alice in {left}"
        assert table.name in rows_naming(connection, BOB), f"/deleteme took Bob from {table.name}"


async def test_a_challenge_they_created_is_exported_and_loses_their_id(
    sessions: SessionFactory, alice_and_bob_everywhere: tuple[Engine, dict[str, Any]]
) -> None:
    engine, alice = alice_and_bob_everywhere
    async with transaction(sessions) as session:
        raw = await export_user(session, telegram_id=ALICE, now=T0)
    assert raw is not None
    created = json.loads(raw)["challenges_created"]
    assert [c["challenge_id"] for c in created] == [alice["challenges"]]
    async with transaction(sessions) as session:
        await delete_user(session, telegram_id=ALICE, now=T0)
    with engine.connect() as connection:
        creator = connection.execute(
            select(Challenge.__table__.c.created_by).where(  # type: ignore[attr-defined]
                Challenge.__table__.c.id == alice["challenges"]  # type: ignore[attr-defined]
            )
        ).scalar_one()
    assert creator is None  # the group's challenge carries on, without saying who set it up


# --- claimed, then erased: not sent ---------------------------------------------------------


class Greetings(Source[int]):
    """One message each to BOB and then ALICE, in the same chat (so in that order); sending
    Bob's erases Alice, as her /deleteme would between the claim and her message."""

    name = "toy-greeting"

    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions, self.due = sessions, [BOB, ALICE]
        self.delivered: list[int] = []

    async def claim(self, session: AsyncSession, *, now: datetime, limit: int) -> Claim[int]:
        claimed: Claim[int] = Claim()
        for person in self.due:
            claimed.send.append(self.outgoing(-1, now, person, user_id=person))
        self.due = []
        return claimed

    async def deliver(self, item: Outgoing[int]) -> Outcome:
        self.delivered.append(item.payload)
        if item.payload == BOB:
            async with transaction(self.sessions) as session:
                await delete_user(session, telegram_id=ALICE, now=T0)
        return Outcome("sent")

    async def blocked(self, session: AsyncSession, *, item: Outgoing[int], now: datetime) -> None:
        raise AssertionError("nobody refused")


async def test_a_message_claimed_for_someone_then_erased_is_not_sent(
    sessions: SessionFactory,
) -> None:
    async with transaction(sessions) as session:
        for person in (ALICE, BOB):
            await create_user(session, person=Person(person, "Someone"), now=T0)
    greetings = Greetings(sessions)
    runtime = Runtime(
        settings=Settings(telegram_bot_token=TEST_TOKEN, _env_file=None),
        sessions=sessions,
        clock=SystemClock(),
        notifier=RecordingNotifier(),
        sources=(greetings,),
    )
    stats = await dispatch_once(runtime, rate=1000)
    assert greetings.delivered == [BOB]  # her in-flight record went with her: not sent
    assert stats.sent["toy-greeting"] == 1
    async with transaction(sessions) as session:
        assert (await session.exec(sql_select(FailedDelivery))).all() == []


async def test_deleteme_owes_their_running_challenges_a_board_edit(
    sessions: SessionFactory,
) -> None:
    """The group's live board shows them until it is next edited: an edit is owed at once."""
    later = T0 + timedelta(hours=1)
    async with transaction(sessions) as session:
        for person in (ALICE, BOB):
            await create_user(session, person=Person(person, "Someone"), now=T0)
        session.add(GroupChat(id=-100_1, title="Walking club", created_at=T0, updated_at=T0))
        challenge = Challenge(
            chat_id=-100_1,
            code="c1",
            status="running",
            starts_at=T0,
            ends_at=T0 + timedelta(days=7),
            zone="Europe/London",
            created_by=BOB,
            created_at=T0,
        )
        session.add(challenge)
        await session.flush()
        assert challenge.id is not None
        challenge_id = challenge.id
        for person in (ALICE, BOB):
            session.add(
                ChallengeMember(
                    challenge_id=challenge_id, user_id=person, joined_at=T0, created_at=T0
                )
            )
    async with transaction(sessions) as session:
        assert await delete_user(session, telegram_id=ALICE, now=later)
    async with transaction(sessions) as session:
        row = await session.get(Challenge, challenge_id)
        members = (await session.exec(sql_select(ChallengeMember.user_id))).all()
    assert row is not None and row.board_edit_at == later
    assert list(members) == [BOB]
