"""Which database errors mean "out of reach" (say nothing could be saved) and which do not."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from walkbot.store.db import unreachable


def test_a_database_out_of_reach_is_told_apart_from_other_faults() -> None:
    down = OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))
    assert unreachable(down)
    assert unreachable(InterfaceError("SELECT 1", {}, Exception("connection closed")))
    assert unreachable(PoolTimeout("QueuePool limit reached"))
    assert unreachable(ConnectionResetError())
    cut = DBAPIError("SELECT 1", {}, Exception("server closed"), connection_invalidated=True)
    assert unreachable(cut)
    wrapped = RuntimeError("the handler failed")  # raised from one: found through the chain
    wrapped.__cause__ = down
    assert unreachable(wrapped)

    assert not unreachable(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not unreachable(ValueError("a bug"))
    assert not unreachable(None)
