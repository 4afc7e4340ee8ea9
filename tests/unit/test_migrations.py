"""The models module and the migrations describe the same schema, on the database under test."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from walkbot.store.db import sync_url
from walkbot.store.migrate import downgrade, upgrade
from walkbot.store.models import metadata


def test_models_match_migrations(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    downgrade(database_url, "base")
    engine = create_engine(sync_url(database_url))
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(database_url)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_telegram_ids_are_64_bit(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    columns = {c["name"]: c for c in inspect(engine).get_columns("users")}
    engine.dispose()
    assert "BIGINT" in str(columns["telegram_id"]["type"]).upper()
