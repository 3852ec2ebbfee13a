"""``make bench``, first: the catalog's load and the dialogue's turns in process (the NLU, HTTP,
the notifier and the whole service under load have scripts of their own beside this one).

Prints one JSON line per measurement, so results can be compared over time.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

from bot.catalog import load_catalog
from bot.catalog.export import export_catalog
from bot.catalog.render import render_guide
from bot.settings import get_settings


def measure(name: str, fn: Callable[[], object], repeat: int) -> dict[str, object]:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "bench": name,
        "runs": repeat,
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
        "max_ms": round(times[-1], 3),
    }


def main() -> None:
    directory = get_settings().catalog_dir
    catalog = load_catalog(directory)
    results = [
        measure("catalog.load (35 files, parse + validate)", lambda: load_catalog(directory), 20),
        measure("catalog.render_all (35 一次告知 messages)", lambda: [render_guide(t) for t in catalog], 50),
        measure("catalog.export (JSON-ready dicts)", lambda: export_catalog(catalog), 20),
    ]
    for r in results:
        print(json.dumps(r, ensure_ascii=False))


if __name__ == "__main__":
    main()
