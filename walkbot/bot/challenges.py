"""Group challenges, the Telegram side: /challenge and its wizard, Join, /leaderboard,
/challenges, /leave, /groupsettings, and the group's life (walkbot added, removed, moved to a
supergroup). Thin: parse, check who may, call services.challenges, reply.

Who may do what:
- group admins alone manage a challenge (`group_admin.is_admin`, briefly cached); an anonymous
  admin's message is the group's own, so it counts as an admin's; every wizard tap is checked
  again against the presser and the message's group;
- Join is checked against the challenge's group and the presser's membership;
- nothing about a person's health (effort, pain, notes, screening) is ever said in a group:
  the views get a Board that holds only names and totals.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Chat, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import filters

from walkbot.bot import callbacks, challenge_links, challenge_views, group_admin, texts
from walkbot.bot.challenge_wizard import CANCEL, wizard_view
from walkbot.bot.feature import Feature
from walkbot.bot.guard import Caller, Handler, Tap, for_person, on_button
from walkbot.bot.replies import answer_tap, callback_fields, number_field, query_message
from walkbot.context import WalkbotContext as Context
from walkbot.domain import timezones
from walkbot.domain.profile import format_clock_time, parse_clock_time
from walkbot.domain.wording import bounded
from walkbot.services import challenges
from walkbot.services.challenges import Board, Draft
from walkbot.services.users import get_user

log = logging.getLogger(__name__)

feature = Feature("challenges")

GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
IN_CHAT = frozenset({ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR})
ECHO_LIMIT = 32
MIGRATION_LOCK = "walkbot.group-migrations"  # bot_data key

ADMINS_ONLY = "Only the group's admins can manage its challenge."
CHALLENGE_IN_PRIVATE = (
    "Challenges live in groups: add me to your group, and an admin sends /challenge there. "
    "Your walks with me here then count on its board."
)
NONE_RUNNING = "No challenge is running here. An admin can start one with /challenge."
ALREADY_RUNNING = "A challenge is already running here: one at a time. Here's the board."
ENDING = "Ending the challenge now: the results will be posted in a moment."
CANCELLED = "No challenge this time. /challenge starts one whenever you like."
NOT_A_MEMBER = "Only members of this group can join its challenge."
JOINED = "You're in! Walks you do with me in private count on this board."
ALREADY_IN = "You're already in."
CLOSED = "This challenge has finished."
WRONG_GROUP = "That button belongs to another group."
NEED_START = "First, a quick safe start with me in private: tap Start there, then you're in."
PENDING = "Finish setting up with me in private, then you're in automatically."
LEFT_GROUP = "You've left the challenge. Your walks stay yours; you're off this board."
NOT_IN = "You're not in a challenge here."
LEFT_PRIVATE = "You've left: {titles}."
NOT_IN_ANY = "You're not in any group challenge."
NO_PAST = "No finished challenges here yet."
SETTINGS_USAGE = (
    "/groupsettings zone Europe/London (or a city) sets the group's time zone;\n"
    "/groupsettings time 19:00 sets when the daily board is posted."
)
ZONE_UNKNOWN = "I couldn't find a time zone called “{text}”. Try a city, or Area/City."
ZONE_WHICH = "Which one: {options}? Send /groupsettings zone with the one you mean."
TIME_UNKNOWN = "I couldn't read “{text}” as a time. Try 19:00."
# A running challenge's window never moves (its days were announced); its daily posts do.
ZONE_SAVED = "Saved. A challenge already running keeps its dates; the next one uses this zone."
TIME_SAVED = "Saved. The daily board comes at this time from now on."


@dataclass(frozen=True)
class GroupCaller:
    """Someone writing in a group: a person (user_id) or an anonymous admin (user_id None)."""

    chat: Chat
    message: Message
    user_id: int | None
    anonymous_admin: bool

    @property
    def thread_id(self) -> int | None:
        """The forum topic the message came from; None outside one (General included)."""
        return self.message.message_thread_id if self.message.is_topic_message else None


def group_caller(update: Update) -> GroupCaller | None:
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or chat.type not in GROUP_TYPES:
        return None
    if group_admin.anonymous_admin(message):
        return GroupCaller(chat, message, None, True)
    if message.sender_chat is not None:
        # Written as a channel (a linked channel's post, forwarded in by Telegram's own
        # non-bot account): no person to answer or to check.
        return None
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return GroupCaller(chat, message, user.id, False)


def for_group(handler: Callable[[Update, Context, GroupCaller], Awaitable[None]]) -> Handler:
    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        caller = group_caller(update)
        if caller is not None:
            await handler(update, context, caller)

    return guarded


async def _may_manage(context: Context, caller: GroupCaller) -> bool:
    if caller.anonymous_admin:
        return True
    assert caller.user_id is not None
    return await group_admin.is_admin(context, caller.chat.id, caller.user_id)


async def _say(context: Context, caller: GroupCaller, text: str) -> Message:
    """A reply in the group, in the topic it was asked in, without a sound."""
    return await context.bot.send_message(
        caller.chat.id,
        text,
        message_thread_id=caller.thread_id,
        disable_notification=True,
    )


def _board_text(board: Board) -> str:
    return challenge_views.board_text(board, "daily")


async def _note_group(session: AsyncSession, chat: Chat, now: datetime) -> None:
    """The group as Telegram shows it now (its kind and title), in the caller's transaction."""
    await challenges.group_seen(
        session, chat_id=chat.id, kind=chat.type, title=chat.title or "", now=now
    )


async def _seen(context: Context, chat: Chat) -> None:
    rt = context.runtime
    async with rt.transaction() as session:
        await _note_group(session, chat, rt.clock.now())


# ---- /challenge and its wizard ------------------------------------------------------------


@feature.command("challenge", chats="groups", admins_only=True, menu="Start a group challenge")
@for_group
async def challenge_command(update: Update, context: Context, caller: GroupCaller) -> None:
    if not await _may_manage(context, caller):
        await _say(context, caller, ADMINS_ONLY)
        return
    rt = context.runtime
    now = rt.clock.now()
    if context.args and context.args[0].lower() == "end":
        async with rt.transaction() as session:
            ended = await challenges.end_early(session, chat_id=caller.chat.id, now=now)
        await _say(context, caller, ENDING if ended is not None else NONE_RUNNING)
        return
    async with rt.transaction() as session:
        await _note_group(session, caller.chat, now)
        creator = None
        if caller.user_id is not None:
            creator = await get_user(session, telegram_id=caller.user_id)
        opened = await challenges.open_draft(
            session,
            chat_id=caller.chat.id,
            thread_id=caller.thread_id,
            created_by=caller.user_id,
            creator_zone=creator.timezone if creator is not None else None,
            now=now,
        )
    if isinstance(opened, Board):
        await _say(context, caller, ALREADY_RUNNING + "\n\n" + _board_text(opened))
        return
    text, markup = wizard_view(opened)
    await context.bot.send_message(
        caller.chat.id,
        text,
        reply_markup=markup,
        message_thread_id=caller.thread_id,
        disable_notification=True,
    )


@feature.button(callbacks.CHALLENGE)
@on_button
async def challenge_button(update: Update, context: Context, tap: Tap) -> None:
    query = tap.query
    message = query_message(query)
    challenge_field, step, value = callback_fields(tap.data, 3)
    challenge_id = number_field(challenge_field)
    if message is None or challenge_id is None or message.chat.type not in GROUP_TYPES:
        await answer_tap(query, texts.STALE_BUTTON)
        return
    if step == "join":
        await _join(context, tap, message, challenge_id)
        return
    if not await group_admin.is_admin(context, message.chat.id, tap.id):
        await answer_tap(query, ADMINS_ONLY)
        return
    rt = context.runtime
    async with rt.transaction() as session:
        if step == CANCEL:
            cancelled = await challenges.cancel_draft(
                session, challenge_id=challenge_id, chat_id=message.chat.id
            )
            chosen: Draft | Board | None = None
        else:
            cancelled = False
            chosen = await challenges.choose(
                session,
                challenge_id=challenge_id,
                chat_id=message.chat.id,
                step=step,
                value=value,
                now=rt.clock.now(),
            )
            if isinstance(chosen, Board):
                # The wizard's message becomes the card, edited in place as walks come in.
                await challenges.set_card(
                    session, challenge_id=challenge_id, message_id=message.message_id
                )
    if cancelled:
        await _edit(message, CANCELLED)
    elif isinstance(chosen, Draft):
        await _edit(message, *wizard_view(chosen))
    elif isinstance(chosen, Board):
        await _edit(
            message, challenge_views.board_text(chosen, "card"), challenge_views.card_markup(chosen)
        )
    else:  # forged, another group's, a finished draft, or a value not offered
        await answer_tap(query, texts.STALE_BUTTON)
        return
    await answer_tap(query)


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """The wizard's message in its next state; a repeated tap ("not modified") is no error."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramError as error:
        if "not modified" not in str(error).lower():
            log.info("could not edit the challenge message %s: %s", message.message_id, error)


async def _join(context: Context, tap: Tap, message: Message, challenge_id: int) -> None:
    query, chat = tap.query, message.chat
    if not await group_admin.is_member(context, chat.id, tap.id):
        await answer_tap(query, NOT_A_MEMBER)
        return
    rt = context.runtime
    async with rt.transaction() as session:
        result = await challenges.join(
            session, challenge_id=challenge_id, chat_id=chat.id, user_id=tap.id, now=rt.clock.now()
        )
    if result.kind == "need_start":
        # Telegram opens the private chat from the answer itself: one tap to the deep link.
        link = challenge_links.deep_link(context.bot.username, result.code)
        try:
            await query.answer(NEED_START, url=link)
        except TelegramError as error:
            log.info("could not answer a Join tap with the link: %s", error)
        return
    notes = {
        "joined": JOINED,
        "already": ALREADY_IN,
        "pending": PENDING,
        "closed": CLOSED,
        "wrong_group": WRONG_GROUP,
    }
    await answer_tap(query, notes.get(result.kind, texts.STALE_BUTTON))


# ---- boards and history ---------------------------------------------------------------------


@feature.command("leaderboard", chats="groups", menu="The challenge board")
@for_group
async def leaderboard(update: Update, context: Context, caller: GroupCaller) -> None:
    rt = context.runtime
    async with rt.transaction() as session:
        running = await challenges.current(session, chat_id=caller.chat.id)
        board = None
        if running is not None and running.id is not None:
            board = await challenges.board(session, challenge_id=running.id, now=rt.clock.now())
    await _say(context, caller, _board_text(board) if board is not None else NONE_RUNNING)


@feature.command("challenges", chats="groups", menu="Past challenges and their winners")
@for_group
async def past_challenges(update: Update, context: Context, caller: GroupCaller) -> None:
    rt = context.runtime
    async with rt.transaction() as session:
        past = await challenges.past(session, chat_id=caller.chat.id)
        zone = (await challenges.group_settings(session, chat_id=caller.chat.id)).zone
    await _say(context, caller, challenge_views.past_text(past, zone) if past else NO_PAST)


# ---- leaving --------------------------------------------------------------------------------


@feature.command("leave", chats="groups", menu="Leave this group's challenge")
@for_group
async def leave_in_group(update: Update, context: Context, caller: GroupCaller) -> None:
    if caller.user_id is None:  # an anonymous admin is the group, not a walker
        return
    rt = context.runtime
    async with rt.transaction() as session:
        left = await challenges.leave(
            session, user_id=caller.user_id, chat_id=caller.chat.id, now=rt.clock.now()
        )
    await _say(context, caller, LEFT_GROUP if left else NOT_IN)


@feature.command("leave", menu="Leave your group challenges")
@for_person
async def leave_in_private(update: Update, context: Context, caller: Caller) -> None:
    rt = context.runtime
    async with rt.transaction() as session:
        left = await challenges.leave(session, user_id=caller.id, chat_id=None, now=rt.clock.now())
    titles = ", ".join(challenge_links.bounded_title(title) for title in left)
    await caller.chat.send_message(LEFT_PRIVATE.format(titles=titles) if left else NOT_IN_ANY)


# ---- the group's settings -------------------------------------------------------------------


@feature.command(
    "groupsettings", chats="groups", admins_only=True, menu="Time zone and daily board time"
)
@for_group
async def group_settings(update: Update, context: Context, caller: GroupCaller) -> None:
    if not await _may_manage(context, caller):
        await _say(context, caller, ADMINS_ONLY)
        return
    args = context.args or []
    what, text = (args[0].lower(), " ".join(args[1:])) if args else ("", "")
    rt = context.runtime
    now = rt.clock.now()
    reply: str | None = None
    saved: str | None = None  # what a change says above the settings now in force
    async with rt.transaction() as session:
        await _note_group(session, caller.chat, now)
        if what == "zone" and text:
            found = timezones.resolve_zone(text)
            if found.is_ambiguous:
                options = ", ".join(match.zone for match in found.matches[:3])
                reply = ZONE_WHICH.format(options=options)
            elif found.zone is None:
                reply = ZONE_UNKNOWN.format(text=bounded(text, ECHO_LIMIT))
            else:
                await challenges.set_group_zone(
                    session, chat_id=caller.chat.id, zone=found.zone, now=now
                )
                saved = ZONE_SAVED
        elif what == "time" and text:
            at = parse_clock_time(text)
            if at is None:
                reply = TIME_UNKNOWN.format(text=bounded(text, ECHO_LIMIT))
            else:
                await challenges.set_post_time(session, chat_id=caller.chat.id, at=at, now=now)
                saved = TIME_SAVED
        elif what:
            reply = SETTINGS_USAGE
        current = await challenges.group_settings(session, chat_id=caller.chat.id)
    shown = (
        f"Time zone: {timezones.describe_zone(current.zone, now)}\n"
        f"Daily board: {format_clock_time(current.post_time)}"
    )
    if reply is None:
        reply = f"{saved}\n\n{shown}" if saved else f"{shown}\n\n{SETTINGS_USAGE}"
    await _say(context, caller, reply)


# ---- the group's life: added, removed, moved --------------------------------------------------


async def group_membership(update: Update, context: Context) -> None:
    """walkbot added to a group (hello, and how to start a challenge; after a removal this
    offers a new one) or removed from it (its challenge is archived: nothing more is sent)."""
    change = update.my_chat_member
    if change is None or change.chat.type not in GROUP_TYPES:
        return
    was_in = change.old_chat_member.status in IN_CHAT
    now_in = change.new_chat_member.status in IN_CHAT
    rt = context.runtime
    group_admin.forget(context, change.chat.id)
    if now_in and not was_in:
        await _seen(context, change.chat)
        link = f"https://t.me/{context.bot.username}"
        await context.bot.send_message(change.chat.id, texts.GROUP_INTRO.format(link=link))
    elif was_in and not now_in:
        async with rt.transaction() as session:
            archived = await challenges.group_left(
                session, chat_id=change.chat.id, now=rt.clock.now()
            )
        log.info("removed from group %s; %s challenge(s) archived", change.chat.id, archived)


@feature.chat_member()
async def member_changed(update: Update, context: Context) -> None:
    """Someone joined, left, was promoted or demoted (Telegram tells admin bots): what we
    remembered about the group's admins and members may be stale, so ask again next time."""
    if update.chat_member is not None:
        group_admin.forget(context, update.chat_member.chat.id)


@feature.command("challenge")
@for_person
async def challenge_in_private(update: Update, context: Context, caller: Caller) -> None:
    await caller.chat.send_message(CHALLENGE_IN_PRIVATE)


@feature.message(filters.StatusUpdate.MIGRATE)
async def group_moved(update: Update, context: Context) -> None:
    """A group became a supergroup with a new id: its challenge and schedule move with it.
    Telegram says so in both chats; moving is idempotent, so either (or both) will do."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    await group_moved_to(context, old_chat_id=old, new_chat_id=new)


async def group_moved_to(context: Context, *, old_chat_id: int, new_chat_id: int) -> None:
    rt = context.runtime
    # The two service messages arrive in two chats, which run side by side (bot/ordering.py):
    # one move at a time, so the second finds the first done instead of racing it.
    lock: asyncio.Lock = context.application.bot_data.setdefault(MIGRATION_LOCK, asyncio.Lock())
    async with lock, rt.transaction() as session:
        await challenges.migrate_group(
            session, old_chat_id=old_chat_id, new_chat_id=new_chat_id, now=rt.clock.now()
        )
    group_admin.forget(context, old_chat_id)
