"""Evaluation in Rasa's report format: intent_report.json, intent_errors.json
and a confusion-matrix picture, from (true intent, parse result) pairs.

Scoring rule: ``nlu_fallback`` on an ``out_of_scope`` utterance is counted as
out-of-scope, since both lead to the same answer ("this is not something I
can help with"); on any other utterance it is an error.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, Literal

from sklearn.metrics import classification_report
from sklearn.model_selection import StratifiedKFold

from bot.nlu.data import Example, TrainingData

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"

Parse = Callable[[Sequence[str]], list[dict[str, Any]]]  # texts -> parse results
Cell = tuple[str, str, int]  # (true intent, scored prediction, count): one non-zero cell of a confusion matrix
MAX_ERRORS = 300  # misclassified utterances kept with a model version (the JSON column stays small)


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

    def cells(self) -> list[Cell]:
        counts = Counter(zip(self.truth, self.scored, strict=True))
        return [(t, p, n) for (t, p), n in sorted(counts.items())]

    def details(self, max_errors: int = MAX_ERRORS) -> dict[str, Any]:
        """What a report needs later, small enough to keep with a model version: per-intent
        figures, the confusion matrix as its non-zero cells, and the misclassified
        utterances, the most confident mistakes first (those teach the most)."""
        report = self.report()
        intents = {
            label: {
                "precision": round(row["precision"], 4),
                "recall": round(row["recall"], 4),
                "f1": round(row["f1-score"], 4),
                "support": int(row["support"]),
                "confused_with": row["confused_with"],
            }
            for label, row in report.items()
            if isinstance(row, dict) and "confused_with" in row
        }
        errors = [
            {"text": x, "intent": t, "predicted": p, "confidence": round(_confidence(r), 4)}
            for x, t, p, r in zip(self.texts, self.truth, self.scored, self.results, strict=True)
            if t != p
        ]
        errors.sort(key=lambda e: -e["confidence"])
        return {
            "intents": intents,
            "confusion": [list(c) for c in self.cells()],
            "errors": errors[:max_errors],
            "errors_total": len(errors),
        }

    def plot_confusion(self, path: Path) -> None:
        labels = sorted(set(self.truth) | set(self.scored))
        path.write_bytes(plot_confusion_cells(self.cells(), labels, title="confusion matrix"))


def _confidence(result: dict[str, Any]) -> float:
    """How sure the model was of its answer; for a fallback, of its best real guess."""
    ranking = [r for r in result.get("intent_ranking", []) if r["name"] != FALLBACK]
    if result["intent"]["name"] == FALLBACK and ranking:
        return float(ranking[0]["confidence"])
    return float(result["intent"]["confidence"])


def confused_labels(cells: Iterable[Sequence[Any]], show_all_up_to: int = 20, limit: int = 30) -> list[str]:
    """The intents a heat map shows: all of them when few; else only those involved in
    confusions, the most confused first (a 50x50 wall of zeros hides what matters)."""
    cells = list(cells)
    labels = sorted({str(c[0]) for c in cells} | {str(c[1]) for c in cells})
    if len(labels) <= show_all_up_to:
        return labels
    weight: Counter[str] = Counter()
    for t, p, n in cells:
        if t != p:
            weight[t] += int(n)
            weight[p] += int(n)
    return sorted(label for label, _ in weight.most_common(limit))


def plot_confusion_cells(
    cells: Iterable[Sequence[Any]], labels: Sequence[str], title: str = "", fmt: Literal["png", "svg"] = "png"
) -> bytes:
    """A confusion heat map of ``labels``: each row (a true intent) coloured by the share of its
    utterances predicted as each column, counts written in, the diagonal grey so that
    confusions stand out; labels only ever predicted (nlu_fallback) are columns, not rows.
    Built on a bare Figure, not pyplot: safe in worker threads."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    cells = [(str(t), str(p), int(n)) for t, p, n in cells]
    totals: Counter[str] = Counter()
    for t, _, n in cells:
        totals[t] += n
    rows = [label for label in labels if totals[label]]
    cols = list(labels)
    row_of, col_of = {label: i for i, label in enumerate(rows)}, {label: j for j, label in enumerate(cols)}
    counts = np.zeros((len(rows), len(cols)), dtype=int)
    for t, p, n in cells:
        if t in row_of and p in col_of:
            counts[row_of[t], col_of[p]] += n
    width, height = max(4.0, 2.8 + len(cols) * 0.36), max(3.0, 2.8 + len(rows) * 0.36)
    fig = Figure(figsize=(width + 1.2, height), dpi=100)
    ax = fig.add_subplot()
    if not rows:
        ax.text(0.5, 0.5, "no confusions", ha="center", va="center", fontsize=14, color="#5b6776")
        ax.set_axis_off()
    else:
        share = counts / np.array([[max(totals[t], 1)] for t in rows])
        diagonal = np.array([[t == p for p in cols] for t in rows])
        off = np.ma.masked_array(share, mask=diagonal)
        peak = max(float(off.max()) if off.count() else 0.0, 0.05)
        cmap = colormaps["YlOrRd"].with_extremes(bad="#e6eaf0")  # bad: the masked diagonal
        image = ax.imshow(off, cmap=cmap, vmin=0, vmax=peak)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true intent")
        ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=8)
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        small = 7 if len(cols) > 15 else 9
        for i, j in zip(*np.nonzero(counts), strict=True):
            colour = "#1d2530" if diagonal[i, j] or share[i, j] < 0.6 * peak else "white"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=small, color=colour)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    buf = BytesIO()
    fig.savefig(buf, format=fmt)
    return buf.getvalue()


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
    data: TrainingData,
    train: Callable[[TrainingData], Parse],
    folds: int = 5,
    seed: int = 42,
    on_fold: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Stratified k-fold over the training data: every example is predicted once,
    by a model that did not see it. ``on_fold(i, folds)`` is called as fold ``i``
    (from 0) starts, for progress reports."""
    examples = data.examples
    labels = [e.intent for e in examples]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    order: list[int] = []
    results: list[dict[str, Any]] = []
    for fold, (train_idx, test_idx) in enumerate(splitter.split(examples, labels)):
        if on_fold is not None:
            on_fold(fold, folds)
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
