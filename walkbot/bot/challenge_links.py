"""A challenge's deep link (`t.me/<bot>?start=c<code>`) and the one line that tells someone
what became of their joining: shared by the group feature and onboarding's /start."""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram.helpers import create_deep_linked_url

from walkbot.bot import group_admin
from walkbot.context import WalkbotContext as Context
from walkbot.domain.wording import bounded
from walkbot.services import challenges
from walkbot.services.challenges import JoinResult

PAYLOAD_PREFIX = "c"
# The code is at most 16 characters of the deep-link alphabet; anything else is not ours.
_PAYLOAD = re.compile(r"^c([A-Za-z0-9_-]{1,16})$")
TITLE_LIMIT = 48
NOT_IN_GROUP = (
    "That challenge belongs to a group you're not in: join the group first, then tap Join on "
    "its card."
)


def deep_link(bot_username: str, code: str) -> str:
    return create_deep_linked_url(bot_username, PAYLOAD_PREFIX + code)


def code_from_payload(args: Sequence[str] | None) -> str | None:
    """The challenge code in `/start c<code>`, or None for a plain /start or a stranger payload."""
    if not args:
        return None
    match = _PAYLOAD.match(args[0])
    return match.group(1) if match else None


async def may_use_link(context: Context, code: str, user_id: int) -> bool:
    """Whether the person opening a deep link is in its challenge's group. A link can travel
    beyond the group it was made for, and only the group's members may appear on its board
    (the Join button checks the same). An unknown code passes: joining says it is out of date."""
    async with context.runtime.transaction() as session:
        chat_id = await challenges.chat_of_code(session, code=code)
    return chat_id is None or await group_admin.is_member(context, chat_id, user_id)


def bounded_title(title: str) -> str:
    """A group's title as we echo it: one line, bounded."""
    return bounded(title, TITLE_LIMIT) or "your group"


def joined_after_setup(title: str) -> str:
    """The one line that ends a deep link's onboarding (its walks count from the challenge's
    start, not from joining: a late joiner is not penalised, so "from now on" would be wrong)."""
    return f"🏁 You're in {bounded_title(title)}'s challenge."


def join_line(result: JoinResult) -> str:
    """What a deep link did, in one line."""
    title = bounded_title(result.title)
    if result.kind == "joined":
        return f"🏁 You're in {title}'s challenge. Walks you do with me count on its board."
    if result.kind == "already":
        return f"You're already in {title}'s challenge."
    if result.kind == "pending":
        return f"You'll join {title}'s challenge as soon as we've finished setting up."
    return "That challenge has finished or the link is out of date. Ask in the group for a new one."
