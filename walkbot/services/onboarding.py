"""Answering onboarding and settings questions. The user row holds the pending question, so an
abandoned onboarding resumes where it stopped, even after a restart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain import onboarding as steps
from walkbot.domain import timezones
from walkbot.domain.profile import (
    BOARD_NAME_LABELS,
    DAY_NAMES_LONG,
    EXPERIENCE_LABELS,
    GOAL_LABELS,
    UNIT_LABELS,
    Experience,
    Goal,
    days_to_mask,
    describe_days,
    format_clock_time,
    toggle_day,
)
from walkbot.domain.screening import any_yes
from walkbot.domain.wording import bounded
from walkbot.services import challenges, programme
from walkbot.services.reminders import reschedule
from walkbot.services.users import Person, create_user, get_user
from walkbot.store.models import User


@dataclass(frozen=True)
class Button:
    value: str


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


Answer = Button | Text | Location


@dataclass(frozen=True)
class ZoneChoice:
    zone: str
    label: str


@dataclass(frozen=True)
class Outcome:
    """What the bot should say after an answer."""

    accepted: bool
    # The answer as it should be shown on the question it answered ("Yes", "Europe/London").
    chosen: str | None = None
    # Why an answer was not taken, or a confirmation worth a line of its own.
    notice: str | None = None
    # The question to show next (the same one again when an answer was not taken).
    ask: str | None = None
    # The days question is answered by toggles that redraw the same message.
    redraw: bool = False
    zone_choices: tuple[ZoneChoice, ...] = field(default_factory=tuple)
    onboarding_done: bool = False
    settings_done: bool = False
    # Set on the answer that completes the safety questions.
    screening_done: bool = False
    safety_flagged: bool = False
    # Group challenges joined by deep link before onboarding, joined now it is done.
    joined_groups: tuple[str, ...] = ()


# Answers that move the next nudge or weekly summary.
SCHEDULE_STEPS = frozenset({"tz", "days", "time", "sday", "stime"})


def pending_step(user: User) -> str | None:
    return user.onboarding_step or user.editing


async def begin_edit(session: AsyncSession, *, user: User, step: str, now: datetime) -> bool:
    """Start changing one setting. Refused while onboarding is unfinished or for unknown steps."""
    if user.onboarding_step is not None or step not in steps.SETTINGS_STEPS:
        return False
    user.editing, user.updated_at = step, now
    session.add(user)
    return True


async def cancel_edit(session: AsyncSession, *, user: User, now: datetime) -> None:
    if user.editing is not None:
        user.editing, user.updated_at = None, now
        session.add(user)


@dataclass(frozen=True)
class Joined:
    user: User
    created: bool  # False: they had consented before, and carry on where they were


async def join(session: AsyncSession, *, person: Person, now: datetime) -> Joined:
    """Consent given: someone new starts onboarding; someone already here is left as they are."""
    user = await get_user(session, telegram_id=person.telegram_id)
    if user is not None:
        return Joined(user, created=False)
    return Joined(await create_user(session, person=person, now=now), created=True)


ReplyKind = Literal["need_start", "nothing_owed", "unusable", "answered"]


@dataclass(frozen=True)
class Reply:
    """What became of a button, text, location or anything else sent to onboarding or settings."""

    kind: ReplyKind
    user: User | None = None
    step: str = ""  # unusable: the question still owed, to ask again
    outcome: Outcome | None = None  # answered

    @property
    def refused(self) -> bool:
        return self.outcome is not None and not self.outcome.accepted


async def reply(
    session: AsyncSession,
    *,
    telegram_id: int,
    step: str | None,
    given: Answer | None,
    now: datetime,
) -> Reply:
    """Apply what was sent to the question owed (`step` names the one a button answered). A
    location answers only the time-zone question; it and anything unreadable (None) leave the
    question owed to be asked again."""
    user = await get_user(session, telegram_id=telegram_id)
    if user is None:
        return Reply("need_start")
    pending = pending_step(user)
    if pending is None:
        return Reply("nothing_owed", user)
    if given is None or (isinstance(given, Location) and pending != "tz"):
        return Reply("unusable", user, step=pending)
    outcome = await answer(session, user=user, step=step or pending, given=given, now=now)
    return Reply("answered", user, step=pending, outcome=outcome)


# Settings buttons that show the menu rather than open a question.
MENUS = frozenset({"back", "menu"})
SettingsTapKind = Literal["stale", "question", "menu"]


@dataclass(frozen=True)
class SettingsTap:
    kind: SettingsTapKind
    user: User | None = None


async def open_settings(session: AsyncSession, *, telegram_id: int, now: datetime) -> User | None:
    """/settings: the person, with any question an earlier tap left open closed."""
    user = await get_user(session, telegram_id=telegram_id)
    if user is not None:
        await cancel_edit(session, user=user, now=now)
    return user


async def settings_tap(
    session: AsyncSession, *, telegram_id: int, step: str, now: datetime
) -> SettingsTap:
    """A settings button: open one question for editing, or (Back, the menu) close any open one
    and show the menu. Stale for strangers, during onboarding, and for unknown questions."""
    user = await get_user(session, telegram_id=telegram_id)
    if user is None:
        return SettingsTap("stale")
    if step in MENUS:
        await cancel_edit(session, user=user, now=now)
        return SettingsTap("stale" if user.onboarding_step is not None else "menu", user)
    if not await begin_edit(session, user=user, step=step, now=now):
        return SettingsTap("stale", user)
    return SettingsTap("question", user)


async def answer(
    session: AsyncSession, *, user: User, step: str, given: Answer, now: datetime
) -> Outcome:
    """Apply an answer to `step` if that is the question the person owes; say what comes next."""
    current = pending_step(user)
    if current is None or step != current:
        return Outcome(accepted=False, ask=current, notice=_moved_on(current))
    outcome = _apply(user, step, given, now)
    if not outcome.accepted:
        return outcome
    user.updated_at = now
    session.add(user)
    if step in SCHEDULE_STEPS and user.onboarding_step is None:
        await reschedule(session, user=user, now=now)  # next nudge/summary follow at once
    if outcome.redraw:
        return outcome
    was_onboarding = user.onboarding_step is not None
    following = _advance(user, step)
    if step == steps.SCREENING_STEPS[-1]:
        # The starting level follows the answers until the first rated walk (see there).
        await programme.apply_screening(session, user=user, now=now)
    joined_groups: tuple[str, ...] = ()
    if was_onboarding and following is None:
        await reschedule(session, user=user, now=now)  # onboarding done: reminders begin
        # A challenge's deep link brought them: consent and safety came first, now they're in.
        joined_groups = await challenges.complete_pending(
            session, user_id=user.telegram_id, now=now
        )
    return Outcome(
        accepted=True,
        chosen=outcome.chosen,
        notice=outcome.notice,
        ask=following,
        onboarding_done=was_onboarding and following is None,
        settings_done=not was_onboarding and following is None,
        screening_done=step == steps.SCREENING_STEPS[-1],
        safety_flagged=step == steps.SCREENING_STEPS[-1] and any_yes(user.screening),
        joined_groups=joined_groups,
    )


def _moved_on(current: str | None) -> str:
    if current is None:
        return "That question is already answered. /settings changes anything."
    return "That question has moved on. Here is where we are:"


def _advance(user: User, step: str) -> str | None:
    if user.onboarding_step is not None:
        user.onboarding_step = steps.next_onboarding_step(step)
        return user.onboarding_step
    user.editing = steps.next_settings_step(step)
    return user.editing


def _apply(user: User, step: str, given: Answer, now: datetime) -> Outcome:
    if step in steps.SCREENING_STEPS:
        return _apply_screening(user, step, given)
    return _APPLIERS[step](user, given, now)


def _raw(given: Answer) -> str:
    if isinstance(given, Button):
        return given.value
    return given.text if isinstance(given, Text) else ""


def _apply_screening(user: User, step: str, given: Answer) -> Outcome:
    value = steps.parse_yes_no(_raw(given))
    if value is None:
        return Outcome(accepted=False, ask=step, notice="Please tap Yes or No.")
    key = steps.screening_key(step)
    user.screening = {**user.screening, key: value}
    return Outcome(accepted=True, chosen="Yes" if value else "No")


def _apply_experience(user: User, given: Answer, _now: datetime) -> Outcome:
    value = steps.parse_enum(Experience, given.value) if isinstance(given, Button) else None
    if value is None:
        return Outcome(accepted=False, ask="exp", notice="Please tap one of the buttons.")
    user.experience = value.value
    return Outcome(accepted=True, chosen=EXPERIENCE_LABELS[value])


def _apply_goal(user: User, given: Answer, _now: datetime) -> Outcome:
    value = steps.parse_enum(Goal, given.value) if isinstance(given, Button) else None
    if value is None:
        return Outcome(accepted=False, ask="goal", notice="Please tap one of the buttons.")
    user.goal = value.value
    return Outcome(accepted=True, chosen=GOAL_LABELS[value])


def _apply_zone(user: User, given: Answer, now: datetime) -> Outcome:
    zone: str | None
    if isinstance(given, Location):
        zone = timezones.zone_from_location(given.latitude, given.longitude)
        if zone is None:
            return Outcome(
                accepted=False,
                ask="tz",
                notice=(
                    "I couldn't find a time zone for that spot. Type your nearest city instead."
                ),
            )
    elif isinstance(given, Button):
        zone = timezones.canonical_zone(given.value)
        if zone is None:
            return Outcome(accepted=False, ask="tz", notice="Please pick again.")
    else:
        lookup = timezones.resolve_zone(given.text)
        if not lookup.matches:
            return Outcome(
                accepted=False,
                ask="tz",
                notice=(
                    f"I don't know “{bounded(given.text)}”. Try a big city near you "
                    "(Manchester) or a zone name like Europe/London."
                ),
            )
        if len(lookup.matches) > 1:
            choices = tuple(ZoneChoice(m.zone, m.label) for m in lookup.matches)
            return Outcome(
                accepted=False,
                ask="tz",
                zone_choices=choices,
                notice="There's more than one. Which do you mean?",
            )
        zone = lookup.matches[0].zone
    user.timezone = zone
    return Outcome(accepted=True, chosen=timezones.describe_zone(zone, now))


def _days_chosen(mask: int) -> str:
    """ "Mon, Wed, Fri" or "Every day": a capital for the first word only (str.capitalize
    lowered the rest, "Mon, wed, fri")."""
    days = describe_days(mask)
    return days[:1].upper() + days[1:]


def _apply_days(user: User, given: Answer, _now: datetime) -> Outcome:
    if isinstance(given, Button):
        if given.value == "ok":
            return Outcome(accepted=True, chosen=_days_chosen(user.reminder_days))
        day = steps.parse_day_index(given.value)
        if day is None:
            return Outcome(accepted=False, ask="days", notice="Please tap the days you'd like.")
        user.reminder_days = toggle_day(user.reminder_days, day)
        return Outcome(accepted=True, redraw=True, ask="days")
    if isinstance(given, Text):
        days = steps.parse_day_list(given.text)
        if days is not None:
            user.reminder_days = days_to_mask(days)
            return Outcome(accepted=True, chosen=_days_chosen(user.reminder_days))
    return Outcome(
        accepted=False,
        ask="days",
        notice=("Tap the days, then Done. Or type them, like: Mon Wed Fri."),
    )


def _time_answer(given: Answer) -> tuple[bool, str]:
    if isinstance(given, Button):
        return True, given.value
    if isinstance(given, Text):
        return False, given.text
    return False, ""


def _read_time(given: Answer) -> time | None:
    is_button, raw = _time_answer(given)
    return steps.parse_button_time(raw) if is_button else steps.parse_time_answer(raw)


def _time_refused(step: str, example: str) -> Outcome:
    notice = f"Please pick a time, or type one like {example} (24-hour clock)."
    return Outcome(accepted=False, ask=step, notice=notice)


def _apply_reminder_time(user: User, given: Answer, _now: datetime) -> Outcome:
    value = _read_time(given)
    if value is None:
        return _time_refused("time", "07:30")
    user.reminder_time = value
    return Outcome(accepted=True, chosen=format_clock_time(value))


def _apply_summary_day(user: User, given: Answer, _now: datetime) -> Outcome:
    day = steps.parse_day_index(given.value) if isinstance(given, Button) else None
    if day is None and isinstance(given, Text):
        day = steps.parse_day_index(given.text)
    if day is None:
        return Outcome(accepted=False, ask="sday", notice="Please tap a day.")
    user.summary_day = day
    return Outcome(accepted=True, chosen=DAY_NAMES_LONG[day])


def _apply_summary_time(user: User, given: Answer, _now: datetime) -> Outcome:
    value = _read_time(given)
    if value is None:
        return _time_refused("stime", "18:00")
    user.summary_time = value
    return Outcome(accepted=True, chosen=format_clock_time(value))


def _apply_units(user: User, given: Answer, _now: datetime) -> Outcome:
    value = steps.parse_units(_raw(given))
    if value is None:
        return Outcome(accepted=False, ask="units", notice="Please tap km or miles.")
    user.units = value.value
    return Outcome(accepted=True, chosen=UNIT_LABELS[value])


def _apply_board_name(user: User, given: Answer, _now: datetime) -> Outcome:
    value = _raw(given).strip().lower()
    if value not in BOARD_NAME_LABELS:
        return Outcome(accepted=False, ask="board", notice="Please tap one of the buttons.")
    user.board_name = value
    return Outcome(accepted=True, chosen=BOARD_NAME_LABELS[value])


_APPLIERS = {
    "exp": _apply_experience,
    "goal": _apply_goal,
    "tz": _apply_zone,
    "days": _apply_days,
    "time": _apply_reminder_time,
    "sday": _apply_summary_day,
    "stime": _apply_summary_time,
    "units": _apply_units,
    "board": _apply_board_name,
}
