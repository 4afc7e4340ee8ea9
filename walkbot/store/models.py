"""The one models module. Schema changes go through Alembic (migrations/), never create_all."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
)
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlmodel import Field, SQLModel

from walkbot.domain.challenges import DEFAULT_POST_TIME
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


def _utc_column(*, nullable: bool = True, index: bool = False) -> Column[datetime]:
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
    # The programme level (walkbot.domain.programme.LEVELS) the next /walk uses.
    level: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    weekly_target: int = Field(
        default=3, sa_column=Column(Integer, nullable=False, server_default="3")
    )
    # How the person appears on group challenge boards: "name" (first name) | "initials".
    board_name: str = Field(
        default="name", sa_column=Column(String(8), nullable=False, server_default="name")
    )

    # The dispatch tick's queue: the next instant each routine message is due (None: never).
    next_nudge_at: datetime | None = Field(default=None, sa_column=_utc_column(index=True))
    # A snoozed nudge comes back once, without a second Snooze button.
    nudge_snoozed: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=sa_false())
    )
    next_summary_at: datetime | None = Field(default=None, sa_column=_utc_column(index=True))
    # What the queue has already done, in the person's local calendar, so that a settings change
    # (which recomputes the instants from now) never brings back a reminder for a day that had
    # one, a second Snooze that day, or a second summary of the same week.
    nudged_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    snoozed_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    summarised_week: date | None = Field(  # the Monday of the week the last summary reported
        default=None, sa_column=Column(Date, nullable=True)
    )

    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    blocked_at: datetime | None = Field(default=None, sa_column=_utc_column())
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))

    # The live-walk screen's settings (walkbot/webapp): spoken cues, tones, the 10 s warning.
    live_voice: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=sa_true())
    )
    live_tones: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=sa_true())
    )
    live_warning: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=sa_true())
    )


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

    # The programme level this walk was planned from; None for a custom /walk plan.
    level: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # Next-morning knee check, asked after a walk with knee pain above 3.
    knee_check_at: datetime | None = Field(default=None, sa_column=_utc_column(index=True))
    knee_check_sent_at: datetime | None = Field(default=None, sa_column=_utc_column())
    knee_morning: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    knee_morning_worse: bool | None = Field(default=None, sa_column=Column(Boolean, nullable=True))
    # The live screen's last "visible" heartbeat; None when no screen is showing the walk (or it
    # said it was hidden). Chat cues are held while it is fresh (domain/live.py).
    live_seen_at: datetime | None = Field(default=None, sa_column=_utc_column())


def _user_fk() -> Column[int]:
    return Column(BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"), nullable=False)


def _id_column() -> Column[int]:
    return Column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )


class LevelChange(SQLModel, table=True):
    """Every move on the programme, by the rule or by the person's choice (/level)."""

    __tablename__ = "level_changes"
    __table_args__ = (Index("ix_level_changes_user_id_changed_at", "user_id", "changed_at"),)

    id: int | None = Field(default=None, sa_column=_id_column())
    user_id: int = Field(sa_column=_user_fk())
    changed_at: datetime = Field(sa_column=_utc_column(nullable=False))
    from_level: int = Field(sa_column=Column(Integer, nullable=False))
    to_level: int = Field(sa_column=Column(Integer, nullable=False))
    # e.g. step_up | repeat | step_down | chose_repeat | chose_back | start
    reason: str = Field(sa_column=Column(String(32), nullable=False))
    walk_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class SixMinuteTest(SQLModel, table=True):
    """A guided six-minute walk test (ATS 2002), forward or backward."""

    __tablename__ = "six_minute_tests"
    __table_args__ = (Index("ix_six_minute_tests_user_id_started_at", "user_id", "started_at"),)

    id: int | None = Field(default=None, sa_column=_id_column())
    user_id: int = Field(sa_column=_user_fk())
    direction: str = Field(sa_column=Column(String(8), nullable=False))  # forward | backward
    # setup -> running -> recording -> done; or stopped / cancelled
    status: str = Field(default="setup", sa_column=Column(String(16), nullable=False))
    # The question the person owes while recording, if any.
    step: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_utc_column())
    ended_at: datetime | None = Field(default=None, sa_column=_utc_column())
    last_cue_index: int = Field(default=-1, sa_column=Column(Integer, nullable=False))
    effort_before: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    effort_after: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    metres: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    laps: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    lap_length_m: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    stopped_early: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    symptoms: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class RestPeriod(SQLModel, table=True):
    """A holiday or rest (/pause): no nudges, and the weeks it covers do not break a streak."""

    __tablename__ = "rest_periods"
    __table_args__ = (Index("ix_rest_periods_user_id_starts_at", "user_id", "starts_at"),)

    id: int | None = Field(default=None, sa_column=_id_column())
    user_id: int = Field(sa_column=_user_fk())
    starts_at: datetime = Field(sa_column=_utc_column(nullable=False))
    ends_at: datetime = Field(sa_column=_utc_column(nullable=False))
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))


def _own_chat(context: DefaultExecutionContext) -> int:
    """A failure record's chat when none is given: the person's own (private chat id = user id)."""
    # SQLAlchemy leaves get_current_parameters untyped.
    chat: int = context.get_current_parameters()["user_id"]  # type: ignore[no-untyped-call]
    return chat


class FailedDelivery(SQLModel, table=True):
    """A queued message not known to have arrived: given up on after bounded retries, or
    claimed by a process that stopped before the answer came (detail: dispatch.IN_FLIGHT; such
    a row is written with every claim and deleted once the message is sent). Recorded, never
    silently lost."""

    __tablename__ = "failed_deliveries"
    __table_args__ = (Index("ix_failed_deliveries_user_id_failed_at", "user_id", "failed_at"),)

    id: int | None = Field(default=None, sa_column=_id_column())
    # The person it was about: the record is theirs (exported, erased with them). None for a
    # message to a group about no one person.
    user_id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"), nullable=True
        ),
    )
    # Where it was going: a person's private chat (their user id, the default) or a group.
    chat_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=False, default=_own_chat)
    )
    # The queue source's name (nudge | summary | knee | ...).
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    due_at: datetime | None = Field(default=None, sa_column=_utc_column())
    failed_at: datetime = Field(sa_column=_utc_column(nullable=False))
    detail: str = Field(default="", sa_column=Column(String(256), nullable=False))


class GroupChat(SQLModel, table=True):
    """A group or supergroup the bot is (or was) in: where its challenges are posted."""

    __tablename__ = "group_chats"

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(default="group", sa_column=Column(String(16), nullable=False))
    title: str = Field(default="", sa_column=Column(String(128), nullable=False))
    # None until an admin chooses one; challenges then use the creator's zone or the default.
    timezone: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    post_time: time = Field(default=DEFAULT_POST_TIME, sa_column=Column(Time, nullable=False))
    # False once the bot is removed: nothing is posted there any more.
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=_utc_column(nullable=False))


class Challenge(SQLModel, table=True):
    """A group challenge: a draft while an admin chooses, then running over a fixed window of
    local days, then ended (results) or archived (the bot was removed, or a draft abandoned)."""

    __tablename__ = "challenges"

    id: int | None = Field(default=None, sa_column=_id_column())
    # No foreign key: a group that becomes a supergroup changes id, and an UPDATE moves it.
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    thread_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The deep-link code (/start c<code>).
    code: str = Field(sa_column=Column(String(16), nullable=False, unique=True))
    # draft | running | ended | archived
    status: str = Field(default="draft", sa_column=Column(String(16), nullable=False, index=True))
    measure: str = Field(default="minutes", sa_column=Column(String(16), nullable=False))
    kind: str = Field(default="ranking", sa_column=Column(String(16), nullable=False))
    most_improved: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    target: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    days: int = Field(default=7, sa_column=Column(Integer, nullable=False))
    starts_at: datetime | None = Field(default=None, sa_column=_utc_column())
    ends_at: datetime | None = Field(default=None, sa_column=_utc_column())
    # The group's zone as it was at launch: the window never moves afterwards.
    zone: str = Field(sa_column=Column(String(64), nullable=False))
    # No foreign key: the admin may never have started walkbot. /deleteme sets it to NULL.
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_utc_column())
    # The card (later the live board) edited in place.
    card_message_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The queue's instants: a board edit owed since, the last edit, the next daily board, the
    # "3 days left" post and the results (each None once done).
    board_edit_at: datetime | None = Field(default=None, sa_column=_utc_column(index=True))
    board_edited_at: datetime | None = Field(default=None, sa_column=_utc_column())
    next_board_at: datetime | None = Field(default=None, sa_column=_utc_column(index=True))
    last_call_at: datetime | None = Field(default=None, sa_column=_utc_column(index=True))
    results_at: datetime | None = Field(default=None, sa_column=_utc_column(index=True))


class ChallengeMember(SQLModel, table=True):
    """Someone in a challenge. joined_at None: came by the deep link and still setting up, so
    not on any board yet."""

    __tablename__ = "challenge_members"

    challenge_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("challenges.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    user_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("users.telegram_id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
            index=True,
        )
    )
    joined_at: datetime | None = Field(default=None, sa_column=_utc_column())
    created_at: datetime = Field(sa_column=_utc_column(nullable=False))
