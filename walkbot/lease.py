"""The lease: which one of several `walkbot run` processes on one database does the work.

Exactly one process (the leader) polls Telegram, runs walk and six-minute-test cue jobs, the
dispatch queue and the overdue sweep; the others (standbys) run only the web layer and wait
for the lease, and the first to get it takes over when the leader dies.

- PostgreSQL (`PgLease`): a session advisory lock, `pg_try_advisory_lock(LEASE_KEY)`, held on
  a connection of its own (not from the pool, autocommit, `application_name` walkbot-lease).
  Advisory locks belong to one database, so bots on different databases never meet. A
  standby tries every `retry_seconds`. The lock goes with its session: when the leader is
  killed, its socket closes and PostgreSQL frees the lock at once; when the leader's host
  dies or the network drops, the server's TCP keepalives (set on the session: idle 5 s, then
  3 probes 2 s apart) end the session within about 11 s. The holder checks its connection
  every `check_seconds`, giving up after `check_timeout`. A failed check is doubt, not
  loss: the same failure is what a PostgreSQL outage looks like, and during one nobody else
  can take the lock, while the bot should keep answering ("I can't save anything right
  now") rather than fall silent. So `in_doubt` is set and the holder keeps working, then
  after `doubt_grace` (longer than a standby's retry, so a standby that can reach the
  database wins a lock the server has freed) tries to take the lock again on a new session
  every `retry_seconds`: taken, the doubt is over (an outage passed, or the session was
  ended under a healthy leader and nobody took it); refused, someone else leads and `lost`
  is set, and the caller steps down at once. While in doubt the leader cannot reach the
  database, so it can claim no cue and no queued message (the compare-and-set on each cue
  and the queue's SKIP LOCKED are the last line); a polling 409 while in doubt means another
  process leads and ends the doubt as a loss (walkbot/runner.py).
- SQLite (`FileLease`): the embedded database lives on one machine, so an exclusive
  `flock` on a file beside it (`walkbot.db.lease`) does the same: a second `walkbot run` on
  the same file waits as a standby, and the kernel frees the lock when the holder dies. A
  file lock is never lost while the process lives. An in-memory database has one process by
  definition: `AlwaysLeader`.

`release()` gives the lease back; call it only after the leader's work has stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from pathlib import Path
from typing import IO, Protocol

import psycopg
from sqlalchemy.engine import make_url

from walkbot.store.db import is_sqlite

log = logging.getLogger(__name__)

# One 64-bit key for walkbot in every database: "walkbot" in ASCII, as an integer.
LEASE_KEY = int.from_bytes(b"walkbot", "big")
RETRY_SECONDS = 2.0
CHECK_SECONDS = 2.0
CHECK_TIMEOUT = 5.0
DOUBT_GRACE = 5.0  # > RETRY_SECONDS: a standby that can reach the database goes first
# Server side: a session whose peer vanished (host down, network gone) ends after about
# idle + interval * count seconds, and with it the lock.
KEEPALIVE = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}


class Lease(Protocol):
    name: str  # for the logs: "postgresql advisory lock", "file lock", ...
    # Set when the held lease is lost (another process took it): stop acting at once.
    lost: asyncio.Event
    # Set while the holder cannot tell (its session failed; the database may be down).
    in_doubt: asyncio.Event

    async def acquire(self) -> None:
        """Return once the lease is held (waits as a standby until then)."""

    async def release(self) -> None:
        """Give the lease back (idempotent); stops watching it."""


def lease_for(database_url: str) -> Lease:
    if not is_sqlite(database_url):
        return PgLease(database_url)
    database = make_url(database_url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return AlwaysLeader()
    return FileLease(Path(f"{database}.lease"))


class AlwaysLeader:
    name = "in-memory database (one process)"

    def __init__(self) -> None:
        self.lost = asyncio.Event()
        self.in_doubt = asyncio.Event()  # never: nothing to lose

    async def acquire(self) -> None:
        return None

    async def release(self) -> None:
        return None


class FileLease:
    """An exclusive flock on `path`, tried every `retry_seconds` until it is ours."""

    name = "file lock"

    def __init__(self, path: Path, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self.path, self.retry_seconds = path, retry_seconds
        self.lost = asyncio.Event()
        self.in_doubt = asyncio.Event()  # never: a file lock lasts as long as the process
        self._file: IO[bytes] | None = None

    def _try(self) -> bool:
        file = self.path.open("ab")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self._file = file
        return True

    async def acquire(self) -> None:
        while True:
            if self._try():
                return
            await asyncio.sleep(self.retry_seconds)  # another process holds it

    async def release(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
            file.close()


class PgLease:
    """A session advisory lock on a connection of its own, watched while held."""

    name = "PostgreSQL advisory lock"

    def __init__(
        self,
        database_url: str,
        *,
        key: int = LEASE_KEY,
        retry_seconds: float = RETRY_SECONDS,
        check_seconds: float = CHECK_SECONDS,
        check_timeout: float = CHECK_TIMEOUT,
        doubt_grace: float = DOUBT_GRACE,
    ) -> None:
        self._conninfo = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self.key = key
        self.retry_seconds, self.check_seconds = retry_seconds, check_seconds
        self.check_timeout, self.doubt_grace = check_timeout, doubt_grace
        self.lost = asyncio.Event()
        self.in_doubt = asyncio.Event()
        self._connection: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._watch: asyncio.Task[None] | None = None

    @property
    def backend_pid(self) -> int | None:
        """The server process holding (or trying for) the lock: for tests and the logs."""
        return None if self._connection is None else self._connection.info.backend_pid

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        connection = await psycopg.AsyncConnection.connect(
            self._conninfo,
            autocommit=True,
            application_name="walkbot-lease",
            connect_timeout=5,
            # Client side: notice a dead server even without our own checks.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=3,
        )
        for setting, value in KEEPALIVE.items():
            await connection.execute(f"SET {setting} = {int(value)}")
        return connection

    async def _try(self) -> bool:
        if self._connection is None or self._connection.closed:
            self._connection = await self._connect()
        cursor = await self._connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
        row = await cursor.fetchone()
        return bool(row and row[0])

    async def acquire(self) -> None:
        self.lost.clear()
        self.in_doubt.clear()
        while True:
            try:
                async with asyncio.timeout(self.check_timeout + 5):
                    if await self._try():
                        break
            except (psycopg.Error, OSError, TimeoutError) as error:
                # The database is down or restarting: keep waiting as a standby. The error's
                # text can name the host; its kind is enough here.
                log.warning("lease: cannot reach the database (%s); retrying", type(error).__name__)
                await self._drop()
            await asyncio.sleep(self.retry_seconds)
        self._watch = asyncio.create_task(self._watch_connection())

    async def _watch_connection(self) -> None:
        """While held: the lock lives as long as this session, so check the session; when
        it fails, find out whether the lock is still ours (see the module's docstring)."""
        while True:
            await asyncio.sleep(self.check_seconds)
            connection = self._connection
            try:
                assert connection is not None
                async with asyncio.timeout(self.check_timeout):
                    await connection.execute("SELECT 1")
            except (AssertionError, psycopg.Error, OSError, TimeoutError) as error:
                log.error(
                    "lease: the connection holding it failed (%s); working on while in doubt",
                    type(error).__name__,
                )
                self.in_doubt.set()
                await self._drop()
                if not await self._take_back():
                    log.error("lease: another process holds it now")
                    self.lost.set()
                    return
                log.warning("lease: the lock is ours again")
                self.in_doubt.clear()

    async def _take_back(self) -> bool:
        """After `doubt_grace`, try for the lock on a new session until the database
        answers: True when it is ours again, False when another process holds it."""
        await asyncio.sleep(self.doubt_grace)
        while True:
            try:
                async with asyncio.timeout(self.check_timeout + 5):
                    return await self._try()
            except (psycopg.Error, OSError, TimeoutError) as error:
                log.warning("lease: cannot reach the database (%s); retrying", type(error).__name__)
                await self._drop()
            await asyncio.sleep(self.retry_seconds)

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.check_timeout):
                    await connection.close()

    async def release(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        # Closing the session frees the lock; no separate unlock that could fail half-way.
        await self._drop()
