"""The long-running processes: ``serve``, ``worker``, and both in one (``run``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

import uvloop
from aiohttp import web

from bot.audit import AuditSealer
from bot.db.migrate import upgrade
from bot.masking import MaskingFilter
from bot.privacy import Retention
from bot.settings import ROOT, Settings, get_settings
from bot.worker import Consumer, run_worker
from handlers.app import create_app
from handlers.services import build_services

log = logging.getLogger(__name__)


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve(settings: Settings, host: str, port: int, stop: asyncio.Event, reuse_port: bool = False) -> None:
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    # reuse_port: several `serve` processes on one port, the kernel spreading connections among them
    site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
    await site.start()
    log.info("serving on http://%s:%s", host, port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


async def _worker(settings: Settings, stop: asyncio.Event) -> None:
    services = await build_services(settings, understands=False)  # the worker runs no turns
    consumers = []
    delivery = services.delivery()
    if delivery is not None:
        consumers.append(Consumer("outbox", delivery.run))
    else:
        log.warning("PLATFORM_URL is not set: submitted applications wait in the outbox")
    consumers.append(Consumer("notify", services.notifier().run))
    orders = services.work_order_sender()
    if orders is not None:
        consumers.append(Consumer("work_orders", orders.run))
    messages = services.wechat_messages()
    if messages is not None:
        consumers.append(Consumer("wechat", messages.run))
    consumers.append(Consumer("handovers", services.handover_sweeper().run))
    consumers.append(Consumer("audit", AuditSealer(services.db, services.redis).run))
    retention = Retention(services.db, settings.vault(), settings.retain_days, settings.retain_notice_days)
    consumers.append(Consumer("retention", retention.run))
    try:
        await run_worker(services.redis, consumers, heartbeat=settings.worker_heartbeat_seconds, stop=stop)
    finally:
        await services.close()


async def _simulators(settings: Settings, stop: asyncio.Event) -> None:
    """The outside systems, simulated, for the embedded `run` (see docs/*-api.md)."""
    from integrations.simulators.elicense import create_app as elicense_app
    from integrations.simulators.hotline import HotlineSim
    from integrations.simulators.platform import PlatformSim
    from integrations.simulators.wechat import WeChatSim

    sim = PlatformSim(
        ROOT / "var" / "sim" / "platform.db",
        settings.platform_key.get_secret_value(),
        settings.platform_callback_secret.get_secret_value(),
        pace=settings.platform_sim_pace_seconds,
    )
    hotline = HotlineSim(
        ROOT / "var" / "sim" / "hotline.db",
        settings.hotline_key.get_secret_value(),
        settings.hotline_callback_secret.get_secret_value(),
        pace=settings.hotline_sim_pace_seconds,
    )
    runners = []
    for app, port in (
        (elicense_app(settings.elicense_key.get_secret_value()), settings.elicense_sim_port),
        (sim.app(), settings.platform_sim_port),
        (WeChatSim(settings.wechat_apps()).app(), settings.wechat_sim_port),
        (hotline.app(), settings.hotline_sim_port),
    ):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    log.info(
        "simulators: e-license on %s, platform on %s, WeChat API on %s, 12345 on %s",
        settings.elicense_sim_port,
        settings.platform_sim_port,
        settings.wechat_sim_port,
        settings.hotline_sim_port,
    )
    try:
        await stop.wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()


def _with_simulators(settings: Settings) -> Settings:
    update: dict[str, object] = {}
    if settings.elicense_url is None:
        update["elicense_url"] = f"http://127.0.0.1:{settings.elicense_sim_port}"
    if settings.platform_url is None:
        update["platform_url"] = f"http://127.0.0.1:{settings.platform_sim_port}"
    if settings.wechat_api_url is None:
        update["wechat_api_url"] = f"http://127.0.0.1:{settings.wechat_sim_port}"
    if settings.hotline_url is None:
        update["hotline_url"] = f"http://127.0.0.1:{settings.hotline_sim_port}"
    return settings.model_copy(update=update)


async def _main(args: argparse.Namespace, settings: Settings) -> None:
    stop = _stop_event()
    host = getattr(args, "host", None) or settings.host
    port = getattr(args, "port", None) or settings.port
    jobs = []
    if args.command == "run" and settings.simulators:
        jobs.append(_simulators(settings, stop))
        settings = _with_simulators(settings)
    if args.command in ("serve", "run"):
        jobs.append(_serve(settings, host, port, stop, reuse_port=getattr(args, "reuse_port", False)))
    if args.command in ("worker", "run"):
        jobs.append(_worker(settings, stop))
    tasks = [asyncio.create_task(j) for j in jobs]
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for t in done:
        with contextlib.suppress(asyncio.CancelledError):
            t.result()  # re-raise a crash so the exit code tells


async def _rekey_people(settings: Settings) -> dict[str, int]:
    """What is stored about people, moved to the digests of today's LOOKUP_KEY (idempotent)."""
    from bot.db import make_engine
    from bot.people.keys import use_lookup_key
    from bot.people.rekey import rekey_people
    from bot.redis_client import make_redis

    use_lookup_key(settings.lookup_secret())
    engine, redis = make_engine(settings.database_url), make_redis(settings.redis_url)
    try:
        return dict(await rekey_people(engine, redis, settings.vault()))
    finally:
        await engine.dispose()
        await redis.aclose()


def run_command(args: argparse.Namespace) -> int:
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # personal data never reaches the logs in the clear
        handler.addFilter(MaskingFilter())
    if args.command == "db":
        if args.action == "upgrade":
            upgrade(settings.database_url)
            print("database at head")
            moved = asyncio.run(_rekey_people(settings))
            if moved:
                print(
                    "people moved to the keys of LOOKUP_KEY: " + ", ".join(f"{k} {n}" for k, n in sorted(moved.items()))
                )
        else:
            from bot.db import current_revision, make_engine

            async def show() -> None:
                engine = make_engine(settings.database_url)
                print(await current_revision(engine))
                await engine.dispose()

            asyncio.run(show())
        return 0
    if args.command == "chat":
        from handlers.terminal import chat

        asyncio.run(chat(settings, args.user))
        return 0
    problems = settings.deployment_problems()
    if problems:  # before anything listens or connects: named one by one, for the operator to fix
        print("DEPLOYMENT=production, and these secrets would let strangers in; nothing was started:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 2
    uvloop.run(_main(args, settings))
    return 0
