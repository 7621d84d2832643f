"""core.arena.queries: the Arena's column guess and training checks, moved from the page; core.text.columns."""

from __future__ import annotations

import pandas as pd
import pytest

from core.arena.queries import (LabelledQueries, load_labelled_queries, sample_queries_path, suggest_query_columns,
                                training_set)
from core.errors import DataError
from core.text.columns import column_named, suggest_text_column


def test_suggest_query_columns_by_name_then_by_content(shared_data):
    assert suggest_query_columns(pd.read_csv(sample_queries_path())) == ("text", "label")
    clinc = pd.read_csv(next((shared_data / "clinc150").glob("*.csv")))
    text, label = suggest_query_columns(clinc)
    assert text in clinc.columns and label in clinc.columns and text != label
    # no telling names: the longest text column, and suggest_target's pick among the rest (not the ID)
    df = pd.DataFrame({"ticket_id": range(40), "body": [f"my parcel number {i} never arrived, please help"
                                                        for i in range(40)],
                       "kind": ["shipping", "billing"] * 20})
    assert suggest_query_columns(df) == ("body", "kind")
    df2 = pd.DataFrame({"Utterance": ["hi there"] * 3, "Intent": ["greet"] * 3})  # names compared case-insensitively
    assert suggest_query_columns(df2) == ("Utterance", "Intent")
    with pytest.raises(DataError, match="at least two columns"):
        suggest_query_columns(pd.DataFrame({"text": ["a"]}))


def test_text_column_helpers():
    df = pd.DataFrame({"code": ["A1", "B2"], "review": ["long enough review text", "another long review"],
                       "n": [1, 2]})
    assert suggest_text_column(df) == "review"
    assert suggest_text_column(df.assign(Message=["x", "y"])) == "Message"  # a telling name wins over length
    assert suggest_text_column(pd.DataFrame({"n": [1]})) is None
    assert column_named(["Answer", "reply"], ("reply", "answer")) == "reply"
    assert column_named(["a", "b"], ("label",)) is None


def test_training_set_leaves_out_single_examples():
    data = LabelledQueries(["a", "b", "c", "d", "e"], ["x", "x", "y", "y", "z"])
    t = training_set(data)
    assert (t.texts, t.labels, t.n_classes, t.single) == (["a", "b", "c", "d"], ["x", "x", "y", "y"], 2, ["z"])
    assert t.note().startswith("1 category has a single example and was left out") and t.note().endswith(": z.")
    assert data.labels == ["x", "x", "y", "y", "z"]  # input untouched
    # only one class would remain: nothing is dropped (fitting will say what is wrong)
    t = training_set(LabelledQueries(["a", "b", "c"], ["x", "x", "z"]))
    assert t.single == [] and t.n_classes == 2 and t.note() == ""


def test_training_set_refuses_an_id_like_label_column():
    df = pd.read_csv(sample_queries_path())
    data = load_labelled_queries(df, "label", "text")  # swapped: 400 distinct "labels" for 400 rows
    with pytest.raises(DataError, match=r"'text' has [\d,]+ different values for [\d,]+ rows: it looks like text or "
                                        "an ID"):
        training_set(data, label_column="text")
    ok = training_set(load_labelled_queries(df, "text", "label"))
    assert ok.n_classes == 8 and not ok.single and len(ok.texts) == len(df)
