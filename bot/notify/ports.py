"""What the notifier needs from outside systems, in bot/ terms:
``integrations/wechat.py`` and ``integrations/hotline.py`` implement these.
Both raise ``RetryLater`` (try again) or ``SendRefused`` (this channel cannot
carry it: ``fallback`` tells whether another one may)."""

from __future__ import annotations

from typing import Any, Protocol


class OfficialAccount(Protocol):
    async def send_template(
        self, openid: str, template_id: str, data: dict[str, Any], url: str | None = None
    ) -> None: ...

    async def send_text(self, openid: str, text: str) -> None: ...


class MiniProgram(Protocol):
    async def send_subscribe_message(
        self, openid: str, template_id: str, data: dict[str, Any], page: str | None = None
    ) -> None: ...


class Hotline(Protocol):
    """The 12345 platform's SMS and voice-call services (idempotent by message id)."""

    async def send_sms(self, phone: str, text: str, message_id: str) -> Any: ...

    async def place_call(self, phone: str, text: str, message_id: str) -> Any: ...
