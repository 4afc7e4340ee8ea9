"""Who may manage a group's challenge, and who is in the group, asked of Telegram and briefly
remembered.

- A group's administrators come from getChatAdministrators, kept for ADMIN_TTL per chat, so a
  wizard of six taps costs one call, and a demoted admin loses the right within a minute.
- An anonymous admin writes as the group itself (`sender_chat` is the group): that message is
  an admin's. Their button presses carry their real id, which getChatAdministrators leaves out
  (ptb-notes), so an id not in the list is asked about once with getChatMember.
- Membership (for Join) is getChatMember, kept as briefly.
Telegram's errors answer "no" and are logged by chat, never by person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import ChatMemberRestricted, Message
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from walkbot.context import WalkbotContext as Context

log = logging.getLogger(__name__)

ADMIN_TTL = timedelta(seconds=60)
CACHE_KEY = "walkbot.group-admins"
ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
MEMBER_STATUSES = frozenset({*ADMIN_STATUSES, ChatMemberStatus.MEMBER})
CACHE_LIMIT = 10_000  # chats remembered at once; the oldest are forgotten first


@dataclass
class _Known:
    at: datetime
    admins: frozenset[int] = frozenset()
    # What getChatMember said of people asked about one at a time: status by user id.
    statuses: dict[int, str] = field(default_factory=dict)


def anonymous_admin(message: Message | None) -> bool:
    """A message an admin sent as the group: only admins can."""
    return (
        message is not None
        and message.sender_chat is not None
        and message.sender_chat.id == message.chat.id
    )


def _cache(context: Context) -> dict[int, _Known]:
    cache: dict[int, _Known] = context.application.bot_data.setdefault(CACHE_KEY, {})
    return cache


def _fresh(context: Context, chat_id: int) -> _Known | None:
    known = _cache(context).get(chat_id)
    if known is None or context.runtime.clock.now() - known.at > ADMIN_TTL:
        return None
    return known


def forget(context: Context, chat_id: int) -> None:
    """A change Telegram told us of (promotion, the bot removed): ask again next time."""
    _cache(context).pop(chat_id, None)


async def _known(context: Context, chat_id: int) -> _Known | None:
    known = _fresh(context, chat_id)
    if known is not None:
        return known
    try:
        admins = await context.bot.get_chat_administrators(chat_id)
    except TelegramError as error:
        log.info("could not list the admins of chat %s: %s", chat_id, error)
        return None
    cache = _cache(context)
    cache.pop(chat_id, None)  # refreshed: it goes to the back of the line to be forgotten
    if len(cache) >= CACHE_LIMIT:
        cache.pop(next(iter(cache)))
    known = cache[chat_id] = _Known(
        context.runtime.clock.now(), frozenset(member.user.id for member in admins)
    )
    return known


async def _status(context: Context, chat_id: int, user_id: int) -> str | None:
    known = await _known(context, chat_id)
    if known is not None and user_id in known.admins:
        return ChatMemberStatus.ADMINISTRATOR
    if known is not None and user_id in known.statuses:
        return known.statuses[user_id]
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as error:
        log.info("could not look up a member of chat %s: %s", chat_id, error)
        return None
    status = member.status
    if isinstance(member, ChatMemberRestricted):
        # Restricted people may still be in the group (muted, say) or may have left it: what
        # Join needs to know is which, so that is what is remembered.
        status = ChatMemberStatus.MEMBER if member.is_member else ChatMemberStatus.LEFT
    if known is not None:
        known.statuses[user_id] = status
    return status


async def is_admin(context: Context, chat_id: int, user_id: int) -> bool:
    return await _status(context, chat_id, user_id) in ADMIN_STATUSES


async def is_member(context: Context, chat_id: int, user_id: int) -> bool:
    return await _status(context, chat_id, user_id) in MEMBER_STATUSES
