"""Production packaging (docker/, docs/deployment.md), checked without a Docker
engine: the compose file and what it runs, the env files against the settings,
the Dockerfiles, the entrypoint and the proxy. `docker compose config` runs too
when the client is installed (only that test is skipped without it)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import SecretStr

from bot.settings import ROOT, Settings

DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
ENV_EXAMPLE = DOCKER / "app.env.example"
SIM_ENV = DOCKER / "simulators.env"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"

SETTINGS = {name.upper() for name in Settings.model_fields}
SECRET_SETTINGS = {
    name.upper()
    for name, field in Settings.model_fields.items()
    if SecretStr in (field.annotation, *getattr(field.annotation, "__args__", ()))
}
# Variables of the other images that compose may set, as their images document them.
POSTGRES_VARS = {
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_PASSWORD_FILE",
    "POSTGRES_DB",
    "POSTGRES_INITDB_ARGS",
    "POSTGRES_HOST_AUTH_METHOD",
    "PGDATA",
}
LIBPQ_VARS = {"PGPASSWORD", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGSSLMODE"}
RASA_VARS = {"RASA_TELEMETRY_ENABLED", "SQLALCHEMY_SILENCE_UBER_WARNING", "TF_CPP_MIN_LOG_LEVEL", "LOG_LEVEL"}
REDIS_VARS: set[str] = set()  # the official image takes its settings as arguments
SIMULATED = {
    "elicense": "ELICENSE_URL",
    "platform": "PLATFORM_URL",
    "wechat": "WECHAT_API_URL",
    "hotline": "HOTLINE_URL",
}

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


# ---- reading the files as compose does --------------------------------------


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$`, over a loaded file."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, default = m.group(1), m.group(2), m.group(3) or ""
        if op in (":-", ":?"):
            return env.get(name) or default
        if op in ("-", "?"):
            return env.get(name, default)
        return env.get(name, "")

    return _VAR.sub(one, value)


def load_compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    return interpolate(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")), env or {})


def env_file(path: Path, documented: bool = False) -> dict[str, str]:
    """KEY=VALUE lines; with documented, also the `# KEY=default` lines that show a default."""
    pattern = r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$" if documented else r"^()([A-Z][A-Z0-9_]*)=(.*)$"
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(pattern, line.strip())
        if m:
            found[m.group(2)] = m.group(3).strip()
    return found


def env_files_of(service: dict[str, Any]) -> list[Path]:
    entries = service.get("env_file") or []
    entries = [entries] if isinstance(entries, str | dict) else entries
    return [DOCKER / (e["path"] if isinstance(e, dict) else e) for e in entries]


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(c) for c in cmd]


def runs(service: dict[str, Any], module: str) -> bool:
    return command(service)[:3] == ["python", "-m", module]


def uses_app_image(service: dict[str, Any]) -> bool:
    return (service.get("build") or {}).get("dockerfile") == "docker/Dockerfile"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose({"SIMULATORS_ENV_FILE": "simulators.env"})


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def named(services: dict[str, dict[str, Any]], test: Callable[[dict[str, Any]], bool]) -> list[str]:
    return [name for name, s in services.items() if test(s)]


def the(services: dict[str, dict[str, Any]], test: Callable[[dict[str, Any]], bool], what: str) -> str:
    found = named(services, test)
    assert len(found) == 1, f"one {what} expected, found {found}"
    return found[0]


# ---- the argument parsers of our commands, without running them --------------


class _Parsed(Exception):
    def __init__(self, namespace: argparse.Namespace) -> None:
        self.namespace = namespace


def parse_command(argv: list[str]) -> argparse.Namespace:
    """What `python -m bot|bot.nlu|integrations.simulators …` makes of argv; fails the test
    where its parser refuses it. The command's main() stops right after parsing."""
    assert argv[:2] == ["python", "-m"], argv
    module, args = argv[2], argv[3:]
    if module == "bot":
        from bot.__main__ import main as bot_main

        def main() -> object:
            return bot_main(args)
    elif module == "bot.nlu":
        from bot.nlu.__main__ import main as nlu_main

        def main() -> object:
            return nlu_main(args)
    elif module == "integrations.simulators":
        from integrations.simulators.__main__ import main
    else:
        pytest.fail(f"not one of our commands: {argv}")
    original = argparse.ArgumentParser.parse_args

    def capture(self: argparse.ArgumentParser, *a: Any, **kw: Any) -> argparse.Namespace:
        raise _Parsed(original(self, *a, **kw))

    with mock.patch.object(argparse.ArgumentParser, "parse_args", capture), mock.patch.object(sys, "argv", argv[2:]):
        try:
            main()
        except _Parsed as parsed:
            return parsed.namespace
        except SystemExit as exc:
            pytest.fail(f"{' '.join(argv)}: refused by its parser (exit {exc.code})")
    pytest.fail(f"{' '.join(argv)}: its main() did not parse arguments")


# ---- the compose file ---------------------------------------------------------


def test_the_services(services: dict[str, dict[str, Any]]) -> None:
    serving = named(services, lambda s: command(s)[:4] == ["python", "-m", "bot", "serve"])
    replicas = sum(int((services[n].get("deploy") or {}).get("replicas", 1)) for n in serving)
    assert replicas >= 2, f"two serve processes or more expected, found {replicas}"
    the(services, lambda s: command(s)[:4] == ["python", "-m", "bot", "worker"], "worker")
    redis = the(services, lambda s: str(s.get("image", "")).startswith("redis:"), "Redis")
    assert re.match(r"redis:7(\.|-|$)", services[redis]["image"])
    postgres = the(services, lambda s: str(s.get("image", "")).startswith("postgres:"), "PostgreSQL")
    assert re.match(r"postgres:15(\.|-|$)", services[postgres]["image"])
    the(services, lambda s: (s.get("build") or {}).get("dockerfile") == "docker/Dockerfile.rasa", "Rasa")


def named_volume_at(compose: dict[str, Any], service: dict[str, Any], target: str) -> str:
    for volume in service.get("volumes", []):
        source, _, rest = volume.partition(":") if isinstance(volume, str) else (volume["source"], "", volume["target"])
        if rest.split(":")[0] == target:
            assert source in (compose.get("volumes") or {}), f"{source} is not a named volume"
            return source
    pytest.fail(f"no volume at {target}")


def test_redis_persists(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    redis = services[the(services, lambda s: str(s.get("image", "")).startswith("redis:"), "Redis")]
    args = " ".join(command(redis))
    assert "--appendonly yes" in args
    assert "--appendfsync everysec" in args
    assert "--maxmemory-policy noeviction" in args  # sessions and queues are not a cache
    named_volume_at(compose, redis, "/data")
    assert not (redis.get("healthcheck") or {}).get("disable")


def test_postgres(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    name = the(services, lambda s: str(s.get("image", "")).startswith("postgres:"), "PostgreSQL")
    pg = services[name]
    named_volume_at(compose, pg, "/var/lib/postgresql/data")
    assert (pg.get("healthcheck") or {}).get("test") and not pg["healthcheck"].get("disable")
    env = pg.get("environment") or {}
    for app in named(services, lambda s: runs(s, "bot")):
        url = urlsplit(services[app]["environment"]["DATABASE_URL"])
        assert url.scheme == "postgresql+psycopg", app
        assert (url.hostname, url.port or 5432) == (name, 5432), app
        assert (url.username, url.path.lstrip("/")) == (env["POSTGRES_USER"], env["POSTGRES_DB"]), app
        assert url.password is None, f"{app}: the database password belongs in the pgpassword secret"
        assert "pgpassword" in services[app]["secrets"]


def test_migrations_run_once_before_serve_and_worker(services: dict[str, dict[str, Any]]) -> None:
    migrate = the(services, lambda s: command(s)[:5] == ["python", "-m", "bot", "db", "upgrade"], "migration")
    assert services[migrate].get("restart", "no") == "no"
    for name in named(services, lambda s: command(s)[3:4] in (["serve"], ["worker"])):
        condition = services[name]["depends_on"][migrate]["condition"]
        assert condition == "service_completed_successfully", name


def test_nlu_through_the_rasa_service(services: dict[str, dict[str, Any]]) -> None:
    rasa = the(services, lambda s: (s.get("build") or {}).get("dockerfile") == "docker/Dockerfile.rasa", "Rasa")
    for name in named(services, lambda s: runs(s, "bot")):
        env = services[name]["environment"]
        assert env["NLU_BACKEND"] == "rasa", name
        url = urlsplit(env["RASA_URL"])
        assert (url.hostname, url.port) == (rasa, 5005), name
    assert not services[rasa].get("ports"), "Rasa's API (model upload included) is never published"


def test_simulators_only_in_their_profile(services: dict[str, dict[str, Any]]) -> None:
    systems = {}
    for name, s in services.items():
        if runs(s, "integrations.simulators"):
            assert s.get("profiles") == ["simulators"], name
            systems[command(s)[3]] = name
        else:
            assert not s.get("profiles"), f"{name} must run in production"
    assert set(SIMULATED) <= set(systems), f"simulators of {set(SIMULATED) - set(systems)} missing"


def test_simulator_urls_point_at_the_simulators(services: dict[str, dict[str, Any]]) -> None:
    urls = env_file(SIM_ENV)
    for system, variable in SIMULATED.items():
        name = the(services, lambda s, system=system: runs(s, "integrations.simulators") and command(s)[3] == system,
                   f"{system} simulator")  # fmt: skip
        args = parse_command(command(services[name]))
        assert args.host == "0.0.0.0", f"{name} must listen beyond its own loopback"
        url = urlsplit(urls[variable])
        assert (url.hostname, url.port) == (name, args.port), variable
    # the platform and 12345 simulators call back at PUBLIC_BASE_URL, from inside the compose network
    proxy = the(services, lambda s: bool(s.get("ports")), "published service")
    public = urlsplit(urls["PUBLIC_BASE_URL"])
    assert public.hostname == proxy
    assert str(public.port) == str(services[proxy]["ports"][0]).rsplit(":", 1)[-1]
    # the app reads simulators.env after app.env, and only when asked to
    for name in named(services, lambda s: runs(s, "bot") or runs(s, "integrations.simulators")):
        assert env_files_of(services[name])[-1] == SIM_ENV, name
    prod = load_compose({})["services"]
    for name in named(prod, lambda s: runs(s, "bot")):
        assert SIM_ENV not in env_files_of(prod[name]), f"{name} reads simulators.env in production"


def test_the_proxy_spreads_over_serve(services: dict[str, dict[str, Any]], compose: dict[str, Any]) -> None:
    published = named(services, lambda s: bool(s.get("ports")))
    assert len(published) == 1, f"one published port expected (the proxy), found {published}"
    proxy = services[published[0]]
    mount = next(v for v in proxy["volumes"] if v.split(":")[1] == "/etc/nginx/nginx.conf")
    conf = (DOCKER / mount.split(":")[0]).read_text(encoding="utf-8")
    serve = the(services, lambda s: command(s)[:4] == ["python", "-m", "bot", "serve"], "serve service")
    port = int(Dockerfile(DOCKER / "Dockerfile").env()["PORT"])
    assert re.search(rf"^\s*server {serve}:{port} resolve\b", conf, re.M), "upstream: every serve replica"
    assert re.search(r"^\s*resolver 127\.0\.0\.11\b", conf, re.M), "Docker's DNS, asked again as replicas change"
    assert re.search(rf"^\s*listen {str(proxy['ports'][0]).rsplit(':', 1)[-1]};", conf, re.M)
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf  # the agent console's WebSocket
    assert "$request_uri" not in conf and "$args" not in conf, "query strings (WeChat's openid) stay out of logs"
    # the app believes X-Forwarded-For from the proxy's fixed address only
    address = proxy["networks"]["edge"]["ipv4_address"]
    subnet = compose["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    assert services[serve]["environment"]["TRUSTED_PROXIES"] == address
    assert "edge" in services[serve]["networks"]
    assert compose["networks"]["data"].get("internal") is True


def test_every_variable_is_a_setting_or_documented(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        keys = set((s.get("environment") or {}).keys())
        for path in env_files_of(s):
            if path.exists():
                keys |= set(env_file(path))
        allowed = SETTINGS if uses_app_image(s) else POSTGRES_VARS | LIBPQ_VARS | RASA_VARS | REDIS_VARS
        assert keys <= allowed, f"{name}: not a setting of bot/settings.py nor documented: {keys - allowed}"
    for path in (ENV_EXAMPLE, SIM_ENV):
        unknown = set(env_file(path, documented=path == ENV_EXAMPLE)) - SETTINGS
        assert not unknown, f"{path.name}: not settings of bot/settings.py: {unknown}"


def test_the_env_example_documents_every_setting() -> None:
    missing = SETTINGS - set(env_file(ENV_EXAMPLE, documented=True))
    assert not missing, f"document these settings in docker/app.env.example (a `# NAME=default` line): {missing}"


def test_the_env_example_holds_no_secret() -> None:
    active = env_file(ENV_EXAMPLE)
    assert {"DATA_KEYS", "WECHAT_SECRET", "PLATFORM_CALLBACK_SECRET"} <= SECRET_SETTINGS
    for name in SECRET_SETTINGS & set(active):
        assert active[name] in ("", "CHANGE-ME"), f"{name}: a placeholder, not a value"
    assert "DATA_KEYS" not in active
    for name, value in active.items():
        if name.endswith("_URL"):
            host = urlsplit(value).hostname or ""
            assert host.endswith(".invalid") or host == "api.weixin.qq.com", f"{name}: {value}"
    ignored = (DOCKER / ".gitignore").read_text(encoding="utf-8").split()
    assert {"app.env", "secrets/"} <= set(ignored)


def test_secrets_come_from_files(compose: dict[str, Any], services: dict[str, dict[str, Any]]) -> None:
    for name in ("data_keys", "pgpassword"):
        assert compose["secrets"][name]["file"].startswith("./secrets/")
    for name in named(services, lambda s: runs(s, "bot")):
        assert {"data_keys", "pgpassword"} <= set(services[name]["secrets"]), name
        assert "DATA_KEYS" not in (services[name].get("environment") or {})
        # production unless a trial says otherwise: development secrets are then refused at start
        assert services[name]["environment"]["DEPLOYMENT"] == "production", name


def test_every_command_is_accepted(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        if uses_app_image(s):
            assert runs(s, "bot") or runs(s, "integrations.simulators"), f"{name}: {command(s)}"
            parse_command(command(s))
    args = parse_command(Dockerfile(DOCKER / "Dockerfile").cmd())
    assert args.command == "serve"


def test_compose_variables_are_documented() -> None:
    names = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE.read_text(encoding="utf-8")))
    doc = DEPLOYMENT_DOC.read_text(encoding="utf-8")
    missing = {n for n in names if n not in doc}
    assert not missing, f"compose variables docs/deployment.md does not mention: {missing}"


def compose_client() -> list[str]:
    """Compose 2 (the docker plugin) where there is one, else Compose 1.29 (Debian's docker-compose,
    which `make compose-setup` installs): the file is written for both."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    assert legacy, "no Compose client: `make compose-setup` installs Debian's docker-compose"
    return [legacy]


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    """docker/ as an operator has it after the first step: app.env copied from the example."""
    here = tmp_path / "docker"
    shutil.copytree(DOCKER, here, ignore=shutil.ignore_patterns("app.env", "secrets"))
    shutil.copy(ENV_EXAMPLE, here / "app.env")
    return here / COMPOSE.name


def compose_config(compose_file: Path, extra: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    names = ("COMPOSE_PROFILES", "COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "SIMULATORS_ENV_FILE")
    clean = {k: v for k, v in os.environ.items() if k not in names}
    return subprocess.run(
        [*compose_client(), "-f", str(compose_file), *extra, "config", "--quiet"],
        capture_output=True,
        text=True,
        env={**clean, **env},
        check=False,
    )


@pytest.mark.parametrize(
    "extra, env",
    [
        ([], {}),
        (["--profile", "simulators"], {}),
        (["--profile", "simulators"], {"SIMULATORS_ENV_FILE": "simulators.env"}),
    ],
)
def test_docker_compose_config(deployment: Path, extra: list[str], env: dict[str, str]) -> None:
    done = compose_config(deployment, extra, env)
    assert done.returncode == 0, done.stderr


def test_docker_compose_refuses_a_deployment_without_its_settings(deployment: Path) -> None:
    (deployment.parent / "app.env").unlink()  # the client really reads the file: a missing one is an error
    done = compose_config(deployment, [], {})
    assert done.returncode != 0 and "app.env" in done.stderr, done.stderr


# ---- the Dockerfiles ------------------------------------------------------------


class Dockerfile:
    def __init__(self, path: Path) -> None:
        self.path = path
        text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
        self.lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]

    def instructions(self, word: str) -> list[str]:
        return [line.split(None, 1)[1] for line in self.lines if line.split(None, 1)[0].upper() == word]

    def index(self, pattern: str) -> int:
        return next(i for i, line in enumerate(self.lines) if re.search(pattern, line))

    def stages(self) -> Iterator[Dockerfile]:
        starts = [i for i, line in enumerate(self.lines) if line.upper().startswith("FROM ")]
        for a, b in zip(starts, [*starts[1:], len(self.lines)], strict=True):
            stage = object.__new__(Dockerfile)
            stage.path, stage.lines = self.path, self.lines[a:b]
            yield stage

    def env(self) -> dict[str, str]:
        found = {}
        for args in self.instructions("ENV"):
            found.update(dict(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", args)))
        return found

    def cmd(self) -> list[str]:
        return yaml.safe_load(self.instructions("CMD")[-1])  # the exec form is a JSON list

    def copy_sources(self) -> list[str]:
        sources = []
        for args in self.instructions("COPY"):
            words = args.split()
            if any(w.startswith("--from=") for w in words):
                continue
            sources += [w for w in words if not w.startswith("--")][:-1]
        return sources


def assert_base(dockerfile: Dockerfile) -> None:
    env = dockerfile.env()
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1" and env.get("PYTHONUNBUFFERED") == "1"
    user = dockerfile.instructions("USER")
    assert user and user[-1].split(":")[0] not in ("root", "0"), f"{dockerfile.path.name}: a non-root user"
    assert dockerfile.instructions("HEALTHCHECK")
    for source in dockerfile.copy_sources():
        assert (ROOT / source).exists(), f"{dockerfile.path.name}: COPY {source}: no such file"
    baked = SECRET_SETTINGS & (set(env) | set(re.findall(r"[A-Z_]+", " ".join(dockerfile.instructions("ARG")))))
    assert not baked, f"{dockerfile.path.name}: secrets baked in: {baked}"
    ignore = (dockerfile.path.parent / f"{dockerfile.path.name}.dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", "var", ".env", "docker/app.env", "docker/secrets"} <= set(ignore)


def test_the_app_image() -> None:
    app = Dockerfile(DOCKER / "Dockerfile")
    assert app.instructions("FROM") == ["python:3.11-slim-bookworm"]
    assert_base(app)
    install = app.index(r"pip install .*-r ")
    assert app.index(r"^COPY pyproject\.toml ") < install < app.index(r"^COPY bot "), "dependencies before the code"
    assert "['project']['dependencies']" in app.lines[install], "the pinned list of pyproject.toml"
    assert app.cmd()[:3] == ["python", "-m", "bot"]
    assert "fonts-wqy-microhei" not in app.path.read_text(encoding="utf-8")
    check = (DOCKER / "healthcheck.py").read_text(encoding="utf-8")
    assert "healthcheck.py" in app.instructions("HEALTHCHECK")[0] and "/healthz" in check


def pins(path: Path) -> dict[str, str]:
    """name (normalised) -> version, of a constraints file; any line that is not a pin fails."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line.strip())
        assert m, f"{path.name}: not an exact pin: {line!r}"
        found[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return found


def requirement(spec: str) -> tuple[str, str]:
    m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^]]*\])?==(\S+)", spec.split(";")[0].strip())
    assert m, f"not pinned exactly: {spec!r}"
    return re.sub(r"[-_.]+", "-", m.group(1)).lower(), m.group(2)


def test_transitive_dependencies_are_pinned_where_everything_is_installed() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    constraints = pins(ROOT / "constraints.txt")
    for name, version in map(requirement, direct):
        assert constraints.get(name) == version, f"constraints.txt: {name} {constraints.get(name)}, pyproject {version}"
    rasa = pins(ROOT / "constraints-rasa.txt")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for name in ("rasa", "jieba"):
        wanted = re.search(rf"\b{name}==([\d.]+)", makefile).group(1)
        assert rasa.get(name) == wanted, f"constraints-rasa.txt: {name} {rasa.get(name)}, Makefile {wanted}"
    # every install goes through them
    assert "-c constraints.txt -e '.[dev]'" in makefile
    assert "-c constraints-rasa.txt rasa==" in makefile
    for dockerfile in ("Dockerfile", "Dockerfile.rasa"):
        text = (DOCKER / dockerfile).read_text(encoding="utf-8")
        assert "pip install --no-cache-dir -c constraints.txt -r requirements.txt" in text, dockerfile
    assert "-c constraints-rasa.txt rasa==" in (DOCKER / "Dockerfile.rasa").read_text(encoding="utf-8")


def test_the_rasa_image() -> None:
    rasa = Dockerfile(DOCKER / "Dockerfile.rasa")
    first, last = list(rasa.stages())
    assert first.instructions("FROM")[0].startswith("python:3.11-slim-bookworm AS ")
    assert last.instructions("FROM")[0].startswith("python:3.10")
    assert_base(last)
    # the versions `make rasa-setup` installs (its recipe: the lines after the stamp's rule)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^\$\(RASA_STAMP\):.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    for package in ("rasa", "jieba", "pip"):
        wanted = re.search(rf"\b{package}==([\d.]+)", recipe).group(1)
        assert f"{package}=={wanted}" in " ".join(last.lines), f"{package}=={wanted} as in the Makefile"
    # the domain, written by the app (its parser accepts the command), handed to the Rasa stage
    domain = next(line for line in first.lines if "bot.nlu domain" in line).split(None, 1)[1].split()
    out = parse_command(domain).out
    stage = first.instructions("FROM")[0].split()[-1]
    copied = next(a for a in last.instructions("COPY") if f"--from={stage}" in a).split()
    assert str(out) in copied
    train = next(line for line in last.lines if "rasa train nlu" in line)
    assert "--config nlu_data/config.yml" in train and "--nlu nlu_data" in train
    assert f"--domain {copied[-1].removeprefix('./')}" in train
    run = last.cmd()
    assert run[:2] == ["rasa", "run"] and "--enable-api" in run
    assert run[run.index("--port") + 1] == "5005" and last.instructions("EXPOSE") == ["5005"]
    model = run[run.index("--model") + 1]
    assert re.search(r"--out (\S+)", train).group(1) in model and "--fixed-model-name nlu" in train


# ---- the entrypoint ---------------------------------------------------------------


def entrypoint(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "SECRETS_DIR": str(tmp_path)}
    return subprocess.run(
        ["sh", str(DOCKER / "entrypoint.sh"), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**base, **env},
        timeout=60,
        check=False,
    )


def test_the_entrypoint_reads_secrets_and_refuses_without_keys(tmp_path: Path) -> None:
    (tmp_path / "data_keys").write_text("key-from-file\n")
    (tmp_path / "pgpassword").write_text("pw\n")
    shown = entrypoint(tmp_path, "sh", "-c", 'printf "%s|%s" "$DATA_KEYS" "$PGPASSWORD"')
    assert shown.stdout == "key-from-file|pw"
    shown = entrypoint(tmp_path, "sh", "-c", 'printf "%s" "$DATA_KEYS"', DATA_KEYS="key-from-env")
    assert shown.stdout == "key-from-env", "a variable already set wins over the file"

    empty = tmp_path / "none"
    empty.mkdir()
    refused = entrypoint(empty, "python", "-m", "bot", "serve", PUBLIC_BASE_URL="https://x.invalid")
    assert refused.returncode == 64 and "DATA_KEYS" in refused.stderr
    refused = entrypoint(tmp_path, "python", "-m", "bot", "worker")
    assert refused.returncode == 64 and "PUBLIC_BASE_URL" in refused.stderr
    placeholder = {"PUBLIC_BASE_URL": "https://x.invalid", "WECHAT_SECRET": "CHANGE-ME"}
    refused = entrypoint(tmp_path, "python", "-m", "bot", "serve", **placeholder)
    assert refused.returncode == 64 and "WECHAT_SECRET" in refused.stderr, "app.env.example's placeholder left"
    made = entrypoint(empty, "python", "-m", "bot", "keys", "new")
    assert made.returncode == 0 and len(made.stdout.strip()) == 44, made.stderr


def test_the_app_image_registers_the_entry_points_bot_is_handed() -> None:
    """``python -m bot serve`` finds the processes through the package's entry points (bot/plugins.py):
    the image installs the project in place, after its code is there."""
    app = Dockerfile(DOCKER / "Dockerfile")
    editable = app.index(r"pip install .*--no-deps -e \.")
    assert app.index(r"^COPY integrations ") < editable and app.index(r"^COPY handlers ") < editable
    assert editable < app.index(r"^USER ")
