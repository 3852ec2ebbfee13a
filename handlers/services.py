"""The composition root: builds what the app and the worker share from settings.

A test swaps any part by settings (another Redis URL, database, catalog
folder), never by patching.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.accounts import Accounts
from bot.analytics.counters import Counters
from bot.appeals.delivery import WorkOrderDelivery
from bot.appeals.orders import WorkOrders
from bot.applications.delivery import OutboxDelivery
from bot.applications.inbox import Inbox
from bot.applications.notices import NoticeQueue
from bot.applications.progress import ProgressTracker
from bot.applications.ratings import Ratings
from bot.applications.repository import ApplicationRepository
from bot.catalog import Catalog, OneThing, load_catalog
from bot.catalog.edits import CatalogEdits
from bot.catalog.follow import GuideFollower
from bot.db import make_engine
from bot.db.migrate import upgrade
from bot.dialogue.engine import Engine
from bot.dialogue.storage import SessionStore, UserQueue
from bot.handover.desk import HandoverDesk
from bot.handover.log import ConversationLog
from bot.handover.phone import PhoneDraftBook
from bot.handover.polls import OnePollEach
from bot.handover.sweep import AgentHours, HandoverSweeper
from bot.limits import PersonPace
from bot.masking import mask_text
from bot.messaging import WeChatMessages, WeChatPusher
from bot.nlu.data import read_dir
from bot.nlu.engine import EmbeddedNLU, NluConfig, userdict_of
from bot.nlu.service import NluService
from bot.nlu.store import NluStore
from bot.nlu.training import NluTrainer
from bot.notify.delivery import NotificationDelivery
from bot.notify.quiet import QuietHours
from bot.people.contacts import ContactBook
from bot.people.keys import use_lookup_key
from bot.redis_client import make_redis
from bot.settings import DeploymentRefused, Settings
from integrations.asr import AsrClient
from integrations.elicense import ElicenseClient
from integrations.hotline import HotlineClient, HotlinePush, HotlineRefused, HotlineUnavailable
from integrations.platform import PlatformClient
from integrations.rasa import RasaClient
from integrations.wechat import WeChatApi


@dataclass
class Services:
    settings: Settings
    redis: Redis
    waiting_redis: Redis  # blocking reads only: however many wait, turns keep their connections
    polls: OnePollEach
    db: AsyncEngine
    catalog: Catalog
    catalog_load_ms: float
    nlu: NluService
    nlu_store: NluStore
    nlu_trainer: NluTrainer
    applications: ApplicationRepository
    dialogue: Engine
    elicense: ElicenseClient | None
    platform: PlatformClient | None
    inbox: Inbox
    wechat_api: WeChatApi | None
    contacts: ContactBook
    counters: Counters
    notices: NoticeQueue
    progress: ProgressTracker
    ratings: Ratings
    work_orders: WorkOrders
    miniprogram_api: WeChatApi | None
    asr: AsrClient | None
    hotline: HotlineClient | None
    accounts: Accounts
    desk: HandoverDesk
    conversation_log: ConversationLog
    phone_drafts: PhoneDraftBook
    catalog_edits: CatalogEdits
    catalog_follower: GuideFollower  # keeps this process's catalog in step with console edits

    def wechat_messages(self) -> WeChatMessages | None:
        """The worker's sender of queued WeChat messages; None while no WeChat API is configured."""
        if self.wechat_api is None:
            return None
        s = self.settings
        return WeChatMessages(
            self.db,
            s.vault(),
            self.wechat_api,
            self.inbox,
            self.contacts,
            lease_seconds=s.outbox_lease_seconds,
            max_delay=s.outbox_max_backoff_seconds,
            poll_seconds=s.outbox_poll_seconds,
        )

    def notifier(self) -> NotificationDelivery:
        """The worker's consumer of notices: inbox first, then the best push channel."""
        s = self.settings
        return NotificationDelivery(
            db=self.db,
            vault=s.vault(),
            catalog=self.catalog,
            inbox=self.inbox,
            contacts=self.contacts,
            redis=self.redis,
            official=self.wechat_api,
            mini=self.miniprogram_api,
            hotline=HotlinePush(self.hotline) if self.hotline is not None else None,
            template_id=s.wechat_progress_template,
            subscribe_template_id=s.miniprogram_progress_template,
            quiet=QuietHours.parse(s.quiet_hours),
            lease_seconds=s.outbox_lease_seconds,
            max_delay=s.outbox_max_backoff_seconds,
            poll_seconds=s.outbox_poll_seconds,
            max_attempts=s.notify_max_attempts,
            concurrency=s.notify_concurrency,
            batch=s.notify_concurrency * 4,
        )

    def handover_sweeper(self) -> HandoverSweeper:
        """The worker's round of the agent queue (lapsed claims, people told when to expect an answer)."""
        s = self.settings
        return HandoverSweeper(
            self.desk,
            self.dialogue,
            AgentHours(s.agent_hours),
            abandon_seconds=s.handover_abandon_seconds,
            promise_minutes=s.handover_promise_minutes,
            expect_minutes=s.handover_expect_minutes,
        )

    def work_order_sender(self) -> WorkOrderDelivery | None:
        """The worker's sender of work orders to 12345; None while no 12345 platform is configured."""
        if self.hotline is None:
            return None
        s = self.settings
        return WorkOrderDelivery(
            db=self.db,
            orders=self.work_orders,
            notices=self.notices,
            hotline=self.hotline,
            callback_url=f"{s.public_base_url.rstrip('/')}/callbacks/hotline",
            unreachable=(HotlineUnavailable,),
            refused=(HotlineRefused,),
            lease_seconds=s.outbox_lease_seconds,
            max_delay=s.outbox_max_backoff_seconds,
            poll_seconds=s.outbox_poll_seconds,
        )

    def delivery(self) -> OutboxDelivery | None:
        """The outbox consumer of the worker; None while no platform is configured."""
        if self.platform is None:
            return None
        s = self.settings
        return OutboxDelivery(
            db=self.db,
            vault=self.settings.vault(),
            catalog=self.catalog,
            platform=self.platform,
            notices=self.notices,
            callback_url=f"{s.public_base_url.rstrip('/')}/callbacks/platform",
            lease_seconds=s.outbox_lease_seconds,
            max_delay=s.outbox_max_backoff_seconds,
            poll_seconds=s.outbox_poll_seconds,
        )

    async def close(self) -> None:
        await self.catalog_follower.stop()
        await self.nlu.close()
        if self.elicense is not None:
            await self.elicense.close()
        if self.platform is not None:
            await self.platform.close()
        if self.asr is not None:
            await self.asr.close()
        if self.hotline is not None:
            await self.hotline.close()
        for api in (self.wechat_api, self.miniprogram_api):
            if api is not None:
                await api.close()
        await self.redis.aclose()
        await self.waiting_redis.aclose()
        await self.db.dispose()


def build_trainer(settings: Settings, store: NluStore, redis: Redis) -> NluTrainer:
    config = NluConfig(
        fallback_threshold=settings.nlu_fallback_threshold, ambiguity_threshold=settings.nlu_ambiguity_threshold
    )
    return NluTrainer(
        store=store,
        redis=redis,
        config=config,
        shipped=read_dir(settings.nlu_data_dir),
        userdict=userdict_of(settings.nlu_data_dir),
        eval_file=settings.nlu_eval_file,
        margin=settings.nlu_activation_margin,
    )


async def build_nlu(settings: Settings, store: NluStore, trainer: NluTrainer, understands: bool = True) -> NluService:
    """The active admin-trained version if there is one, else nlu_data/ as shipped; no model at all
    where nothing is understood (``understands=False``)."""
    active = await store.active()
    embedded: EmbeddedNLU | None
    if not understands:
        embedded, version = None, None
    elif active is not None:
        embedded, version = await trainer.build(active.version), active.version
    else:
        embedded, version = await asyncio.to_thread(EmbeddedNLU.from_dir, settings.nlu_data_dir, trainer.config), None
    rasa = None
    if settings.nlu_backend == "rasa":
        rasa = RasaClient(settings.rasa_url, timeout=settings.rasa_timeout_seconds)

    async def record(channel: str, text: str) -> None:
        await store.record_fallback(channel, mask_text(text))

    return NluService(embedded, rasa, on_fallback=record, version=version)


async def build_services(settings: Settings, migrate: bool = True, understands: bool = True) -> Services:
    """Everything a process needs. ``understands=False`` (the worker, which runs no turns) skips
    training the NLU model: seconds of CPU and over 100 MB it would never use."""
    problems = settings.deployment_problems()
    if problems:
        raise DeploymentRefused(problems)
    use_lookup_key(settings.lookup_secret())  # before anything stores or looks up a person
    if migrate:
        # Idempotent; every process may start first on a fresh database.
        await asyncio.to_thread(upgrade, settings.database_url)
    started = time.perf_counter()
    catalog = await asyncio.to_thread(load_catalog, settings.catalog_dir)
    load_ms = (time.perf_counter() - started) * 1000
    redis = make_redis(settings.redis_url, settings.redis_max_connections)
    waiting = make_redis(settings.redis_url, settings.redis_wait_connections, wait_seconds=1.0)
    db = make_engine(settings.database_url)
    # The newest version published in the console overrides a one-thing's file.
    edits = CatalogEdits(db, catalog, settings.catalog_dir)
    await edits.refresh(at_start=True)
    store = NluStore(db)
    trainer = build_trainer(settings, store, redis)
    nlu = await build_nlu(settings, store, trainer, understands)
    vault = settings.vault()
    item_names = {t.id: {i.key: i.name for i in t.items} for t in catalog}
    platform = None
    if settings.platform_url:
        platform = PlatformClient(
            settings.platform_url, settings.platform_key.get_secret_value(), settings.platform_timeout_seconds
        )
    notices = NoticeQueue(vault, catalog)
    work_orders = WorkOrders(db, vault)
    ratings = Ratings(db, vault, catalog, work_orders)
    progress = ProgressTracker(db, notices)
    applications = ApplicationRepository(db, vault, item_names, platform, progress)

    def names_of(thing: OneThing) -> None:  # an edit may rename item keys
        item_names[thing.id] = {i.key: i.name for i in thing.items}

    edits.on_change = names_of
    follower = GuideFollower(edits, redis)
    inbox = Inbox(redis, vault)
    contacts = ContactBook(db)
    counters = Counters(redis)
    desk = HandoverDesk(db, vault)
    conversation_log = ConversationLog(redis, vault, settings.session_ttl_days * 86400, waiting=waiting)
    phone_drafts = PhoneDraftBook(db, redis, vault)
    elicense = None
    if settings.elicense_url:
        elicense = ElicenseClient(
            settings.elicense_url, settings.elicense_key.get_secret_value(), settings.elicense_timeout_seconds
        )
    dialogue = Engine(
        catalog=catalog,
        nlu=nlu,
        sessions=SessionStore(redis, vault, settings.session_ttl_days * 86400),
        queue=UserQueue(redis, hold_seconds=settings.user_lock_seconds),
        applications=applications,
        shared=elicense,
        inbox=inbox,
        appeals=work_orders,
        ratings=ratings,
        desk=desk,
        log=conversation_log,
        pusher=WeChatPusher(db, vault),
        phone_drafts=phone_drafts,
        contacts=contacts,
        metrics=counters,
        pace=PersonPace(settings.rate_person_per_10s),
    )
    follower.start()
    return Services(
        nlu=nlu,
        applications=applications,
        dialogue=dialogue,
        elicense=elicense,
        platform=platform,
        inbox=inbox,
        contacts=contacts,
        counters=counters,
        work_orders=work_orders,
        notices=notices,
        progress=progress,
        ratings=ratings,
        miniprogram_api=(
            WeChatApi(
                redis,
                settings.miniprogram_appid,
                settings.miniprogram_secret.get_secret_value(),
                settings.wechat_api_url,
            )
            if settings.wechat_api_url
            else None
        ),
        asr=AsrClient(settings.asr_url, settings.asr_timeout_seconds) if settings.asr_url else None,
        hotline=(
            HotlineClient(
                settings.hotline_url, settings.hotline_key.get_secret_value(), settings.hotline_timeout_seconds
            )
            if settings.hotline_url
            else None
        ),
        wechat_api=(
            WeChatApi(redis, settings.wechat_appid, settings.wechat_secret.get_secret_value(), settings.wechat_api_url)
            if settings.wechat_api_url
            else None
        ),
        accounts=Accounts(db),
        desk=desk,
        conversation_log=conversation_log,
        phone_drafts=phone_drafts,
        nlu_store=store,
        nlu_trainer=trainer,
        settings=settings,
        redis=redis,
        waiting_redis=waiting,
        polls=OnePollEach(waiting),  # its bookkeeping too stays off the pool turns use
        db=db,
        catalog=catalog,
        catalog_load_ms=load_ms,
        catalog_edits=edits,
        catalog_follower=follower,
    )
