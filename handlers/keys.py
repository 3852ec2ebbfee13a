"""Typed keys of what the app holds."""

from aiohttp import web

from handlers.services import Services

SERVICES = web.AppKey("services", Services)
