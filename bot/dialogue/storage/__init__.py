"""Where conversations are kept: the interfaces (``base``), Redis for deployments (``redis``) and
memory for one process and tests (``memory``)."""

from bot.dialogue.storage.base import Held, Isolation, Sessions, Stage
from bot.dialogue.storage.memory import MemoryBatch, MemoryQueue, MemorySessions
from bot.dialogue.storage.redis import SessionStore, UserQueue

__all__ = [
    "Held",
    "Isolation",
    "MemoryBatch",
    "MemoryQueue",
    "MemorySessions",
    "SessionStore",
    "Sessions",
    "Stage",
    "UserQueue",
]
