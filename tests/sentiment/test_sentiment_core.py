"""Local backend, schema helpers, language detection and evaluation (no network)."""

from __future__ import annotations

import pytest

from core.errors import DataError
from core.sentiment import LABELS, SCORE_KEYS, analyze, analyze_batch, detect_language, get_backend, truncate_utf8
from core.sentiment.base import label_of, scores_from_evidence
from core.sentiment.evaluate import evaluate, normalize_labels
from core.sentiment.local import LocalBackend, japanese_evidence, split_sentences


@pytest.mark.parametrize("text,label", [
    ("I love this product, it works perfectly and support was wonderful!", "POSITIVE"),
    ("The delivery was late, the box was damaged and I am really upset.", "NEGATIVE"),
    ("The food was great but the service was terrible.", "MIXED"),
    ("Can you tell me my account balance for March?", "NEUTRAL"),
    ("この製品は最高です。とても満足しています。", "POSITIVE"),
    ("対応が遅くて本当に最悪だ。不愉快な思いをした。", "NEGATIVE"),
    ("料理は美味しかったが、店員の態度は悪かった。", "MIXED"),
    # 最悪 is a strong word (counts 2) since the new-user trial, so this is 1 vs 2: NEGATIVE
    ("料理は美味しかったが、店員の態度は最悪だった。", "NEGATIVE"),
    ("契約を途中で解約すると違約金はかかりますか？", "NEUTRAL"),
])
def test_local_labels_on_clear_examples(text, label):
    r = analyze(text)
    assert r.sentiment == label, r.sentiment_score
    assert set(r.sentiment_score) == set(SCORE_KEYS)
    assert sum(r.sentiment_score.values()) == pytest.approx(1.0)
    assert r.backend == "local" and r.language_code == ("ja" if any(ord(c) > 0x3000 for c in text) else "en")
    assert r.to_dict()["Sentiment"] == label and set(r.to_dict()) == {"Sentiment", "SentimentScore",
                                                                       "LanguageCode", "Backend"}


def test_local_negation_flips_japanese_polarity():
    pos, neg = japanese_evidence("この店は良い。とても美しい。")
    assert pos >= 2 and neg == 0  # floors: a better lexicon may find more, never the other polarity
    pos, neg = japanese_evidence("この店は良くない。美しくない。")
    assert neg >= 2 and pos == 0


def test_local_explicit_language_and_errors():
    assert analyze("Great", language="en").sentiment == "POSITIVE"
    with pytest.raises(DataError, match="English and Japanese only"):
        analyze("El servicio fue excelente y muy rápido.", language="es")
    # auto-detected Spanish: analysed as English with a notice, not an error row
    r = analyze("El servicio fue excelente y el personal muy amable.")
    assert r.language_code == "en" and "Detected Spanish (es)" in " ".join(r.notices)
    with pytest.raises(DataError, match="English and Japanese only.*Korean"):
        analyze("배송이 너무 늦어요. 정말 최악이에요.")  # auto-detected non-Latin: still a clear error
    with pytest.raises(DataError, match="empty"):
        analyze("   ")
    with pytest.raises(DataError, match="unknown sentiment backend"):
        analyze("hello", backend="watson")
    with pytest.raises(DataError, match="tokenizer"):
        LocalBackend("chasen")
    r = analyze("12345 / 678")
    assert r.sentiment == "NEUTRAL" and r.language_code == "und" and r.notices


@pytest.mark.parametrize("tok", ["mecab-ipadic", "janome", "sudachi"])
def test_every_japanese_tokenizer_works_offline(tok):
    r = LocalBackend(tok).detect("この製品は最高です。とても満足しています。", "ja")
    assert r.sentiment == "POSITIVE"


def test_batch_progress_and_per_row_errors():
    calls = []
    texts = ["I love it, fantastic!", "", "最悪で不愉快な対応でした。", None, "Terrible, awful experience."]
    b = analyze_batch(texts, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (5, 5) and len(calls) == 5
    assert [r.sentiment if r else None for r in b.results] == ["POSITIVE", None, "NEGATIVE", None, "NEGATIVE"]
    assert set(b.errors) == {1, 3} and b.error is None and b.n_done == 3
    rows = b.to_rows()
    assert rows[1]["Sentiment"] is None and "empty" in rows[1]["Error"] and rows[0]["Error"] == ""


def test_get_backend_caches_local_and_passes_instances():
    assert get_backend("local") is get_backend("LOCAL")
    be = LocalBackend("janome")
    assert get_backend(be) is be


def test_language_detection():
    assert detect_language("この製品は最高です").code == "ja"
    assert detect_language("配送が遅い").code == "ja"
    g = detect_language("最悪")
    assert g.code == "ja" and g.notices  # Han only, short: assumed Japanese, said so
    assert detect_language("我们的服务非常好，我们很高兴为您提供帮助和支持，谢谢").code == "zh"
    assert detect_language("배송이 너무 늦어요").code == "ko"
    assert detect_language("The parcel never arrived and nobody answers.").code == "en"
    assert detect_language("El paquete nunca llegó y nadie contesta.").code == "es"
    assert detect_language("Le colis n'est jamais arrivé et personne ne répond.").code == "fr"
    short = detect_language("Hello")
    assert short.code == "en" and "shorter than 20" in short.notices[0]
    assert detect_language("12345").code == "und"


# chABSA-like: English company names outnumber the Japanese letters; before, lingua said es/fr
CHABSA_LIKE = ("当期におけるSony Financial Holdings Inc.およびSony Life Insurance Co., Ltd.の"
               "業績は堅調に推移しました。")


def test_kana_means_japanese_whatever_latin_names_it_holds():
    g = detect_language(CHABSA_LIKE)
    assert g.code == "ja" and g.method == "script"
    r = analyze(CHABSA_LIKE)
    assert r.language_code == "ja" and r.sentiment == "POSITIVE" and not r.notices  # 堅調 (+1), 推移 ...
    batch = analyze_batch([CHABSA_LIKE, "Le colis n'est jamais arrivé et personne ne répond, c'est terrible."])
    assert not batch.errors and [r.language_code for r in batch.results] == ["ja", "en"]
    assert "Detected French (fr)" in batch.results[1].notices[0]


def test_truncate_utf8_on_character_boundary():
    text = "あ" * 2000  # 6,000 bytes
    cut, note = truncate_utf8(text)
    assert len(cut.encode("utf-8")) == 4998 and cut == "あ" * 1666 and "4,998 of 6,000" in note
    assert truncate_utf8("abc") == ("abc", None)
    mixed = "a" + "😀" * 1300  # 1 + 5,200 bytes: cut must not split the 4-byte emoji
    cut, note = truncate_utf8(mixed)
    assert len(cut.encode("utf-8")) == 4997 and cut.endswith("😀") and note


def test_scores_from_evidence_rules():
    assert scores_from_evidence(0, 0, 1.0) == {"Positive": 0.0, "Negative": 0.0, "Neutral": 1.0, "Mixed": 0.0}
    s = scores_from_evidence(2, 0, 1.0)
    assert s["Positive"] == pytest.approx(2 / 3) and label_of(s) == "POSITIVE"
    assert label_of(scores_from_evidence(1, 0, 1.0)) == "NEUTRAL"  # a tie goes to NEUTRAL
    # P = N: Mixed 60% of the polar mass, each polarity 20% (never 0 for a MIXED result)
    s = scores_from_evidence(1, 1, 1.0)
    assert s == pytest.approx({"Positive": 2 / 15, "Negative": 2 / 15, "Neutral": 1 / 3, "Mixed": 0.4})
    assert label_of(scores_from_evidence(2, 2, 1.0)) == "MIXED"
    assert label_of(scores_from_evidence(3, 2, 1.0)) == "MIXED"   # balance 0.67 > 0.618
    assert label_of(scores_from_evidence(2, 1, 1.0)) == "POSITIVE"  # balance 0.5 < 0.618
    assert label_of(scores_from_evidence(2, 1, 1.0, balance_power=1.0)) == "MIXED"  # 0.5 > 0.414
    for p, n in [(0.3, 0.1), (5, 4), (0.01, 0.0)]:
        assert sum(scores_from_evidence(p, n, 0.1).values()) == pytest.approx(1.0)
    assert set(LABELS) == {"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"}


def test_split_sentences():
    assert split_sentences("良い。悪い！本当？\nはい") == ["良い。", "悪い！", "本当？", "はい"]


def test_evaluate_and_label_mapping():
    assert normalize_labels(["positive", "NEG", "none", "Mixed", None, 1.0, "-1"]) == \
        ["POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED", None, "POSITIVE", "NEGATIVE"]
    with pytest.raises(DataError, match="'refund'"):
        normalize_labels(["positive", "refund"])
    ev = evaluate(["positive", "negative", "none", "positive", None],
                  ["POSITIVE", "POSITIVE", "NEUTRAL", "POSITIVE", "NEGATIVE"])
    assert ev.n == 4 and ev.accuracy == pytest.approx(0.75)
    # F1: POSITIVE 2/(2+0.5+... ) -> P=2/3, R=1 -> 0.8; NEGATIVE 0; NEUTRAL 1 -> macro 0.6
    assert ev.macro_f1 == pytest.approx(0.6)
    assert ev.confusion.loc["NEGATIVE", "POSITIVE"] == 1 and ev.confusion.values.sum() == 4
    with pytest.raises(DataError, match="no row"):
        evaluate([None], ["POSITIVE"])


@pytest.mark.parametrize("p,n,k,g", [(p, n, k, g) for p in (0, 0.05, 0.3, 1, 2, 3, 5) for n in (0, 0.1, 1, 2, 4)
                                     for k in (0.1, 1.0) for g in (1.0, 2.0)])
def test_scores_are_consistent_with_the_label(p, n, k, g):
    s = scores_from_evidence(p, n, k, g)
    label = label_of(s)
    assert sum(s.values()) == pytest.approx(1.0) and min(s.values()) >= 0
    assert s[label.capitalize()] == pytest.approx(max(s.values()))
    if p > 0 and n > 0:
        assert s["Positive"] > 0 and s["Negative"] > 0 and s["Mixed"] > 0
    if label == "MIXED":
        assert s["Positive"] > 0 and s["Negative"] > 0


def test_label_is_argmax_over_sample_files():
    """Every local result on the sample files: the label's score is the largest, MIXED shows both polarities."""
    import pandas as pd
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "data"
    texts = pd.concat([pd.read_csv(root / f)["text"] for f in ("sentiment_examples.csv", "support_queries.csv")])
    batch = analyze_batch(texts.tolist())
    assert batch.n_done == len(texts) > 200 and not batch.errors
    labels = set()
    for r in batch.results:
        s = r.sentiment_score
        assert s[r.sentiment.capitalize()] == pytest.approx(max(s.values())), (r.sentiment, s)
        if r.sentiment == "MIXED":
            assert s["Positive"] > 0 and s["Negative"] > 0, s
        labels.add(r.sentiment)
    assert labels == set(LABELS)  # the invariant was exercised on all four labels
