"""Telegram adapters. Handlers parse an update, call a service, and reply; nothing more."""
