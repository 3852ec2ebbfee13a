"""``python -m bot chat``: the terminal channel, with piped stdin, on the
same engine, Redis and database as every other channel."""

from __future__ import annotations

import os
import subprocess
import sys

from bot.settings import ROOT, Settings


def test_piped_conversation_reaches_the_form_and_survives_a_new_process(settings: Settings) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "DATA_KEYS": settings.data_keys.get_secret_value() if settings.data_keys else "",
        "LOG_LEVEL": "WARNING",
    }

    def chat(lines: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "chat", "--user", "cli:test"],
            input=lines, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = chat("孩子刚出生，户口咋上\n开始办理\n是\n是\n")
    assert "您> 孩子刚出生，户口咋上" in first
    assert "【新生儿出生】办事指南（一次告知）" in first
    assert first.rstrip().endswith("例如：王丽")
    second = chat("王丽\n")  # a new process: the session is in Redis
    assert "申请人身份证号" in second
