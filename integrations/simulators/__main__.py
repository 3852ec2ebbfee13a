"""Run one simulator on its own: ``python -m integrations.simulators elicense|platform|wechat|asr|hotline --port P``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvloop
from aiohttp import web

from bot.settings import ROOT, get_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m integrations.simulators")
    parser.add_argument("system", choices=["elicense", "platform", "wechat", "asr", "hotline"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "sim" / "platform.db", help="platform: its storage")
    parser.add_argument("--pace", type=float, help="platform: seconds between two steps of every item")
    args = parser.parse_args()
    settings = get_settings()
    logging.basicConfig(level=settings.log_level)
    if args.system == "elicense":
        from integrations.simulators.elicense import create_app

        app = create_app(settings.elicense_key.get_secret_value())
        port = args.port or settings.elicense_sim_port
    elif args.system == "wechat":
        from integrations.simulators.wechat import WeChatSim

        app = WeChatSim(settings.wechat_apps()).app()
        port = args.port or settings.wechat_sim_port
    elif args.system == "hotline":
        from integrations.simulators.hotline import HotlineSim

        app = HotlineSim(
            ROOT / "var" / "sim" / "hotline.db",
            settings.hotline_key.get_secret_value(),
            settings.hotline_callback_secret.get_secret_value(),
            pace=args.pace if args.pace is not None else settings.hotline_sim_pace_seconds,
        ).app()
        port = args.port or settings.hotline_sim_port
    elif args.system == "asr":
        from integrations.simulators.asr import AsrSim

        app = AsrSim().app()
        port = args.port or 8094
    else:
        from integrations.simulators.platform import PlatformSim

        sim = PlatformSim(
            args.db,
            settings.platform_key.get_secret_value(),
            settings.platform_callback_secret.get_secret_value(),
            pace=args.pace if args.pace is not None else settings.platform_sim_pace_seconds,
        )
        app = sim.app()
        port = args.port or settings.platform_sim_port
    # uvloop, as the service's processes: under load the simulators share the same cores
    web.run_app(app, host=args.host, port=port, access_log=None, loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()
