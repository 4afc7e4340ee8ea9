"""The live-walk screen on the walk row: heartbeats, the hold on chat cues and its hand-over,
and the person's screen settings. The rules are in domain/live.py; the jobs that send the
hand-over are in scheduling/live.py; the HTTP side is walkbot/webapp/api.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain import live as domain
from walkbot.services import walks
from walkbot.services.users import get_user
from walkbot.store.claims import compare_and_set
from walkbot.store.models import User, Walk


@dataclass(frozen=True)
class Beat:
    """A heartbeat's result: `hold` tells the page the chat cues are held back for it;
    `hand_over`: the screen was live and said it is hidden, so the chat takes over now."""

    hold: bool
    hand_over: bool = False


async def heartbeat(session: AsyncSession, *, walk: Walk, visible: bool, now: datetime) -> Beat:
    """A live screen showing (or hiding) an active walk. Anything else changes nothing."""
    if walk.status != "active":
        return Beat(hold=False)
    if visible:
        walk.live_seen_at = now
        session.add(walk)
        return Beat(hold=True)
    return Beat(hold=False, hand_over=await _release(session, walk) and not walks.is_paused(walk))


async def _release(session: AsyncSession, walk: Walk) -> bool:
    """Forget the screen, if nobody (the watchdog, a cue, another request) has since it was
    read: the one who does sends the hand-over line, so it is said once."""
    if walk.live_seen_at is None:
        return False
    assert walk.id is not None
    still = [
        col(Walk.id) == walk.id,
        col(Walk.status) == "active",
        col(Walk.live_seen_at) == walk.live_seen_at,
    ]
    return await compare_and_set(session, walk, still, live_seen_at=None)


async def cue_gate(session: AsyncSession, *, walk: Walk, now: datetime) -> domain.Gate:
    """Whether a chat cue of `walk` (already claimed) is sent, held, or sent after the
    hand-over line. A quiet screen is released here, by compare-and-set; should the watchdog
    or the page's "hidden" have released it first, they sent the hand-over and this is a
    plain cue."""
    gate = domain.cue_gate(walk.live_seen_at, now)
    if gate == "take_over" and not await _release(session, walk):
        return "send"
    return gate


async def quiet_screen(session: AsyncSession, *, walk_id: int, now: datetime) -> Walk | None:
    """The watchdog: the walk whose screen has gone quiet (released here, so the caller sends
    the hand-over once), or None: no screen, still live, the walk over or paused."""
    walk = await session.get(Walk, walk_id)
    if walk is None or walk.status != "active" or walk.live_seen_at is None:
        return None
    if domain.screen_is_live(walk.live_seen_at, now):
        return None
    if not await _release(session, walk):
        return None
    return None if walks.is_paused(walk) else walk


@dataclass(frozen=True)
class Prefs:
    voice: bool = True
    tones: bool = True
    warning: bool = True  # the 10-second warning before a switch


def prefs_of(user: User | None) -> Prefs:
    if user is None:
        return Prefs()
    return Prefs(voice=user.live_voice, tones=user.live_tones, warning=user.live_warning)


async def get_prefs(session: AsyncSession, *, user_id: int) -> Prefs:
    return prefs_of(await get_user(session, telegram_id=user_id))


async def set_prefs(
    session: AsyncSession, *, user_id: int, prefs: Prefs, now: datetime
) -> Prefs | None:
    """Remembered for the person; None when walkbot does not know them (no /start yet)."""
    user = await get_user(session, telegram_id=user_id)
    if user is None:
        return None
    user.live_voice, user.live_tones, user.live_warning = prefs.voice, prefs.tones, prefs.warning
    user.updated_at = now
    session.add(user)
    return prefs
