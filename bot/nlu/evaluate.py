"""Evaluation in Rasa's report format: intent_report.json, intent_errors.json
and a confusion-matrix picture, from (true intent, parse result) pairs.

Scoring rule: ``nlu_fallback`` on an ``out_of_scope`` utterance is counted as
out-of-scope, since both lead to the same answer ("this is not something I
can help with"); on any other utterance it is an error.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.metrics import classification_report, confusion_matrix
from sklearn.model_selection import StratifiedKFold

from bot.nlu.data import Example, TrainingData

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"

Parse = Callable[[Sequence[str]], list[dict[str, Any]]]  # texts -> parse results


@dataclass
class Evaluation:
    truth: list[str]
    predicted: list[str]
    results: list[dict[str, Any]]
    texts: list[str]

    @property
    def scored(self) -> list[str]:
        return [
            OUT_OF_SCOPE if p == FALLBACK and t == OUT_OF_SCOPE else p
            for t, p in zip(self.truth, self.predicted, strict=True)
        ]

    def report(self) -> dict[str, Any]:
        """Rasa's intent_report.json: per intent precision/recall/f1-score/support/confused_with,
        then accuracy, macro avg and weighted avg."""
        labels = sorted(set(self.truth))
        raw = classification_report(self.truth, self.scored, labels=labels, output_dict=True, zero_division=0)
        confused: dict[str, Counter[str]] = defaultdict(Counter)
        for t, p in zip(self.truth, self.scored, strict=True):
            if t != p:
                confused[t][p] += 1
        report: dict[str, Any] = {}
        for label in labels:
            report[label] = {**raw[label], "confused_with": dict(confused[label].most_common(3))}
        report["accuracy"] = sum(t == p for t, p in zip(self.truth, self.scored, strict=True)) / max(len(self.truth), 1)
        report["macro avg"] = raw["macro avg"]
        report["weighted avg"] = raw["weighted avg"]
        return report

    def errors(self) -> list[dict[str, Any]]:
        """Rasa's intent_errors.json."""
        return [
            {"text": x, "intent": t, "intent_prediction": r["intent"]}
            for x, t, p, r in zip(self.texts, self.truth, self.scored, self.results, strict=True)
            if t != p
        ]

    def summary(self, backend: str) -> dict[str, Any]:
        report = self.report()
        oos = report.get(OUT_OF_SCOPE, {})
        return {
            "accuracy": round(report["accuracy"], 4),
            "macro_f1": round(report["macro avg"]["f1-score"], 4),
            "weighted_f1": round(report["weighted avg"]["f1-score"], 4),
            "out_of_scope_recall": round(oos.get("recall", 0.0), 4),
            "n": len(self.truth),
            "backend": backend,
        }

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        dump = {"ensure_ascii": False, "indent": 2}
        (out / "intent_report.json").write_text(json.dumps(self.report(), **dump), encoding="utf-8")
        (out / "intent_errors.json").write_text(json.dumps(self.errors(), **dump), encoding="utf-8")
        self.plot_confusion(out / "intent_confusion_matrix.png")

    def plot_confusion(self, path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")  # no screen on servers
        import matplotlib.pyplot as plt

        labels = sorted(set(self.truth) | set(self.scored))
        matrix = confusion_matrix(self.truth, self.scored, labels=labels)
        size = max(8, len(labels) * 0.32)
        fig, ax = plt.subplots(figsize=(size, size))
        ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=6, color="white" if i == j else "red")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)


def evaluate(parse: Parse, examples: Sequence[Example]) -> Evaluation:
    texts = [e.text for e in examples]
    results = parse(texts)
    return Evaluation(
        truth=[e.intent for e in examples],
        predicted=[r["intent"]["name"] for r in results],
        results=results,
        texts=texts,
    )


def cross_validate(
    data: TrainingData, train: Callable[[TrainingData], Parse], folds: int = 5, seed: int = 42
) -> Evaluation:
    """Stratified k-fold over the training data: every example is predicted once,
    by a model that did not see it."""
    examples = data.examples
    labels = [e.intent for e in examples]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    order: list[int] = []
    results: list[dict[str, Any]] = []
    for train_idx, test_idx in splitter.split(examples, labels):
        part = TrainingData(
            examples=[examples[i] for i in train_idx],
            synonyms=data.synonyms,
            lookups=data.lookups,
            regexes=data.regexes,
        )
        parse = train(part)
        results += parse([examples[i].text for i in test_idx])
        order += list(test_idx)
    held = [examples[i] for i in order]
    return Evaluation(
        truth=[e.intent for e in held],
        predicted=[r["intent"]["name"] for r in results],
        results=results,
        texts=[e.text for e in held],
    )
