"""The live-walk screen on the walk row: heartbeats, the hold on chat cues and its hand-over,
and the person's screen settings. The rules are in domain/live.py; the jobs that send the
hand-over are in scheduling/live.py; the HTTP side is walkbot/webapp/api.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from walkbot.domain import live as domain
from walkbot.services import walks
from walkbot.services.users import get_user
from walkbot.store.claims import compare_and_set
from walkbot.store.models import User, Walk

# How often a live screen's heartbeat is also written to the walk row. Every heartbeat is
# kept in memory (LiveScreens): writing each one (300 screens every 2 s) queued the store
# behind SQLite's write lock for seconds (bench.cue_latency --live). The row only has to say
# "a screen was showing this walk lately", for a restart.
STORED_EVERY = timedelta(seconds=60)


@dataclass
class LiveScreens:
    """The screens showing walks in this process: each walk's last visible heartbeat, kept in
    memory (one process cues the walks and serves their screens). `known`: walks whose
    screen this process has handled since it started; for the others (after a restart) the
    row's `live_seen_at` is the only record, and releasing it is a compare-and-set there."""

    seen: dict[int, datetime] = field(default_factory=dict)
    known: set[int] = field(default_factory=set)
    # For a screen already showing an active walk, a heartbeat needs no store at all: whose
    # walk it is, and when its row was last written.
    owners: dict[int, int] = field(default_factory=dict)
    stored: dict[int, datetime] = field(default_factory=dict)

    def saw(self, walk_id: int, at: datetime) -> None:
        self.known.add(walk_id)
        self.seen[walk_id] = max(at, self.seen.get(walk_id, at))

    def beat_in_memory(self, walk_id: int, user_id: int, at: datetime) -> bool:
        """A visible heartbeat from the walk's owner while its screen is showing and the row
        was written within STORED_EVERY: noted here, no store. False: take the full path."""
        stored = self.stored.get(walk_id)
        if self.owners.get(walk_id) != user_id or walk_id not in self.seen or stored is None:
            return False
        if at - stored >= STORED_EVERY:
            return False
        self.saw(walk_id, at)
        return True

    def still_showing(self, walk_id: int, at: datetime) -> None:
        """The screen is known to be showing the walk at `at` (e.g. it is being answered):
        noted only while it holds the walk's cues (not after a release or the walk's end)."""
        if walk_id in self.seen:
            self.saw(walk_id, at)

    def forget(self, walk_id: int) -> datetime | None:
        """The walk is over, or its screen released: what was last seen, if anything."""
        self.owners.pop(walk_id, None)
        self.stored.pop(walk_id, None)
        return self.seen.pop(walk_id, None)

    def last_seen(self, walk: Walk) -> datetime | None:
        """The newest heartbeat: in memory, or on the row (written at most every minute)."""
        assert walk.id is not None
        if walk.id in self.known:
            return self.seen.get(walk.id)
        return walk.live_seen_at


@dataclass(frozen=True)
class Beat:
    """A heartbeat's result: `hold` tells the page the chat cues are held back for it;
    `hand_over`: the screen was live and said it is hidden, so the chat takes over now."""

    hold: bool
    hand_over: bool = False


async def heartbeat(
    session: AsyncSession, *, walk: Walk, visible: bool, now: datetime, screens: LiveScreens
) -> Beat:
    """A live screen showing (or hiding) an active walk. Anything else changes nothing."""
    if walk.status != "active":
        return Beat(hold=False)
    if visible:
        walk_id = _id(walk)
        screens.saw(walk_id, now)
        screens.owners[walk_id] = walk.user_id
        if walk.live_seen_at is None or now - walk.live_seen_at >= STORED_EVERY:
            walk.live_seen_at = now
            session.add(walk)
        screens.stored[walk_id] = walk.live_seen_at
        return Beat(hold=True)
    released = await release(session, walk=walk, screens=screens)
    return Beat(hold=False, hand_over=released and not walks.is_paused(walk))


def _id(walk: Walk) -> int:
    assert walk.id is not None
    return walk.id


async def release(session: AsyncSession, *, walk: Walk, screens: LiveScreens) -> bool:
    """Forget the walk's screen. True for the one caller (the page's "hidden", the watchdog,
    a cue) that did, who then sends the hand-over line, so it is said once. In memory that
    is whoever takes it out of `seen` (one event loop: no interleaving there); for a walk this
    process has not seen since it started, whoever clears the row's value by compare-and-set."""
    walk_id = _id(walk)
    if walk_id in screens.known:
        taken = screens.forget(walk_id) is not None
        if taken and walk.live_seen_at is not None:
            await compare_and_set(session, walk, [col(Walk.id) == walk_id], live_seen_at=None)
        return taken
    screens.known.add(walk_id)  # from now on memory says, for this walk
    if walk.live_seen_at is None:
        return False
    still = [
        col(Walk.id) == walk_id,
        col(Walk.status) == "active",
        col(Walk.live_seen_at) == walk.live_seen_at,
    ]
    return await compare_and_set(session, walk, still, live_seen_at=None)


async def cue_gate(
    session: AsyncSession, *, walk: Walk, now: datetime, screens: LiveScreens
) -> domain.Gate:
    """Whether a chat cue of `walk` (already claimed) is sent, held, or sent after the
    hand-over line. A quiet screen is released here; should the watchdog or the page's
    "hidden" have released it first, they sent the hand-over and this is a plain cue."""
    gate = domain.cue_gate(screens.last_seen(walk), now)
    if gate == "take_over" and not await release(session, walk=walk, screens=screens):
        return "send"
    return gate


async def quiet_screen(
    session: AsyncSession, *, walk_id: int, now: datetime, screens: LiveScreens
) -> Walk | None:
    """The watchdog: the walk whose screen has gone quiet (released here, so the caller sends
    the hand-over once), or None: no screen, still live, the walk over or paused."""
    walk = await session.get(Walk, walk_id)
    if walk is None or walk.status != "active":  # over: nothing to hold or hand over
        screens.forget(walk_id)
        screens.known.discard(walk_id)
        return None
    seen = screens.last_seen(walk)
    if seen is None or domain.screen_is_live(seen, now):
        return None
    if not await release(session, walk=walk, screens=screens):
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
