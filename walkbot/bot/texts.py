"""What walkbot says: UK English, warm and brief, safety first, no medical claims."""

from __future__ import annotations

WELCOME = (
    "Hello{name}! I'm walkbot, your coach for backward walking.\n\n"
    "Walking backwards works your knees and thighs with little impact, trains balance, "
    "and gets your heart going more than walking forwards. I'll plan short backward "
    "intervals inside your walks and build them up with you.\n\n"
    "I'm not medical advice. To coach you I keep your answers and walks; "
    "/privacy says what, and you can delete it all any time.\n\n"
    "Shall we start?"
)
CONSENT_YES = "Yes, let's start"
CONSENT_NO = "No thanks"
CONSENT_DECLINED = (
    "No problem. I haven't stored anything about you. If you change your mind, just send /start."
)
CONSENT_GIVEN = "Thank you! First, a few quick safety questions. Tap Yes or No."

SCREENING_INTRO = "Safety check {n} of {total}"
SAFETY_FLAGGED = (
    "Thanks for telling me. Because you answered yes to something, please check with your "
    "doctor or physio before you start.\n\n"
    "When you do start, use a treadmill with handrails (safety clip on), or walk beside a "
    "rail or wall, or with a companion. I'll keep the steps small and the intervals short."
)
SAFETY_CLEAR = "All clear, thank you. We'll still start gently."

ASK_EXPERIENCE = "Have you walked backwards for exercise before?"
ASK_GOAL = "What matters most to you?"
ASK_ZONE = (
    "Which time zone are you in? It's how I send reminders at the right local time.\n\n"
    "Share your location (📎 → Location), type your city or a zone like Europe/London, "
    "or pick one:"
)
ASK_DAYS = (
    "Which days shall I remind you? Three a week with a rest day between is a good start.\n"
    "Tap to switch days on or off, then Done."
)
ASK_TIME = "What time on those days? Pick one or type it, like 07:30."
ASK_SUMMARY_DAY = "Which day would you like your weekly summary?"
ASK_SUMMARY_TIME = "And at what time? Pick one or type it, like 18:00."
ASK_UNITS = "Kilometres or miles?"
ASK_BOARD_NAME = (
    "How should group challenge boards show you? Only people in the group see it, and only if "
    "you join a challenge there."
)

RESUME = "Welcome back{name}! Let's carry on where we left off."
GREET_KNOWN = (
    "Welcome back{name}! Everything's as you left it.\n"
    "/walk starts a session, /settings changes your choices, /help lists the rest."
)
NEED_START = "Hello! Send /start to begin."
NOT_NOW = "I didn't catch that. /help lists what I can do."
NOT_A_COMMAND = "I don't know {command}. /help lists what I can do."
EDITS_IGNORED = "I only read new messages: send it again if you meant to."
LOCATION_UNUSED = (
    "Thanks, but I only use a location to set your time zone, and I haven't kept it. "
    "To change your zone: /settings."
)
LOCATION_NOT_NOW = "Thanks, but I only use a location to find your time zone. I haven't kept it."
MEDIA_UNUSED = "That's lovely, but I can only read text and button taps."
ERROR = "Sorry, something went wrong on my side. Nothing you told me is lost; please try again."
# The database is out of reach (down or restarting): nothing was saved, and they should know.
STORE_DOWN = (
    "Sorry, I can't save anything right now. Please try again in a minute or two; "
    "your walks so far are safe."
)
# An update that could not be stored (walkbot/bot/inbox.py): it is handled once the store is back.
STORE_DOWN_HELD = (
    "Sorry, I can't save anything right now. I'll come back to this as soon as I can; "
    "your walks so far are safe."
)
STALE_BUTTON = "That button is out of date."
FLOOD = (
    "That's a lot of messages at once! I'll answer the first ones; the rest I've let go. "
    "Send anything important again in a moment."
)

HELP = (
    "Here's what I can do:\n"
    "/walk - start today's backward-walking session\n"
    "/walk 6x30/120 - your own: rounds x backward/forward seconds\n"
    "/stop - end the walk you're on\n"
    "/history - your latest walks\n"
    "/summary - this week so far (/summary last: the week before)\n"
    "/stats - all-time totals, best week, level and test history\n"
    "/level - your programme level: repeat it or step back\n"
    "/sixmin - a guided six-minute walk test\n"
    "/pause 7 - a rest from reminders (/resume ends it); your streak is kept\n"
    "/settings - time zone, reminders, summary, units, safety answers\n"
    "/privacy - what I keep about you\n"
    "/export - download your data\n"
    "/deleteme - delete everything I hold about you\n"
    "/leave - leave the group challenges you joined\n"
    "/help - this list\n\n"
    "Safety first: a clear, flat, familiar path or a treadmill with rails. "
    "Stop whenever you need to."
)
GROUP_INTRO = (
    "Hello, I'm walkbot: I coach backward walking, a low-impact way to work the knees and "
    "train balance.\n\n"
    "Walk together: a group admin sends /challenge to start a challenge, and everyone who "
    "joins sees the board here. Walks happen in a private chat with me, and only totals ever "
    "reach the group.\n\n"
    "To start your own plan, message me privately: {link}"
)
GROUP_MOVED = "This group has just become a supergroup. Please send that command again."
CHALLENGE_AFTER_SETUP = (
    "You came from a group challenge: first a few questions to keep you safe, then you're in."
)

PRIVACY = (
    "🔒 What I keep about you, and why\n\n"
    "What I keep: your Telegram id, first name, username and language; your safety answers, "
    "experience and goal; your settings (time zone, reminder and summary times, units, "
    "level); your walks with their ratings, notes and knee checks; six-minute tests, rest "
    "breaks and group challenges you join; and a note of any message to you that may not "
    "have arrived.\n\n"
    "Why: to keep your walks safe, pitch your level, time your cues and reminders, and show "
    "your progress. I keep no location: a shared location only sets your time zone.\n\n"
    "How long: until you delete it. Going quiet or blocking me deletes nothing; /deleteme "
    "does.\n\n"
    "Who sees it: you. In a group challenge, the group sees only your name (or initials: "
    "/settings) and your totals, never your answers, effort, pain or notes. The people who "
    "run walkbot can reach its database to keep it working, and messages pass through "
    "Telegram under Telegram's own privacy policy.\n\n"
    "Your copy: /export sends it all as files (one complete file, and spreadsheets of your "
    "walks and tests).\n"
    "Gone for good: /deleteme erases it all."
)
DELETE_CONFIRM = (
    "This deletes everything I hold about you:\n"
    "• your walks, with their ratings, notes and knee checks\n"
    "• your six-minute tests and level history\n"
    "• your safety answers, settings and rest breaks\n"
    "• your place in any group challenge: boards drop you (ones already posted stay in the "
    "group's history)\n"
    "• any reminder or summary still on its way\n"
    "A walk or test under way stops at once. It can't be undone. Are you sure?"
)
DELETE_YES = "Yes, delete everything"
DELETE_NO = "No, keep it"
DELETED = "Done: everything about you is deleted. Send /start if you ever want to come back."
DELETE_KEPT = "Kept. Nothing has changed."
NOTHING_STORED = "I don't hold any data about you."
EXPORT_CAPTION = "Your walkbot data. Share it with your physio if you like."
EXPORT_WALKS_CAPTION = "Your walks, for a spreadsheet."
EXPORT_TESTS_CAPTION = "Your six-minute tests, for a spreadsheet."

SETTINGS_HEAD = "Your settings. Tap one to change it."
SETTINGS_SAVED = "Saved."
SETTINGS_FINISH_ONBOARDING = "Let's finish setting you up first."
BACK = "« Back"
DONE = "Done"
CHANGE = "Change something"

SUMMARY_HEAD = "All set{name}! Here's your plan."
SUMMARY_FIRST_SESSION = (
    "Your first session (about {total_min} min):\n"
    "• {warmup_min} min forward warm-up\n"
    "• {rounds} × ({backward_s} s backward + {forward} forward)\n"
    "• {cooldown_min} min forward cool-down\n"
    "When you're ready, send /walk and I'll cue every switch."
)
GENTLER_START = "Because of your answers, I've made it one round shorter to begin with."


def with_name(template: str, first_name: str | None) -> str:
    return template.format(name=f", {first_name}" if first_name else "")


FINISH_SETUP_FIRST = "Let's finish setting you up first: send /start to carry on."
WALK_PLAN = "Today's session: {plan}."
ALREADY_WALKING = "You're on a walk right now."
RESUMED = "▶ Off we go again."
WALK_CANCELLED = "No problem. Send /walk when you're ready."
NO_WALK = "You're not on a walk right now. /walk starts one."
WALK_WRAPPING_UP = (
    "Your last walk's time is up, and I'm still wrapping it up. Please try /walk again in a minute."
)
NEED_TO_STOP_REPLY = (
    "Stopped. You did the right thing by listening to your body.\n"
    "Stand still or sit down and rest. If you have chest pain, feel faint or are "
    "suddenly very short of breath, get medical help now."
)
RATING_THANKS = "Thank you, all saved. Rest well! /history shows your walks."

SIXMIN_RUNNING = "Your six-minute test is running. Keep walking, or tap ⏹ Stop."
