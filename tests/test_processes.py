"""The entry points as real processes: `run` serves HTTP and runs a worker, and
stops cleanly on SIGTERM; `serve` and `worker` apart do the same together."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot.nlu import engine as engine_module
from bot.nlu.engine import EmbeddedNLU
from bot.settings import ROOT, Settings
from handlers.services import build_services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(tmp_path: Path, redis_url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "REDIS_URL": redis_url,
        "WORKER_HEARTBEAT_SECONDS": "0.3",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def wait_health(port: int, want_workers: int, deadline: float = 30) -> dict[str, object]:
    end = time.monotonic() + deadline
    last: object = None
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                body = json.load(resp)
                last = body
                if body["checks"]["workers"]["alive"] == want_workers:
                    return body
        except OSError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"not healthy in time: {last}")


def stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode()
    return out.decode()


def test_run_serves_and_works_in_one_process(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    proc = start(tmp_path, redis_url, "run", "--port", str(port))
    try:
        body = wait_health(port, want_workers=1)
        assert body["status"] == "ok"
    finally:
        log = stop(proc)
    assert "worker" in log and "stopped" in log


def test_serve_and_worker_as_separate_processes(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    serve = start(tmp_path, redis_url, "serve", "--port", str(port))
    workers = [start(tmp_path, redis_url, "worker") for _ in range(2)]
    try:
        wait_health(port, want_workers=2)
        stop(workers.pop())
        wait_health(port, want_workers=1)
    finally:
        for p in [serve, *workers]:
            stop(p)


async def test_the_worker_trains_no_nlu_model(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker runs no turns: building its services must not spend seconds training a model."""
    trained: list[object] = []
    real_train = EmbeddedNLU.train.__func__  # type: ignore[attr-defined]

    def counting(cls: type[EmbeddedNLU], *args: Any, **kwargs: Any) -> EmbeddedNLU:
        trained.append(args)
        return real_train(cls, *args, **kwargs)

    monkeypatch.setattr(EmbeddedNLU, "train", classmethod(counting))
    monkeypatch.setattr(engine_module, "_TRAINED", {})  # no model cached by an earlier test
    services = await build_services(settings, understands=False)
    try:
        assert services.nlu.embedded is None and trained == []
        with pytest.raises(RuntimeError, match="without an NLU model"):
            await services.nlu.parse("我想办居住证")
    finally:
        await services.close()
    services = await build_services(settings)  # serve's, by contrast, is trained and answers
    try:
        assert len(trained) == 1
        assert (await services.nlu.parse("我想办居住证"))["intent"]["name"] == "thing_residence_permit"
    finally:
        await services.close()
