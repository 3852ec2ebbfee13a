"""The terminal channel: ``python -m bot chat``. Reads lines from stdin (a
person typing, or a piped script), prints the replies. Same engine, same
Redis and database as the other channels; it only translates."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.dialogue.messages import Inbound, Reply
from bot.settings import Settings
from handlers.services import build_services

PROMPT = "您> "
SEPARATOR = "—" * 20


def render(replies: list[Reply]) -> str:
    return f"\n{SEPARATOR}\n".join(r.text for r in replies)


async def chat(settings: Settings, user: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    services = await build_services(settings)
    interactive = stdin.isatty()
    try:
        while True:
            if interactive:
                stdout.write(PROMPT)
                stdout.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            text = line.rstrip("\n")
            if not interactive:
                stdout.write(f"{PROMPT}{text}\n")
            replies = await services.dialogue.handle(Inbound(user=user, channel="terminal", text=text))
            stdout.write(render(replies) + "\n\n")
            stdout.flush()
    finally:
        await services.close()
