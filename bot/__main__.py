"""Command line: ``python -m bot serve|worker|run|catalog|db``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.settings import get_settings


def _catalog(args: argparse.Namespace) -> int:
    from bot.catalog import check_catalog, load_catalog
    from bot.catalog.export import export_catalog

    directory = args.dir or get_settings().catalog_dir
    if args.action == "check":
        things, problems = check_catalog(directory, only=args.files or None)
        for p in problems:
            print(p)
        print(f"{len(things)} 个一件事，{len(problems)} 个问题", file=sys.stderr)
        return 1 if problems else 0
    json.dump(export_catalog(load_catalog(directory)), sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


def _admin(args: argparse.Namespace) -> int:
    """Console accounts: bootstrap the first admin, add agents, reset a password."""
    import asyncio
    import getpass

    from bot.accounts import AccountError, Accounts
    from bot.accounts.sessions import ConsoleSessions
    from bot.db import make_engine
    from bot.db.migrate import upgrade
    from bot.redis_client import make_redis
    from bot.texts import staff

    password = ""
    if args.action == "deactivate":
        pass
    elif args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(staff.ACCOUNT_PASSWORD_PROMPT.format(n=10))
        if getpass.getpass(staff.ACCOUNT_PASSWORD_AGAIN) != password:
            print(staff.ACCOUNT_PASSWORD_MISMATCH, file=sys.stderr)
            return 2
    settings = get_settings()

    async def go() -> None:
        await asyncio.to_thread(upgrade, settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            accounts = Accounts(engine)
            if args.action == "create-user":
                account = await accounts.create(args.username, password, args.role, args.display_name or "", "cli")
                print(staff.ACCOUNT_CREATED.format(role=account.role, username=account.username))
                return
            if args.action == "deactivate":
                account_id = await accounts.deactivate(args.username, "cli")
            else:
                account_id = await accounts.set_password(args.username, password, "cli")
            # whoever was logged in as this account (perhaps the one it was taken from) is out now
            redis = make_redis(settings.redis_url)
            try:
                ended = await ConsoleSessions(redis, settings.console_session_minutes).end_all(account_id)
            finally:
                await redis.aclose()
            print(staff.ACCOUNT_LOGINS_ENDED.format(username=args.username, n=ended))
        finally:
            await engine.dispose()

    try:
        asyncio.run(go())
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def _audit(args: argparse.Namespace) -> int:
    """Check the audit log's hash chain (seal what is not sealed yet first)."""
    import asyncio

    from bot.audit import seal, verify
    from bot.db import make_engine

    settings = get_settings()

    async def go() -> dict[str, object]:
        engine = make_engine(settings.database_url)
        try:
            while await seal(engine):
                pass
            return await verify(engine)
        finally:
            await engine.dispose()

    result = asyncio.run(go())
    print(json.dumps(result))
    return 0 if result["broken_at"] is None else 1


def _keys(args: argparse.Namespace) -> int:
    """Data keys: a fresh one to put first in DATA_KEYS; reseal everything with the newest."""
    import asyncio

    from bot.crypto import new_key

    if args.action == "new":
        print(new_key())
        return 0
    from bot.db import make_engine
    from bot.redis_client import make_redis
    from bot.rekey import rotate_redis, rotate_sql

    settings = get_settings()
    vault = settings.vault()

    async def go() -> dict[str, int]:
        engine, redis = make_engine(settings.database_url), make_redis(settings.redis_url)
        try:
            tally = await rotate_sql(engine, vault)
            tally.update(await rotate_redis(redis, vault))
            return dict(tally)
        finally:
            await engine.dispose()
            await redis.aclose()

    print(json.dumps({"key": vault.key_id, "cipher": settings.data_cipher, "resealed": asyncio.run(go())},
                     ensure_ascii=False))  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="辽宁“一件事一次办”助手")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (
        ("serve", "run the aiohttp application"),
        ("run", "run serve and worker together in one process (embedded default)"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        p.add_argument("--reuse-port", action="store_true", help="share the port with other serve processes")
    sub.add_parser("worker", help="run the background consumers")
    chat = sub.add_parser("chat", help="talk to the assistant in the terminal (stdin may be piped)")
    chat.add_argument("--user", default="terminal:local", help="who is talking (sessions are per user)")
    cat = sub.add_parser("catalog", help="check or export the guide catalog")
    cat.add_argument("action", choices=["check", "export"])
    cat.add_argument("--dir", type=Path, help="catalog folder (default: settings)")
    cat.add_argument("files", nargs="*", type=Path, help="check only these guide files")
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    audit = sub.add_parser("audit", help="the audit log")
    audit.add_argument("action", choices=["verify"])
    keys = sub.add_parser("keys", help="data keys: a new one; reseal stored data with the newest")
    keys.add_argument("action", choices=["new", "rotate"])
    admin = sub.add_parser("admin", help="console accounts (hotline agents, admins)")
    admin.add_argument("action", choices=["create-user", "set-password", "deactivate"])
    admin.add_argument("--username", required=True)
    admin.add_argument("--role", choices=["admin", "agent"], default="agent")
    admin.add_argument("--display-name", help="the name citizens see (default: the username)")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    dialogue = sub.add_parser("dialogue", help="the dialogue's states and where they go")
    dialogue.add_argument("action", choices=["states", "diagram"], help="states: the table; diagram: Mermaid")
    args = parser.parse_args(argv)

    if args.command == "dialogue":
        from bot.dialogue.diagram import mermaid, table

        print(table() if args.action == "states" else mermaid(), end="\n" if args.action == "states" else "")
        return 0

    if args.command == "catalog":
        return _catalog(args)
    if args.command == "admin":
        return _admin(args)
    if args.command == "keys":
        return _keys(args)
    if args.command == "audit":
        return _audit(args)
    # the processes are the composition root's (handlers/), handed in by the package's entry points
    from bot.plugins import PROCESSES, load

    return int(load(PROCESSES, "run")(args))


if __name__ == "__main__":
    sys.exit(main())
