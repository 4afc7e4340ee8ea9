"""The bot's menu button opens the live screen when WEBAPP_URL is set (without a walk: the
page asks the server for the person's open walk)."""

from __future__ import annotations

import logging

from telegram import Bot, MenuButtonWebApp, WebAppInfo
from telegram.error import TelegramError

log = logging.getLogger(__name__)

MENU_TEXT = "Live screen"


async def set_live_menu(bot: Bot, webapp_url: str | None) -> None:
    """Set at start-up; unset leaves the menu button as it is. Cosmetic: a refusal is logged
    and the bot starts anyway."""
    if webapp_url is None:
        return
    button = MenuButtonWebApp(text=MENU_TEXT, web_app=WebAppInfo(url=webapp_url))
    try:
        await bot.set_chat_menu_button(menu_button=button)
    except TelegramError as error:
        log.warning("could not set the live screen menu button: %s", error)
