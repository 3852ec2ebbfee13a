"""The embedded intent classifier: jieba words and character n-grams, TF-IDF,
a linear SVM with calibrated (sigmoid) probabilities.

Character n-grams carry Chinese well when word segmentation slips (typos,
homophones, dialect); words carry the domain's terms (the jieba user
dictionaries). A linear SVM separates the 51 intents best at this data size
(5-fold cross-validation on nlu_data/: see docs/nlu.md), and Platt scaling on
internal folds turns its margins into probabilities that behave as
confidences for the fallback threshold. Training is deterministic (fixed
seed, unshuffled internal folds) and takes a few seconds.

Parsing one utterance goes through :class:`FastScorer`, the same arithmetic
as scikit-learn's ``predict_proba`` held in plain arrays: sklearn's per-call
checks cost ~10 ms per utterance, the arrays ~0.1 ms.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba
import numpy as np
from scipy.sparse import hstack
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.nlu.normalize import normalize

jieba.setLogLevel(60)  # no start-up chatter in logs

_DIGITS = re.compile(r"\d+")
_ASCII = re.compile(r"[A-Za-z]+")


def features_text(text: str) -> str:
    """What the classifier sees: normalised, lower-cased, numbers and codes folded
    (an ID number says “identifier”, not which one)."""
    t = normalize(text).lower()
    t = _DIGITS.sub("0", t)
    return _ASCII.sub(lambda m: m.group(0) if len(m.group(0)) < 6 else "x", t)


class Tokenizer:
    """jieba with the domain dictionaries, isolated from jieba's global state."""

    def __init__(self, userdict: Path | None = None) -> None:
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        # a folder of dictionaries (as Rasa's JiebaTokenizer reads it) or one file
        files = sorted(userdict.glob("*.txt")) if userdict is not None and userdict.is_dir() else [userdict]
        for f in files:
            if f is not None and f.exists():
                self._jieba.load_userdict(str(f))

    def __call__(self, text: str) -> list[str]:
        return [w for w in self._jieba.lcut(text) if w.strip()]


@dataclass
class ClassifierConfig:
    seed: int = 42
    c: float = 0.5  # SVM regularisation (cross-validated)
    char_ngrams: tuple[int, int] = (1, 3)
    calibration_folds: int = 3


class _TfidfRow:
    """One text's row of a fitted TfidfVectorizer (sublinear tf, idf, l2 norm)."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf: np.ndarray = vectorizer.idf_

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(t for t in self.analyze(text) if t in self.vocabulary)
        idx = np.fromiter((self.vocabulary[t] for t in counts), dtype=np.intp, count=len(counts))
        values = np.fromiter((1.0 + math.log(n) for n in counts.values()), dtype=float, count=len(counts))
        values *= self.idf[idx]
        norm = math.sqrt(float(values @ values))
        return idx, (values / norm if norm else values)


class FastScorer:
    """CalibratedClassifierCV(LinearSVC).predict_proba for one text, in arrays:
    margins of every fold's SVM at once, Platt sigmoids, normalise, average."""

    def __init__(self, model: CalibratedClassifierCV, chars: TfidfVectorizer, words: TfidfVectorizer) -> None:
        self.chars, self.words = _TfidfRow(chars), _TfidfRow(words)
        self.n_chars = len(chars.vocabulary_)
        folds = model.calibrated_classifiers_
        for fold in folds:  # stratified folds see every class, in the same order
            assert list(fold.estimator.classes_) == list(model.classes_)
        self.weights = np.ascontiguousarray(np.vstack([f.estimator.coef_ for f in folds]).T)  # (features, folds*K)
        self.bias = np.concatenate([f.estimator.intercept_ for f in folds])
        self.a = np.array([c.a_ for f in folds for c in f.calibrators])
        self.b = np.array([c.b_ for f in folds for c in f.calibrators])
        self.shape = (len(folds), len(model.classes_))

    def __call__(self, prepared: str) -> np.ndarray:
        ci, cv = self.chars(prepared)
        wi, wv = self.words(prepared)
        margins = cv @ self.weights[ci] + wv @ self.weights[wi + self.n_chars] + self.bias
        proba = expit(-(self.a * margins + self.b)).reshape(self.shape)
        sums = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1 / self.shape[1])
        proba = np.divide(proba, sums, out=uniform, where=sums != 0)
        return np.minimum(proba.mean(axis=0), 1.0)


class IntentClassifier:
    def __init__(self, tokenizer: Tokenizer, config: ClassifierConfig | None = None) -> None:
        self.config = config or ClassifierConfig()
        self.tokenizer = tokenizer
        self.chars = TfidfVectorizer(analyzer="char", ngram_range=self.config.char_ngrams, sublinear_tf=True)
        self.words = TfidfVectorizer(analyzer=self.tokenizer, ngram_range=(1, 1), sublinear_tf=True, token_pattern=None)
        self.model = CalibratedClassifierCV(
            LinearSVC(C=self.config.c, random_state=self.config.seed),
            method="sigmoid",
            cv=self.config.calibration_folds,
        )
        self.labels: list[str] = []
        self.scorer: FastScorer | None = None

    def _x(self, texts: Sequence[str], fit: bool = False):  # type: ignore[no-untyped-def]
        prepared = [features_text(t) for t in texts]
        if fit:
            return hstack([self.chars.fit_transform(prepared), self.words.fit_transform(prepared)]).tocsr()
        return hstack([self.chars.transform(prepared), self.words.transform(prepared)]).tocsr()

    def fit(self, texts: Sequence[str], intents: Sequence[str]) -> IntentClassifier:
        counts = Counter(intents)
        thin = sorted(i for i, n in counts.items() if n < self.config.calibration_folds)
        if thin:
            raise ValueError(f"每个意图至少需要 {self.config.calibration_folds} 条例句：{', '.join(thin)}")
        self.model.fit(self._x(texts, fit=True), list(intents))
        self.labels = [str(c) for c in self.model.classes_]
        self.scorer = FastScorer(self.model, self.chars, self.words)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """scikit-learn's own computation (batches, and the reference for FastScorer)."""
        return self.model.predict_proba(self._x(texts))

    def rank(self, text: str, top: int = 10) -> list[tuple[str, float]]:
        assert self.scorer is not None, "fit() first"
        probs = self.scorer(features_text(text))
        order = np.argsort(-probs)[:top]
        return [(self.labels[i], float(probs[i])) for i in order]
