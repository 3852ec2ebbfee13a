"""The WeChat official account (公众号) callback: knows WeChat's wire format
(signatures, safe-mode encryption, XML, passive replies, retries) and nothing
of the dialogue. wechatpy does the format and the crypto.

GET  /wechat   URL verification: signature check, echo ``echostr``
POST /wechat   a message or event, plain or safe mode (``encrypt_type=aes``)

WeChat waits 5 s and retries the same message up to three times. Each message
(MsgId; FromUserName+CreateTime for events) is handled once across all
processes; a retry gets the same reply. What does not fit in the passive
reply, or is not ready within the budget, is queued in the outbox as
customer-service messages (delivered by the WeChat sender, never dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from typing import Any
from xml.parsers import expat

import xmltodict
from aiohttp import web
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from bot.dialogue.messages import Inbound, Reply
from bot.dialogue.messages import TextReply as EngineText
from bot.messaging import SendRefused, queue_texts
from bot.notify.delivery import stage_seen
from bot.outbox import RetryLater
from bot.people.keys import user_key
from bot.people.ref import WECHAT, UserRef
from bot.texts import standard as tx
from handlers.auth import read_limited
from handlers.keys import SERVICES
from handlers.once import AnsweredOnce
from handlers.outages import is_outage, which
from handlers.services import Services
from integrations.asr import AsrUnavailable

log = logging.getLogger(__name__)

CHANNEL = "wechat"
PASSIVE_LIMIT = 600  # characters in one passive text reply; longer ones are split
MENU_COMMANDS = {"CATALOG": "办事清单", "PROGRESS": "查进度", "ELDERLY": "长辈模式", "HUMAN": "转人工"}
SUCCESS = "success"  # WeChat's “nothing to say now”


def _cdata_safe(text: str) -> str:
    # wechatpy puts text in CDATA without escaping; "]]>" would end it early
    return text.replace("]]>", "]]]]><![CDATA[>")


def _services(request: web.Request) -> Services:
    return request.app[SERVICES]


def _bad(status: int, reason: str) -> web.Response:
    log.warning("wechat callback refused (%s): %s", status, reason)
    return web.Response(status=status, text=reason)


def _signed(signature: str, *parts: str) -> bool:
    """WeChat's SHA-1 over the sorted parts (wechatpy's signer), compared in constant time: wechatpy's own
    checks compare with ``!=``, which tells a forger how much of a guess was right."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return hmac.compare_digest(signer.signature.encode(), signature.encode("utf-8", "surrogatepass"))


def _fresh(timestamp: str, window: int) -> bool:
    return timestamp.isascii() and timestamp.isdigit() and abs(time.time() - int(timestamp)) <= window


async def verify(request: web.Request) -> web.StreamResponse:
    s = _services(request).settings
    q = request.query
    if not all(q.get(k) for k in ("signature", "timestamp", "nonce", "echostr")):
        return _bad(400, "missing parameters")
    if not _signed(q["signature"], s.wechat_token.get_secret_value(), q["timestamp"], q["nonce"]):
        return _bad(403, "bad signature")
    return web.Response(text=q["echostr"])


async def receive(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    s = services.settings
    q = request.query
    try:
        body = await read_limited(request, s.wechat_max_body_bytes)  # the whole body, however it was chunked
    except web.HTTPRequestEntityTooLarge:
        log.warning("wechat callback refused (413): body too large")
        raise
    if not all(q.get(k) for k in ("timestamp", "nonce")):
        return _bad(400, "missing parameters")
    token = s.wechat_token.get_secret_value()
    crypto: WeChatCrypto | None = None
    try:
        if q.get("encrypt_type") == "aes":
            if s.wechat_aes_key is None:
                return _bad(400, "safe mode is not configured")
            crypto = WeChatCrypto(token, s.wechat_aes_key.get_secret_value(), s.wechat_appid)
            _check_shape(body)  # the envelope too: xmltodict would otherwise read its DTD
            envelope = xmltodict.parse(body)["xml"]
            if not _signed(q.get("msg_signature", ""), token, q["timestamp"], q["nonce"], envelope["Encrypt"]):
                raise InvalidSignatureException()
            xml = crypto.decrypt_message(envelope, q.get("msg_signature", ""), q["timestamp"], q["nonce"])
        elif s.wechat_aes_key is not None:
            # safe mode configured: a plain post did not come from WeChat (which then encrypts every message)
            return _bad(403, "plain message while safe mode is on")
        else:
            if not _signed(q.get("signature", ""), token, q["timestamp"], q["nonce"]):
                raise InvalidSignatureException()
            xml = body.decode("utf-8")
        if not _fresh(q["timestamp"], s.wechat_timestamp_window_seconds):
            return _bad(403, "timestamp outside the window")  # a recorded request played back later
        _check_shape(xml)
        message = parse_message(xml)
        # wechatpy converts MsgId and CreateTime only when read: read them now, a non-number is a 400
        key = _dedup_key(message) if getattr(message, "source", None) else None
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        return _bad(403, type(exc).__name__)
    except Exception as exc:  # wechatpy raises many raw types on garbage (ExpatError, KeyError, ValueError…)
        return _bad(400, f"unreadable body: {type(exc).__name__}: {str(exc)[:100]}")
    if key is None:
        return _bad(400, "no sender")
    try:
        if not await _nonce_fits(services, q["nonce"], q["timestamp"], key):
            return _bad(403, "nonce already used for another message")
        text, answered_at = await _reply_text(services, message)
    except Exception as exc:
        if not is_outage(exc):
            raise
        # Redis or the database away: a polite word now, rather than a 5xx that WeChat turns into
        # “该公众号暂时无法提供服务” after three retries
        log.warning("wechat message not handled, %s unavailable: %s", which(exc), type(exc).__name__)
        text, answered_at = tx.WECHAT_UNAVAILABLE, int(time.time())
    if text == SUCCESS:
        return web.Response(text=SUCCESS)
    # the first answer's time, so that a retry gets the very same reply
    reply = TextReply(content=_cdata_safe(text), message=message, time=answered_at)
    if crypto is not None:
        return web.Response(
            text=crypto.encrypt_message(reply, q["nonce"], q["timestamp"]), content_type="application/xml"
        )
    return web.Response(text=reply.render(), content_type="application/xml")


def _check_shape(xml: str | bytes) -> None:
    """WeChat sends one ``<xml>`` element of text fields and nothing else. A DTD (entity bombs, external
    entities or an external DTD), an element inside a field or a field given twice is refused here, before
    xmltodict and wechatpy read it: every field wechatpy hands on is then text, never a dict or a list."""
    parser = expat.ParserCreate("utf-8")  # as xmltodict reads it: UTF-8, whatever the declaration says
    path: list[str] = []
    fields: set[str] = set()

    def start(name: str, _attrs: Any) -> None:
        path.append(name)
        if len(path) == 1 and name != "xml":
            raise ValueError(f"root element {name[:20]!r}, not xml")
        if len(path) > 2:
            raise ValueError(f"element inside field {path[1][:20]!r}")
        if len(path) == 2:
            if name in fields:
                raise ValueError(f"field {name[:20]!r} given twice")
            fields.add(name)

    def dtd(*_args: Any) -> None:
        raise ValueError("a DTD is not WeChat's")

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda _name: path.pop()
    parser.StartDoctypeDeclHandler = dtd
    parser.EntityDeclHandler = dtd
    parser.Parse(xml.encode() if isinstance(xml, str) else xml, True)


def _dedup_key(message: Any) -> str:
    """The message's key: its sender and MsgId (ids are not unique across senders), or for events the
    sender and CreateTime. Raises (ValueError, OverflowError…) unless MsgId, or else CreateTime, is a number."""
    sender = user_key(_user(message))
    msg_id = message.id
    if msg_id:
        return f"wx:msg:{sender}:{msg_id}"
    created = message.create_time
    if created is None:
        raise ValueError("neither MsgId nor CreateTime")
    return f"wx:msg:{sender}:t{created.timestamp():.0f}"


def _kept_seconds(services: Services) -> int:
    """How long a message's reply (and its nonce) is kept: while its timestamp is accepted, and as long
    again after, so that a request played back anywhere in its window meets its first answer."""
    return 2 * services.settings.wechat_timestamp_window_seconds


async def _nonce_fits(services: Services, nonce: str, timestamp: str, key: str) -> bool:
    """A nonce is WeChat's for one message: the same request again is a retry (answered from the
    message's stored reply), the nonce with another message is someone replaying a signature."""
    digest = hashlib.sha256(f"{nonce}\n{timestamp}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    async with services.redis.pipeline(transaction=False) as pipe:
        pipe.set(f"wx:nonce:{digest}", key, nx=True, ex=_kept_seconds(services))
        pipe.get(f"wx:nonce:{digest}")
        _, owner = await pipe.execute()
    return bool(owner == key)


async def _reply_text(services: Services, message: Any) -> tuple[str, int]:
    """The passive reply to this message and when it was first answered, the
    same for WeChat's retries of it. Kept encrypted: replies carry personal data."""
    once = AnsweredOnce(services.redis, services.settings.vault(), _kept_seconds(services))
    key = _dedup_key(message)
    async with services.redis.pipeline(transaction=False) as pipe:  # one round trip: claim it, note the visit
        once.stage_claim(pipe, key)
        if message.type != "event":
            stage_seen(pipe, _user(message))  # opens the 48-hour window
        claimed, *_ = await pipe.execute()
    if not claimed:
        # a retry: the first delivery's answer (it may be in another process)
        first = await once.first(key, services.settings.wechat_reply_budget_seconds)
        return (str(first["text"]), int(first["at"])) if first else (SUCCESS, int(time.time()))
    try:
        await _note_following(services, message)
        inbound = _inbound(message)
        answer = inbound if isinstance(inbound, str) else await _answer(services, inbound)
    except Exception:
        # not answered: a retry of this message must run it afresh, not wait for an answer that never comes
        with contextlib.suppress(Exception):
            await asyncio.wait_for(once.release(key), 0.5)
        raise
    answered_at = int(time.time())
    try:
        await once.keep(key, {"text": answer, "at": answered_at})
    except Exception as exc:
        if not is_outage(exc):
            raise
        # the turn is done: its answer must reach the person (a “please send again” would have the
        # message read twice); only a retry of it would now wait in vain
        log.warning("wechat reply not kept for retries, redis unavailable: %s", type(exc).__name__)
    return answer, answered_at


async def _note_following(services: Services, message: Any) -> None:
    """Follow and unfollow decide whether WeChat may carry notices to this person."""
    if message.type == "event" and message.event in ("subscribe", "unsubscribe"):
        await services.contacts.set_following(_user(message), message.event == "subscribe")


def _user(message: Any) -> str:
    return str(UserRef(WECHAT, message.source))


def _inbound(message: Any) -> Inbound | str:
    """The message as the engine takes it, or a reply that needs no engine."""
    user = _user(message)
    kind = message.type
    if kind == "text":
        return Inbound(user=user, channel=CHANNEL, text=(message.content or "")[:2000])
    if kind == "voice":
        said = getattr(message, "recognition", None)
        if not said:  # no transcript from WeChat: ours to recognise (see _turn)
            media = {"voice_media": message.media_id, "voice_format": (message.format or "amr").lower()}
            return Inbound(user=user, channel=CHANNEL, text="", voice=True, metadata=media)
        return Inbound(user=user, channel=CHANNEL, text=said[:2000], voice=True)
    if kind == "image":
        return Inbound(
            user=user, channel=CHANNEL, text="", metadata={"attachments": [f"wechat-media:{message.media_id}"]}
        )
    if kind == "event":
        event = getattr(message, "event", "")
        if event == "subscribe":
            return Inbound(user=user, channel=CHANNEL, text="")
        if event == "unsubscribe":
            return SUCCESS  # nobody reads a reply now; _note_following stopped the pushes
        if event == "click" and getattr(message, "key", "") in MENU_COMMANDS:
            return Inbound(user=user, channel=CHANNEL, text=MENU_COMMANDS[message.key])
        return SUCCESS
    return tx.WECHAT_UNSUPPORTED


async def _answer(services: Services, inbound: Inbound) -> str:
    """Run the engine within the budget; what is late or does not fit goes to the outbox."""
    task = asyncio.ensure_future(_turn(services, inbound))
    try:
        replies = await asyncio.wait_for(asyncio.shield(task), services.settings.wechat_reply_budget_seconds)
    except TimeoutError:
        task.add_done_callback(lambda t: _late(services, inbound.user, t))
        return SUCCESS
    texts = _split(replies)
    if len(texts) > 1:
        try:
            await _queue_customer_service(services, inbound.user, texts[1:])
        except Exception as exc:
            if not is_outage(exc):
                raise
            # the turn is done (its session saved): what fits now, and how to see the rest; a “please
            # send it again” would have the message read a second time
            log.warning("wechat overflow not queued, %s unavailable: %s", which(exc), type(exc).__name__)
            return texts[0] + "\n" + tx.WECHAT_REST_LATER
        return texts[0] + "\n" + tx.WECHAT_MORE_FOLLOWS
    return texts[0] if texts else SUCCESS


async def _turn(services: Services, inbound: Inbound) -> list[Reply]:
    media_id = inbound.metadata.get("voice_media")
    if media_id:
        said = await _hear(services, str(media_id), str(inbound.metadata.get("voice_format", "amr")))
        if not said:
            return [EngineText(text=tx.WECHAT_VOICE_UNHEARD)]
        inbound = inbound.model_copy(update={"text": said[:2000], "metadata": {}})
    return await services.dialogue.handle(inbound)


async def _hear(services: Services, media_id: str, fmt: str) -> str:
    """The voice message as text through our ASR service; "" when that cannot be had."""
    if services.asr is None or services.wechat_api is None:
        return ""
    try:
        audio, _ = await services.wechat_api.download_media(media_id)
        suffix = fmt if fmt.isalnum() and len(fmt) <= 8 else "amr"  # ffmpeg reads the format off the name
        return await services.asr.transcribe(audio, f"voice.{suffix}")
    except (AsrUnavailable, RetryLater, SendRefused) as exc:
        log.warning("voice message not recognised: %s", exc)
        return ""


def _split(replies: list[Reply]) -> list[str]:
    """Replies joined into as few messages as fit the passive limit."""
    out: list[str] = []
    for r in replies:
        if out and len(out[-1]) + 1 + len(r.text) <= PASSIVE_LIMIT:
            out[-1] += "\n" + r.text
        else:
            out.append(r.text)
    return out


def _late(services: Services, user: str, task: asyncio.Future[list[Reply]]) -> None:
    if task.cancelled() or task.exception() is not None:
        log.error("a late WeChat turn failed: %s", task.exception() if not task.cancelled() else "cancelled")
        return
    pending = asyncio.ensure_future(_queue_customer_service(services, user, _split(task.result())))
    pending.add_done_callback(lambda t: t.exception() and log.error("could not queue late replies: %s", t.exception()))


async def _queue_customer_service(services: Services, user: str, texts: list[str]) -> None:
    await queue_texts(services.db, services.settings.vault(), user, texts)


def setup(app: web.Application) -> None:
    app.router.add_get("/wechat", verify)
    app.router.add_post("/wechat", receive)
