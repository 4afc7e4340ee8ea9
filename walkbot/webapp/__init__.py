"""The live-walk screen (a Telegram Mini App): its initData check, its JSON API, its pages."""
