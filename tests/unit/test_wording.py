"""User input quoted back is bounded and on one line; free text is stored without controls."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walkbot.domain import nudges, sixmin, walks
from walkbot.domain.wording import ECHO_LIMIT, bounded, clean_text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LONG = "x" * 4090
HOSTILE = [
    LONG,
    "6x30/120 " + "zz " * 1300,
    "line one\nline two\n" * 300,
    "\x00\x07\u202e" + "y" * 4000,
    "6x" + "9" * 4000 + "/30",
    "w" + "1" * 4000,
    "12 " + "furlongs" * 500,
]
# What a reply may add around the quote: the longest fixed wording, with room to spare.
REPLY_LIMIT = 600


@given(st.text(max_size=5000), st.integers(min_value=2, max_value=200))
def test_bounded_is_one_clean_line_within_its_limit(text: str, limit: int) -> None:
    quoted = bounded(text, limit)
    assert len(quoted) <= limit
    assert "\n" not in quoted and clean_text(quoted) == quoted
    if len(" ".join(clean_text(text).split())) <= limit:
        assert quoted == " ".join(clean_text(text).split())  # short input is quoted whole
    else:
        assert quoted.endswith("…")


@given(st.text(max_size=300))
def test_clean_text_keeps_words_lines_and_emoji_and_drops_controls(text: str) -> None:
    cleaned = clean_text(text)
    assert "\x00" not in cleaned and "\u202e" not in cleaned and "\r" not in cleaned
    assert clean_text(cleaned) == cleaned
    cleaned.encode("utf-8")  # storable: raises on a lone surrogate


def test_clean_text_examples() -> None:
    assert clean_text("sore\x00 knee\x07\r\nbetter \u202eright\u202c") == "sore knee\nbetter right"
    assert clean_text("👨\u200d👩\u200d👧 tired\tbut fine") == "👨\u200d👩\u200d👧 tired\tbut fine"


def _walk_error(text: str) -> str:
    with pytest.raises(walks.PlanError) as raised:
        walks.parse_custom_plan(text)
    return raised.value.message


def _distance_error(text: str) -> str:
    with pytest.raises(sixmin.DistanceError) as raised:
        sixmin.parse_distance(text)
    return raised.value.message


def _pause_refusal(text: str) -> str:
    refused = nudges.parse_pause(text, now=NOW, zone="Europe/London")
    assert isinstance(refused, nudges.PauseRefused)
    return refused.reason


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("reply", [_walk_error, _distance_error, _pause_refusal])
def test_errors_quote_hostile_input_bounded(reply: object, text: str) -> None:
    assert callable(reply)
    message = reply(text)
    assert len(message) < REPLY_LIMIT
    assert "\x00" not in message and "\u202e" not in message
    assert "y" * (ECHO_LIMIT + 1) not in message and "x" * (ECHO_LIMIT + 1) not in message
