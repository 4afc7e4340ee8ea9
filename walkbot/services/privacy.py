"""A person's own data, out (export) and gone (delete: walkbot.services.users.delete_user).

The export is built from the models' columns, not from a hand-kept list of fields: every
column of every table that holds the person is in it under the column's own name, except the
few in LEFT_OUT (each with its reason), so a column added later is exported without anyone
remembering to. The person's `users` row is "profile"; every other table is under its own name
(tests/unit/test_privacy_service.py seeds every such table found in the models and checks each
column's value is in the export, and that delete_user empties them).

Values are as stored, made readable: instants in ISO 8601 UTC, dates ISO, clock times HH:MM,
reminder days and the summary day as day names. The same records feed two CSV files (walks,
six-minute tests) for a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain.profile import DAY_NAMES, DAY_NAMES_LONG, mask_to_days
from walkbot.store.models import (
    Challenge,
    ChallengeMember,
    FailedDelivery,
    GroupChat,
    LevelChange,
    RestPeriod,
    SixMinuteTest,
    User,
    Walk,
)

# Columns deliberately not exported, and why. Nothing else is left out.
LEFT_OUT: dict[str, str] = {
    f"{table}.user_id": "always you: the profile's telegram_id"
    for table in (
        "walks",
        "level_changes",
        "six_minute_tests",
        "rest_periods",
        "failed_deliveries",
        "challenge_members",
    )
}

ABOUT = (
    "Everything walkbot holds about you. Times are UTC (ISO 8601); durations are in seconds "
    "(backward_s, forward_s, active_s); distances in metres. Each walk's plan is in seconds; "
    "pauses are when a walk was paused and resumed. A level change's walk_id is the walk "
    "that led to it (none when you chose the level). failed_deliveries are messages to you "
    "not known to have arrived. live_voice, live_tones and live_warning are your live "
    "screen's settings; a walk's live_seen_at is when a live screen last showed it."
)


def _plain(value: object) -> object:
    """A stored value as JSON: instants and dates in ISO 8601, clock times as HH:MM."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    return value


def _record(row: SQLModel, *, table: str) -> dict[str, Any]:
    """Every column of `row` but those in LEFT_OUT, under the column's name."""
    columns = SQLModel.metadata.tables[table].columns
    return {
        column.name: _plain(getattr(row, column.name))
        for column in columns
        if f"{table}.{column.name}" not in LEFT_OUT
    }


def _profile(user: User) -> dict[str, Any]:
    profile = _record(user, table="users")
    # Stored as numbers; words are what the person chose.
    profile["reminder_days"] = [DAY_NAMES[day] for day in sorted(mask_to_days(user.reminder_days))]
    profile["summary_day"] = DAY_NAMES_LONG[user.summary_day]
    return profile


async def _rows(session: AsyncSession, model: type[SQLModel], telegram_id: int) -> list[Any]:
    table = model.__table__  # type: ignore[attr-defined]  # SQLModel's table models have one
    statement = (
        select(model)
        .where(table.c.user_id == telegram_id)
        .order_by(*[col(column) for column in table.primary_key.columns])
    )
    return list((await session.exec(statement)).all())


async def export_document(
    session: AsyncSession, *, telegram_id: int, now: datetime
) -> dict[str, Any] | None:
    """Everything walkbot holds about one person; None when there is nothing."""
    user = await session.get(User, telegram_id)
    if user is None:
        return None
    document: dict[str, Any] = {
        "about": ABOUT,
        "exported_at": now.isoformat(),
        "profile": _profile(user),
    }
    for model in (Walk, SixMinuteTest, LevelChange, RestPeriod, FailedDelivery):
        table = model.__tablename__
        rows = await _rows(session, model, telegram_id)
        document[str(table)] = [_record(row, table=str(table)) for row in rows]
    document["challenge_members"] = await _memberships(session, telegram_id)
    document["challenges_created"] = await _challenges_created(session, telegram_id)
    return document


async def export_user(session: AsyncSession, *, telegram_id: int, now: datetime) -> bytes | None:
    """The export as one JSON document (UTF-8); None when there is nothing."""
    document = await export_document(session, telegram_id=telegram_id, now=now)
    return None if document is None else _json(document)


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


async def _memberships(session: AsyncSession, telegram_id: int) -> list[dict[str, Any]]:
    """Their challenge memberships, with the group's name: nothing about other members."""
    statement = (
        select(ChallengeMember, GroupChat.title)
        .join(Challenge, col(Challenge.id) == col(ChallengeMember.challenge_id))
        .outerjoin(GroupChat, col(GroupChat.id) == col(Challenge.chat_id))
        .where(ChallengeMember.user_id == telegram_id)
        .order_by(col(ChallengeMember.challenge_id))
    )
    return [
        _record(member, table="challenge_members") | {"group_title": title or ""}
        for member, title in (await session.exec(statement)).all()
    ]


async def _challenges_created(session: AsyncSession, telegram_id: int) -> list[dict[str, Any]]:
    """Challenges they set up in a group (challenges.created_by): /deleteme takes their id
    off these, and the challenge carries on in the group. The rest of a challenge row is the
    group's, not theirs."""
    statement = (
        select(Challenge, GroupChat.title)
        .outerjoin(GroupChat, col(GroupChat.id) == col(Challenge.chat_id))
        .where(Challenge.created_by == telegram_id)
        .order_by(col(Challenge.id))
    )
    return [
        {
            "challenge_id": challenge.id,
            "group_title": title or "",
            "status": challenge.status,
            "created_at": _plain(challenge.created_at),
        }
        for challenge, title in (await session.exec(statement)).all()
    ]


# ---- files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes


# Spreadsheets treat a cell starting with one of these as a formula (CSV injection, OWASP):
# a note such as "=HYPERLINK(...)" must stay text when the file is opened.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # the apostrophe shows the text as written, and runs nothing
    return "" if value is None else value


def _csv(records: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    """UTF-8 with a byte-order mark: Excel reads a CSV without one in the machine's legacy
    code page (a note's "é" or emoji comes out garbled); LibreOffice, Numbers, Google Sheets
    and Python's utf-8-sig all read the mark as UTF-8 and drop it."""
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: CRLF rows, quotes where needed
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(column)) for column in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _columns(table: str) -> list[str]:
    return [
        column.name
        for column in SQLModel.metadata.tables[table].columns
        if f"{table}.{column.name}" not in LEFT_OUT
    ]


async def export_files(
    session: AsyncSession, *, telegram_id: int, now: datetime
) -> list[ExportFile] | None:
    """The JSON document (everything), then a CSV of walks and one of six-minute tests (the
    same records, one row each, for a spreadsheet). None when there is nothing."""
    document = await export_document(session, telegram_id=telegram_id, now=now)
    if document is None:
        return None
    return [
        ExportFile("walkbot-data.json", _json(document)),
        ExportFile("walkbot-walks.csv", _csv(document["walks"], _columns("walks"))),
        ExportFile(
            "walkbot-six-minute-tests.csv",
            _csv(document["six_minute_tests"], _columns("six_minute_tests")),
        ),
    ]
