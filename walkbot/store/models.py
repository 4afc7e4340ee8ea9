"""The one models module. Schema changes go through Alembic (migrations/), never create_all."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
)
from sqlmodel import Field, SQLModel

from walkbot.domain.profile import (
    DEFAULT_REMINDER_DAYS,
    DEFAULT_REMINDER_TIME,
    DEFAULT_SUMMARY_DAY,
    DEFAULT_SUMMARY_TIME,
    days_to_mask,
)
from walkbot.store.types import UTCDateTime

# Named constraints so SQLite batch migrations can find and alter them later.
SQLModel.metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
metadata = SQLModel.metadata


def _utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class User(SQLModel, table=True):
    __tablename__ = "users"

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    first_name: str = Field(default="", sa_column=Column(String(128), nullable=False))
    username: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    language_code: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))

    consented_at: datetime = Field(sa_column=_utc_column(nullable=False))
    # The question the person owes us during onboarding; None once onboarding is complete.
    onboarding_step: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    # The single setting being changed from /settings, if any.
    editing: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))

    screening: dict[str, bool] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, default=dict)
    )
    experience: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    goal: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    timezone: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    reminder_days: int = Field(
        default=days_to_mask(DEFAULT_REMINDER_DAYS), sa_column=Column(Integer, nullable=False)
    )
    reminder_time: time = Field(
        default=DEFAULT_REMINDER_TIME, sa_column=Column(Time, nullable=False)
    )
    summary_day: int = Field(default=DEFAULT_SUMMARY_DAY, sa_column=Column(Integer, nullable=False))
    summary_time: time = Field(default=DEFAULT_SUMMARY_TIME, sa_column=Column(Time, nullable=False))
    units: str = Field(default="km", sa_column=Column(String(8), nullable=False))
    level: int = Field(default=1, sa_column=Column(Integer, nullable=False))

    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    blocked_at: datetime | None = Field(default=None, sa_column=_utc_column())
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))


class ProcessedUpdate(SQLModel, table=True):
    """Telegram can deliver an update twice; the first insert wins and the rest are dropped."""

    __tablename__ = "processed_updates"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    received_at: datetime = Field(sa_column=_utc_column(nullable=False, index=True))


class Walk(SQLModel, table=True):
    """One session. The row is the truth: cue jobs are rebuilt from it at start-up."""

    __tablename__ = "walks"
    __table_args__ = (Index("ix_walks_user_id_started_at", "user_id", "started_at"),)

    # BIGINT on PostgreSQL; SQLite auto-increments only an INTEGER primary key.
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    user_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"), nullable=False
        )
    )
    plan: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    # ready (safety card shown) -> active -> ended; ratings follow an ended walk.
    status: str = Field(default="ready", sa_column=Column(String(16), nullable=False, index=True))
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_utc_column())
    pauses: list[dict[str, str | None]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=list)
    )
    last_cue_index: int = Field(default=-1, sa_column=Column(Integer, nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_utc_column())
    # finished | stopped | need_to_stop | timed_out | blocked | cancelled
    end_reason: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    backward_s: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    forward_s: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    active_s: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    rounds_done: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    # effort -> pain -> note -> None: the rating question the person owes, if any.
    rating_step: str | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    rating_reminded: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    effort: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    knee_pain: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    rated_at: datetime | None = Field(default=None, sa_column=_utc_column())
