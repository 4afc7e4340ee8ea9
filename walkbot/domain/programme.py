"""The programme: a table of levels from the starting session towards 10 min of backward walking,
and the rule that moves a person along it from their ratings.

Pure: no Telegram, no database, no clock. Times come in as aware UTC datetimes.

domain.md: start with 5 min forward, 6 x (30 s backward + 2 min forward), 5 min forward; progress
by adding 15 s per backward bout or one more bout, towards 10 x 60 s (about 10 min backward);
progress only when the last sessions felt at most moderate and knee pain stayed within the pain
rule, otherwise repeat or step down. Stopping is never scored as a failure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence, Set
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from walkbot.domain.schedule import local_date, require_aware, wall_time_instant
from walkbot.domain.walk_copy import format_duration
from walkbot.domain.walks import EFFORT_LABELS, PAIN_LIMIT, WalkPlan
from walkbot.domain.wording import quantity

# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    number: int
    warmup_s: int
    rounds: int
    backward_s: int
    forward_s: int
    cooldown_s: int

    @property
    def plan(self) -> WalkPlan:
        return WalkPlan(
            warmup_s=self.warmup_s,
            rounds=self.rounds,
            backward_s=self.backward_s,
            forward_s=self.forward_s,
            cooldown_s=self.cooldown_s,
        )

    @property
    def backward_total_s(self) -> int:
        return self.rounds * self.backward_s


# One row per level. Each step adds 15 s per backward bout or one more bout (30 -> 45 -> 60 s
# first, while bouts are few, so no step adds more than 90 s of backward walking in total).
# Forward recovery stays at 2 min and warm-up and cool-down at 5 min throughout.
# Level 0 is one bout below the standard start, for people whose screening had a yes.
#                number  warm-up  rounds  backward  forward  cool-down   backward in total
LEVELS: tuple[Level, ...] = (
    Level(0, 300, 5, 30, 120, 300),  # 2 min 30 s  (easier start)
    Level(1, 300, 6, 30, 120, 300),  # 3 min       (domain.md starting session)
    Level(2, 300, 6, 45, 120, 300),  # 4 min 30 s
    Level(3, 300, 6, 60, 120, 300),  # 6 min
    Level(4, 300, 7, 60, 120, 300),  # 7 min
    Level(5, 300, 8, 60, 120, 300),  # 8 min
    Level(6, 300, 9, 60, 120, 300),  # 9 min
    Level(7, 300, 10, 60, 120, 300),  # 10 min      (trial dose: Alghadir 2019)
)

FIRST_LEVEL = LEVELS[0].number
STANDARD_START = 1
TOP_LEVEL = LEVELS[-1].number

assert [row.number for row in LEVELS] == list(range(FIRST_LEVEL, TOP_LEVEL + 1))
assert LEVELS[STANDARD_START - FIRST_LEVEL].plan == WalkPlan(300, 6, 30, 120, 300)


def clamp_level(level: int) -> int:
    return max(FIRST_LEVEL, min(TOP_LEVEL, level))


def level_row(level: int) -> Level:
    return LEVELS[clamp_level(level) - FIRST_LEVEL]


def level_plan(level: int) -> WalkPlan:
    """The walk plan for a level; levels outside the table are clamped to its ends."""
    return level_row(level).plan


def describe_level(level: int) -> str:
    """ "6 x 30 s backward"."""
    row = level_row(level)
    return f"{row.rounds} x {format_duration(row.backward_s)} backward"


def starting_level(*, screening_flagged: bool) -> int:
    """Any yes in the screening starts one level lower (and caps the pace: see `decide`)."""
    return STANDARD_START - 1 if screening_flagged else STANDARD_START


# --- the rule --------------------------------------------------------------------------------

EASY_EFFORT_MAX = 6  # moderate or easier
HARD_EFFORT_MIN = 7  # 7-8: repeat the level
VERY_HARD_EFFORT_MIN = 9  # 9-10: step down
FLAGGED_STEP_UP_GAP = timedelta(days=7)  # screening with a yes: one step up a week at most

DecisionKind = Literal["step_up", "repeat", "step_down", "hold"]


@dataclass(frozen=True)
class RatedWalk:
    """A rated walk since the level last changed, as the rule sees it."""

    effort: int
    knee_pain: int | None  # None: the person skipped the question
    end_reason: str  # finished | stopped | need_to_stop | timed_out | blocked
    knee_morning_worse: bool | None = None  # None: not asked, or not answered yet
    # False for a custom /walk plan or a walk planned at another level: such walks never count
    # towards a step up, but their warning signs still start the count again.
    at_level: bool = True

    @property
    def completed(self) -> bool:
        """The whole plan was walked."""
        return self.end_reason == "finished"

    @property
    def easy(self) -> bool:
        """Moderate or easier, and knee pain within the pain rule (a skipped answer counts as
        within it: the question is optional and the pain advice follows any number given)."""
        return self.effort <= EASY_EFFORT_MAX and (
            self.knee_pain is None or self.knee_pain <= PAIN_LIMIT
        )

    @property
    def warning_sign(self) -> bool:
        """ "I need to stop", effort 9-10, knee pain above the pain rule, or a worse knee the
        next morning: what the pain advice and the knee answer promise to act on, whatever
        plan the walk followed."""
        return (
            self.end_reason == "need_to_stop"
            or self.effort >= VERY_HARD_EFFORT_MIN
            or (self.knee_pain is not None and self.knee_pain > PAIN_LIMIT)
            or self.knee_morning_worse is True
        )


@dataclass(frozen=True)
class StepUpCount:
    """The full, easy walks at this level that a step up can pair, newest first (0-2)."""

    walks: tuple[RatedWalk, ...]
    after_worse_morning: bool  # the count was started again by a worse knee the next morning


def count_towards_step_up(walks: Sequence[RatedWalk]) -> StepUpCount:
    """The one reading of "two full, easy walks in a row" that `decide` and /level share.

    `walks`: the rated walks since the level last changed, of any kind, newest first. Going
    back from the newest, until two are counted:
    - a walk of any kind with a warning sign starts the count again: stop there;
    - a custom walk, or one at another level, is passed over (it never counts);
    - knee pain higher than at the walk here before it starts the count again from the walk
      with the higher pain (as `decide` repeats after a rise);
    - a walk here not walked to the end is passed over;
    - a full walk that was not easy starts the count again;
    - a full, easy walk here counts.
    """
    counted: list[RatedWalk] = []
    newer: RatedWalk | None = None  # the walk at this level just after `walk`
    for walk in walks:
        if len(counted) == 2:
            break
        if walk.warning_sign:
            return StepUpCount(tuple(counted), after_worse_morning=walk.knee_morning_worse is True)
        if not walk.at_level:
            continue
        if newer is not None and _pain_rose(before=walk, after=newer):
            break
        newer = walk
        if not walk.completed:
            continue
        if not walk.easy:
            break
        counted.append(walk)
    return StepUpCount(tuple(counted), after_worse_morning=False)


def _pain_rose(*, before: RatedWalk, after: RatedWalk) -> bool:
    return (
        before.knee_pain is not None
        and after.knee_pain is not None
        and after.knee_pain > before.knee_pain
    )


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    level: int  # the level the next walk uses
    reason: str  # short and stable, stored with a level change: "easy_twice", "need_to_stop"...
    line: str  # the one line for the person

    @property
    def moves(self) -> bool:
        return self.kind in {"step_up", "step_down"}


def decide(
    *,
    level: int,
    latest: RatedWalk,
    previous: Sequence[RatedWalk],
    now: datetime,
    screening_flagged: bool,
    last_step_up_at: datetime | None,
) -> Decision:
    """What the next walk is, after `latest` (a walk at `level`) was rated.

    `previous`: the other rated walks since the level last changed, newest first, of any kind:
    `at_level` False for a custom /walk or a walk planned at another level.
    `last_step_up_at`: when the programme last moved up (or started, after a screening yes); only
    read when `screening_flagged`, which allows one step up per FLAGGED_STEP_UP_GAP at most.

    In order, the first that applies:
    1. "I need to stop" -> step down (kindly: stopping is the right call, never a failure).
    2. Effort 9-10 or knee pain above 5 -> step down.
    3. Effort 7-8 -> repeat. Knee pain higher than the previous rated walk at this level
       -> repeat.
    4. Latest walk not walked to the end -> repeat (only full walks count towards a step up).
    5. Fewer than two full, easy walks at this level in a row (`count_towards_step_up`): the
       count starts again after any walk, custom or at another level too, with a warning sign
       ("I need to stop", effort 9-10, knee pain above 5, a worse knee the next morning), after
       a full walk that was not easy, and after a rise in knee pain. Started again by a worse
       morning -> hold; otherwise -> repeat.
    6. At the top of the table -> hold. Screening yes and a step up within the last week -> hold.
    7. Otherwise -> step up.
    """
    require_aware(now)
    if not latest.at_level:
        raise ValueError("custom walks and walks at another level never move the programme")
    level = clamp_level(level)
    same = describe_level(level)
    if latest.end_reason == "need_to_stop":
        return _down(level, "need_to_stop", "Stopping when you need to is always the right call.")
    if latest.effort >= VERY_HARD_EFFORT_MIN:
        return _down(level, "effort_very_hard", "That felt very hard, so let's ease off a little.")
    if latest.knee_pain is not None and latest.knee_pain > PAIN_LIMIT:
        return _down(
            level,
            "knee_pain",
            f"Your knee hurt more than {PAIN_LIMIT}/10, so let's ease off a little.",
        )
    if latest.effort >= HARD_EFFORT_MIN:
        return _repeat(level, "effort_hard", "That felt hard, so let's do this level again.")
    before = next((walk for walk in previous if walk.at_level), None)
    if before is not None and _pain_rose(before=before, after=latest):
        return _repeat(
            level, "pain_rose", "Your knee hurt more than last time, so let's not add more yet."
        )
    if not latest.completed:
        return _repeat(
            level,
            "not_completed",
            "We step up after two full walks that feel moderate or easier.",
        )
    count = count_towards_step_up([latest, *previous])
    if len(count.walks) < 2:
        if count.after_worse_morning:
            return Decision(
                "hold",
                level,
                "knee_morning",
                f"Next time: same again, {same}. Your knee felt worse the morning after a "
                "walk, so we'll hold here for now.",
            )
        return _repeat(level, "one_easy", "One more walk like that and we'll step up.")
    felt = _felt(max(walk.effort for walk in count.walks))
    if level >= TOP_LEVEL:
        return Decision(
            "hold",
            level,
            "top",
            f"Next time: {same} again, the top of the programme. "
            f"Your last two walks felt {felt}: well done.",
        )
    if screening_flagged and last_step_up_at is not None:
        require_aware(last_step_up_at)
        wait = last_step_up_at + FLAGGED_STEP_UP_GAP - now
        if wait > timedelta(0):
            days = max(1, math.ceil(wait / timedelta(days=1)))
            return Decision(
                "hold",
                level,
                "weekly_cap",
                f"Next time: same again, {same}. Your last two walks felt {felt}; after your "
                f"safety answers we step up once a week at most, so in {quantity(days, 'day')}.",
            )
    return Decision(
        "step_up",
        level + 1,
        "easy_twice",
        f"Next time: {describe_level(level + 1)}. Your last two walks felt {felt}.",
    )


def walks_towards_step_up(walks: Sequence[RatedWalk]) -> int:
    """How many of the two full, easy walks a step up needs are already in (0-2): what the
    next walk would pair with, read as `decide` reads it (`count_towards_step_up`)."""
    return len(count_towards_step_up(walks).walks)


def _down(level: int, reason: str, why: str) -> Decision:
    if level <= FIRST_LEVEL:
        return Decision(
            "hold", level, reason, f"Next time: same again, {describe_level(level)}. {why}"
        )
    return Decision(
        "step_down", level - 1, reason, f"Next time: {describe_level(level - 1)}. {why}"
    )


def _repeat(level: int, reason: str, why: str) -> Decision:
    return Decision(
        "repeat", level, reason, f"Next time: same again, {describe_level(level)}. {why}"
    )


def _felt(effort: int) -> str:
    """The words for the harder of the two walks: "very easy", "easy" or "moderate"."""
    return EFFORT_LABELS[max(1, effort)]


# --- the next-morning knee check -------------------------------------------------------------

KNEE_CHECK_PAIN_ABOVE = 3  # knee pain above this after a walk: ask the next morning
KNEE_CHECK_DEFAULT_TIME = time(9, 0)
# The reminder time is used for the check only if it is a morning time; 18:00 is no morning.
MORNING_FROM, MORNING_UNTIL = time(5, 0), time(12, 0)
NIGHT_ENDS = time(4, 0)  # a walk ending before 04:00 is asked about that same morning


def needs_knee_check(knee_pain: int | None) -> bool:
    return knee_pain is not None and knee_pain > KNEE_CHECK_PAIN_ABOVE


def knee_check_at(
    *, ended_at: datetime, zone: str, reminder_days: Set[int], reminder_time: time
) -> datetime:
    """The next morning after a walk, in the person's zone: at their reminder time if they have
    a reminder that day and it is in the morning (05:00-12:00), otherwise at 09:00."""
    require_aware(ended_at)
    day = local_date(ended_at, zone)
    if ended_at.astimezone(ZoneInfo(zone)).time() >= NIGHT_ENDS:
        day += timedelta(days=1)
    at = KNEE_CHECK_DEFAULT_TIME
    if day.weekday() in reminder_days and MORNING_FROM <= reminder_time <= MORNING_UNTIL:
        at = reminder_time
    return wall_time_instant(day, at, zone)


def knee_morning_worse(*, morning: int, after_walk: int) -> bool:
    """Is the knee worse the next morning than before the walk?

    walkbot does not ask for a score before the walk, so the honest comparison is with the score
    given right after it: walking with a sore knee raises pain rather than lowering it, so that
    score is at least the level before the walk. A morning score above it is therefore worse
    than before the walk for certain. An equal or lower one might still be above the level
    before the walk; we do not guess, and read it as "not worse" (the pain advice still says to
    see a clinician if pain keeps coming back).
    """
    return morning > after_walk


def knee_answer_line(*, morning: int, after_walk: int, held_at: int | None) -> str:
    """The reply to the morning answer. `held_at`: the level the next walk stays at when a step
    up was taken back because of the answer."""
    if knee_morning_worse(morning=morning, after_walk=after_walk):
        hold = (
            f"We'll stay at {describe_level(held_at)} next time rather than step up."
            if held_at is not None
            else "So we won't step up at your next walk."
        )
        return (
            f"Thanks. {morning}/10 is more than after your walk ({after_walk}/10). {hold} "
            "If your knee keeps feeling worse the next day, please see a clinician or "
            "physiotherapist."
        )
    if morning < after_walk:
        return f"Thanks. {morning}/10: good, it has settled since your walk ({after_walk}/10)."
    return f"Thanks. {morning}/10, about where it was after your walk. Noted."
