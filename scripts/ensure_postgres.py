"""Make sure a PostgreSQL answers for the tests (part of ``make test``), as
``ensure_redis.py`` does for Redis: the database matrix and the database-outage
faults need one. With DATABASE_URL_PG set, that server is the operator's
business: only checked. Otherwise 127.0.0.1:5432 is used when it answers; when
nothing does, a cluster of the project's own (``lnyjs``) is created and started
there with Debian's pg_createcluster, installing Debian's postgresql package
when it is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg

DEFAULT = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=2"
CLUSTER = "lnyjs"


def answers(conninfo: str) -> bool:
    try:
        with psycopg.connect(conninfo):
            return True
    except psycopg.Error:
        return False


def as_root(*command: str) -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, *command], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def main() -> int:
    if "DATABASE_URL_PG" in os.environ:
        return 0  # conftest connects to it and fails loudly if it does not answer
    if answers(DEFAULT):
        print("postgresql answers at 127.0.0.1:5432")
        return 0
    if shutil.which("pg_createcluster") is None:
        print("no PostgreSQL: installing Debian's postgresql package", flush=True)
        as_root("apt-get", "update", "-qq")
        as_root("apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql")
    version = max(p.name for p in Path("/usr/lib/postgresql").iterdir())
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    if not any(line.split()[:2] == [version, CLUSTER] for line in listed.splitlines()):
        as_root("pg_createcluster", version, CLUSTER, "-p", "5432", "--", "--auth=trust")
    as_root("pg_ctlcluster", version, CLUSTER, "start")
    for _ in range(100):
        if answers(DEFAULT):
            print(f"started postgresql {version} cluster {CLUSTER} at 127.0.0.1:5432")
            return 0
        time.sleep(0.1)
    print(f"postgresql cluster {CLUSTER} did not answer at 127.0.0.1:5432", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
