"""The application factory: one aiohttp app with every route."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from bot.nlu.training import follow_activations
from bot.settings import Settings, get_settings
from handlers import callbacks, catalog_api, demo, health, ivr, miniprogram, nlu_api, openapi, wechat
from handlers.console import agent as console_agent
from handlers.console import catalog_admin as console_catalog
from handlers.console import corrections as console_corrections
from handlers.console import dashboard as console_dashboard
from handlers.console import login as console_login
from handlers.console import oversight as console_oversight
from handlers.console import pages as console_pages
from handlers.keys import SERVICES
from handlers.limits import limit_addresses
from handlers.odd_urls import odd_urls
from handlers.outages import outages
from handlers.services import build_services


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or get_settings()
    # outages first: a Redis or database outage anywhere, the limiter's included, is a polite 503
    app = web.Application(client_max_size=1024 * 1024, middlewares=[outages, odd_urls, limit_addresses])

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        services = await build_services(settings)
        app[SERVICES] = services
        # follow model activations made by any process (admin API anywhere)
        stop = asyncio.Event()
        follower = asyncio.create_task(follow_activations(services.nlu_trainer, services.nlu.replace_model, stop))
        yield
        stop.set()
        done, _ = await asyncio.wait([follower], timeout=5)
        if not done:
            follower.cancel()
        await services.close()

    app.cleanup_ctx.append(services_ctx)
    health.setup(app)
    catalog_api.setup(app)
    nlu_api.setup(app)
    wechat.setup(app)
    callbacks.setup(app)
    ivr.setup(app)
    miniprogram.setup(app)
    openapi.setup(app)
    demo.setup(app)
    console_login.setup(app)
    console_agent.setup(app)
    console_catalog.setup(app)
    console_corrections.setup(app)
    console_pages.setup(app)
    console_oversight.setup(app)
    console_dashboard.setup(app)
    return app
