"""The fake Bot API's fault plan: the same seed gives the same faults to the same requests in
any order, no request meets more than its bound, and a copy counts as doubled by the bot only
beyond the copies whose answer was lost."""

from __future__ import annotations

from typing import Any

from walkbot.sandbox.faults import FaultPlan


def requests() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("sendMessage", {"chat_id": chat, "text": f"cue {n}"})
        for chat in (1, 2, 3)
        for n in range(40)
    ]


def verdicts(plan: FaultPlan, order: list[tuple[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Each request sent until it goes through (as a sender that retries would): its faults."""
    seen: dict[str, list[str]] = {}
    for method, params in order:
        faults = seen.setdefault(f"{params['chat_id']}:{params['text']}", [])
        while (verdict := plan.decide(method, params)) is not None:
            faults.append(verdict.kind)
    return seen


def test_the_same_seed_gives_the_same_faults_in_any_order() -> None:
    always = lambda method, params: True  # noqa: E731 - every kind of fault allowed
    forwards = verdicts(FaultPlan(7, harsh=always), requests())
    backwards = verdicts(FaultPlan(7, harsh=always), list(reversed(requests())))
    assert forwards == backwards
    assert any(forwards.values())  # some faults fell
    assert forwards != verdicts(FaultPlan(8, harsh=always), requests())  # another day
    assert max(len(kinds) for kinds in forwards.values()) <= 2  # the bound holds


def test_replies_meet_only_faults_they_retry_and_gone_chats_are_gone() -> None:
    """A reply is never resent after a lost answer (walkbot.request), so the plan gives
    replies only what RetryingRequest and the rate limiter retry: 429s and 5xx."""
    plan = FaultPlan(7, rate=1.0)  # nothing is harsh
    kinds = {k for faults in verdicts(plan, requests()).values() for k in faults}
    assert kinds == {"429", "5xx"}
    plan.gone_chats.add(5)
    gone = plan.decide("sendMessage", {"chat_id": 5, "text": "hello"})
    assert gone is not None and (gone.status, gone.description) == (
        400,
        "Bad Request: chat not found",
    )


def test_a_copy_is_doubled_by_the_bot_only_beyond_the_answers_lost() -> None:
    plan = FaultPlan(1)
    params = {"chat_id": 1, "text": "Forward again"}
    message = {"chat": {"id": 1}, "message_id": 1}
    plan.accepted("sendMessage", params, message, answer_lost=True)  # timed out, but stored
    plan.accepted("sendMessage", params, message | {"message_id": 2}, answer_lost=False)
    assert plan.doubles() == []  # the retry of a request Telegram had accepted
    plan.accepted("sendMessage", params, message | {"message_id": 3}, answer_lost=False)
    assert plan.doubles() == [(1, "Forward again|", 3, 1)]  # one more: walkbot's own
