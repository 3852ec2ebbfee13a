"""The embedded NLU engine: parse() answers exactly like Rasa's /model/parse."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.nlu.classifier import ClassifierConfig, IntentClassifier, Tokenizer
from bot.nlu.data import Example, TrainingData, read_dir
from bot.nlu.entities import Places, extract
from bot.nlu.normalize import normalize

FALLBACK = "nlu_fallback"


def userdict_of(directory: Path) -> Path:
    """The jieba user dictionaries of a data folder (Rasa's JiebaTokenizer reads the same files)."""
    return directory / "jieba"


@dataclass
class NluConfig:
    fallback_threshold: float = 0.3  # below: nlu_fallback, as Rasa's FallbackClassifier
    ambiguity_threshold: float = 0.1  # top two closer than this: say so
    ranking_length: int = 10
    classifier: ClassifierConfig | None = None


def _fingerprint(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(directory)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


_TRAINED: dict[tuple[str, str], EmbeddedNLU] = {}


NO_THING = "none"  # the thing classifier's class of messages that name no one-thing


def thing_of(example: Example) -> str:
    """The one-thing an example names: its intent's (``thing_newborn``), or an annotated ``thing``
    entity's value (“[孩子上户口]{"entity": "thing", "value": "newborn"}要带啥”), else none."""
    if example.intent.startswith(THING):
        return example.intent[len(THING) :]
    return next((s.value for s in example.entities if s.entity == THING_ENTITY), NO_THING)


THING_ENTITY = "thing"


THING = "thing_"
APPLY = "apply"  # the act classifier's class of every one-thing's own intent: wanting to do it


class EmbeddedNLU:
    """Three classifiers over the same features and examples: the intent (an act, or a one-thing to
    apply for: Rasa's labels), the act alone (every one-thing's intent is ``apply``) and which
    one-thing the message names (its intent's, or its annotated ``thing``; else none)."""

    def __init__(self, classifier: IntentClassifier, places: Places, config: NluConfig,
                 things: IntentClassifier | None = None, acts: IntentClassifier | None = None) -> None:  # fmt: skip
        self.classifier = classifier
        self.things = things
        self.acts = acts
        self.places = places
        self.config = config

    @classmethod
    def train(cls, data: TrainingData, userdict: Path | None = None, config: NluConfig | None = None) -> EmbeddedNLU:
        config = config or NluConfig()
        texts = [e.text for e in data.examples]
        tokenizer = Tokenizer(userdict)
        intents = [e.intent for e in data.examples]
        classifier = IntentClassifier(tokenizer, config.classifier).fit(texts, intents)
        # the act and thing classifiers need three classes or more (the scorer is one-vs-rest): a small
        # set of intents an admin trains may have fewer, and then the intent alone says it
        named = [thing_of(e) for e in data.examples]
        wanted = [APPLY if i.startswith(THING) else i for i in intents]
        things = acts = None
        if len(set(named)) > 2 and len(set(wanted)) > 2:
            things = IntentClassifier(tokenizer, config.classifier).fit(texts, named)
            acts = IntentClassifier(tokenizer, config.classifier).fit(texts, wanted)
        return cls(classifier, Places.from_data(data.lookups, data.synonyms), config, things, acts)

    @classmethod
    def from_dir(cls, directory: Path, config: NluConfig | None = None) -> EmbeddedNLU:
        """Train on a Rasa data folder (``nlu_data/``), with its jieba dictionaries.

        Training is deterministic, so a model trained on the same files with
        the same settings is reused within the process (tests build many apps).
        """
        config = config or NluConfig()
        key = (_fingerprint(directory), repr(config))
        if key not in _TRAINED:
            _TRAINED.clear()  # one data set at a time
            _TRAINED[key] = cls.train(read_dir(directory), userdict_of(directory), config)
        return _TRAINED[key]

    def parse_many(self, texts: Sequence[str], today: date | None = None) -> list[dict[str, Any]]:
        return [self.parse(t, today) for t in texts]

    def parse(self, text: str, today: date | None = None) -> dict[str, Any]:
        ranking = [
            {"name": name, "confidence": conf}
            for name, conf in self.classifier.rank(text, top=self.config.ranking_length)
        ]
        top = ranking[0]
        intent = dict(top)
        if top["confidence"] < self.config.fallback_threshold:
            intent = {"name": FALLBACK, "confidence": self.config.fallback_threshold}
            ranking = [intent, *ranking]
        result: dict[str, Any] = {
            "text": text,
            "intent": intent,
            "entities": extract(normalize(text), self.places, today),
            "intent_ranking": ranking,
        }
        if self.things is not None and self.acts is not None:  # what is wanted, and of which one-thing
            result["act_ranking"] = [{"name": n, "confidence": c} for n, c in self.acts.rank(text, top=3)]
            result["thing_ranking"] = [{"name": n, "confidence": c} for n, c in self.things.rank(text, top=3)]
        second = ranking[1] if len(ranking) > 1 and ranking[0]["name"] != FALLBACK else None
        if second and top["confidence"] - second["confidence"] < self.config.ambiguity_threshold:
            result["ambiguous"] = [top["name"], second["name"]]
        return result
