"""Callback data: one module of prefixes that the views build with and the features register
with. Every button any view builds reaches exactly one handler, never only the stale-button
fallback, and fits Telegram's 64 bytes."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram import User as TelegramUser
from telegram.ext import ApplicationBuilder, CallbackQueryHandler

from walkbot.bot import (
    callbacks,
    challenge_wizard,
    handlers,
    knee,
    level,
    nudges,
    onboarding,
    privacy,
    questions,
    sixmin_views,
    walk_views,
)
from walkbot.context import context_types
from walkbot.domain.onboarding import ONBOARDING_STEPS, SETTINGS_STEPS
from walkbot.domain.sixmin import DIRECTIONS
from walkbot.sandbox import TEST_TOKEN
from walkbot.services.challenges import Draft
from walkbot.services.onboarding import ZoneChoice
from walkbot.services.programme import LevelView
from walkbot.store.models import User

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BIG = 10**18 - 1  # the largest id a handler reads back (replies.number_field)


def test_prefixes_are_unique_and_never_match_one_another() -> None:
    assert len(set(callbacks.PREFIXES)) == len(callbacks.PREFIXES)
    for prefix in callbacks.PREFIXES:
        assert prefix and callbacks.SEPARATOR not in prefix
        assert re.match(callbacks.pattern(prefix), callbacks.data(prefix, "x"))
        for other in callbacks.PREFIXES:
            if other != prefix:
                assert not re.match(callbacks.pattern(prefix), callbacks.data(other, "x"))
                assert not re.match(callbacks.pattern(prefix), other + "x:1")


def test_a_pattern_with_choices_takes_only_those() -> None:
    consent = callbacks.pattern(callbacks.CONSENT, "yes", "no")
    assert re.match(consent, "consent:yes") and re.match(consent, "consent:no")
    for forged in ("consent:maybe", "consent:yes:1", "consent:", "consent:yesno"):
        assert not re.match(consent, forged)


def test_data_refuses_what_telegram_or_the_parser_would_not_take() -> None:
    assert callbacks.data(callbacks.RATE, 12, "effort", 3) == "r:12:effort:3"
    assert len(callbacks.data(callbacks.ANSWER, "x" * 62).encode()) == 64
    with pytest.raises(ValueError, match="64 bytes"):
        callbacks.data(callbacks.ANSWER, "x" * 63)
    with pytest.raises(ValueError, match="64 bytes"):
        callbacks.data(callbacks.ANSWER, "é" * 32)  # 64 characters, 66 bytes
    with pytest.raises(ValueError, match="may not contain"):
        callbacks.data(callbacks.ANSWER, "time", "07:30")


def _user(**changes: Any) -> User:
    user = User(
        telegram_id=BIG,
        first_name="Alice",
        consented_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        timezone="Europe/London",
        reminder_time=time(7, 30),
    )
    for name, value in changes.items():
        setattr(user, name, value)
    return user


def every_view() -> Iterator[tuple[str, InlineKeyboardMarkup]]:
    """Every markup a view builds, with ids as large as a handler accepts."""
    yield "consent", onboarding.CONSENT_MARKUP
    yield "consent from a challenge", onboarding.consent_markup("A" * 16)  # the longest code
    yield "delete", privacy.DELETE_MARKUP
    user = _user()
    zones = tuple(ZoneChoice(zone, zone) for zone in sorted(zoneinfo.available_timezones()))
    for step in (*ONBOARDING_STEPS, *SETTINGS_STEPS):
        for editing in (False, True):
            yield f"question {step}", questions.render(step, user, editing=editing)[1]
    yield "every zone", questions.render("tz", user, editing=True, zone_choices=zones)[1]
    yield "settings", questions.settings_view(user, NOW)[1]
    yield "onboarded", questions.onboarding_summary(user, NOW)[1]
    for paused in (False, True):
        yield "walk controls", walk_views.controls(BIG, paused=paused)
    yield "walk card", walk_views.start_card(BIG)
    yield "effort", walk_views.effort_prompt(BIG)[1]
    yield "effort reminder", walk_views.effort_prompt(BIG, reminder=True)[1]
    yield "pain", walk_views.pain_prompt(BIG)[1]
    yield "note", walk_views.note_prompt(BIG)[1]
    yield "knee check", knee.knee_check_message(BIG)[1]
    yield "nudge", nudges.nudge_markup(date(2026, 12, 31), snoozable=True)
    view = LevelView(
        level=5,
        current="now",
        plan="plan",
        next="next",
        can_step_back=True,
        towards_step_up=1,
        flagged=False,
    )
    yield "level", level.level_buttons(view)
    yield "sixmin choice", sixmin_views.choose({}, "km")[1]
    for direction in DIRECTIONS:
        yield "sixmin setup", sixmin_views.setup_card(BIG, direction, needs_support=True)[1]
    yield "sixmin ready", sixmin_views.ready(BIG)[1]
    yield "sixmin stop", sixmin_views.stop_button(BIG)
    for measure in ("minutes", "walks", "days"):
        for kind, improved in (("ranking", False), ("ranking", True), ("goal", False)):
            for step in ("measure", "kind", "target", "days", "start"):
                draft = Draft(BIG, measure, kind, improved, None, 7, step)  # type: ignore[arg-type]
                yield f"challenge wizard {step}", challenge_wizard.wizard_view(draft)[1]
    for step in ("distance", "effort_after", "symptoms"):
        for early in (False, True):
            yield f"sixmin {step}", sixmin_views.prompt_for(BIG, step, "mi", stopped_early=early)[1]


def _patterned_handlers() -> list[CallbackQueryHandler[Any, Any]]:
    app = ApplicationBuilder().token(TEST_TOKEN).context_types(context_types()).build()
    handlers.register(app)
    registered = [h for group in app.handlers.values() for h in group]
    buttons = [h for h in registered if isinstance(h, CallbackQueryHandler)]
    # Exactly one catch-all, the stale-button fallback, and it comes after every other.
    assert [h.pattern for h in buttons].count(None) == 1 and buttons[-1].pattern is None
    return buttons[:-1]


def test_every_button_a_view_builds_reaches_exactly_one_handler() -> None:
    patterned = _patterned_handlers()
    seen = 0
    for name, markup in every_view():
        for row in markup.inline_keyboard:
            for button in row:
                data = button.callback_data
                assert isinstance(data, str) and len(data.encode()) <= callbacks.MAX_BYTES
                takers = [h for h in patterned if h.check_update(_tap(data))]
                assert len(takers) == 1, (name, data, takers)
                seen += 1
    assert seen > 500  # the views really were built (every zone alone is several hundred)


def test_every_prefix_is_answered_by_one_feature() -> None:
    owners = [p for feature in handlers.FEATURES for p in feature.prefixes]
    assert sorted(set(owners)) == sorted(callbacks.PREFIXES)
    assert len(owners) == len(set(owners))


def _tap(data: str) -> Update:
    query = CallbackQuery("q", TelegramUser(1, "A", is_bot=False), "chat", data=data)
    return Update(1, callback_query=query)
