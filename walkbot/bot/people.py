"""Who sent an update, as the services know a person."""

from __future__ import annotations

from telegram import Update

from walkbot.services.users import Person


def person_of(update: Update) -> Person | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return Person(
        telegram_id=user.id,
        first_name=user.first_name,
        username=user.username,
        language_code=user.language_code,
    )
