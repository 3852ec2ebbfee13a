"""A deployment marked as production refuses to start while a secret is missing, a placeholder or
the built-in development value (which anyone can read here and sign with), naming each one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.settings import ROOT, DeploymentRefused, Settings
from handlers.services import build_services

CHECKING = ("WECHAT_TOKEN", "PLATFORM_CALLBACK_SECRET", "HOTLINE_CALLBACK_SECRET", "LIAOSHITONG_IDENTITY_KEY")


def production(**values: str) -> Settings:
    return Settings(deployment="production", _env_file=None, **values)  # type: ignore[call-arg]


def test_development_defaults_are_named_one_by_one() -> None:
    problems = production().deployment_problems()
    for name in CHECKING:
        assert f"{name} is the development default" in problems
    assert any(p.startswith("DATA_KEYS is not set") for p in problems)
    assert any(p.startswith("LOOKUP_KEY is not set") for p in problems)
    # keys we present to partners only matter once the partner is configured
    assert not any(p.startswith("PLATFORM_KEY") for p in problems)
    configured = production(platform_url="https://platform.example", platform_key="CHANGE-ME")
    assert "PLATFORM_KEY is not set" in configured.deployment_problems()


def test_real_secrets_pass_and_development_is_never_refused() -> None:
    secrets = {name.lower(): f"s3cret-{i}-of-this-deployment" for i, name in enumerate(CHECKING)}
    ok = production(**secrets, data_keys=Fernet.generate_key().decode(), lookup_key="k" * 43)
    assert ok.deployment_problems() == []
    assert Settings(_env_file=None).deployment_problems() == []  # type: ignore[call-arg]


async def test_no_process_builds_its_services_on_development_secrets(settings: Settings) -> None:
    unsafe = settings.model_copy(update={"deployment": "production", "data_keys": SecretStr("")})
    with pytest.raises(DeploymentRefused) as refused:
        await build_services(unsafe)
    assert "LIAOSHITONG_IDENTITY_KEY is the development default" in refused.value.problems


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_to_start_and_say_why(command: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_SECRET", "_KEY", "_KEYS", "_TOKEN"))}
    env |= {"DEPLOYMENT": "production", "HOTLINE_CALLBACK_SECRET": "a-real-one-for-12345"}
    done = subprocess.run([sys.executable, "-m", "bot", command, "--port", "0"] if command == "serve"
                          else [sys.executable, "-m", "bot", command],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)  # fmt: skip
    assert done.returncode == 2, done.stderr
    for name in ("WECHAT_TOKEN", "PLATFORM_CALLBACK_SECRET", "LIAOSHITONG_IDENTITY_KEY"):
        assert f"{name} is the development default" in done.stderr
    assert "HOTLINE_CALLBACK_SECRET" not in done.stderr and "DATA_KEYS is not set" in done.stderr
