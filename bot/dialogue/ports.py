"""What the dialogue needs of the world outside it, each as a small interface: the NLU, shared
data, the applications' repository, 12345 work orders, ratings, the agents' desk, the
conversation's log, pushes, contact preferences, counters, pace, phone drafts. The implementations
live in ``bot/`` (stores over Redis and SQL) and are wired in one place (``handlers/services.py``);
a test may pass memory ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from bot.appeals.orders import Appeal
from bot.catalog import Catalog, OneThing
from bot.catalog.words import ThingWords
from bot.dialogue.session import Draft, Session
from bot.shared_data import SharedRecord


class Nlu(Protocol):
    async def parse(self, text: str, channel: str = "api") -> dict[str, Any]: ...


class SharedData(Protocol):
    async def lookup(
        self, key: str, sources: set[str], consent_id: str, kind: str = "person"
    ) -> SharedRecord | None: ...


class Appeals(Protocol):
    """12345 work orders (``bot/appeals``)."""

    async def open(self, appeal: Appeal) -> str: ...


class RatingsPort(Protocol):
    """好差评 (``bot/applications/ratings.py``)."""

    async def rate(self, user: str, application_id: str, score: int, comment: str = "") -> Any: ...

    async def rate_conversation(
        self, user: str, channel: str, handover_id: str, score: int, comment: str = "", context: str = "", **who: str
    ) -> Any: ...


class Notices(Protocol):
    async def take(self, user: str) -> list[dict[str, Any]]: ...

    def peek(self, pipe: Any, user: str) -> None: ...

    async def take_peeked(self, user: str, stored: dict[Any, Any]) -> list[dict[str, Any]]: ...

    def opened(self, stored: dict[Any, Any]) -> list[dict[str, Any]]: ...

    def stage_remove(self, pipe: Any, user: str, stored: dict[Any, Any]) -> None: ...


class Desk(Protocol):
    """The queue for hotline agents (``bot/handover/desk.py``)."""

    async def open(self, user: str, channel: str, thing_id: str | None, reason: str) -> tuple[Any, bool]: ...

    async def position(self, handover: Any) -> int: ...

    async def withdraw(self, handover_id: str) -> bool: ...


class Transcript(Protocol):
    """The conversation's running log (``bot/handover/log.py``)."""

    async def append(self, user: str, role: Any, text: str, pushed: bool = False, agent: str = "") -> str: ...

    async def record_turn(self, user: str, said: str, answer: str, pushed: bool = False) -> None: ...

    def stage_turn(self, pipe: Any, user: str, said: str, answer: str, pushed: bool = False) -> None: ...


class Pusher(Protocol):
    """Gets text to a person outside a turn, through their own channel (WeChat: a
    customer-service message; pages follow the log themselves)."""

    async def push(self, user: str, texts: list[str]) -> None: ...


class Contacts(Protocol):
    """How the person wants to be reached (``bot/people/contacts.py``)."""

    async def set_wants_calls(self, user: str, wanted: bool) -> None: ...


class Metrics(Protocol):
    """Per-day counters of what happens (``bot/analytics/counters.py``): the admins' dashboard."""

    async def record(self, events: list[str], user: str | None = None) -> None: ...

    def stage(self, pipe: Any, events: list[str], user: str | None = None) -> None: ...


class Pace(Protocol):
    """How many messages one person may send in a while (``bot/limits.py``)."""

    def stage(self, pipe: Any, user: str) -> None: ...

    def allows(self, count: Any) -> bool: ...


class PhoneDrafts(Protocol):
    """Drafts agents started on the phone (``bot/handover/phone.py``)."""

    async def redeem(self, code: str, user: str, phone: str) -> tuple[str, dict[str, Any]] | None:
        """(thing id, answers said on the phone), or None for a wrong or spent code or a phone number
        it was not sent to; raises ``CodeLocked`` after too many wrong tries."""


class Applications(Protocol):
    async def submit(self, session: Session, thing: OneThing, draft: Draft) -> str: ...

    async def progress(self, user: str, number: str | None = None) -> list[dict[str, Any]]: ...

    async def supplement(self, user: str, number: str, item: str, text: str, attachments: list[str]) -> None: ...


class World(Protocol):
    """What a flow may reach of the engine: the catalog, the NLU, and the ports above (the
    ``Engine`` is one; a turn holds it as this)."""

    catalog: Catalog
    nlu: Nlu
    applications: Applications
    shared: SharedData | None
    appeals: Appeals | None
    ratings: RatingsPort | None
    desk: Desk | None
    phone_drafts: PhoneDrafts | None
    contacts: Contacts | None
    today: Callable[[], date]

    def thing_words(self) -> ThingWords: ...
