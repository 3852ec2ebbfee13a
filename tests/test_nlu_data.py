"""The training data is complete Rasa 3.1 data for the fixed intents, and the
embedded engine meets the bar on the held-out test set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.nlu.data import read_dir, read_file
from bot.nlu.engine import FALLBACK, EmbeddedNLU
from bot.nlu.evaluate import evaluate
from bot.nlu.understanding import read, right
from bot.settings import ROOT

DATA = ROOT / "nlu_data"
HELD_OUT = ROOT / "tests" / "data" / "nlu_test.yml"
THING_IDS = [e["id"] for e in yaml.safe_load((ROOT / "catalog" / "list" / "one_things.yaml").read_text("utf-8"))]
GENERAL = [
    "greet", "goodbye", "thanks", "affirm", "deny", "cancel", "check_progress", "human_handoff", "complaint",
    "ask_materials", "ask_duration", "ask_fee", "ask_location", "ask_online", "ask_conditions", "elderly_mode",
    "out_of_scope",
]  # fmt: skip
INTENTS = sorted([f"thing_{i}" for i in THING_IDS] + GENERAL)


@pytest.fixture(scope="module")
def training():  # type: ignore[no-untyped-def]
    return read_dir(DATA)


@pytest.fixture(scope="module")
def nlu() -> EmbeddedNLU:
    return EmbeddedNLU.from_dir(DATA)


def test_files_are_rasa_3_1() -> None:
    for path in DATA.glob("*.yml"):
        doc = yaml.safe_load(path.read_text("utf-8"))
        assert "recipe" in doc or doc.get("version") == "3.1", path.name


def test_intents_are_exactly_the_fixed_names(training) -> None:  # type: ignore[no-untyped-def]
    assert training.intents == INTENTS


def test_every_thing_intent_has_enough_varied_examples(training) -> None:  # type: ignore[no-untyped-def]
    by_intent = training.by_intent()
    for intent in INTENTS:
        texts = [e.text for e in by_intent[intent]]
        assert len(texts) >= (25 if intent.startswith("thing_") else 20), intent
        assert len(set(texts)) == len(texts), f"{intent} repeats an example"
    texts = [e.text for e in training.examples]
    dupes = {t for t in texts if texts.count(t) > 1}
    assert not dupes, f"examples under two intents: {sorted(dupes)[:5]}"


def test_entities_cover_liaoning_and_structured_values(training) -> None:  # type: ignore[no-untyped-def]
    canonical = {name: {training.synonyms.get(v, v) for v in training.lookups[name]} for name in ("city", "district")}
    assert len(canonical["city"]) == 14 and "沈阳市" in canonical["city"]
    assert len(canonical["district"]) >= 95
    assert {"id_card", "phone", "uscc", "application_no"} <= set(training.regexes)
    annotated = {s.entity for e in training.examples for s in e.entities}
    assert {"city", "application_no", "phone"} <= annotated
    assert sum(f.read_text("utf-8").count("\n") for f in (DATA / "jieba").glob("*.txt")) >= 300


def test_held_out_set_is_separate_and_large_enough(training) -> None:  # type: ignore[no-untyped-def]
    test = read_file(HELD_OUT).by_intent()
    assert sorted(test) == INTENTS
    assert all(len(v) >= 8 for v in test.values())
    seen = {e.text for e in training.examples}
    leaked = [e.text for v in test.values() for e in v if e.text in seen]
    assert len(leaked) <= 0.02 * sum(len(v) for v in test.values()), leaked


def test_embedded_engine_meets_the_bar_on_held_out_data(nlu: EmbeddedNLU) -> None:
    """Read as act and one-thing: an example labelled with a one-thing is right when the reading names
    it (whatever is asked of it), any other when the act is right."""
    examples = read_file(HELD_OUT).examples
    readings = [read(r) for r in nlu.parse_many([e.text for e in examples])]
    accuracy = sum(right(e.intent, r) for e, r in zip(examples, readings, strict=True)) / len(examples)
    assert accuracy >= 0.93, accuracy
    summary = evaluate(nlu.parse_many, examples).summary("embedded")
    assert summary["out_of_scope_recall"] >= 0.8, summary


def test_life_events_that_never_name_the_service(nlu: EmbeddedNLU) -> None:
    for text, intent in [
        ("我媳妇刚生了，孩子户口咋上", "thing_newborn"),
        ("老爷子走了，后面要办啥", "thing_posthumous_affairs"),
    ]:
        assert nlu.parse(text)["intent"]["name"] == intent, text


def test_nonsense_falls_back_or_is_out_of_scope(nlu: EmbeddedNLU) -> None:
    for text in ["今天天气咋样", "给我讲个笑话", "qwertyuiop"]:
        assert nlu.parse(text)["intent"]["name"] in {"out_of_scope", FALLBACK}, text


def test_cli_writes_rasa_style_reports(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot.nlu", "test", "--nlu", str(HELD_OUT), "--out", str(tmp_path)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(summary) >= {"accuracy", "macro_f1", "n", "backend"} and summary["n"] >= 8 * len(INTENTS)
    report = json.loads((tmp_path / "intent_report.json").read_text("utf-8"))
    assert {"accuracy", "macro avg", "weighted avg"} <= set(report)
    assert set(report["thing_newborn"]) >= {"precision", "recall", "f1-score", "support", "confused_with"}
    errors = json.loads((tmp_path / "intent_errors.json").read_text("utf-8"))
    assert all(e["intent"] != e["intent_prediction"]["name"] for e in errors)
    assert (tmp_path / "intent_confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_composed_examples_are_in_step_with_the_catalog() -> None:
    """nlu_data/composed.yml is what `python -m bot.nlu compose` makes of the catalog as it is."""
    from bot.catalog import load_catalog
    from bot.nlu.compose import compose, hand_written, synonyms, to_yaml

    catalog = load_catalog(ROOT / "catalog")
    composed = to_yaml(compose(catalog, written=hand_written(DATA)), synonyms(catalog))
    assert (DATA / "composed.yml").read_text("utf-8") == composed, "run: python -m bot.nlu compose"


@pytest.mark.parametrize(
    ("text", "act", "thing"),
    [
        ("孩子户口咋上要带啥材料", "ask_materials", "newborn"),
        ("公积金提取在哪办", "ask_location", "housing_fund_withdrawal"),
        ("营业执照多久能办下来", "ask_duration", "enterprise_establishment"),
        ("之前办的居住证审批完了吗", "progress", "residence_permit"),
        ("我要给狗办证", "apply", "dog_license"),
        ("你好", "greet", None),
    ],
)
def test_a_parse_says_the_act_and_the_thing(nlu: EmbeddedNLU, text: str, act: str, thing: str | None) -> None:
    reading = read(nlu.parse(text))
    assert (reading.act, reading.thing) == (act, thing), reading
