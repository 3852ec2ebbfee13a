"""All settings in one place: environment variables (or ``.env``), with
embedded defaults that work on a fresh machine after ``make setup``."""

from __future__ import annotations

import contextlib
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.crypto import Vault, key_file_vault

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=ROOT / ".env", env_file_encoding="utf-8", extra="ignore")

    deployment: Literal["development", "production"] = Field(
        "development",
        description="production: the processes refuse to start while a secret is missing or a development default",
    )
    host: str = Field("127.0.0.1", description="address `serve` listens on")
    port: int = Field(8080, description="port `serve` listens on")
    # The project's own Redis (started by `make setup` when nothing answers).
    redis_url: str = Field(
        "redis://127.0.0.1:6391/0",
        description="Redis for sessions, locks, de-duplication; behind Sentinel: "
        "redis+sentinel://[:password@]host:26379[,host:26379…]/primary-name[/db]",
    )
    redis_max_connections: int = Field(
        100, ge=4, description="connections one process keeps to Redis for turns and everything else"
    )
    redis_wait_connections: int = Field(
        500, ge=1, description="connections one process may hold in blocking reads (long polls, agents following)"
    )
    database_url: str = Field(
        f"sqlite+aiosqlite:///{ROOT / 'var' / 'app.db'}",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+psycopg://…",
    )
    catalog_dir: Path = Field(ROOT / "catalog", description="folder of the guide YAML files")
    log_level: str = Field("INFO", description="logging level")
    worker_heartbeat_seconds: float = Field(5.0, description="how often a worker reports it is alive")
    rate_person_per_10s: int = Field(
        20, description="messages one person may send in 10 seconds; more: asked to slow down"
    )
    rate_address_per_second: int = Field(
        30, description="requests one address may make per second to the citizen API and consoles (429 beyond)"
    )
    trusted_proxies: str = Field(
        "", description="comma-separated addresses of reverse proxies whose X-Forwarded-For is believed"
    )
    console_session_minutes: int = Field(480, description="a console login lasts this long (a working shift)")
    console_secure_cookie: bool = Field(
        False, description="console cookies only over HTTPS (true in production behind TLS)"
    )
    agent_hours: str = Field("08:30-17:30", description="when hotline agents work, Monday to Friday (Beijing time)")
    handover_promise_minutes: float = Field(
        5.0, description="after this long in line a person is told when to expect an agent"
    )
    handover_expect_minutes: int = Field(30, description="what they are told in working hours")
    handover_abandon_seconds: float = Field(
        90.0, description="a claimed conversation whose console went quiet this long goes back into line"
    )
    nlu_data_dir: Path = Field(ROOT / "nlu_data", description="Rasa-format training data of the NLU")
    nlu_backend: Literal["embedded", "rasa"] = Field(
        "embedded", description="intent engine: in-process or the Rasa service"
    )
    rasa_url: str = Field("http://127.0.0.1:5005", description="Rasa server (`make rasa-serve`) for NLU_BACKEND=rasa")
    rasa_timeout_seconds: float = Field(
        2.0, description="a Rasa parse slower than this falls back to the embedded engine"
    )
    nlu_eval_file: Path | None = Field(
        ROOT / "tests" / "data" / "nlu_test.yml", description="held-out set every retrained model is measured on"
    )
    nlu_activation_margin: float = Field(
        0.02, description="activation is refused when cross-validated accuracy drops more than this (unless forced)"
    )
    nlu_fallback_threshold: float = Field(0.3, description="below this confidence the intent is nlu_fallback")
    nlu_ambiguity_threshold: float = Field(0.1, description="top two closer than this: ask which one was meant")
    data_keys: SecretStr | None = Field(
        None,
        description="data keys (32 bytes, urlsafe-base64) for personal data at rest, newest first; unset: var/data.key",
    )
    lookup_key: SecretStr | None = Field(
        None,
        description="HMAC key of the digests people are stored under (stable; after changing it run python -m bot "
        "db upgrade, which moves what is stored); unset: var/lookup.key, for development only",
    )
    data_cipher: Literal["aes-gcm", "sm4-gcm"] = Field(
        "aes-gcm", description="cipher of personal data at rest: AES-256-GCM, or SM4-GCM (国密)"
    )
    retain_days: int = Field(180, description="copies of decided applications and agents' summaries are kept this long")
    retain_notice_days: int = Field(30, description="the contents of delivered notices are kept this long")
    session_ttl_days: float = Field(7.0, description="an untouched conversation (and its draft) is kept this long")
    user_lock_seconds: float = Field(30.0, description="longest a message may hold its person's queue")
    elicense_url: str | None = Field(
        None, description="e-license / data-sharing service; unset: no prefill, the form asks for everything"
    )
    elicense_key: SecretStr = Field(SecretStr("dev-elicense-key"), description="API key of the e-license service")
    elicense_timeout_seconds: float = Field(3.0, description="a slower answer counts as the service being down")
    platform_url: str | None = Field(
        None, description="unified government service platform; unset: applications wait in the outbox"
    )
    platform_key: SecretStr = Field(SecretStr("dev-platform-key"), description="API key of the platform")
    platform_callback_secret: SecretStr = Field(
        SecretStr("dev-callback-secret"), description="HMAC secret of the platform's status callbacks"
    )
    platform_timeout_seconds: float = Field(10.0, description="a slower platform answer is retried later")
    public_base_url: str = Field(
        "http://127.0.0.1:8080", description="how outside systems reach this app (callback URLs)"
    )
    outbox_poll_seconds: float = Field(0.5, description="how often an idle worker looks for due outbox rows")
    outbox_lease_seconds: float = Field(60.0, description="a claimed row is retried after this if its worker died")
    outbox_max_backoff_seconds: float = Field(300.0, description="longest wait between two delivery attempts")
    wechat_appid: str = Field("wx0000000000000000", description="the official account's AppID")
    wechat_secret: SecretStr = Field(SecretStr("dev-wechat-secret"), description="the official account's AppSecret")
    wechat_token: SecretStr = Field(SecretStr("dev-wechat-token"), description="token of the callback signature")
    wechat_aes_key: SecretStr | None = Field(None, description="EncodingAESKey (43 characters) for safe mode")
    wechat_timestamp_window_seconds: int = Field(
        300, description="a callback whose timestamp is further from now than this is refused (a replay)"
    )
    wechat_reply_budget_seconds: float = Field(
        3.0, description="longest wait for a passive reply; WeChat gives up at 5 s"
    )
    wechat_api_url: str | None = Field(
        None, description="WeChat API base (https://api.weixin.qq.com); unset: WeChat messages wait in the outbox"
    )
    miniprogram_appid: str = Field(
        "wx1111111111111111", description="the mini-program's AppID (login, subscribe messages)"
    )
    miniprogram_secret: SecretStr = Field(SecretStr("dev-mp-secret"), description="the mini-program's AppSecret")
    wechat_progress_template: str = Field(
        "dev-progress-template", description="official account template (办件进度通知) for progress notices"
    )
    miniprogram_progress_template: str = Field(
        "dev-mp-progress-template", description="mini-program subscribe-message template for progress notices"
    )
    liaoshitong_identity_key: SecretStr = Field(
        SecretStr("dev-liaoshitong-key"), description="HMAC key 辽事通 signs its real-name identity vouchers with"
    )
    identity_voucher_max_age_seconds: int = Field(600, description="an older identity voucher is refused")
    hotline_url: str | None = Field(
        None, description="the 12345 platform (work orders, SMS, calls); unset: no SMS, work orders wait"
    )
    hotline_key: SecretStr = Field(SecretStr("dev-hotline-key"), description="API key of the 12345 platform")
    hotline_callback_secret: SecretStr = Field(
        SecretStr("dev-hotline-callback-secret"), description="HMAC secret of the 12345 platform's callbacks"
    )
    hotline_timeout_seconds: float = Field(10.0, description="a slower 12345 answer counts as unavailable")
    hotline_sim_port: int = Field(8095, description="port of the 12345 simulator started by `run`")
    hotline_sim_pace_seconds: float = Field(30.0, description="the 12345 simulator moves work orders on this often")
    quiet_hours: str = Field(
        "21:00-08:00", description="local hours when non-urgent pushes wait (the inbox has them at once); empty: none"
    )
    notify_concurrency: int = Field(32, description="notices a worker pushes at once")
    notify_max_attempts: int = Field(12, description="a notice no channel took after this many passes is dead-lettered")
    asr_url: str | None = Field(
        None, description="speech recognition (FunASR runtime HTTP server) for voice without WeChat's transcript"
    )
    asr_timeout_seconds: float = Field(8.0, description="a slower recognition counts as failed")
    wechat_sim_port: int = Field(8093, description="port of the WeChat API simulator started by `run`")
    wechat_max_body_bytes: int = Field(64 * 1024, description="larger callback bodies are refused (413)")
    simulators: bool = Field(
        True, description="`run` starts the e-license and platform simulators and uses them when their URLs are unset"
    )
    elicense_sim_port: int = Field(8091, description="port of the e-license simulator started by `run`")
    platform_sim_port: int = Field(8092, description="port of the platform simulator started by `run`")
    platform_sim_pace_seconds: float = Field(30.0, description="the platform simulator moves items on this often")

    def deployment_problems(self) -> list[str]:
        """Why this configuration must not serve the public: each secret that is missing, a placeholder,
        or the built-in development value (which anyone can read in this repository and sign with).
        Empty outside production. Secrets that check what others send are always needed; keys we send
        to a partner only when that partner is configured."""
        if self.deployment != "production":
            return []
        wanted = list(_CHECKING_SECRETS)
        wanted += [name for name, url in _PARTNER_KEYS.items() if getattr(self, url)]
        problems = []
        for name in wanted:
            value = getattr(self, name)
            text = value.get_secret_value().strip() if value is not None else ""
            if not text or text.upper() == "CHANGE-ME":
                problems.append(f"{name.upper()} is not set")
            elif value == type(self).model_fields[name].default:
                problems.append(f"{name.upper()} is the development default")
        if self.data_keys is None or not self.data_keys.get_secret_value().strip():
            problems.append("DATA_KEYS is not set (a key file on local disk is for development only)")
        if self.lookup_key is None or len(self.lookup_key.get_secret_value().strip()) < 32:
            problems.append(
                "LOOKUP_KEY is not set (at least 32 characters; a key file on local disk is for development)"
            )
        return problems

    def lookup_secret(self) -> bytes:
        """The key of the digests people are stored under: LOOKUP_KEY, else a key file made once."""
        if self.lookup_key is not None and self.lookup_key.get_secret_value().strip():
            return self.lookup_key.get_secret_value().strip().encode()
        return _key_file(ROOT / "var" / "lookup.key")

    def wechat_apps(self) -> dict[str, str]:
        """AppID → AppSecret of our two WeChat apps: the official account and the mini-program."""
        return {
            self.wechat_appid: self.wechat_secret.get_secret_value(),
            self.miniprogram_appid: self.miniprogram_secret.get_secret_value(),
        }

    def vault(self) -> Vault:
        keys = self.data_keys.get_secret_value() if self.data_keys is not None else None
        return _vault(keys, self.data_cipher)


# secrets that check what outside systems send us: a known value lets anyone forge it
_CHECKING_SECRETS = ("wechat_token", "platform_callback_secret", "hotline_callback_secret", "liaoshitong_identity_key")
# keys and secrets we present to a partner, needed once its address is set
_PARTNER_KEYS = {
    "wechat_secret": "wechat_api_url",
    "miniprogram_secret": "wechat_api_url",
    "platform_key": "platform_url",
    "elicense_key": "elicense_url",
    "hotline_key": "hotline_url",
}


class DeploymentRefused(Exception):
    """A production deployment with secrets that would let strangers in: nothing starts."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("refusing to start in production: " + "; ".join(problems))
        self.problems = problems


@lru_cache(maxsize=4)
def _key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(32))
    return path.read_text().strip().encode()


@lru_cache(maxsize=16)
def _vault(keys: str | None, cipher: str) -> Vault:
    # built once per key set: every request seals and opens with it
    if keys is not None:
        return Vault(keys.split(","), cipher)
    return key_file_vault(ROOT / "var" / "data.key", cipher)


@lru_cache
def get_settings() -> Settings:
    return Settings()
