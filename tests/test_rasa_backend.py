"""The real Rasa 3.6 back end: train an NLU model from nlu_data/ (fewer epochs,
to keep CI reasonable), serve it with `rasa run --enable-api`, and check its
answers through integrations/rasa.py. Needs `.venv-rasa` (`make rasa-setup`,
which `make test` runs first)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.nlu.data import read_file
from integrations.rasa import RasaClient, RasaUnavailable

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
EPOCHS = 25
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def rasa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    assert RASA.exists(), "Rasa is not installed: run `make rasa-setup` (make test does it)"
    work = tmp_path_factory.mktemp("rasa")
    config = yaml.safe_load((ROOT / "nlu_data" / "config.yml").read_text("utf-8"))
    for component in config["pipeline"]:
        if component["name"] == "JiebaTokenizer":
            component["dictionary_path"] = str(ROOT / "nlu_data" / "jieba")
        if component["name"] == "DIETClassifier":
            component["epochs"] = EPOCHS
    (work / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    domain = work / "domain.yml"
    subprocess.run([sys.executable, "-m", "bot.nlu", "domain", "--out", str(domain)], check=True, cwd=ROOT)
    subprocess.run(
        [str(RASA), "train", "nlu", "--nlu", str(ROOT / "nlu_data"), "--config", str(work / "config.yml"),
         "--domain", str(domain), "--out", str(work), "--fixed-model-name", "nlu"],
        check=True, cwd=work, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1200,
    )  # fmt: skip
    port = _free_port()
    log = (work / "rasa.log").open("w")
    server = subprocess.Popen(
        [str(RASA), "run", "--enable-api", "--model", str(work / "nlu.tar.gz"),
         "--interface", "127.0.0.1", "--port", str(port)],
        cwd=work, env=ENV, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(url, server, work / "rasa.log")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _wait_until_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    import asyncio

    async def ready() -> bool:
        async with RasaClient(url, timeout=5) as client:
            try:
                return bool((await client.status()).get("model_file"))
            except RasaUnavailable:
                return False

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert server.poll() is None, f"rasa run exited: {log.read_text()[-2000:]}"
        if asyncio.run(ready()):
            return
        time.sleep(2)
    raise AssertionError(f"rasa run did not load the model in time: {log.read_text()[-2000:]}")


async def test_rasa_recognises_one_things_and_places(rasa_url: str) -> None:
    async with RasaClient(rasa_url, timeout=10) as client:
        newborn = await client.parse("孩子刚出生，出生证明和户口一起办")
        assert newborn["intent"]["name"] == "thing_newborn"
        assert {"name", "confidence"} <= set(newborn["intent"])
        assert newborn["intent_ranking"][0]["name"] == "thing_newborn"
        greet = await client.parse("您好，请问在吗")
        assert greet["intent"]["name"] == "greet"
        place = await client.parse("我在沈阳市和平区，想开个饭店")
        found = {(e["entity"], e["value"]) for e in place["entities"]}
        assert ("city", "沈阳市") in found and ("district", "和平区") in found, place["entities"]


async def test_rasa_on_the_held_out_set(rasa_url: str) -> None:
    """Measured on the same file as the embedded engine (figure in docs/nlu.md,
    there with the full epochs of nlu_data/config.yml)."""
    examples = read_file(ROOT / "tests" / "data" / "nlu_test.yml").examples
    async with RasaClient(rasa_url, timeout=10) as client:
        predicted = [(await client.parse(e.text))["intent"]["name"] for e in examples]
    accuracy = sum(p == e.intent for p, e in zip(predicted, examples, strict=True)) / len(examples)
    print(f"rasa held-out accuracy with {EPOCHS} epochs: {accuracy:.3f}")
    assert accuracy >= 0.7


def test_rasa_accepts_the_training_data(tmp_path: Path) -> None:
    """`rasa data validate` (what `make rasa-validate` runs) passes on nlu_data/."""
    assert RASA.exists(), "Rasa is not installed: run `make rasa-setup` (make test does it)"
    domain = tmp_path / "domain.yml"
    subprocess.run([sys.executable, "-m", "bot.nlu", "domain", "--out", str(domain)], check=True, cwd=ROOT)
    done = subprocess.run(
        [str(RASA), "data", "validate", "--data", str(ROOT / "nlu_data"), "--config",
         str(ROOT / "nlu_data" / "config.yml"), "--domain", str(domain), "--fail-on-warnings"],
        cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
