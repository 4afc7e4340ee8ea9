"""/export holds everything walkbot keeps about a person; /deleteme leaves nothing in any table.

Which tables hold a person is read from the models, not listed here: a new table with a user
id fails these tests until the export and the erasure cover it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Table,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.types import TypeDecorator

from walkbot.services.privacy import export_user
from walkbot.services.users import Person, create_user, delete_user
from walkbot.store.db import SessionFactory, sync_url, transaction
from walkbot.store.models import (
    FailedDelivery,
    LevelChange,
    RestPeriod,
    SixMinuteTest,
    Walk,
    metadata,
)

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ALICE, BOB = 7_100_000_001, 7_100_000_002


async def _seed(sessions: SessionFactory, user_id: int) -> None:
    async with transaction(sessions) as session:
        await create_user(session, person=Person(user_id, "Someone"), now=T0)
        await session.flush()
        session.add(
            Walk(
                user_id=user_id,
                plan={"warmup_s": 0, "rounds": 1, "backward_s": 10, "forward_s": 10},
                status="ended",
                created_at=T0,
                level=1,
                knee_pain=4,
                knee_morning=5,
                knee_morning_worse=True,
            )
        )
        session.add(
            LevelChange(user_id=user_id, changed_at=T0, from_level=1, to_level=2, reason="step_up")
        )
        session.add(
            SixMinuteTest(
                user_id=user_id, direction="backward", status="done", created_at=T0, metres=312.0
            )
        )
        session.add(
            RestPeriod(user_id=user_id, starts_at=T0, ends_at=T0 + timedelta(days=7), created_at=T0)
        )
        session.add(FailedDelivery(user_id=user_id, kind="nudge", failed_at=T0, detail="timed out"))


async def test_export_includes_levels_tests_rests_and_morning_knee(
    sessions: SessionFactory,
) -> None:
    await _seed(sessions, ALICE)
    async with transaction(sessions) as session:
        raw = await export_user(session, telegram_id=ALICE, now=T0)
    assert raw is not None
    data = json.loads(raw)
    assert data["walks"][0]["knee_next_morning"] == 5
    assert data["walks"][0]["knee_next_morning_worse"] is True
    assert data["level_changes"] == [
        {"changed_at": T0.isoformat(), "from_level": 1, "to_level": 2, "reason": "step_up"}
    ]
    assert data["six_minute_tests"][0]["metres"] == 312.0
    assert data["rest_periods"][0]["ends_at"] == (T0 + timedelta(days=7)).isoformat()
    assert data["failed_deliveries"] == [
        {"kind": "nudge", "due_at": None, "failed_at": T0.isoformat(), "detail": "timed out"}
    ]


# --- every table that holds a person, found from the models ----------------------------------


def _person_column(table: Table) -> Column[Any] | None:
    """The column naming the person a row is about: a foreign key to users.telegram_id, or a
    column called user_id or telegram_id."""
    for column in table.columns:
        to_users = any(fk.target_fullname == "users.telegram_id" for fk in column.foreign_keys)
        if to_users or column.name in {"user_id", "telegram_id"}:
            return column
    return None


PERSONAL_TABLES = [table for table in metadata.sorted_tables if _person_column(table) is not None]
SAMPLE_VALUES: dict[type, object] = {
    str: "x",
    bool: False,
    float: 1.0,
    dict: {},
    datetime: T0,
    date: T0.date(),
    time: time(8, 0),
}


def _python_type(column: Column[Any]) -> type:
    sql_type = column.type
    if isinstance(sql_type, TypeDecorator):  # UTCDateTime stores a DateTime
        sql_type = sql_type.impl_instance
    if isinstance(sql_type, JSON):  # says "object"; walkbot keeps dicts (and lists) in it
        return dict
    return sql_type.python_type


def _insert_row(connection: Connection, table: Table, person: int, seeded: dict[str, Any]) -> Any:
    """One row in `table` about `person`, every column filled, after a row in each table it
    refers to (`seeded`: what this person already has). Returns the row's primary key."""
    if table.name in seeded:
        return seeded[table.name]
    values: dict[str, object] = {}
    for column in table.columns:
        if column is table.autoincrement_column:
            continue
        parents = [fk.column for fk in column.foreign_keys]
        if column is _person_column(table) or any(p.table.name == "users" for p in parents):
            values[column.name] = person
        elif parents:
            values[column.name] = _insert_row(connection, parents[0].table, person, seeded)
        elif column.unique:  # a deep-link code: one per row, so each person's differs
            values[column.name] = f"{SAMPLE_VALUES[_python_type(column)]}{person}"
        elif _python_type(column) is int:
            values[column.name] = person if column.primary_key else 1
        else:
            assert _python_type(column) in SAMPLE_VALUES, (
                f"{table.name}.{column.name}: add a sample {_python_type(column)} here"
            )
            values[column.name] = SAMPLE_VALUES[_python_type(column)]
    result = connection.execute(insert(table).values(values))
    key = result.inserted_primary_key
    seeded[table.name] = key[0] if key is not None and len(key) == 1 else key
    return seeded[table.name]


def _count(connection: Connection, table: Table, person: int) -> int:
    column = _person_column(table)
    assert column is not None
    return connection.execute(select(func.count()).where(column == person)).scalar_one()


def test_the_models_have_personal_tables_to_check() -> None:
    """Guards the discovery itself: if it found nothing, the test below would prove nothing."""
    names = {table.name for table in PERSONAL_TABLES}
    assert {"users", "walks", "failed_deliveries"} <= names
    assert "processed_updates" not in names


@pytest.fixture
def alice_and_bob_everywhere(database_url: str) -> Iterator[Engine]:
    """A row in every personal table about Alice, and one about Bob."""
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        for person in (ALICE, BOB):
            seeded: dict[str, Any] = {}
            for table in PERSONAL_TABLES:
                _insert_row(connection, table, person, seeded)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("table", PERSONAL_TABLES, ids=lambda table: table.name)
async def test_every_table_about_a_person_is_exported_and_erased(
    sessions: SessionFactory, alice_and_bob_everywhere: Engine, table: Table
) -> None:
    async with transaction(sessions) as session:
        raw = await export_user(session, telegram_id=ALICE, now=T0)
    assert raw is not None
    data = json.loads(raw)
    if table.name == "users":
        assert data["profile"]["telegram_id"] == ALICE
    else:
        assert table.name in data, f"/export leaves out {table.name}: add it under that name"
        assert len(data[table.name]) == 1, f"/export of {table.name}: only Alice's row"

    async with transaction(sessions) as session:
        assert await delete_user(session, telegram_id=ALICE)
    with alice_and_bob_everywhere.connect() as connection:
        assert _count(connection, table, ALICE) == 0, f"/deleteme leaves Alice in {table.name}"
        assert _count(connection, table, BOB) == 1, f"/deleteme took Bob from {table.name}"
