"""What follows a walk control or a rating answer in the chat, whichever side it came from:
the chat buttons (bot/walks.py) and the live screen's API (walkbot/webapp/api.py) both call
these, so a pause, a stop, "I need to stop" or a rating has the same effects and the same
kind words either way. Jobs and messages only; answering a tap stays with the handler."""

from __future__ import annotations

from datetime import datetime

from telegram import Message

from walkbot.bot import texts, walk_views
from walkbot.bot.replies import answered, joined, show_next, ticked
from walkbot.context import WalkbotApp, runtime_of
from walkbot.domain import walks as domain
from walkbot.scheduling import cues
from walkbot.services import walks as service
from walkbot.store.models import Walk


async def after_control(
    app: WalkbotApp,
    walk: Walk,
    action: str,
    summary: domain.WalkSummary | None,
    now: datetime,
) -> str | None:
    """The jobs and messages after Start, Pause, Resume, Stop or "I need to stop" (`need`)
    took; answers the kind words the chat was sent (None after Start: its first cue)."""
    assert app.job_queue is not None and walk.id is not None
    if action == "start":
        cues.schedule_cues(app.job_queue, walk, now)
        await cues.fire_due_cue(app, walk.id)  # the first cue is due now
        return None
    if action in {"pause", "resume"}:
        return await after_pause(app, walk, paused=action == "pause", now=now)
    text = stopped_text(action, summary)
    await cues.wrap_up(app, walk, text, now)  # cues off, what was done, the rating questions
    return text


def stopped_text(action: str, summary: domain.WalkSummary | None) -> str:
    words = texts.NEED_TO_STOP_REPLY if action == "need" else None
    return joined(words, summary.text if summary else None)


async def after_pause(app: WalkbotApp, walk: Walk, *, paused: bool, now: datetime) -> str:
    """Cues stop while paused and pick up again on Resume, with the walk's status either way."""
    assert app.job_queue is not None and walk.id is not None
    if paused:
        cues.cancel_cues(app.job_queue, walk.id)
    else:
        cues.schedule_cues(app.job_queue, walk, now)
    status = service.status_of(walk, now).text()
    text = status if paused else joined(texts.RESUMED, status)
    await app.bot.send_message(
        walk.user_id,
        text,
        reply_markup=walk_views.controls(walk.id, paused=paused),
        disable_notification=True,
    )
    return text


async def next_rating(
    app: WalkbotApp,
    walk: Walk,
    rated: service.Rated,
    *,
    message: Message | None = None,
    chosen: str | None = None,
) -> str:
    """One message per rating step. A tapped answer turns its question into the next, the
    answers so far on top; the last (a note, or Skip) closes the question with thanks, so the
    ratings, advice and the programme's decision stay readable. A typed note, or an answer
    from the live screen, gets the next step as a new message. Answers the kind words (the
    advice and the programme's decision, or the thanks)."""
    assert walk.id is not None  # a stored walk
    if rated.next_step is not None and app.job_queue is not None:
        # Before the question goes: should it never arrive, the reminder asks it again.
        cues.schedule_rating_reminder(app.job_queue, walk, runtime_of(app).clock.now())
    if rated.next_step is None:
        if message is not None and message.text is not None and chosen is not None:
            text = joined(answered(message.text, chosen.capitalize()), texts.RATING_THANKS)
            await show_next(app.bot, walk.user_id, message, text, silent=True)
        else:
            await app.bot.send_message(walk.user_id, texts.RATING_THANKS, disable_notification=True)
        return texts.RATING_THANKS
    if rated.next_step == "pain":
        text, markup = walk_views.pain_prompt(walk.id)
        so_far = f"Effort {chosen}" if chosen else None
    else:
        text, markup = walk_views.note_prompt(walk.id)
        so_far = _effort_and_pain(walk, chosen) if chosen else None
    decision = rated.decision.line if rated.decision else None
    body = joined(ticked(so_far) if so_far else None, rated.advice, decision, text)
    if message is not None:
        await show_next(app.bot, walk.user_id, message, body, markup, silent=True)
    else:
        await app.bot.send_message(
            walk.user_id, body, reply_markup=markup, disable_notification=True
        )
    return joined(rated.advice, decision)


def _effort_and_pain(walk: Walk, pain: str) -> str:
    """ "Effort 5 moderate, knee pain 7/10": both answers, kept above the last question."""
    effort = f"Effort {domain.effort_button(walk.effort)}, " if walk.effort is not None else ""
    return f"{effort}knee pain {pain}"
