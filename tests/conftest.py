"""Shared fixtures. The schema is always built by migrating, on SQLite by default or on
PostgreSQL when WALKBOT_TEST_DATABASE_URL points at one (see .ci/run)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from walkbot.store.db import SessionFactory, session_factory, sync_url
from walkbot.store.db import create_engine as create_async
from walkbot.store.migrate import upgrade
from walkbot.store.models import metadata

TEST_DATABASE_URL = os.environ.get("WALKBOT_TEST_DATABASE_URL", "sqlite")


def _postgres_reachable(url: str) -> str | None:
    try:
        engine = create_engine(sync_url(url), connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:  # any failure means: skip with the reason
        return f"PostgreSQL at {make_url(url).host}:{make_url(url).port} is not reachable: {error}"
    return None


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per run: a SQLite file to copy, or a fresh PG database."""
    if TEST_DATABASE_URL == "sqlite":
        path = tmp_path_factory.mktemp("template") / "walkbot.db"
        upgrade(f"sqlite:///{path}")
        yield f"sqlite:///{path}"
        return
    reason = _postgres_reachable(TEST_DATABASE_URL)
    if reason is not None:
        pytest.skip(reason)
    name = f"walkbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sync_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> str:
    """A clean, migrated database for one test."""
    if migrated_template.startswith("sqlite"):
        path = tmp_path / "walkbot.db"
        shutil.copyfile(make_url(migrated_template).database or "", path)
        return f"sqlite:///{path}"
    engine = create_engine(sync_url(migrated_template))
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    engine.dispose()
    return migrated_template


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_async(database_url)
    yield session_factory(engine)
    await engine.dispose()
