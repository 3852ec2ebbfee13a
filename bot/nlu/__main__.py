"""``python -m bot.nlu test|bench``: evaluate and time the NLU back ends.

test  --nlu FILE [--backend embedded|rasa] [--out DIR]   held-out evaluation
test  --cross-validation [--folds N] [--out DIR]          k-fold on nlu_data/
bench [--n N]                                             parse latency, retraining time
domain --out FILE                                         Rasa domain of nlu_data/ (for rasa train/validate)
compose                                                   nlu_data/composed.yml anew from the catalog's words
outside [--backend embedded|rasa] [--out DIR]             act and thing accuracy on tests/data/outside/

The last line printed is one JSON object, for scripts and docs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.nlu.data import TrainingData, read_dir, read_file
from bot.nlu.engine import EmbeddedNLU, NluConfig, userdict_of
from bot.nlu.evaluate import Parse, cross_validate, evaluate
from bot.nlu.service import RemoteNluUnavailable
from bot.plugins import REMOTE_NLU, load
from bot.settings import ROOT, get_settings

ROOT_TESTS = ROOT / "tests"


def _config() -> NluConfig:
    s = get_settings()
    return NluConfig(fallback_threshold=s.nlu_fallback_threshold, ambiguity_threshold=s.nlu_ambiguity_threshold)


def _embedded(data_dir: Path) -> Parse:
    return EmbeddedNLU.from_dir(data_dir, _config()).parse_many


def _rasa() -> Parse:
    RasaClient = load(REMOTE_NLU, "rasa")
    s = get_settings()

    async def many(texts: Sequence[str]) -> list[dict[str, Any]]:
        async with RasaClient(s.rasa_url, timeout=max(s.rasa_timeout_seconds, 30.0)) as client:
            return [await client.parse(t) for t in texts]

    return lambda texts: asyncio.run(many(texts))


def cmd_test(args: argparse.Namespace) -> int:
    data_dir = args.data or get_settings().nlu_data_dir
    if args.cross_validation:
        data = read_dir(data_dir)
        userdict = userdict_of(data_dir)

        def train(part: TrainingData) -> Parse:
            return EmbeddedNLU.train(part, userdict, _config()).parse_many

        result = cross_validate(data, train, folds=args.folds)
        backend = f"embedded, {args.folds}-fold cross-validation"
    else:
        if not args.nlu:
            print("--nlu FILE or --cross-validation is required", file=sys.stderr)
            return 2
        parse = _rasa() if args.backend == "rasa" else _embedded(data_dir)
        result = evaluate(parse, read_file(args.nlu).examples)
        backend = args.backend
    if args.out:
        result.write(args.out)
    print(json.dumps(result.summary(backend), ensure_ascii=False))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    data_dir = get_settings().nlu_data_dir
    data = read_dir(data_dir)
    start = time.perf_counter()
    nlu = EmbeddedNLU.train(data, userdict_of(data_dir), _config())
    train_s = time.perf_counter() - start
    texts = [e.text for e in data.examples]
    for t in texts[:50]:
        nlu.parse(t)  # warm-up
    times = []
    start = time.perf_counter()
    for i in range(args.n):
        t0 = time.perf_counter()
        nlu.parse(texts[i % len(texts)])
        times.append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - start
    times.sort()
    out: dict[str, Any] = {
        "bench": "nlu.embedded",
        "train_seconds": round(train_s, 2),
        "examples": len(texts),
        "parses": args.n,
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[int(0.99 * (len(times) - 1))], 3),
        "parses_per_second": round(args.n / wall, 1),
    }
    print(json.dumps(out, ensure_ascii=False))
    rasa = _bench_rasa(texts, min(args.n, 300))
    if rasa:
        print(json.dumps(rasa, ensure_ascii=False))
    return 0


def _bench_rasa(texts: list[str], n: int) -> dict[str, Any] | None:
    """Rasa's latency over loopback HTTP, when a Rasa server answers."""
    RasaClient = load(REMOTE_NLU, "rasa")
    s = get_settings()

    async def run() -> dict[str, Any] | None:
        async with RasaClient(s.rasa_url, timeout=5.0) as client:
            try:
                await client.parse("你好")
            except RemoteNluUnavailable:
                return None
            times = []
            start = time.perf_counter()
            for i in range(n):
                t0 = time.perf_counter()
                await client.parse(texts[i % len(texts)])
                times.append((time.perf_counter() - t0) * 1000)
            wall = time.perf_counter() - start
        times.sort()
        return {
            "bench": "nlu.rasa (HTTP /model/parse)",
            "parses": n,
            "p50_ms": round(statistics.median(times), 3),
            "p99_ms": round(times[int(0.99 * (len(times) - 1))], 3),
            "parses_per_second": round(n / wall, 1),
        }

    return asyncio.run(run())


def cmd_domain(args: argparse.Namespace) -> int:
    """A Rasa domain listing the intents and entities of the data (Rasa's
    validator and trainer want one; the dialogue itself is ours, not Rasa's)."""
    import yaml

    data = read_dir(get_settings().nlu_data_dir)
    entities = sorted({s.entity for e in data.examples for s in e.entities} | set(data.lookups) | set(data.regexes))
    domain = {"version": "3.1", "intents": data.intents, "entities": entities}
    text = "# generated by `python -m bot.nlu domain` from nlu_data/\n" + yaml.safe_dump(domain, allow_unicode=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0


def cmd_outside(args: argparse.Namespace) -> int:
    """Act and thing accuracy on the outside authors' opening messages (tests/data/outside/), as the
    service reads them (the back end's parse, the catalog's words)."""
    from bot.catalog import load_catalog
    from bot.catalog.words import ThingWords
    from bot.nlu.outside import load as load_outside
    from bot.nlu.outside import score
    from bot.nlu.understanding import read

    settings = get_settings()
    words = ThingWords(load_catalog(settings.catalog_dir))
    batches = load_outside(args.folder)
    texts = [item["text"] for items in batches.values() for item in items]
    parse = _rasa() if args.backend == "rasa" else _embedded(args.data or settings.nlu_data_dir)
    readings = {t: read(r, words.named_in) for t, r in zip(texts, parse(texts), strict=True)}

    def reader(text: str) -> tuple[str, list[str]]:
        r = readings[text]
        return r.act, [t for t, _ in r.things]

    out: dict[str, Any] = {"backend": args.backend}
    every = []
    for name, items in batches.items():
        result = score(items, reader)
        every += items
        out[name] = {k: result[k] for k in ("n", "act_accuracy", "thing_accuracy")}
    total = score(every, reader)
    out["all"] = {k: total[k] for k in ("n", "act_accuracy", "thing_accuracy", "act_confusions")}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"outside_errors_{args.backend}.json").write_text(
            json.dumps(total["wrong"], ensure_ascii=False, indent=1), encoding="utf-8"
        )
    print(json.dumps(out, ensure_ascii=False))
    return 0


def cmd_compose(args: argparse.Namespace) -> int:
    """A one-thing named with what is asked of it, from the catalog's words (bot/nlu/compose.py)."""
    from bot.catalog import load_catalog
    from bot.nlu.compose import COMPOSED, compose, hand_written, synonyms, to_yaml

    settings = get_settings()
    catalog = load_catalog(settings.catalog_dir)
    out = settings.nlu_data_dir / COMPOSED
    written = hand_written(settings.nlu_data_dir)
    out.write_text(to_yaml(compose(catalog, written=written), synonyms(catalog)), encoding="utf-8")
    print(json.dumps({"written": str(out)}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu", description="evaluate and time the NLU")
    sub = parser.add_subparsers(dest="command", required=True)
    test = sub.add_parser("test", help="evaluate on held-out data or by cross-validation")
    test.add_argument("--nlu", type=Path, help="Rasa-format NLU file the model was not trained on")
    test.add_argument("--backend", choices=["embedded", "rasa"], default="embedded")
    test.add_argument("--out", type=Path, help="folder for intent_report.json, intent_errors.json, the PNG")
    test.add_argument("--data", type=Path, help="training data folder (default: settings NLU_DATA_DIR)")
    test.add_argument("--cross-validation", action="store_true")
    test.add_argument("--folds", type=int, default=5)
    bench = sub.add_parser("bench", help="parse latency and retraining time")
    bench.add_argument("--n", type=int, default=3000)
    domain = sub.add_parser("domain", help="write the Rasa domain (intents, entities) of nlu_data/")
    domain.add_argument("--out", type=Path, required=True)
    sub.add_parser("compose", help="write nlu_data/composed.yml from the catalog's words")
    outside = sub.add_parser("outside", help="act and thing accuracy on the outside authors' messages")
    outside.add_argument("--backend", choices=["embedded", "rasa"], default="embedded")
    outside.add_argument("--folder", type=Path, default=ROOT_TESTS / "data" / "outside")
    outside.add_argument("--data", type=Path, help="training data folder (default: settings NLU_DATA_DIR)")
    outside.add_argument("--out", type=Path, help="folder for the misread messages (JSON)")
    args = parser.parse_args(argv)
    commands = {"test": cmd_test, "bench": cmd_bench, "domain": cmd_domain, "compose": cmd_compose,
                "outside": cmd_outside}  # fmt: skip
    return commands[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
