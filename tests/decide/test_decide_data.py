"""core.decide.data: checks with clear errors, and a split whose test rows never train."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from core.decide.data import MAX_CLASSES, load_bakeoff_data, stratified_sample
from core.errors import DataError

SAMPLE = "data/support_queries.csv"


def _frame(per_class=10, classes=("a", "b", "c")):
    rows = [{"text": f"query {c} number {i}", "label": c} for c in classes for i in range(per_class)]
    return pd.DataFrame(rows)


def test_stratified_split_is_seeded_disjoint_and_keeps_shares():
    d = load_bakeoff_data(SAMPLE, "text", "label", test_size=0.25, seed=3, detect_languages=False)
    assert d.n_train + d.n_test == 400 and d.n_test == 100
    # every category keeps its share: 50 rows each -> 12 or 13 test rows
    assert set(Counter(d.test_labels).values()) <= {12, 13}
    # test rows are never training rows (the sample has no duplicate texts)
    assert not set(d.test_texts) & set(d.train_texts)
    again = load_bakeoff_data(SAMPLE, "text", "label", test_size=0.25, seed=3, detect_languages=False)
    assert again.test_texts == d.test_texts
    other = load_bakeoff_data(SAMPLE, "text", "label", test_size=0.25, seed=4, detect_languages=False)
    assert other.test_texts != d.test_texts
    assert d.split.describe() == "Stratified split, 25% test, seed 3: 300 train / 100 test rows."


def test_n_test_and_language_detection():
    d = load_bakeoff_data(SAMPLE, "text", "label", n_test=40, seed=0)
    assert d.n_test == 40 and d.n_train == 360
    assert set(Counter(d.test_labels).values()) == {5}
    assert set(d.languages()) == {"en", "ja"} and sum(d.languages().values()) == 40
    s = d.summary()
    assert s["n_classes"] == 8 and s["split"]["n_test_requested"] == 40


def test_one_category_is_a_clear_error():
    df = pd.DataFrame({"text": [f"q{i}" for i in range(20)], "label": ["same"] * 20})
    with pytest.raises(DataError, match="same category.*at least two"):
        load_bakeoff_data(df, "text", "label", detect_languages=False)


def test_500_categories_is_a_clear_error():
    df = pd.DataFrame({"text": [f"query {i}" for i in range(1500)], "label": [f"id{i % 500}" for i in range(1500)]})
    with pytest.raises(DataError, match=f"500 different values.*at most {MAX_CLASSES}.*not an ID"):
        load_bakeoff_data(df, "text", "label", detect_languages=False)


def test_empty_texts_are_dropped_and_counted_or_rejected():
    df = _frame()
    df.loc[[0, 5, 12], "text"] = ["", "   ", None]
    d = load_bakeoff_data(df, "text", "label", test_size=0.3, detect_languages=False)
    assert d.n_train + d.n_test == 27
    assert any("3 row(s) without a text" in n for n in d.notes)
    empty = pd.DataFrame({"text": ["", " "] * 10, "label": ["a", "b"] * 10})
    with pytest.raises(DataError, match="no row has both"):
        load_bakeoff_data(empty, "text", "label", detect_languages=False)


def test_too_few_rows_in_a_category_is_an_error_unless_dropped():
    df = pd.concat([_frame(), pd.DataFrame({"text": ["rare one", "rare two"], "label": ["rare", "rare"]})])
    with pytest.raises(DataError, match=r"fewer than 3 rows \('rare' \(2\)\).*--drop-rare"):
        load_bakeoff_data(df, "text", "label", detect_languages=False)
    d = load_bakeoff_data(df, "text", "label", drop_rare=True, test_size=0.3, detect_languages=False)
    assert "rare" not in d.labels and any("left out as asked" in n for n in d.notes)


def test_bad_sizes_are_clear_errors():
    with pytest.raises(DataError, match="fraction between 0 and 1"):
        load_bakeoff_data(SAMPLE, "text", "label", test_size=20, detect_languages=False)
    with pytest.raises(DataError, match="cannot cover the 8 categories"):
        load_bakeoff_data(SAMPLE, "text", "label", n_test=5, detect_languages=False)
    with pytest.raises(DataError, match="either a test size"):
        load_bakeoff_data(SAMPLE, "text", "label", n_test=50, test_size=0.2, detect_languages=False)
    with pytest.raises(DataError, match="no label column 'category'"):
        load_bakeoff_data(SAMPLE, "text", "category", detect_languages=False)


def test_separate_test_table_with_unseen_categories_and_a_stratified_draw():
    train = _frame(per_class=8)
    test = pd.concat([_frame(per_class=20), pd.DataFrame({"text": ["new 1", "new 2"], "label": ["zzz", "zzz"]})])
    d = load_bakeoff_data(train, "text", "label", test_source=test, n_test=30, detect_languages=False)
    assert d.n_train == 24 and d.n_test == 30
    assert Counter(d.test_labels) == {"a": 10, "b": 10, "c": 10}
    assert any("no training example ('zzz')" in n for n in d.notes)
    assert d.split.method == "separate test table"


def test_split_column():
    df = _frame(per_class=12)
    df["split"] = ["train"] * 8 + ["test"] * 3 + ["val"] + ["train"] * 8 + ["test"] * 3 + ["val"] + \
        ["train"] * 8 + ["test"] * 3 + ["val"]
    d = load_bakeoff_data(df, "text", "label", split_column="split", detect_languages=False)
    assert (d.n_train, d.n_test) == (24, 9)
    assert any("neither 'train' nor 'test'" in n for n in d.notes)
    with pytest.raises(DataError, match="no row has split = 'dev'"):
        load_bakeoff_data(df, "text", "label", split_column="split", test_value="dev", detect_languages=False)


def test_stratified_sample_exact_size_and_shares():
    labels = ["a"] * 70 + ["b"] * 20 + ["c"] * 9 + ["d"]
    pick = stratified_sample(labels, 30, seed=1)
    assert len(pick) == 30 == len(set(pick))
    got = Counter(labels[i] for i in pick)
    assert got["a"] == 21 and got["b"] == 6 and got["c"] in (2, 3) and sum(got.values()) == 30
    assert stratified_sample(labels, 30, seed=1) == pick
    with pytest.raises(DataError):
        stratified_sample(labels, 0)


@pytest.mark.shared
def test_real_datasets_split_as_the_issue_says(shared_data):
    b = load_bakeoff_data(shared_data / "banking77" / "train.csv", "text", "category",
                          test_source=shared_data / "banking77" / "test.csv", n_test=300, detect_languages=False)
    assert (b.n_train, b.n_test, len(b.labels)) == (10003, 300, 77)
    assert max(Counter(b.test_labels).values()) - min(Counter(b.test_labels).values()) <= 1
    c = load_bakeoff_data(shared_data / "clinc150" / "clinc150_full.csv", "text", "intent", split_column="split",
                          n_test=300, detect_languages=False)
    assert (c.n_train, c.n_test, len(c.labels)) == (15000, 300, 150)
    with pytest.raises(DataError, match="alarm/modify_alarm"):
        load_bakeoff_data(shared_data / "ja_xsid_intents" / "xsid_ja_intents.csv", "text_ja", "intent",
                          detect_languages=False)
    j = load_bakeoff_data(shared_data / "ja_xsid_intents" / "xsid_ja_intents.csv", "text_ja", "intent",
                          n_test=120, drop_rare=True)
    assert j.n_test == 120 and len(j.labels) == 9 and j.languages() == {"ja": 120}
