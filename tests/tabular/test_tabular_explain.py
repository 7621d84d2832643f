"""SHAP explanations (core.tabular.explain): explainer choice, units, shapes, grouping, sampling, charts.

Every additivity check recomputes the model output here (``decision_function``,
``predict_proba`` or ``predict``) on the explained rows, independently of the
check that :func:`explain` does itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes, load_wine
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

import core.tabular.explain.progressive as ex_mod  # the time-budgeted engine, where _make_engine is looked up
from core.errors import ConfigError, DataError
from core.tabular.explain import (ShapResult, explain, group_matrix, normalize_shap_output, plot_bar,
                                  plot_beeswarm, plot_waterfall, source_columns, display_feature_name,
                                  format_number)

WORDS = ["late", "refund", "broken", "thanks", "great", "slow", "price", "help"]


def synthetic_table(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Binary target driven mostly by ``a`` and ``pay_method``; ``pay`` is a decoy name prefix."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.normal(size=n)
    pay_method = rng.choice(["card", "cash", "bank_transfer"], size=n)
    pay = rng.choice(["x", "y"], size=n)
    note = [" ".join(rng.choice(WORDS, size=4)) for _ in range(n)]
    logit = 2.5 * a + 1.5 * (pay_method == "cash") - 1.0 * (pay_method == "card") + 0.3 * b
    y = (logit + rng.normal(scale=0.5, size=n) > 0).astype(int)
    X = pd.DataFrame({"a": a, "b": b, "pay_method": pay_method, "pay": pay, "note": note},
                     index=pd.RangeIndex(1000, 1000 + n))
    X.loc[X.index[::17], "b"] = np.nan
    return X, pd.Series(y, index=X.index, name="y")


def preprocessor(sparse: bool = False) -> ColumnTransformer:
    return ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), ["a", "b"]),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=sparse), ["pay_method", "pay"]),
        ("text", TfidfVectorizer(), "note"),
    ], sparse_threshold=1.0 if sparse else 0.0)


def fit(model, X, y, sparse=False) -> Pipeline:
    return Pipeline([("preprocess", preprocessor(sparse)), ("model", model)]).fit(X, y)


def model_output(pipe: Pipeline, X: pd.DataFrame, units: str) -> np.ndarray:
    """Model output (n, n_outputs) recomputed here, in the given units."""
    Xt = pipe[:-1].transform(X)
    Xt = Xt.toarray() if sp.issparse(Xt) else Xt
    model = pipe[-1]
    if units == "probability":
        return model.predict_proba(Xt)
    if units == "log-odds":
        d = model.decision_function(Xt)
        return np.column_stack([-d, d]) if d.ndim == 1 else d
    return model.predict(Xt).reshape(-1, 1)


def assert_additive(res: ShapResult, pipe: Pipeline, X: pd.DataFrame, tol: float = 1e-5):
    ref = model_output(pipe, X.loc[res.row_index], res.output_units)
    total = res.base_values + res.values.sum(axis=1)
    assert total.shape == ref.shape
    np.testing.assert_allclose(total, ref, atol=tol)
    assert res.additivity_error < max(tol, 1e-5)


@pytest.fixture(scope="module")
def table():
    return synthetic_table()


# ------------------------------------------------------------------------------------------
# explainer choice, units and additivity
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model, explainer, units", [
    (LogisticRegression(max_iter=1000), "LinearExplainer", "log-odds"),
    (DecisionTreeClassifier(max_depth=5, min_samples_split=5, random_state=0), "TreeExplainer", "probability"),
    (RandomForestClassifier(n_estimators=20, max_features="sqrt", random_state=0), "TreeExplainer", "probability"),
    (HistGradientBoostingClassifier(max_iter=30, random_state=0), "TreeExplainer", "log-odds"),
])
def test_binary_additivity_and_units_per_explainer(table, model, explainer, units):
    X, y = table
    pipe = fit(model, X, y)
    res = explain(pipe, X, task="classification", max_explain_rows=60, max_background_rows=40)
    assert res.explainer_name == explainer
    assert res.output_units == units
    n_feat = len(pipe[:-1].get_feature_names_out())
    assert res.values.shape == (60, n_feat, 2)
    assert res.base_values.shape == (60, 2)
    assert res.data.shape == (60, n_feat)
    assert res.feature_names == list(pipe[:-1].get_feature_names_out())
    assert res.classes == [0, 1]
    assert res.n_background == (40 if explainer == "LinearExplainer" else 0)
    assert_additive(res, pipe, X)
    # binary: class 0 mirrors class 1
    np.testing.assert_allclose(res.values[:, :, 0], -res.values[:, :, 1])
    # the strongest driver of the synthetic target comes out on top
    assert res.top_features(1)[0]["feature"] == "num__a"
    cap = res.caption()
    assert f"{units} of class '1'" in cap and "60 of 240 rows" in cap and explainer in cap


def test_each_registered_model_declares_an_explainer_and_units_that_add_up(table):
    """ModelSpec.explainer / shap_units drive the choice (issue 13); the additivity check confirms each."""
    from core.tabular.explain.engine import declared_explainer
    from core.tabular.models import MODELS, make_estimator

    X, y = table
    names = {"linear": "LinearExplainer", "tree": "TreeExplainer", "none": "none needed"}
    for key, spec in MODELS.items():
        if not spec.supports("classification"):
            continue
        assert spec.explainer in names and spec.shap_units.get("classification"), key  # declared, not detected
        pipe = fit(make_estimator(key, "classification"), X, y)
        assert declared_explainer(pipe[-1], "classification") == (spec.explainer, spec.shap_units["classification"])
        res = explain(pipe, X, task="classification", max_explain_rows=30, max_background_rows=20)
        assert res.explainer_name.startswith(names[spec.explainer]) and \
            res.output_units == spec.shap_units["classification"], key
        assert not any("within" in n or "could not" in n for n in res.notes), (key, res.notes)
        assert_additive(res, pipe, X)


def test_an_undeclared_estimator_falls_back_to_detection_without_noise(table):
    from core.tabular.explain.engine import declared_explainer

    X, y = table
    pipe = fit(KNeighborsClassifier(n_neighbors=5), X, y)
    assert declared_explainer(pipe[-1], "classification") == ("", None)
    res = explain(pipe, X, task="classification", max_explain_rows=8, max_background_rows=10)
    assert res.explainer_name == "PermutationExplainer" and res.output_units == "probability"
    assert not any("TreeExplainer could not" in n for n in res.notes)  # SHAP's "not supported" is expected here


def test_dummy_needs_no_explainer_and_stays_additive(table):
    X, y = table
    for model, task, units in [(DummyClassifier(strategy="prior"), "classification", "probability"),
                               (DummyRegressor(), "regression", "target units")]:
        target = y if task == "classification" else X["a"] * 3
        pipe = fit(model, X, target)
        res = explain(pipe, X, task=task, max_explain_rows=30)
        assert "ignores the features" in res.explainer_name
        assert res.output_units == units
        assert np.all(res.values == 0)
        assert_additive(res, pipe, X)


def test_permutation_explainer_for_other_models(table):
    X, y = table
    X = X[["a", "b", "pay_method", "pay"]]
    ct = ColumnTransformer([("num", Pipeline([("i", SimpleImputer()), ("s", StandardScaler())]), ["a", "b"]),
                            ("cat", OneHotEncoder(sparse_output=False), ["pay_method", "pay"])])
    pipe = Pipeline([("preprocess", ct), ("model", KNeighborsClassifier(n_neighbors=7))]).fit(X, y)
    # the first permutation explanation of a process compiles SHAP's numba code: give it room
    res = explain(pipe, X, task="classification", max_explain_rows=8, max_background_rows=20, time_budget_s=600)
    assert res.explainer_name == "PermutationExplainer"
    assert res.output_units == "probability"
    assert res.n_explained == 8 and res.n_background == 20
    assert_additive(res, pipe, X, tol=1e-9)


def test_sparse_tfidf_pipeline_only_densifies_sampled_rows(table):
    X, y = table
    for model in (LogisticRegression(max_iter=1000), RandomForestClassifier(n_estimators=10, random_state=0)):
        pipe = fit(model, X, y, sparse=True)
        assert sp.issparse(pipe[:-1].transform(X.head()))
        res = explain(pipe, X, task="classification", max_explain_rows=25, max_background_rows=30)
        assert isinstance(res.data, np.ndarray) and res.data.shape[0] == 25
        assert any(f.startswith("text__") for f in res.feature_names)
        assert_additive(res, pipe, X)


# ------------------------------------------------------------------------------------------
# the one shape normaliser, against both SHAP forms
# ------------------------------------------------------------------------------------------

def test_normalize_list_and_array_forms_give_the_same_result():
    rng = np.random.default_rng(1)
    n, f, k = 7, 4, 3
    arr = rng.normal(size=(n, f, k))
    listed = [arr[:, :, i] for i in range(k)]
    expected = rng.normal(size=k)
    v1, b1 = normalize_shap_output(arr, expected, n_rows=n, n_features=f)
    v2, b2 = normalize_shap_output(listed, list(expected), n_rows=n, n_features=f)
    v3, b3 = normalize_shap_output(arr, np.tile(expected, (n, 1)), n_rows=n, n_features=f)
    for v, b in [(v2, b2), (v3, b3)]:
        np.testing.assert_array_equal(v, v1)
        np.testing.assert_array_equal(b, b1)
    assert v1.shape == (n, f, k) and b1.shape == (n, k)
    np.testing.assert_array_equal(b1[4], expected)


def test_normalize_with_real_shap_outputs_in_both_forms():
    import shap

    X, y = load_wine(return_X_y=True)
    rf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    te = shap.TreeExplainer(rf)
    sv = te.shap_values(X[:6])  # SHAP >= 0.45: one (n, f, k) array
    assert np.ndim(sv) == 3
    old_form = [sv[:, :, i] for i in range(sv.shape[2])]  # SHAP < 0.45: a list of (n, f) arrays
    v_new, b_new = normalize_shap_output(sv, te.expected_value, n_rows=6, n_features=13)
    v_old, b_old = normalize_shap_output(old_form, list(te.expected_value), n_rows=6, n_features=13)
    np.testing.assert_array_equal(v_new, v_old)
    np.testing.assert_array_equal(b_new, b_old)
    np.testing.assert_allclose(b_new + v_new.sum(axis=1), rf.predict_proba(X[:6]), atol=1e-9)
    expl = te(X[:6])  # the Explanation form: base_values (n, k)
    v_e, b_e = normalize_shap_output(expl.values, expl.base_values, n_rows=6, n_features=13)
    np.testing.assert_allclose(v_e, v_new)
    np.testing.assert_allclose(b_e, b_new)


def test_normalize_single_outputs_binary_completion_and_bad_shapes():
    v = np.arange(6.0).reshape(2, 3)
    # regression: (n, f) + scalar
    vr, br = normalize_shap_output(v, 5.0, n_rows=2, n_features=3)
    assert vr.shape == (2, 3, 1) and br.tolist() == [[5.0], [5.0]]
    # regression Explanation form: base (n,)
    _, br2 = normalize_shap_output(v, np.array([5.0, 6.0]), n_rows=2, n_features=3)
    assert br2.tolist() == [[5.0], [6.0]]
    # binary log-odds of class 1 -> class 0 is the negation
    vl, bl = normalize_shap_output(v, np.array([0.4]), n_rows=2, n_features=3, n_classes=2, units="log-odds")
    np.testing.assert_array_equal(vl[:, :, 0], -v)
    np.testing.assert_array_equal(vl[:, :, 1], v)
    assert bl.tolist() == [[-0.4, 0.4], [-0.4, 0.4]]
    # binary probability of class 1 -> class 0 base is 1 - base
    _, bp = normalize_shap_output(v, 0.25, n_rows=2, n_features=3, n_classes=2, units="probability")
    assert bp.tolist() == [[0.75, 0.25], [0.75, 0.25]]
    # one row given as (n_features,)
    v1, b1 = normalize_shap_output(np.array([1.0, 2.0, 3.0]), 0.0, n_rows=1, n_features=3)
    assert v1.shape == (1, 3, 1) and b1.shape == (1, 1)
    with pytest.raises(ValueError):
        normalize_shap_output(v, 0.0, n_rows=2, n_features=4)
    with pytest.raises(ValueError):
        normalize_shap_output(np.zeros((2, 3, 3)), np.zeros(5), n_rows=2, n_features=3)
    with pytest.raises(ValueError):
        normalize_shap_output(v, 0.0, n_rows=2, n_features=3, n_classes=2)  # units needed


# ------------------------------------------------------------------------------------------
# grouping one-hot / TF-IDF columns back into their source column
# ------------------------------------------------------------------------------------------

def test_source_columns_uses_transformers_not_underscores():
    X, y = synthetic_table(80)
    X = X.assign(**{"Age": np.where(np.arange(80) % 5 == 0, np.nan, 30.0 + np.arange(80) % 7)})
    ct = ColumnTransformer([
        ("num", SimpleImputer(add_indicator=True), ["a", "Age"]),
        ("cat", OneHotEncoder(sparse_output=False), ["pay_method", "pay"]),
        ("text", TfidfVectorizer(), "note"),
    ], remainder="passthrough", verbose_feature_names_out=True)
    ct.fit(X.drop(columns=["b"]).assign(b=X["b"].fillna(0)))
    names = list(ct.get_feature_names_out())
    src = source_columns(ct)
    by_name = dict(zip(names, src))
    assert by_name["cat__pay_method_bank_transfer"] == "pay_method"   # not "pay", not "pay_method_bank"
    assert by_name["cat__pay_x"] == "pay"
    assert by_name["num__missingindicator_Age"] == "Age"
    assert by_name["num__a"] == "a"
    assert by_name["remainder__b"] == "b"
    assert {by_name[n] for n in names if n.startswith("text__")} == {"note"}
    groups, g = group_matrix(src)
    assert groups == ["a", "Age", "pay_method", "pay", "note", "b"]
    assert g.shape == (len(names), 6) and np.all(g.sum(axis=1) == 1)
    # a Pipeline ending with the ColumnTransformer works too
    assert source_columns(Pipeline([("preprocess", ct)])) == src


def test_grouped_values_sum_to_ungrouped(table):
    X, y = table
    pipe = fit(RandomForestClassifier(n_estimators=15, random_state=0), X, y)
    plain = explain(pipe, X, task="classification", max_explain_rows=40, random_state=3)
    grouped = explain(pipe, X, task="classification", max_explain_rows=40, random_state=3, group_onehot=True)
    assert grouped.feature_names == ["a", "b", "pay_method", "pay", "note"]
    assert grouped.row_index == plain.row_index
    assert grouped.values.shape == (40, 5, 2)
    np.testing.assert_allclose(grouped.values.sum(axis=1), plain.values.sum(axis=1), atol=1e-12)
    np.testing.assert_allclose(grouped.base_values, plain.base_values)
    onehot = [i for i, f in enumerate(plain.feature_names) if f.startswith("cat__pay_method_")]
    assert len(onehot) == 3
    np.testing.assert_allclose(grouped.values[:, 2, :], plain.values[:, onehot, :].sum(axis=1), atol=1e-12)
    # single-column groups keep the transformed value; categorical groups show the original value
    np.testing.assert_allclose(grouped.data[:, 0], plain.data[:, plain.feature_names.index("num__a")])
    assert set(grouped.display_data[:, 2]) <= {"card", "cash", "bank_transfer"}
    assert grouped.top_features(2)[0]["feature"] in {"a", "pay_method"}
    assert "grouped by source column" in grouped.caption()
    assert_additive(grouped, pipe, X)


# ------------------------------------------------------------------------------------------
# top features, multiclass, regression
# ------------------------------------------------------------------------------------------

def wine_frame():
    data = load_wine(as_frame=True)
    return data.frame.drop(columns="target"), data.frame["target"]


def numeric_pipe(model, X):
    ct = ColumnTransformer([("num", StandardScaler(), list(X.columns))], verbose_feature_names_out=False)
    return Pipeline([("preprocess", ct), ("model", model)])


@pytest.mark.parametrize("model, units", [
    (LogisticRegression(max_iter=2000), "log-odds"),
    (HistGradientBoostingClassifier(max_iter=20, random_state=0), "log-odds"),
    (RandomForestClassifier(n_estimators=20, random_state=0), "probability"),
])
def test_multiclass_wine(model, units):
    X, y = wine_frame()
    pipe = numeric_pipe(model, X).fit(X, y)
    res = explain(pipe, X, task="classification", max_explain_rows=50, max_background_rows=30)
    assert res.classes == [0, 1, 2] and res.output_units == units
    assert res.values.shape == (50, 13, 3) and res.base_values.shape == (50, 3)
    assert_additive(res, pipe, X)
    # top_features: mean over classes by default, largest first, equal to a hand computation
    top = res.top_features(5)
    manual = np.abs(res.values).mean(axis=(0, 2))
    assert [t["feature"] for t in top] == [res.feature_names[i] for i in np.argsort(-manual)[:5]]
    assert [t["mean_abs_shap"] for t in top] == sorted((t["mean_abs_shap"] for t in top), reverse=True)
    assert top[0]["mean_abs_shap"] == pytest.approx(manual.max())
    per_class = res.top_features(13, class_index=2)
    assert per_class[0]["mean_abs_shap"] == pytest.approx(np.abs(res.values[:, :, 2]).mean(axis=0).max())
    assert "per class (3 classes)" in res.caption()
    assert "of class '2'" in res.caption(class_index=2)
    expl = res.to_explanation(2)
    np.testing.assert_array_equal(expl.values, res.values[:, :, 2])
    with pytest.raises(ConfigError):
        res.to_explanation(3)


@pytest.mark.parametrize("model, explainer", [
    (Ridge(alpha=1.0), "LinearExplainer"),
    (RandomForestRegressor(n_estimators=15, random_state=0), "TreeExplainer"),
    (HistGradientBoostingRegressor(max_iter=30, random_state=0), "TreeExplainer"),
])
def test_regression_diabetes(model, explainer):
    data = load_diabetes(as_frame=True)
    X, y = data.frame.drop(columns="target"), data.frame["target"]
    pipe = numeric_pipe(model, X).fit(X, y)
    res = explain(pipe, X, task="regression", max_explain_rows=40)
    assert res.explainer_name == explainer and res.output_units == "target units"
    assert res.classes is None
    assert res.values.shape == (40, 10, 1)
    assert_additive(res, pipe, X, tol=1e-6 * float(np.abs(y).max()))
    assert "SHAP values in target units" in res.caption()
    assert res.to_explanation().values.shape == (40, 10)
    # bmi and s5 are the best-known drivers of this target
    assert {t["feature"] for t in res.top_features(3)} & {"bmi", "s5"}


# ------------------------------------------------------------------------------------------
# sampling and the time budget
# ------------------------------------------------------------------------------------------

def test_sampling_of_explained_and_background_rows(table):
    X, y = table
    pipe = fit(LogisticRegression(max_iter=1000), X, y)
    res = explain(pipe, X, task="classification", max_explain_rows=50, max_background_rows=20, random_state=7)
    assert res.n_explained == 50 and res.n_total == 240 and res.n_background == 20
    assert res.sampled and not res.budget_limited
    assert res.row_index == sorted(res.row_index) and len(set(res.row_index)) == 50
    assert set(res.row_index) <= set(X.index)
    assert res.row_index != list(X.index[:50])  # a random sample, not the head
    again = explain(pipe, X, task="classification", max_explain_rows=50, max_background_rows=20, random_state=7)
    assert again.row_index == res.row_index
    np.testing.assert_allclose(again.values, res.values)
    full = explain(pipe, X, task="classification", max_explain_rows=1000)
    assert full.n_explained == 240 and not full.sampled and full.n_background == 100
    assert "240 of 240 rows explained, 100 background rows" in full.caption()
    assert res.position_of(res.row_index[3]) == 3
    with pytest.raises(DataError):
        res.position_of(-1)


def test_background_table_sets_the_base_value(table):
    """LinearExplainer's base value is the mean decision_function over the background rows given."""
    X, y = table
    pipe = fit(LogisticRegression(max_iter=1000), X, y)
    train, test = X.iloc[:150], X.iloc[150:]
    res = explain(pipe, test, task="classification", background=train, max_background_rows=40, random_state=2)
    assert res.n_background == 40 and res.n_total == 90
    assert set(res.row_index) <= set(test.index)
    all_train = explain(pipe, test, task="classification", background=train, max_background_rows=150)
    expected = float(np.mean(model_output(pipe, train, "log-odds")[:, 1]))
    np.testing.assert_allclose(all_train.base_values[:, 1], expected, atol=1e-9)
    assert not np.allclose(res.base_values[0, 1], all_train.base_values[0, 1], atol=1e-12)
    assert_additive(res, pipe, test)
    with pytest.raises(DataError, match="background"):
        explain(pipe, test, task="classification", background=train.iloc[:0])


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


def test_time_budget_limits_rows_from_measured_cost(table, monkeypatch):
    """Each explained row 'costs' 0.05 s on a fake clock: a 2 s budget fits about 30-40 rows."""
    X, y = table
    pipe = fit(DecisionTreeClassifier(max_depth=4, random_state=0), X, y)
    clock = FakeClock()
    monkeypatch.setattr(ex_mod.time, "perf_counter", clock.perf_counter)
    real = ex_mod._make_engine
    calls = []

    def slow_engine(*args, **kwargs):
        eng = real(*args, **kwargs)
        fn = eng.fn

        def timed(xb):
            calls.append(len(xb))
            clock.now += 0.05 * len(xb)
            return fn(xb)

        eng.fn = timed
        return eng

    monkeypatch.setattr(ex_mod, "_make_engine", slow_engine)
    res = explain(pipe, X, task="classification", max_explain_rows=200, time_budget_s=2.0)
    assert res.budget_limited and res.sampled
    assert 30 <= res.n_explained <= 40
    assert clock.now <= 2.0 + 1e-9
    assert calls[0] == 1 and len(calls) >= 2  # one row to measure the cost, then what fits
    assert res.seconds_per_row == pytest.approx(0.05)
    assert f"{res.n_explained} of 240 rows explained (sampled to fit the 2 s time budget)" in res.caption()
    # explained rows are still a random sample of the whole table, not its head
    assert max(X.index.get_loc(i) for i in res.row_index) > 120
    assert_additive(res, pipe, X)
    # a budget smaller than the first batch still explains that batch
    clock.now = 0.0
    tiny = explain(pipe, X, task="classification", max_explain_rows=200, time_budget_s=0.01)
    assert tiny.n_explained == 1 and tiny.budget_limited


def test_progressive_first_view_then_refinement_keeps_rows_and_values(table, monkeypatch):
    """A 3 s first view at 0.05 s per row, then 1.5 s steps: rows only grow, earlier values never change."""
    X, y = table
    pipe = fit(DecisionTreeClassifier(max_depth=4, random_state=0), X, y)
    clock = FakeClock()
    monkeypatch.setattr(ex_mod.time, "perf_counter", clock.perf_counter)
    real = ex_mod._make_engine
    calls = []

    def slow_engine(*args, **kwargs):
        eng = real(*args, **kwargs)
        fn = eng.fn

        def timed(xb):
            calls.append(len(xb))
            clock.now += 0.05 * len(xb)
            return fn(xb)

        eng.fn = timed
        return eng

    monkeypatch.setattr(ex_mod, "_make_engine", slow_engine)
    pe = ex_mod.ProgressiveExplainer(pipe, X, task="classification", max_explain_rows=120, time_budget_s=6.0,
                                     class_labels=["no", "yes"])
    assert pe.step(3.0) > 0 and not pe.done
    first = pe.result(group_onehot=True)
    assert 50 <= first.n_explained <= 60 and not first.complete and first.classes == ["no", "yes"]
    assert f"{first.n_explained} of 240 rows explained so far (first view; refining up to 120 rows)" in first.caption()
    n_calls = len(calls)
    ungrouped = pe.result(group_onehot=False)  # the other view comes from the same values: nothing re-explained
    assert len(calls) == n_calls and ungrouped.n_explained == first.n_explained and not ungrouped.grouped
    assert np.allclose(ungrouped.values.sum(axis=1), first.values.sum(axis=1))
    while not pe.done:
        assert pe.step(1.5) > 0
    last = pe.result(group_onehot=True)
    assert last.complete and last.budget_limited and last.n_explained < 120
    assert clock.now <= 6.0 + 1e-9
    assert "(sampled to fit the 6 s time budget)" in last.caption()
    # the first view's rows are all still there, with the same SHAP values
    assert set(first.row_index) <= set(last.row_index)
    pos = [last.row_index.index(r) for r in first.row_index]
    assert np.array_equal(last.values[pos], first.values)
    assert_additive(last, pipe, X)
    assert pe.step(1.5) == 0  # done: nothing more


def test_progressive_reaches_the_row_cap_and_matches_explain(table):
    X, y = table
    pipe = fit(LogisticRegression(max_iter=1000), X, y)
    pe = ex_mod.ProgressiveExplainer(pipe, X, task="classification", max_explain_rows=80, time_budget_s=600)
    pe.first_view(600)
    assert pe.done and pe.n_explained == 80
    res = pe.result(True)
    assert res.complete and not res.budget_limited and res.max_rows == 80
    once = explain(pipe, X, task="classification", max_explain_rows=80, time_budget_s=600, group_onehot=True)
    assert once.row_index == res.row_index and np.allclose(once.values, res.values)
    with pytest.raises(ConfigError, match="class_labels has 3 names"):
        ex_mod.ProgressiveExplainer(pipe, X, task="classification", class_labels=["a", "b", "c"])
    with pytest.raises(DataError, match="no row explained yet"):
        ex_mod.ProgressiveExplainer(pipe, X, task="classification").result()


# ------------------------------------------------------------------------------------------
# charts and errors
# ------------------------------------------------------------------------------------------

def test_charts_are_shap_plots_with_units_and_sample_size(table):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    X, y = table
    pipe = fit(HistGradientBoostingClassifier(max_iter=20, random_state=0), X, y)
    res = explain(pipe, X, task="classification", max_explain_rows=60, group_onehot=True)
    open_before = plt.get_fignums()
    bar = plot_bar(res, max_display=5)
    bee = plot_beeswarm(res, max_display=5)
    wf = plot_waterfall(res, 0)
    assert plt.get_fignums() == open_before  # nothing left in pyplot's global state
    for fig in (bar, bee, wf):
        assert isinstance(fig, Figure)
    assert "60 of 240 rows explained" in bar._suptitle.get_text()
    assert "log-odds of class '1'" in bar.axes[0].get_xlabel()
    assert "60 of 240 rows explained" in bee._suptitle.get_text()
    assert "log-odds of class '1'" in bee.axes[0].get_xlabel()
    assert str(res.row_index[0]) in wf._suptitle.get_text()
    assert "log-odds of class '1'" in wf._suptitle.get_text()
    # the bar chart shows the top feature's mean |SHAP| as its longest bar
    widths = [p.get_width() for p in bar.axes[0].patches]
    assert max(widths) == pytest.approx(res.top_features(1)[0]["mean_abs_shap"], rel=1e-6)
    with pytest.raises(ConfigError):
        plot_waterfall(res, res.n_explained)
    for fig in (bar, bee, wf):
        fig.savefig(__import__("io").BytesIO(), format="png")


def test_multiclass_charts_default_to_class_average_and_predicted_class():
    X, y = wine_frame()
    pipe = numeric_pipe(LogisticRegression(max_iter=2000), X).fit(X, y)
    res = explain(pipe, X, task="classification", max_explain_rows=30)
    bar = plot_bar(res)
    assert "mean over 3 classes" in bar.axes[0].get_xlabel()
    pos = 0
    predicted = int(np.argmax(res.base_values[pos] + res.values[pos].sum(axis=0)))
    wf = plot_waterfall(res, pos)
    assert f"of class '{res.classes[predicted]}'" in wf._suptitle.get_text()


def test_bad_input_gives_clear_errors(table):
    X, y = table
    pipe = fit(LogisticRegression(max_iter=1000), X, y)
    with pytest.raises(ConfigError, match="task"):
        explain(pipe, X, task="clustering")
    with pytest.raises(DataError, match="no rows"):
        explain(pipe, X.iloc[:0], task="classification")
    with pytest.raises(DataError, match="columns"):
        explain(pipe, X.drop(columns=["pay_method"]), task="classification")
    with pytest.raises(DataError, match="not fitted"):
        explain(Pipeline([("preprocess", preprocessor()), ("model", LogisticRegression())]), X,
                task="classification")
    with pytest.raises(ConfigError):
        explain(pipe, X, task="classification", max_explain_rows=0)
    with pytest.raises(ConfigError, match="regression"):
        explain(fit(Ridge(), X, y), X, task="classification")


# ------------------------------------------------------------------------------------------
# real data (sampled)
# ------------------------------------------------------------------------------------------

@pytest.mark.shared
def test_telco_churn_sampled(shared_data):
    df = pd.read_csv(shared_data / "telco_churn" / "Telco-Customer-Churn.csv", na_values=[" "])
    y = df.pop("Churn")
    X = df.drop(columns=["customerID"])
    num = ["tenure", "MonthlyCharges", "TotalCharges", "SeniorCitizen"]
    cat = [c for c in X.columns if c not in num]
    ct = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), num),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat),
    ], verbose_feature_names_out=False)
    pipe = Pipeline([("preprocess", ct), ("model", HistGradientBoostingClassifier(max_iter=50, random_state=0))])
    pipe.fit(X, y)
    res = explain(pipe, X, task="classification", max_explain_rows=300, group_onehot=True)
    assert res.n_total == 7043 and res.n_explained == 300 and res.sampled
    assert res.classes == ["No", "Yes"] and res.output_units == "log-odds"
    assert_additive(res, pipe, X)
    assert len(res.feature_names) == len(X.columns)
    top = [t["feature"] for t in res.top_features(5)]
    assert {"Contract", "tenure"} <= set(top)  # the well-known churn drivers
    assert res.caption().startswith("SHAP values in log-odds of class 'Yes'; 300 of 7,043 rows explained")


@pytest.mark.shared
def test_titanic_with_the_app_preprocessing(shared_data):
    from core.tabular.preprocess import build_preprocessor
    from core.tabular.schema import infer_schema, prepare_xy

    df = pd.read_csv(shared_data / "titanic" / "train.csv")
    schema = infer_schema(df, "Survived")
    X, y = prepare_xy(df, schema)
    pipe = Pipeline([("preprocess", build_preprocessor(schema, X)),
                     ("model", RandomForestClassifier(n_estimators=30, max_features="sqrt", random_state=0))])
    pipe.fit(X, y)
    res = explain(pipe, X, task="classification", max_explain_rows=80, group_onehot=True)
    assert res.output_units == "probability" and res.explainer_name == "TreeExplainer"
    assert_additive(res, pipe, X)
    assert set(res.feature_names) <= set(X.columns)
    assert "Sex" in [t["feature"] for t in res.top_features(3)]


def test_infrequent_category_column_has_a_display_name():
    assert display_feature_name("Cabin_infrequent_sklearn", "Cabin") == "Cabin = (other)"
    assert display_feature_name("cat__city_infrequent_sklearn") == "city = (other)"
    assert display_feature_name("Sex_male", "Sex") == "Sex_male"
    rng = np.random.default_rng(0)
    n = 200
    city = rng.choice(["Tokyo", "Osaka"], size=n).astype(object)
    city[:6] = ["Nara", "Kobe", "Sendai", "Nara", "Kobe", "Sendai"]  # rare: grouped as infrequent
    X = pd.DataFrame({"a": rng.normal(size=n), "city": city})
    y = (X["a"] + (X["city"] == "Tokyo") > 0.5).astype(int)
    ct = ColumnTransformer([("num", "passthrough", ["a"]),
                            ("cat", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=10,
                                                  sparse_output=False), ["city"])],
                           verbose_feature_names_out=False)
    pipe = Pipeline([("preprocess", ct), ("model", LogisticRegression())]).fit(X, y)
    assert "city_infrequent_sklearn" in list(ct.get_feature_names_out())
    res = explain(pipe, X, task="classification", max_explain_rows=30, random_state=0)
    assert res.feature_names == ["a", "city_Osaka", "city_Tokyo", "city = (other)"]
    assert not any("infrequent_sklearn" in t["feature"] for t in res.top_features(10))
    grouped = explain(pipe, X, task="classification", max_explain_rows=30, random_state=0, group_onehot=True)
    assert grouped.feature_names == ["a", "city"]
    np.testing.assert_allclose(grouped.values.sum(axis=1), res.values.sum(axis=1), atol=1e-12)


def test_format_number_three_significant_digits():
    assert format_number(48542.56, signed=True) == "+48,500"
    assert format_number(277858.932) == "278,000"
    assert format_number(-0.123456) == "\u22120.123"
    assert format_number(2.5, signed=True) == "+2.5"
    assert format_number(0) == "0"
    assert format_number(1.234e-6) == "1.23e-06"


def test_waterfall_in_large_units_is_readable():
    """California-like target (dollars): labels get separators and 3 significant digits, SHAP numbers unchanged."""
    import re

    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({"income": rng.uniform(1, 10, n), "rooms": rng.integers(100, 5000, n).astype(float)})
    y = 40_000 * X["income"] + 13.7 * X["rooms"] + rng.normal(scale=5_000, size=n)
    pipe = Pipeline([("preprocess", ColumnTransformer([("num", StandardScaler(), ["income", "rooms"])])),
                     ("model", Ridge())]).fit(X, y)
    res = explain(pipe, X, task="regression", max_explain_rows=20, random_state=0)
    before = res.values.copy(), res.base_values.copy()
    fig = plot_waterfall(res, 0)
    np.testing.assert_array_equal(res.values, before[0])
    np.testing.assert_array_equal(res.base_values, before[1])
    texts = [t.get_text() for ax in fig.axes for t in
             [*ax.texts, *ax.get_xticklabels(), *ax.get_yticklabels()] if t.get_text()]
    joined = " | ".join(texts)
    assert not re.search(r"\d{4}\.\d", joined), joined  # no 277858.932 / +48542.56
    fx = float(res.base_values[0, 0] + res.values[0, :, 0].sum())
    assert any(format_number(fx) in t for t in texts), (format_number(fx), joined)
    contributions = [t for t in texts if re.fullmatch(r"[+\u2212][\d,.]+", t)]
    assert contributions and all(len(re.sub(r"\D", "", t).lstrip("0")) <= 3 or t.endswith("0")
                                 for t in contributions), contributions
    # every label lies inside the figure (nothing cut off at the edges)
    fig.canvas.draw()
    width = fig.bbox.width
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        shown_ticks = [t for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]  # drawn ticks only
        for t in [*ax.texts, *shown_ticks]:
            if t.get_text() and t.get_visible():
                box = t.get_window_extent()
                assert box.x0 >= -1 and box.x1 <= width + 1, (t.get_text(), box, width)


def test_bar_and_beeswarm_in_large_units_have_readable_numbers():
    import re

    rng = np.random.default_rng(1)
    n = 200
    X = pd.DataFrame({"income": rng.uniform(1, 10, n), "rooms": rng.uniform(100, 5000, n)})
    y = 40_000 * X["income"] + 13.7 * X["rooms"] + rng.normal(scale=5_000, size=n)
    pipe = Pipeline([("preprocess", ColumnTransformer([("num", StandardScaler(), ["income", "rooms"])])),
                     ("model", Ridge())]).fit(X, y)
    res = explain(pipe, X, task="regression", max_explain_rows=50, random_state=0)
    for fig in (plot_bar(res), plot_beeswarm(res)):
        fig.canvas.draw()
        texts = [t.get_text() for ax in fig.axes for t in [*ax.texts, *ax.get_xticklabels()] if t.get_text()]
        joined = " | ".join(texts)
        assert not re.search(r"\d{4}\.\d", joined), joined          # no "+50232.18"
        assert not re.search(r"(?<![\d,])\d{5,}", joined), joined    # 100000 -> 100,000
        assert re.search(r"\d{2,3},\d{3}", joined), joined
