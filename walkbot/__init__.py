"""walkbot: a Telegram coach for backward (retro) walking intervals."""

__version__ = "0.1.0"
