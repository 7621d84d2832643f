"""core.tabular.scoring: skops model files, scoring new rows, and the predictions CSV."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from core.errors import DataError
from core.export import to_csv_bytes
from core.io import load_table
from core.tabular.compare import compare_models
from core.tabular.schema import prepare_features
from core.tabular.scoring import (TRUSTED_TYPES, load_model, model_from_comparison, model_to_bytes,
                                  predictions_csv, score_table)


@pytest.fixture(scope="module")
def mixed():
    """Numbers, a category, a yes/no column, a date, free text and a 3-class target: every preprocessing branch."""
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    words = ["late parcel again", "refund not received", "cannot log in today", "love the new app"]
    df = pd.DataFrame({
        "x": x, "plan": rng.choice(["basic", "pro", "team"], n), "member": rng.choice(["Yes", "No"], n),
        "signup": pd.date_range("2023-01-01", periods=n, freq="D").astype(str),
        "message": [f"{words[i % 4]} {i}" for i in range(n)],
        "label": np.select([x < -0.5, x > 0.5], ["low", "high"], "mid"),
    })
    table = load_table(df.to_csv(index=False).encode(), name="mixed.csv")
    return table, compare_models(table.frame, "label", folds=3)


def test_every_model_loads_back_with_identical_predictions(mixed):
    table, result = mixed
    assert {r.key for r in result.results} == {"linear", "tree", "forest", "hgb", "dummy"}
    for r in result.results:
        data = model_to_bytes(model_from_comparison(result, r.key))
        back = load_model(data, name=f"{r.key}.skops")
        assert back.key == r.key and back.classes == result.classes and back.target == "label"
        np.testing.assert_array_equal(back.pipeline.predict(result.X_test), r.pipeline.predict(result.X_test))
        np.testing.assert_array_equal(back.pipeline.predict_proba(result.X_test),
                                      r.pipeline.predict_proba(result.X_test))
        assert back.metrics["holdout"] == r.holdout.metrics


def test_a_file_with_an_untrusted_type_is_refused(mixed):
    import skops.io as sio

    class Payload:  # any class Crossroads did not put there
        def __init__(self):
            self.cmd = "rm -rf /"

    _, result = mixed
    data = sio.dumps({"format": "crossroads-model", "description": "{}", "pipeline": result.best.pipeline,
                      "extra": Payload()})
    with pytest.raises(DataError, match="does not trust.*Payload"):
        load_model(data, name="evil.skops")
    assert not any("Payload" in t for t in TRUSTED_TYPES)


def test_other_files_are_refused_with_a_message(mixed):
    import pickle

    import skops.io as sio

    _, result = mixed
    with pytest.raises(DataError, match="not a model file saved by Crossroads"):
        load_model(pickle.dumps({"a": 1}), name="model.pkl")  # never unpickled
    with pytest.raises(DataError, match="not a Crossroads model"):
        load_model(sio.dumps(result.best.pipeline), name="plain.skops")


def test_score_table_notes_extra_columns_unseen_categories_and_bad_numbers(mixed):
    table, result = mixed
    model = load_model(model_to_bytes(model_from_comparison(result, "linear")))
    new = table.frame.head(20).drop(columns=["label"]).copy()
    new["x"] = new["x"].astype(object)
    new.loc[0, "x"] = "n/a yet"
    new.loc[1:3, "plan"] = "enterprise"
    new.loc[4, "member"] = "Maybe"
    new["region"] = "EU"
    scored = score_table(model, new)
    notes = " ".join(scored.notes)
    assert "'x': 1 value(s) are not numbers" in notes
    assert "'plan': 3 row(s) have a category the model never saw ('enterprise')" in notes
    assert "'member': 1 row(s) have a category the model never saw ('Maybe'); scored like 'No'" in notes
    assert "ignored (kept in the output): region" in notes
    assert list(scored.frame.columns[-4:]) == ["predicted_label", "probability_high", "probability_low",
                                               "probability_mid"]
    probs = scored.frame[list(scored.probability_columns.values())].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert set(scored.frame["predicted_label"]) <= {"high", "low", "mid"}
    assert new.loc[1, "plan"] == "enterprise" and "predicted_label" not in new  # the input is not modified


def test_missing_columns_are_named(mixed):
    table, result = mixed
    model = model_from_comparison(result)
    with pytest.raises(DataError, match="lacks 2 column.*'plan', 'signup'"):
        score_table(model, table.frame.drop(columns=["plan", "signup"]))


def test_target_in_the_file_is_ignored_not_used(mixed):
    table, result = mixed
    model = model_from_comparison(result, "tree")
    with_target = score_table(model, table.frame.head(30))
    flipped = table.frame.head(30).assign(label="low")
    assert any("(the target) is in the file; it was ignored" in n for n in with_target.notes)
    assert score_table(model, flipped).frame["predicted_label"].tolist() == with_target.frame["predicted_label"].tolist()


def test_predictions_csv_is_formula_safe():
    rng = np.random.default_rng(3)
    n = 120
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "comment": rng.choice(["=HYPERLINK(\"http://evil\")", "@SUM(A1)", "fine"], n),
                       "label": np.where(x > 0, "+yes", "-no")})
    result = compare_models(df, "label", folds=2, models=["linear"])
    scored = score_table(model_from_comparison(result), df.drop(columns=["label"]).head(40))
    rows = list(csv.reader(io.StringIO(predictions_csv(scored).decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[-3:] == ["predicted_label", "probability_+yes", "probability_-no"]
    for row in rows:
        for cell in row:
            if cell[:1] in ("=", "+", "@") or (cell[:1] == "-" and not _is_number(cell)):
                pytest.fail(f"formula-like cell {cell!r} not escaped")
    assert {r[header.index("predicted_label")] for r in body} <= {"'+yes", "'-no"}
    assert predictions_csv(scored) == to_csv_bytes(scored.frame)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@pytest.mark.shared
def test_telco_model_scores_100_held_out_rows_like_its_pipeline(shared_data, tmp_path):
    table = load_table(shared_data / "telco_churn" / "Telco-Customer-Churn.csv")
    result = compare_models(table.frame, "Churn", folds=3, models=["hgb", "linear", "dummy"])
    path = tmp_path / "churn.skops"
    path.write_bytes(model_to_bytes(model_from_comparison(result, "hgb")))
    model = load_model(path)
    held_out = table.frame.loc[result.X_test.index[:100]]
    assert not set(held_out.index) & set(result.X_train.index)  # never training rows
    new = held_out.drop(columns=["Churn"])
    scored = score_table(model, new)
    pipe = result.result("hgb").pipeline
    expected = [result.classes[i] for i in pipe.predict(prepare_features(new, result.schema))]
    assert scored.frame["predicted_Churn"].tolist() == expected
    np.testing.assert_allclose(scored.frame["probability_Yes"].to_numpy(),
                               pipe.predict_proba(prepare_features(new, result.schema))[:, 1])
    agree = (scored.frame["predicted_Churn"].to_numpy() == held_out["Churn"].to_numpy()).mean()
    assert agree > 0.7  # ~0.8 on telco; the dummy baseline is 0.73
    assert scored.notes == ["1 column(s) the model does not use were ignored (kept in the output): customerID."]
