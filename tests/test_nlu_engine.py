"""The embedded engine answers in Rasa's /model/parse shape, deterministically."""

from __future__ import annotations

from bot.nlu.data import TrainingData, parse_example
from bot.nlu.engine import FALLBACK, EmbeddedNLU, NluConfig

SMALL = {
    "greet": ["你好", "您好啊", "早上好", "哈喽", "在吗"],
    "thing_newborn": ["孩子出生了上户口", "新生儿出生", "宝宝落户", "出生证明怎么办", "生孩子要办啥"],
    "thing_posthumous_affairs": ["老人去世了要办啥", "死亡证明", "户口注销", "火化证明怎么开", "家里老人走了"],
    "out_of_scope": ["今天天气", "讲个笑话", "股票推荐", "你吃饭了吗", "明天下雨吗"],
}


def train(config: NluConfig | None = None) -> EmbeddedNLU:
    data = TrainingData([parse_example(t, i) for i, ts in SMALL.items() for t in ts])
    return EmbeddedNLU.train(data, config=config)


def test_parse_has_rasa_shape() -> None:
    result = train().parse("我家孩子刚出生，户口咋上，电话13840012345")
    assert set(result) >= {"text", "intent", "entities", "intent_ranking"}
    assert result["intent"]["name"] == "thing_newborn"
    assert result["intent_ranking"][0] == result["intent"]
    confidences = [r["confidence"] for r in result["intent_ranking"]]
    assert confidences == sorted(confidences, reverse=True) and abs(sum(confidences) - 1) < 1e-6
    assert result["entities"] == [
        {"entity": "phone", "start": 15, "end": 26, "value": "13840012345", "extractor": "EmbeddedEntityExtractor"}
    ]


def test_training_is_deterministic() -> None:
    a, b = train(), train()
    for text in ["老爷子走了", "孩子户口", "随便聊聊"]:
        assert a.parse(text) == b.parse(text)


def test_low_confidence_falls_back_like_rasa() -> None:
    result = train(NluConfig(fallback_threshold=0.99)).parse("嗯")
    assert result["intent"] == {"name": FALLBACK, "confidence": 0.99}
    assert result["intent_ranking"][0]["name"] == FALLBACK
    assert result["intent_ranking"][1]["name"] in SMALL


def test_close_top_two_are_flagged() -> None:
    result = train(NluConfig(ambiguity_threshold=1.0)).parse("孩子出生")
    assert result["ambiguous"][0] == result["intent"]["name"]
    assert len(result["ambiguous"]) == 2
    assert "ambiguous" not in train(NluConfig(ambiguity_threshold=0.0)).parse("孩子出生")


def test_fast_scorer_is_sklearns_predict_proba() -> None:
    """Parsing uses plain arrays for speed; they must give sklearn's exact numbers."""
    import numpy as np

    from bot.nlu.classifier import features_text

    classifier = train().classifier
    texts = ["孩子出生了户口咋上", "老人走了", "你好呀", "天气", "完全无关的一句话 ABCDEFG 12345"]
    reference = classifier.predict_proba(texts)
    assert classifier.scorer is not None
    fast = np.array([classifier.scorer(features_text(t)) for t in texts])
    np.testing.assert_allclose(fast, reference, rtol=0, atol=1e-12)


def test_an_intent_with_too_few_examples_is_refused_clearly() -> None:
    import pytest

    data = TrainingData([parse_example(t, i) for i, ts in SMALL.items() for t in ts])
    data.examples.append(parse_example("只有一条", "thing_dog_license"))
    with pytest.raises(ValueError, match="thing_dog_license"):
        EmbeddedNLU.train(data)


def test_a_small_set_of_intents_trains_without_the_act_and_thing_classifiers() -> None:
    """An admin may train a few intents (one one-thing and a couple of others): the thing classifier
    would have two classes, which its scorer cannot take; the intent alone then says it all."""
    from bot.nlu.data import TrainingData, parse_example
    from bot.nlu.engine import EmbeddedNLU
    from bot.nlu.understanding import read

    examples = [parse_example(t, i) for i, texts in {
        "thing_newborn": ["孩子出生了怎么上户口", "新生儿落户", "宝宝出生证怎么办"],
        "greet": ["你好", "您好", "在吗"],
        "thanks": ["谢谢", "多谢", "谢了"],
    }.items() for t in texts]  # fmt: skip
    nlu = EmbeddedNLU.train(TrainingData(examples=examples))
    reading = read(nlu.parse("孩子出生了户口咋上"))
    assert reading.act == "apply" and reading.thing == "newborn"
