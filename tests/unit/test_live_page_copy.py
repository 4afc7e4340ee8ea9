"""The live page's words agree with the chat's (the page is plain JS, so its copy of the
effort scale and the cue notes is compared here rather than shared)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from walkbot.domain import walk_copy
from walkbot.domain.walks import EFFORT_LABELS, HEADS_UP_LEAD_S, HEADS_UP_MIN_PHASE_S

LIVE_JS = (Path(__file__).parents[2] / "walkbot" / "webapp" / "static" / "live.js").read_text()


def _constant(name: str) -> str:
    match = re.search(rf"const {name} = (.+?);[ \t]*(?://[^\n]*)?\n", LIVE_JS, re.DOTALL)
    assert match, name
    return match.group(1)


def test_the_effort_words_are_walkbots() -> None:
    labels = json.loads(re.sub(r",\s*\]", "]", _constant("EFFORT_LABELS")))
    assert labels == [EFFORT_LABELS[n] for n in range(11)]


def test_the_warning_follows_the_chats_heads_up_rule() -> None:
    assert int(_constant("WARNING_S")) == HEADS_UP_LEAD_S
    assert int(_constant("WARNING_MIN_PHASE_S")) == HEADS_UP_MIN_PHASE_S


def test_the_spoken_notes_are_the_chats() -> None:
    assert f" {walk_copy.HALFWAY_NOTE}." in LIVE_JS
    assert f" {walk_copy.LAST_ROUND_NOTE}" in LIVE_JS
