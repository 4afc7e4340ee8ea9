"""Timed work: walk and six-minute-test cue jobs (APScheduler date jobs via PTB's JobQueue,
rebuilt from their rows at start-up) and the one dispatch tick that drains the queue sources.

Nothing here imports bot/: what jobs send goes through ports (walkbot/ports.py, and each queue
source's sender) that bot/notifier.py implements.
"""
