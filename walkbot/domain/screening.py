"""Safety screening at onboarding: PAR-Q+'s seven questions plus two for walking backwards.

Any yes means: suggest checking with a clinician first and start with support. Never a block.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    short: str


QUESTIONS: tuple[Question, ...] = (
    Question(
        "heart",
        "Has a doctor ever said you have a heart condition or high blood pressure?",
        "Heart condition or high blood pressure",
    ),
    Question(
        "chest_pain",
        "Do you feel pain in your chest at rest, in daily activities, or when you are active?",
        "Chest pain",
    ),
    Question(
        "dizziness",
        "In the last 12 months, have you lost your balance because of dizziness, "
        "or lost consciousness?",
        "Dizziness or fainting",
    ),
    Question(
        "chronic",
        "Have you been diagnosed with another chronic medical condition "
        "(other than heart disease or high blood pressure)?",
        "Another chronic condition",
    ),
    Question(
        "medication",
        "Are you currently taking prescribed medication for a chronic medical condition?",
        "Medication for a chronic condition",
    ),
    Question(
        "joints",
        "Do you have a bone, joint or soft-tissue problem (muscle, ligament or tendon) "
        "that could get worse by being more active?",
        "Bone, joint or soft-tissue problem",
    ),
    Question(
        "supervised",
        "Has a doctor ever said you should only do medically supervised physical activity?",
        "Told to exercise only with supervision",
    ),
    Question("fall", "Have you had a fall in the past year?", "A fall in the past year"),
    Question("walking_aid", "Do you use a walking aid (a stick, frame or similar)?", "Walking aid"),
)
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)


def any_yes(answers: Mapping[str, bool]) -> bool:
    return any(answers.get(key, False) for key in QUESTION_KEYS)


def flagged(answers: Mapping[str, bool]) -> list[Question]:
    return [q for q in QUESTIONS if answers.get(q.key, False)]


def needs_support(answers: Mapping[str, bool]) -> bool:
    """Balance and falls matter most when walking backwards: always suggest rails or a companion."""
    return any_yes(answers)
