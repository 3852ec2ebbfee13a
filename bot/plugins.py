"""What ``bot/`` is handed from outside it, by name, through the package's entry points
(``pyproject.toml``): the composition root that runs the processes, a remote NLU's client. So the
core names no channel or integration module, and the wiring is the packaging's."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

PROCESSES = "lnyjs.processes"  # serve, worker, run, chat, db: handlers.processes:run_command
REMOTE_NLU = "lnyjs.remote_nlu"  # rasa: integrations.rasa:RasaClient


def load(group: str, name: str) -> Any:
    found = entry_points(group=group, name=name)
    if not found:
        raise LookupError(f"no {group} entry point {name!r}: reinstall the package (make setup)")
    return next(iter(found)).load()
