"""Personal data at rest: Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``.

Keys come from ``DATA_KEYS`` (comma-separated, newest first, so old data stays
readable after a rotation); without it a key is generated once under ``var/``
for the embedded set-up, never committed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["InvalidToken", "Vault", "key_file_vault"]


class Vault:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one data key is needed")
        self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in keys])
        # a separate key for digests, derived from the newest data key (short codes must not be
        # guessable from a copy of the database)
        self._mac_key = hashlib.sha256(b"lnyjs-digest:" + keys[0].strip().encode()).digest()

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def digest(self, text: str) -> str:
        """A keyed digest (HMAC-SHA256, hex) to look a secret up by without storing it.
        Changes when the newest key does: use it for short-lived secrets only."""
        return hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()

    def decrypt(self, token: str, ttl: int | None = None) -> str:
        """``ttl``: refuse tokens older than this many seconds (InvalidToken)."""
        return self._fernet.decrypt(token.encode(), ttl=ttl).decode()


def key_file_vault(path: Path) -> Vault:
    """The embedded default: a key file created on first use, readable by its owner only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode())
    return Vault([path.read_text().strip()])
