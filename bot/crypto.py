"""Personal data at rest, and the tokens the service hands out.

Data at rest (sessions, drafts, applications, work orders, notices…) is sealed
with an AEAD cipher: AES-256-GCM by default, SM4-GCM when ``DATA_CIPHER=sm4-gcm``
(the national algorithm that government crypto assessments, 密评, expect). A
sealed value reads ``<cipher>.<key id>.<base64url(nonce | ciphertext | tag)>``,
so each value names the key that sealed it.

Keys come from ``DATA_KEYS`` (comma-separated, newest first): new data is
sealed with the first, every listed key still opens what it sealed, so a key is
rotated by putting a new one first and running ``python -m bot keys rotate``,
which reseals everything stored with the newest key; the old key can then be
dropped. Without ``DATA_KEYS`` a key is generated once under ``var/``, never
committed. A key is 32 random bytes, urlsafe-base64 (``python -m bot keys new``);
SM4's 128-bit key is derived from it.

Values sealed before this scheme (Fernet, ``gAAAA…``) still open with the same
keys; rotation reseals them. Login tokens are Fernet (signed, encrypted and
time-stamped, so they expire without server state).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["CIPHERS", "InvalidToken", "Vault", "key_file_vault", "new_key"]

CipherName = Literal["aes-gcm", "sm4-gcm"]
CIPHERS: dict[str, str] = {"aes-gcm": "a1", "sm4-gcm": "s1"}  # name -> the tag a sealed value starts with
_NONCE = 12
_TAG = 16


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _raw(key: str) -> bytes:
    raw = base64.urlsafe_b64decode(key.strip().encode())
    if len(raw) != 32:
        raise ValueError("a data key is 32 random bytes, urlsafe-base64 (python -m bot keys new)")
    return raw


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Key:
    def __init__(self, key: str) -> None:
        raw = _raw(key)
        self.id = hashlib.sha256(b"lnyjs-key-id:" + raw).hexdigest()[:8]
        self.aes = AESGCM(raw)
        self.sm4 = hashlib.sha256(b"lnyjs-sm4:" + raw).digest()[:16]  # SM4 takes 128 bits

    def seal(self, cipher: str, plain: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        if cipher == "a1":
            return nonce + self.aes.encrypt(nonce, plain, None)
        encryptor = Cipher(algorithms.SM4(self.sm4), modes.GCM(nonce)).encryptor()
        return nonce + encryptor.update(plain) + encryptor.finalize() + encryptor.tag

    def open(self, cipher: str, sealed: bytes) -> bytes:
        nonce, body = sealed[:_NONCE], sealed[_NONCE:]
        if cipher == "a1":
            return self.aes.decrypt(nonce, body, None)
        decryptor = Cipher(algorithms.SM4(self.sm4), modes.GCM(nonce, body[-_TAG:])).decryptor()
        return decryptor.update(body[:-_TAG]) + decryptor.finalize()


class Vault:
    def __init__(self, keys: list[str], cipher: str = "aes-gcm") -> None:
        keys = [k.strip() for k in keys if k.strip()]
        if not keys:
            raise ValueError("at least one data key is needed")
        if cipher not in CIPHERS:
            raise ValueError(f"DATA_CIPHER must be one of {', '.join(CIPHERS)}")
        self._keys = [_Key(k) for k in keys]
        self._by_id = {k.id: k for k in self._keys}
        self._tag = CIPHERS[cipher]
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])  # tokens, and data sealed before v2
        # a separate key for digests, derived from the newest data key (short codes must not be
        # guessable from a copy of the database)
        self._mac_key = hashlib.sha256(b"lnyjs-digest:" + keys[0].encode()).digest()

    @property
    def key_id(self) -> str:
        """The id of the key new data is sealed with."""
        return self._keys[0].id

    def encrypt(self, plain: str) -> str:
        newest = self._keys[0]
        return f"{self._tag}.{newest.id}.{_b64(newest.seal(self._tag, plain.encode()))}"

    def decrypt(self, token: str) -> str:
        tag, _, rest = token.partition(".")
        if tag not in CIPHERS.values():
            return self._fernet.decrypt(token.encode()).decode()  # sealed before keys had ids
        key_id, _, body = rest.partition(".")
        key = self._by_id.get(key_id)
        if key is None:
            raise InvalidToken(f"sealed with key {key_id}, which is not in DATA_KEYS")
        try:
            return key.open(tag, _unb64(body)).decode()
        except (InvalidTag, ValueError) as exc:
            raise InvalidToken("altered or not ours") from exc

    def is_current(self, token: str) -> bool:
        """Sealed with the newest key and the configured cipher (rotation leaves it be)."""
        return token.startswith(f"{self._tag}.{self._keys[0].id}.")

    def reseal(self, token: str) -> str:
        return token if self.is_current(token) else self.encrypt(self.decrypt(token))

    # ---- tokens handed out (mini-program logins): Fernet, with their age -------------------

    def issue(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def redeem(self, token: str, ttl: int) -> str:
        """``InvalidToken`` when forged, altered or older than ``ttl`` seconds."""
        return self._fernet.decrypt(token.encode(), ttl=ttl).decode()

    def digest(self, text: str) -> str:
        """A keyed digest (HMAC-SHA256, hex) to look a secret up by without storing it.
        Changes when the newest key does: use it for short-lived secrets only."""
        return hmac.new(self._mac_key, text.encode(), hashlib.sha256).hexdigest()


def key_file_vault(path: Path, cipher: str = "aes-gcm") -> Vault:
    """The embedded default: a key file created on first use, readable by its owner only."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_key())
    return Vault(path.read_text().strip().split(","), cipher)
