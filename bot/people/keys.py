"""The key a person is stored under: a keyed digest (HMAC-SHA256) of the channel's id of them.

Unkeyed, the digest of ``ivr:13812345678`` follows from the phone number, and anyone holding a
copy of Redis or the database could find a caller's session by trying numbers. Keyed, they need
``LOOKUP_KEY`` too. The key is stable (it is not a data key and does not rotate with them); after
changing it, ``python -m bot db upgrade`` moves everything stored to the new keys (``bot/people/rekey.py``).

The process sets the key once at start (``use_lookup_key``, from the settings); until then a
fixed development key stands, which a production deployment refuses (``Settings.deployment_problems``).
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "h"  # keyed digests start so: a digest of the older, unkeyed kind is told apart by its look
_DEVELOPMENT = b"development lookup key: never in production"
_key = _DEVELOPMENT


def use_lookup_key(key: bytes) -> None:
    global _key
    _key = key


def user_key(user: str) -> str:
    """Redis keys and SQL rows carry this digest, not the channel's id of the person."""
    return PREFIX + hmac.new(_key, user.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:31]


def unkeyed(user: str) -> str:
    """The digest stored before keys were keyed (for moving what is stored under it)."""
    return hashlib.sha256(user.encode()).hexdigest()[:24]
