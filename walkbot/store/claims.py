"""A compare-and-set on one row: how a job and a tap that both read a row decide which of
them acts (a cue and a Stop, two jobs for one cue, a cue and the overdue sweep)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


async def compare_and_set(
    session: AsyncSession, row: SQLModel, still: list[ColumnElement[bool]], **values: Any
) -> bool:
    """Write `values` to `row` only if the conditions `still` hold in the database at this
    moment; True when it took. The loaded object is brought in line without being marked
    changed, so a later flush of it cannot undo the write."""
    result = await session.exec(update(type(row)).where(*still).values(**values))
    if result.rowcount != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True
