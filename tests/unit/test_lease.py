"""The lease (walkbot/lease.py): one holder at a time; a standby gets it once the holder lets
go or dies; a holder whose PostgreSQL session ends is in doubt at once, and either takes the
lock back (nobody else could: the database was away) or knows it lost it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from walkbot.lease import LEASE_KEY, AlwaysLeader, FileLease, PgLease, lease_for
from walkbot.store.db import is_sqlite, sync_url


def test_each_database_gets_its_kind_of_lease(tmp_path: Path) -> None:
    assert isinstance(lease_for("sqlite://"), AlwaysLeader)
    assert isinstance(lease_for("sqlite:///:memory:"), AlwaysLeader)
    lease = lease_for(f"sqlite:///{tmp_path}/walkbot.db")
    assert isinstance(lease, FileLease) and lease.path == tmp_path / "walkbot.db.lease"
    assert isinstance(lease_for("postgresql://walkbot@db.example/walkbot"), PgLease)


@pytest.mark.looptime
async def test_a_file_lease_has_one_holder_and_passes_on_when_released(tmp_path: Path) -> None:
    """Two leases on one file (each its own open file, as two processes would have): the second
    waits, trying every two seconds, until the first is released."""
    path = tmp_path / "walkbot.db.lease"
    first, second = FileLease(path), FileLease(path)
    await first.acquire()
    waiting = asyncio.create_task(second.acquire())
    await asyncio.sleep(60)  # virtual time: thirty tries
    assert not waiting.done()
    await first.release()
    await asyncio.wait_for(waiting, 2.5)  # the next try gets it
    assert not second.lost.is_set()
    await second.release()
    await first.release()  # twice is harmless


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if is_sqlite(database_url):
        pytest.skip("needs PostgreSQL (advisory locks); on SQLite the lease is a file lock")
    return database_url


def _terminate(database_url: str, backend_pid: int) -> None:
    """What a dead leader's session comes to: the server ends it (and frees its locks)."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend_pid})
    finally:
        engine.dispose()


async def test_an_advisory_lease_has_one_holder_and_a_standby_takes_over_when_it_dies(
    postgres_url: str,
) -> None:
    key = LEASE_KEY + 1  # not walkbot's own key: no bot of another test is ever in the way
    # The leader waits 3 s before trying to take the lock back; the standby tries every 0.05 s.
    leader = PgLease(postgres_url, key=key, retry_seconds=0.05, check_seconds=0.05, doubt_grace=3.0)
    standby = PgLease(postgres_url, key=key, retry_seconds=0.05, check_seconds=0.05)
    try:
        await leader.acquire()
        taking_over = asyncio.create_task(standby.acquire())
        # The standby's session exists (it is trying) and is refused every time.
        for _ in range(500):  # 10 s at most
            if standby.backend_pid is not None:
                break
            await asyncio.sleep(0.02)
        assert not await standby._try()
        assert not taking_over.done()

        pid = leader.backend_pid
        assert pid is not None
        await asyncio.to_thread(_terminate, postgres_url, pid)
        # Generous bounds: the holder checks every 0.05 s, the standby tries as often.
        await asyncio.wait_for(leader.in_doubt.wait(), 10)
        assert not leader.lost.is_set()  # doubt, not loss: the database may just be away
        await asyncio.wait_for(taking_over, 10)
        await asyncio.wait_for(leader.lost.wait(), 15)  # it tried again and was refused
        assert not standby.lost.is_set()
    finally:
        await leader.release()
        await standby.release()


async def test_a_released_advisory_lease_is_free_at_once(postgres_url: str) -> None:
    key = LEASE_KEY + 2
    first = PgLease(postgres_url, key=key, retry_seconds=0.05)
    second = PgLease(postgres_url, key=key, retry_seconds=0.05)
    try:
        await first.acquire()
        await first.release()
        await asyncio.wait_for(second.acquire(), 10)
        assert not first.lost.is_set()  # a release is not a loss
    finally:
        await first.release()
        await second.release()


async def test_a_leader_whose_session_failed_takes_the_lock_back_when_nobody_else_did(
    postgres_url: str,
) -> None:
    """A PostgreSQL outage looks the same to the leader as losing its session: it works on in
    doubt and, the database back with nobody else holding the lock, leads on."""
    key = LEASE_KEY + 3
    leader = PgLease(postgres_url, key=key, retry_seconds=0.05, check_seconds=0.05, doubt_grace=0.1)
    try:
        await leader.acquire()
        pid = leader.backend_pid
        assert pid is not None
        await asyncio.to_thread(_terminate, postgres_url, pid)
        await asyncio.wait_for(leader.in_doubt.wait(), 10)
        for _ in range(500):  # 10 s at most
            if not leader.in_doubt.is_set():
                break
            await asyncio.sleep(0.02)
        assert not leader.in_doubt.is_set() and not leader.lost.is_set()
        assert leader.backend_pid not in (None, pid)  # a new session holds it
        other = PgLease(postgres_url, key=key)
        try:
            assert not await other._try()  # and it is held
        finally:
            await other.release()
    finally:
        await leader.release()
