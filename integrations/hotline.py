"""Client of the 12345 政务服务便民热线 platform (docs/hotline-api.md).

Knows this one outside system: create a work order (工单) with our idempotency
key, read it back, send an SMS, place a voice notification call, read a call's
outcome, and check a status callback's signature. Errors are split in two:
``HotlineUnavailable`` (try again later) and ``HotlineRefused`` (the request
itself is wrong: retrying cannot help, people must look). The simulator in
``simulators/hotline.py`` speaks the same contract; production is this code
pointed at the platform's gateway.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.messaging import SendRefused
from bot.outbox import RetryLater
from integrations.json_api import JsonApiClient

__all__ = [
    "APPEAL_KINDS",
    "CHANNELS",
    "ORDER_STATUSES",
    "AppealKind",
    "BadCallback",
    "Call",
    "CallStatus",
    "Channel",
    "CreatedOrder",
    "HotlineCallback",
    "HotlineClient",
    "HotlineRefused",
    "HotlineUnavailable",
    "OrderStatus",
    "PlacedCall",
    "SmsReceipt",
    "Supplement",
    "WorkOrder",
    "sign",
    "verify_callback",
]

AppealKind = Literal["咨询", "求助", "投诉", "举报", "建议", "表扬"]  # 诉求类型
OrderStatus = Literal["已受理", "已派单", "办理中", "已办结", "已回访"]  # 状态, in this order
Channel = Literal["wechat", "miniprogram", "liaoshitong", "ivr", "web"]  # 渠道: where the citizen spoke to us
CallStatus = Literal["calling", "answered", "no_answer", "busy"]

APPEAL_KINDS: tuple[str, ...] = get_args(AppealKind)
ORDER_STATUSES: tuple[str, ...] = get_args(OrderStatus)
CHANNELS: tuple[str, ...] = get_args(Channel)

TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"

# "come back later" answers: a bad key is fixed by people, and a work order must
# not be dropped meanwhile (same rule as the platform client)
RETRYABLE = {401, 403, 408, 425, 429}


class HotlineUnavailable(Exception):
    """Down, slow, or answered something unusable: try again later."""


class HotlineRefused(Exception):
    """The request itself was refused (4xx): retrying cannot help, staff must look."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"HTTP {status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message


class BadCallback(ValueError):
    """A callback that is not genuine, too old, or not a callback at all: answer 4xx and ignore it."""


class _Model(BaseModel):
    # tolerant reader: fields the platform adds later must not break us
    model_config = ConfigDict(extra="ignore", frozen=True)


M = TypeVar("M", bound=_Model)


class WorkOrder(_Model):
    """One 工单 as the platform shows it (the phone always masked)."""

    number: str  # 工单号, GD + yyyymmdd + 6-digit sequence
    external_id: str  # our idempotency key
    channel: str  # 渠道 (str, not Channel: a channel we do not know must still be readable)
    kind: AppealKind  # 诉求类型
    citizen_name: str  # 诉求人 (starred when confidential)
    confidential: bool  # 保密标志
    phone: str  # 联系电话, masked: 138****1234
    content: str  # 诉求内容
    region: str  # 属地
    application_number: str | None = None  # 关联申办编号
    department: str  # 承办单位
    accepted_at: datetime  # 受理时间
    deadline: datetime  # 办理时限
    status: OrderStatus  # 状态
    result: str | None = None  # 办理结果
    feedback: str | None = None  # 回访结果
    context: dict[str, Any] | str | None = None  # ours, returned as sent
    seq: int  # grows by one with every change of status
    updated_at: datetime


class CreatedOrder(WorkOrder):
    replayed: bool = False  # the platform had this external_id already: this is the first order


class HotlineCallback(_Model):
    """The body of a status callback."""

    event_id: str
    number: str
    external_id: str
    status: OrderStatus
    result: str | None = None
    feedback: str | None = None
    seq: int
    at: datetime


class Supplement(_Model):
    """补充诉求: words added to an open order."""

    supplement_id: str
    number: str
    content: str
    at: datetime
    replayed: bool = False


class SmsReceipt(_Model):
    receipt_id: str
    message_id: str
    phone: str  # masked
    status: Literal["sent"]
    sent_at: datetime
    replayed: bool = False


class Call(_Model):
    call_id: str
    message_id: str
    phone: str  # masked
    status: CallStatus  # "calling" until the outcome is known
    placed_at: datetime
    ended_at: datetime | None = None


class PlacedCall(Call):
    replayed: bool = False


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """hex(HMAC-SHA256(secret, timestamp + "." + body)): the platform's callback scheme, reused."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str, headers: Mapping[str, str], body: bytes, *, max_age: float = 300, now: float | None = None
) -> None:
    """``BadCallback`` unless the request is genuine (signed with our secret over this exact
    body) and fresh (a timestamp within ``max_age`` seconds, so a captured request cannot be
    replayed later). The platform signs its callbacks and its IVR's turns alike."""
    lowered = {k.lower(): v for k, v in headers.items()}  # header names are case-insensitive
    stamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    given = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not stamp or not given:
        raise BadCallback("signature headers missing")
    try:
        age = abs((time.time() if now is None else now) - float(stamp))
    except ValueError:
        raise BadCallback("timestamp is not a number") from None
    if not age <= max_age:  # written so that NaN (never fresh) is refused too
        raise BadCallback(f"timestamp {age:.0f}s away from now")
    if not hmac.compare_digest(sign(secret, stamp, body).encode(), given.encode("utf-8", "surrogatepass")):
        raise BadCallback("bad signature")


def verify_callback(
    secret: str, headers: Mapping[str, str], body: bytes, *, max_age: float = 300, now: float | None = None
) -> dict[str, Any]:
    """The callback's payload (checked against ``HotlineCallback``), or ``BadCallback``."""
    verify_signature(secret, headers, body, max_age=max_age, now=now)
    try:
        return HotlineCallback.model_validate(json.loads(body)).model_dump(mode="json")
    except (ValueError, ValidationError) as exc:  # signed but malformed: the platform's bug, still refused
        raise BadCallback(f"payload: {exc}") from exc


class HotlineClient(JsonApiClient):
    unavailable = HotlineUnavailable

    @staticmethod
    def _fail(status: int, body: Any) -> Exception:
        if status in RETRYABLE or status >= 500 or status < 400:
            return HotlineUnavailable(f"HTTP {status}")
        error = message = ""
        if isinstance(body, dict):
            error, message = str(body.get("error", "")), str(body.get("message", ""))
        return HotlineRefused(status, error, message)

    async def _created(self, model: type[M], path: str, payload: dict[str, Any]) -> M:
        status, body = await self._call("POST", path, json=payload)
        if status not in (200, 201):
            raise self._fail(status, body)
        return _parse(model, body, replayed=status == 200)

    async def create_order(
        self,
        *,
        external_id: str,
        channel: Channel,
        kind: AppealKind,
        citizen_name: str,
        phone: str,
        content: str,
        region: str,
        department: str,
        confidential: bool = False,
        application_number: str | None = None,
        deadline: datetime | None = None,
        context: dict[str, Any] | str | None = None,
        callback_url: str | None = None,
    ) -> CreatedOrder:
        """Create a 工单; the same ``external_id`` again returns the first order (``replayed``).

        Not validated here: the platform is the judge, and its 4xx comes back as
        ``HotlineRefused`` with the field it objects to."""
        payload: dict[str, Any] = {
            "external_id": external_id,
            "channel": channel,
            "kind": kind,
            "citizen_name": citizen_name,
            "confidential": confidential,
            "phone": phone,
            "content": content,
            "region": region,
            "department": department,
            "application_number": application_number,
            "deadline": deadline.isoformat() if deadline is not None else None,
            "context": context,
            "callback_url": callback_url,
        }
        return await self._created(CreatedOrder, "/v1/orders", payload)

    async def order(self, number: str) -> WorkOrder | None:
        """The work order, or None when the platform does not know the number."""
        return await self._read(WorkOrder, f"/v1/orders/{number}")

    async def add_supplement(self, number: str, supplement_id: str, content: str) -> Supplement:
        """Add the citizen's further words to an open order, once per ``supplement_id``. A closed order
        (已办结, 已回访) takes none: ``HotlineRefused`` 409 ``closed``, and the words need an order of their own."""
        payload = {"supplement_id": supplement_id, "content": content}
        return await self._created(Supplement, f"/v1/orders/{number}/supplements", payload)

    async def send_sms(self, phone: str, text: str, message_id: str) -> SmsReceipt:
        """Send once per ``message_id``; a repeat returns the first receipt (``replayed``)."""
        payload = {"phone": phone, "text": text, "message_id": message_id}
        return await self._created(SmsReceipt, "/v1/sms", payload)

    async def place_call(self, phone: str, text: str, message_id: str) -> PlacedCall:
        """A voice notification call reading ``text`` (TTS), once per ``message_id``."""
        payload = {"phone": phone, "text": text, "message_id": message_id}
        return await self._created(PlacedCall, "/v1/calls", payload)

    async def call(self, call_id: str) -> Call | None:
        """The call and its outcome so far, or None for an unknown id."""
        return await self._read(Call, f"/v1/calls/{call_id}")

    async def _read(self, model: type[M], path: str) -> M | None:
        status, body = await self._call("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise self._fail(status, body)
        return _parse(model, body)


def _parse(model: type[M], body: Any, **extra: Any) -> M:
    # a 2xx we cannot read is the platform's problem, not the request's: retry later
    if not isinstance(body, dict):
        raise HotlineUnavailable("answer is not a JSON object")
    try:
        return model.model_validate({**body, **extra})
    except ValidationError as exc:
        raise HotlineUnavailable(f"unexpected answer: {exc}") from exc


class HotlinePush:
    """The client as the notifier's ``Hotline`` port: its failures in the notifier's terms."""

    def __init__(self, client: HotlineClient) -> None:
        self.client = client

    async def send_sms(self, phone: str, text: str, message_id: str) -> SmsReceipt:
        try:
            return await self.client.send_sms(phone, text, message_id)
        except HotlineUnavailable as exc:
            raise RetryLater(f"12345 SMS: {exc}") from exc
        except HotlineRefused as exc:  # e.g. a landline: another channel may still reach them
            raise SendRefused(exc.status, str(exc), fallback=True) from exc

    async def place_call(self, phone: str, text: str, message_id: str) -> PlacedCall:
        try:
            return await self.client.place_call(phone, text, message_id)
        except HotlineUnavailable as exc:
            raise RetryLater(f"12345 call: {exc}") from exc
        except HotlineRefused as exc:
            raise SendRefused(exc.status, str(exc), fallback=True) from exc
