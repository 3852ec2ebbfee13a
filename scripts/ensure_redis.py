"""Make sure the Redis the settings name answers (part of ``make setup``).

With REDIS_URL unset, the project uses its own Redis on its own port with its
data under var/redis: started here when nothing answers there, installing
Debian's redis-server package when the binary is missing. With REDIS_URL set,
that server is the operator's business: only checked.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.redis_client import sentinel_target  # noqa: E402
from bot.settings import Settings  # noqa: E402


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def redis_binary() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found:
        return found
    print("redis-server not found: installing Debian's redis-server package", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "redis-server"], check=True, env=env
    )
    return shutil.which("redis-server") or "/usr/bin/redis-server"


def main() -> int:
    configured = "REDIS_URL" in os.environ
    target = sentinel_target(Settings().redis_url)
    if target is not None:  # the operator's Sentinels: one of them must answer
        for host, port in target.sentinels:
            if answers(host, port):
                print(f"redis sentinel answers at {host}:{port} (primary {target.service!r})")
                return 0
        print(f"no Sentinel of REDIS_URL answers: {target.sentinels}", file=sys.stderr)
        return 1
    url = urlparse(Settings().redis_url)
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    if answers(host, port):
        print(f"redis answers at {host}:{port}")
        return 0
    if configured or host not in ("127.0.0.1", "localhost"):
        print(
            f"REDIS_URL={Settings().redis_url} does not answer; start that server or unset REDIS_URL", file=sys.stderr
        )
        return 1
    data = ROOT / "var" / "redis"
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--appendonly",
            "yes",
            "--daemonize",
            "yes",
            "--pidfile",
            str(data / "redis.pid"),
            "--logfile",
            str(data / "redis.log"),
        ],
        check=True,
    )
    for _ in range(50):
        if answers(host, port):
            print(f"started redis at {host}:{port} (data in var/redis)")
            return 0
        time.sleep(0.1)
    print(f"redis did not start; see {data / 'redis.log'}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
