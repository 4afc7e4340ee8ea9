"""Which tables and columns hold a person, read from the models (never listed by hand), and a
row about a person in every one of them with every column filled. The export and erasure
tests (tests/unit/test_privacy_service.py, tests/e2e/test_privacy.py) are built on these: a
new table or column that holds a person fails them until /export and /deleteme cover it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Connection, Table, func, insert, or_, select
from sqlalchemy.types import TypeDecorator

from walkbot.store.models import metadata

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def person_column(table: Table) -> Column[Any] | None:
    """The column naming the person a row is about: a foreign key to users.telegram_id, or a
    column called user_id or telegram_id."""
    for column in table.columns:
        to_users = any(fk.target_fullname == "users.telegram_id" for fk in column.foreign_keys)
        if to_users or column.name in {"user_id", "telegram_id"}:
            return column
    return None


PERSONAL_TABLES = [table for table in metadata.sorted_tables if person_column(table) is not None]

# Telegram ids are BIGINT (they outgrow 32 bits), so every BIGINT column is either a row id, a
# person's own column (above), or one of these, each said once: a new one fails
# test_every_telegram_sized_column_is_accounted_for until it is placed here.
ALSO_A_PERSON = {
    "challenges.created_by": "who set the challenge up: exported, set to NULL by /deleteme",
    "failed_deliveries.chat_id": "a private chat's id is its person's: erased with them",
}
NOT_A_PERSON = {
    "update_inbox.update_id": "an update's number",
    "level_changes.walk_id": "a walk of the same person (their walks table row)",
    "group_chats.id": "a group",
    "challenges.chat_id": "a group",
}


def columns_also_naming(table: Table) -> list[Column[Any]]:
    """The columns of `table`, besides its person column, that may hold a person's id."""
    return [c for c in table.columns if f"{table.name}.{c.name}" in ALSO_A_PERSON]


def python_type(column: Column[Any]) -> type:
    sql_type = column.type
    if isinstance(sql_type, TypeDecorator):  # UTCDateTime stores a DateTime
        sql_type = sql_type.impl_instance
    if isinstance(sql_type, JSON):  # says "object"; walkbot keeps dicts (and lists) in it
        return dict
    return sql_type.python_type


def is_bigint(column: Column[Any]) -> bool:
    return isinstance(column.type, BigInteger)  # with_variant keeps the type it was called on


# Values a column must keep for the code reading it (a day of the week, a day mask).
CONSTRAINED: dict[str, object] = {"users.summary_day": 3, "users.reminder_days": 0b0010101}


def sample(column: Column[Any], position: int) -> object:
    """A value for `column`, told apart from its neighbours' by `position`, so that a value
    exported under the wrong name would not match."""
    kind = python_type(column)
    if f"{column.table.name}.{column.name}" in CONSTRAINED:
        return CONSTRAINED[f"{column.table.name}.{column.name}"]
    samples: dict[type, object] = {
        int: 1000 + position,
        str: f"s{position}",  # short: some columns are String(8)
        bool: True,
        float: 1.5 + position,
        dict: {"k": position},
        datetime: T0 + timedelta(minutes=position),
        date: T0.date() + timedelta(days=position),
        time: time(8, position),
    }
    assert kind in samples, f"{column.table.name}.{column.name}: add a sample {kind} here"
    return samples[kind]


def insert_row(connection: Connection, table: Table, person: int, seeded: dict[str, Any]) -> Any:
    """One row in `table` about `person`, every column filled, after a row in each table it
    refers to (`seeded`: what this person already has, by table). Returns the primary key."""
    if table.name in seeded:
        return seeded[table.name]
    values: dict[str, object] = {}
    for position, column in enumerate(table.columns):
        if column is table.autoincrement_column:
            continue
        parents = [fk.column for fk in column.foreign_keys]
        if (
            column is person_column(table)
            or any(p.table.name == "users" for p in parents)
            or column in columns_also_naming(table)
        ):
            values[column.name] = person
        elif parents:
            values[column.name] = insert_row(connection, parents[0].table, person, seeded)
        elif column.unique or column.primary_key:  # a deep-link code, an update's number:
            base = sample(column, position)  # one per row, so each person's differs
            values[column.name] = base + person if isinstance(base, int) else f"{base}{person}"
        else:
            values[column.name] = sample(column, position)
    result = connection.execute(insert(table).values(values))
    key = result.inserted_primary_key
    seeded[table.name] = key[0] if key is not None and len(key) == 1 else key
    return seeded[table.name]


def seed_everywhere(connection: Connection, person: int, *, seeded: dict[str, Any]) -> None:
    """A row about `person` in every personal table (and the rows those refer to)."""
    for table in PERSONAL_TABLES:
        insert_row(connection, table, person, seeded)


def rows_naming(connection: Connection, person: int) -> dict[str, int]:
    """How many rows of each table name `person`, in its person column or any other column
    that may hold a person's id; tables with none are left out."""
    found: dict[str, int] = {}
    for table in metadata.sorted_tables:
        owner = person_column(table)
        columns = ([owner] if owner is not None else []) + columns_also_naming(table)
        if not columns:
            continue
        statement = select(func.count()).select_from(table)
        count = connection.execute(
            statement.where(or_(*(column == person for column in columns)))
        ).scalar_one()
        if count:
            found[table.name] = count
    return found
