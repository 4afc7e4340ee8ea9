"""Memory of the webhook under a large hostile POST (issue 11, point 7): run by hand, figures go
to docs/performance.md.

    .venv/bin/python -m bench.webhook_memory [--mb 90] [--ptb-tornado]

`walkbot run` in webhook mode (a separate process, against the fake Bot API served here, on a
throwaway SQLite file) is sent, one after the other:
- a POST of `--mb` MB without the secret, with its Content-Length;
- the same, chunked (no Content-Length);
- the same, chunked, with the right secret (refused as over 1 MiB while streaming);
- a real update with the secret (still handled afterwards).
Resident memory (VmRSS) and its peak (VmHWM) are read from /proc before and after each.

`--ptb-tornado` measures the server walkbot used before instead: a bare PTB Application with
`run_webhook` (Tornado; needs `pip install "python-telegram-bot[webhooks]"`), the same POSTs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from bench.startup import proc_status
from walkbot.sandbox import TEST_TOKEN, FakeBotApi

SECRET = "a-long-webhook-secret-1234"
CHUNK = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def spawn(api: FakeBotApi, port: int, workdir: Path, *, tornado: bool) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'walkbot.db'}",
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "WEBHOOK_SECRET": SECRET,
        "PORT": str(port),
        "RATE_LIMIT": "false",
        "LOG_LEVEL": "WARNING",
    }
    if tornado:
        code = (
            "import os\n"
            "from telegram.ext import Application\n"
            "app = Application.builder().token(os.environ['TELEGRAM_BOT_TOKEN'])"
            ".base_url(os.environ['TELEGRAM_API_BASE_URL']).build()\n"
            "app.run_webhook(listen='127.0.0.1', port=int(os.environ['PORT']),"
            " url_path='telegram', webhook_url=os.environ['WEBHOOK_URL'],"
            " secret_token=os.environ['WEBHOOK_SECRET'])\n"
        )
        command = [sys.executable, "-c", code]
    else:
        command = [sys.executable, "-m", "walkbot", "run"]
    return subprocess.Popen(
        command, env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def chunks(megabytes: int) -> AsyncIterator[bytes]:
    block = b"x" * CHUNK
    for _ in range(megabytes):
        yield block


async def post(url: str, megabytes: int, *, secret: bool, chunked: bool) -> str:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET} if secret else {}
    data: bytes | AsyncIterator[bytes] = (
        chunks(megabytes) if chunked else b"x" * (megabytes * CHUNK)
    )
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=data, headers=headers) as response,
        ):
            return str(response.status)
    except aiohttp.ClientError as error:  # the server closed the connection mid-upload
        return f"closed ({type(error).__name__})"


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


async def main(megabytes: int, tornado: bool) -> None:
    from walkbot.store.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="walkbot-bench-webhook-"))
    upgrade(f"sqlite:///{workdir / 'walkbot.db'}")
    async with FakeBotApi() as api:
        port = free_port()
        process = spawn(api, port, workdir, tornado=tornado)
        try:
            await api.wait_for(lambda c: c.method == "setWebhook", timeout=120)
            await asyncio.sleep(3)  # the time-zone index is built in the background at start
            url = f"http://127.0.0.1:{port}/telegram"
            print(
                f"{'server':<13} {'POST':<40} {'answer':<26} {'RSS before':>10} "
                f"{'RSS after':>10} {'peak':>9}"
            )
            server = "PTB Tornado" if tornado else "walkbot web"
            cases = [
                (f"{megabytes} MB, no secret, Content-Length", False, False),
                (f"{megabytes} MB, no secret, chunked", False, True),
                (f"{megabytes} MB, right secret, chunked", True, True),
            ]
            for label, secret, chunked in cases:
                before = proc_status(process.pid)
                answer = await post(url, megabytes, secret=secret, chunked=chunked)
                await asyncio.sleep(1)
                after = proc_status(process.pid)
                print(
                    f"{server:<13} {label:<40} {answer:<26} {mib(before['VmRSS']):>10} "
                    f"{mib(after['VmRSS']):>10} {mib(after['VmHWM']):>9}"
                )
            alice = api.user("Alice")
            alice.send("/help")
            if not tornado:
                await alice.wait_for_text("Here's what I can do", timeout=30)
                print("afterwards: a real update is still handled")
        finally:
            process.terminate()
            await asyncio.to_thread(process.wait, 15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=90)
    parser.add_argument("--ptb-tornado", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.mb, args.ptb_tornado))
