"""Intent classifier (core.arena.classifier): our EN/JA sample, banking77, bad input, persistence."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from core.arena.classifier import (
    IntentClassifier,
    LabelledQueries,
    MixedScriptTokenizer,
    load_labelled_queries,
    normalize_text,
    sample_queries_path,
    stratified_subsample,
)
from core.errors import DataError

SAMPLE = sample_queries_path()


@pytest.fixture(scope="module")
def sample() -> LabelledQueries:
    return load_labelled_queries(SAMPLE, "text", "label")


@pytest.fixture(scope="module")
def trained(sample) -> IntentClassifier:
    return IntentClassifier().fit(sample.texts, sample.labels)


def test_sample_dataset_shape_and_balance():
    df = pd.read_csv(SAMPLE)
    assert list(df.columns) == ["text", "label", "language"]
    assert len(df) >= 300
    assert df["label"].nunique() >= 8
    assert set(df["language"]) == {"en", "ja"}
    assert df["text"].is_unique
    # every category has English and Japanese examples
    per = df.groupby(["label", "language"]).size().unstack()
    assert (per >= 20).all().all(), per


def test_loader_reads_sample(sample):
    assert len(sample) == 400
    texts, labels = sample  # unpacks
    assert len(texts) == len(labels) == 400
    assert sample.n_dropped == 0
    assert "refund" in labels


def test_loader_drops_missing_rows_and_checks_columns():
    df = pd.DataFrame({"q": ["hello", None, "  ", "返金して"], "y": ["a", "b", "c", None]})
    out = load_labelled_queries(df, "q", "y")
    assert out.texts == ["hello"] and out.labels == ["a"] and out.n_dropped == 3
    with pytest.raises(DataError, match="no label column 'nope'"):
        load_labelled_queries(df, "q", "nope")
    with pytest.raises(DataError, match="different"):
        load_labelled_queries(df, "q", "q")


def test_loader_reads_bytes_via_core_io():
    raw = "text,label\n荷物が届かない,shipping\n返金して,refund\n".encode("cp932")
    out = load_labelled_queries(raw, "text", "label")
    assert out.texts == ["荷物が届かない", "返金して"]


def test_cross_validation_on_sample(sample):
    res = IntentClassifier().cross_validate(sample.texts, sample.labels, folds=3)
    print(f"\nsample (400 rows, 8 classes, EN+JA) 3-fold CV: accuracy {res['accuracy_mean']:.3f}"
          f"±{res['accuracy_std']:.3f}, macro F1 {res['macro_f1_mean']:.3f}±{res['macro_f1_std']:.3f}")
    assert res["folds_used"] == 3 and res["n_samples"] == 400 and res["n_classes"] == 8
    assert len(res["accuracy_folds"]) == 3
    # chance is 1/8 = 0.125; the model must be far above it
    assert res["accuracy_mean"] >= 0.60
    assert res["macro_f1_mean"] >= 0.60
    assert 0 <= res["accuracy_std"] < 0.2


@pytest.mark.parametrize("query,label", [
    ("荷物がまだ届きません。いつ届きますか？", "shipping"),
    ("パスワードを忘れてログインできない", "account"),
    ("返金はいつされますか", "refund"),
    ("サブスクを解約したい", "cancellation"),
    ("二重に請求されています", "billing"),
    ("このカメラは防水ですか", "product_info"),
    ("My parcel still hasn't arrived", "shipping"),
    ("I was billed twice this month", "billing"),
])
def test_unseen_queries_predicted_right(trained, query, label):
    assert trained.predict([query]) == [label]
    assert trained.predict_top_k(query, k=1)[0][0] == label


def test_top_k_sorted_probabilities(trained):
    top = trained.predict_top_k("注文をキャンセルしたいです", k=3)
    assert len(top) == 3
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True)
    assert all(0.0 <= p <= 1.0 for p in probs)
    assert sum(probs) <= 1.0 + 1e-9
    assert len({lab for lab, _ in top}) == 3
    # k larger than the number of classes is capped, and then the probabilities sum to 1
    everything = trained.predict_top_k("hello", k=50)
    assert len(everything) == len(trained.classes_) == 8
    assert sum(p for _, p in everything) == pytest.approx(1.0)
    with pytest.raises(DataError, match="k must be at least 1"):
        trained.predict_top_k("hello", k=0)


def test_single_query_path_equals_the_pipeline(trained, sample):
    """predict_top_k's single-query path gives predict_proba's numbers for every query, in- or out-of-vocabulary."""
    texts = sample.texts + ["zzzz qqqq", "!!!", "ＲＥＦＵＮＤ please？", "返金　してください"]
    proba = trained.predict_proba(texts)
    for text, row in zip(texts, proba):
        top = dict(trained.predict_top_k(text, k=len(trained.classes_)))
        assert np.allclose([top[c] for c in trained.classes_], row, rtol=0, atol=1e-12), text
    assert trained.predict_top_k("I was charged twice", 1)[0][0] == trained.predict(["I was charged twice"])[0]


def test_single_query_path_for_two_classes():
    texts = ["refund my money", "money back please", "where is my parcel", "parcel not delivered"] * 3
    labels = ["billing", "billing", "shipping", "shipping"] * 3
    clf = IntentClassifier(japanese_tokenizer=None).fit(texts, labels)
    for q in ("my refund", "delivered parcel", "unrelated words"):
        top = dict(clf.predict_top_k(q, 2))
        assert np.allclose([top["billing"], top["shipping"]], clf.predict_proba([q])[0], rtol=0, atol=1e-12)


def test_predict_proba_shape(trained):
    proba = trained.predict_proba(["refund please", "ログインできない"])
    assert proba.shape == (2, 8)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert trained.classes_ == sorted(trained.classes_)


def test_pickle_round_trip_keeps_predictions(trained):
    trained.predict_top_k("warm the single-query path up")
    clone = pickle.loads(pickle.dumps(trained))
    q = ["返品したいので返金をお願いします", "the app crashes on start"]
    np.testing.assert_allclose(clone.predict_proba(q), trained.predict_proba(q))
    assert clone.predict_top_k(q[0]) == trained.predict_top_k(q[0])


@pytest.mark.parametrize("backend", ["janome", "sudachi", "fugashi"])
def test_dictionary_tokenizers_split_japanese(backend):
    tok = MixedScriptTokenizer(backend, ngram_range=(1, 1))
    words = tok("注文した商品がまだ届きません iPhone 15")
    assert "注文" in words and "商品" in words and "iphone" in words and "15" in words
    assert MixedScriptTokenizer(None, ngram_range=(1, 1))("注文した商品 iPhone") == ["iphone"]
    # bigrams join adjacent tokens
    assert "注文 し" in MixedScriptTokenizer(backend)("注文した")


def test_normalize_text_unifies_width():
    assert normalize_text("ＡＢＣ？１２ｶﾀｶﾅ") == "abc?12カタカナ"


def test_bad_input_gives_clear_errors(trained):
    clf = IntentClassifier()
    with pytest.raises(DataError, match="same label"):
        clf.fit(["a", "b", "c"], ["x", "x", "x"])
    with pytest.raises(DataError, match="only one example"):
        clf.fit(["a", "b", "c"], ["x", "x", "y"])
    with pytest.raises(DataError, match="3 texts but 2 labels"):
        clf.fit(["a", "b", "c"], ["x", "y"])
    with pytest.raises(DataError, match="blank"):
        clf.fit(["a", " ", "c", "d"], ["x", "x", "y", "y"])
    with pytest.raises(DataError, match="missing"):
        clf.fit(["a", None, "c", "d"], ["x", "x", "y", "y"])
    with pytest.raises(DataError, match="not a single string"):
        trained.predict("one string")
    with pytest.raises(DataError, match="not trained"):
        IntentClassifier().predict(["hello"])
    with pytest.raises(DataError, match="unknown Japanese tokenizer"):
        IntentClassifier(japanese_tokenizer="mecab-typo")
    with pytest.raises(DataError, match="at least 2 folds"):
        clf.cross_validate(["a", "b", "c", "d"], ["x", "x", "y", "y"], folds=1)


def test_cross_validation_adapts_folds_to_tiny_classes():
    texts = ["refund please", "money back", "give me a refund", "where is my parcel", "delivery late"]
    labels = ["refund", "refund", "refund", "shipping", "shipping"]
    res = IntentClassifier().cross_validate(texts, labels, folds=5)
    assert res["folds_used"] == 2 and res["folds_requested"] == 5
    assert "smallest category has 2" in res["note"]


@pytest.mark.shared
def test_banking77_accuracy_floor(shared_data):
    train = load_labelled_queries(shared_data / "banking77" / "train.csv", "text", "category")
    test = load_labelled_queries(shared_data / "banking77" / "test.csv", "text", "category")
    df = pd.DataFrame({"text": train.texts, "label": train.labels})
    sub = pd.concat([g.sample(min(len(g), 30), random_state=0) for _, g in df.groupby("label")])
    clf = IntentClassifier().fit(sub["text"].tolist(), sub["label"].tolist())
    pred = clf.predict(test.texts)
    acc = float(np.mean(np.array(pred) == np.array(test.labels)))
    print(f"\nbanking77: trained on {len(sub)} rows (30/class, 77 classes), accuracy on the full "
          f"test set ({len(test)} rows): {acc:.3f}")
    assert len(clf.classes_) == 77
    assert acc >= 0.80


@pytest.mark.shared
def test_xsid_japanese_cv(shared_data):
    df = pd.read_csv(shared_data / "ja_xsid_intents" / "xsid_ja_intents.csv")
    with pytest.raises(DataError, match="alarm/modify_alarm"):
        IntentClassifier().fit(df["text_ja"], df["intent"])
    counts = df["intent"].value_counts()
    df = df[df["intent"].map(counts) >= 2]
    res = IntentClassifier().cross_validate(df["text_ja"].tolist(), df["intent"].tolist(), folds=5)
    print(f"\nxSID-ja ({res['n_samples']} rows, {res['n_classes']} classes) {res['folds_used']}-fold CV: "
          f"accuracy {res['accuracy_mean']:.3f}, macro F1 {res['macro_f1_mean']:.3f}")
    assert res["folds_used"] == 4  # alarm/time_left_on_alarm has only 4 examples
    assert res["accuracy_mean"] >= 0.85


def test_stratified_subsample_over_2000_rows_keeps_every_category():
    # 2,503 rows: two big categories, one of 2 examples and one of 1 (pandas 3 groupby.apply dropped the label)
    labels = ["a"] * 1500 + ["b"] * 1000 + ["rare2"] * 2 + ["rare1"]
    texts = [f"query {i} about {lab}" for i, lab in enumerate(labels)]
    sub_t, sub_y = stratified_subsample(texts, labels, limit=2000)
    counts = pd.Series(sub_y).value_counts()
    assert counts["a"] == 1199 and counts["b"] == 799  # round(n * 2000/2503)
    assert counts["rare2"] == 2 and counts["rare1"] == 1  # small categories kept whole
    assert len(sub_t) == len(sub_y) == 2001  # 1199 + 799 + 2 + 1
    # pairs stay together, no duplicates, original order kept
    assert all(t.endswith(f"about {y}") for t, y in zip(sub_t, sub_y))
    assert len(set(sub_t)) == len(sub_t)
    idx = [int(t.split()[1]) for t in sub_t]
    assert idx == sorted(idx)
    # seeded: same sample twice, a different seed gives a different one
    assert stratified_subsample(texts, labels, limit=2000) == (sub_t, sub_y)
    assert stratified_subsample(texts, labels, limit=2000, random_state=1)[0] != sub_t


def test_stratified_subsample_small_input_unchanged_and_bad_input():
    assert stratified_subsample(["x", "y"], ["a", "b"], limit=2000) == (["x", "y"], ["a", "b"])
    with pytest.raises(DataError, match="2 texts but 1 labels"):
        stratified_subsample(["x", "y"], ["a"])
    with pytest.raises(DataError, match="at least 1"):
        stratified_subsample(["x"], ["a"], limit=0)


@pytest.mark.shared
def test_stratified_subsample_banking77_then_cross_validate(shared_data):
    df = pd.read_csv(shared_data / "banking77" / "train.csv")
    sub_t, sub_y = stratified_subsample(df["text"].tolist(), df["category"].tolist(), limit=2000)
    assert 1990 <= len(sub_t) <= 2077
    assert set(sub_y) == set(df["category"])  # all 77 categories survive
    share = pd.Series(sub_y).value_counts(normalize=True)
    full = df["category"].value_counts(normalize=True)
    assert (share - full[share.index]).abs().max() < 0.003
