"""Cross-validated comparison, fold planning, metrics and charts (core.tabular.compare/charts)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from core.errors import ConfigError
from core.tabular import charts
from core.tabular.compare import compare_models, plan_folds, result_to_json

FAST = {"linear": {}, "tree": {}, "dummy": {}}


@pytest.fixture(scope="module")
def cancer():
    df = load_breast_cancer(as_frame=True).frame.sample(300, random_state=0)
    df["target"] = df["target"].map({0: "malignant", 1: "benign"})
    return df


@pytest.fixture(scope="module")
def cancer_result(cancer):
    events, arrived = [], []
    res = compare_models(cancer, "target", models=FAST, folds=3, on_progress=lambda f, m: events.append((f, m)),
                         on_result=lambda r, done, total: arrived.append((r.key, done, total)))
    return res, events, arrived


def test_binary_classification_beats_the_baseline(cancer, cancer_result):
    res, _, _ = cancer_result
    assert res.task == "classification" and res.classes == ["benign", "malignant"] and res.n_splits == 3
    assert res.best.key == "linear"
    lin, dummy = res.result("linear"), res.result("dummy")
    assert lin.metrics["accuracy"]["mean"] > 0.93 and lin.metrics["roc_auc"]["mean"] > 0.97
    # the prior dummy always predicts the majority class: its accuracy is the majority share
    majority = cancer["target"].value_counts(normalize=True).max()
    assert dummy.metrics["accuracy"]["mean"] == pytest.approx(majority, abs=0.01)
    assert dummy.metrics["balanced_accuracy"]["mean"] == pytest.approx(0.5)
    assert dummy.metrics["roc_auc"]["mean"] == pytest.approx(0.5)
    assert len(lin.fold_metrics["accuracy"]) == 3
    assert lin.metrics["accuracy"]["mean"] == pytest.approx(np.mean(lin.fold_metrics["accuracy"]))
    assert lin.metrics["accuracy"]["std"] == pytest.approx(np.std(lin.fold_metrics["accuracy"]))
    assert lin.fit_seconds > 0 and lin.predict_seconds > 0
    # hold-out view = fold 1: a third of the rows with 3 folds, never seen by the pipeline kept for it
    assert len(res.y_test) == 100 and len(res.X_train) == 200
    assert not set(res.X_test.index) & set(res.X_train.index)
    assert np.allclose(lin.holdout.proba.sum(axis=1), 1.0)
    assert list(lin.pipeline.named_steps) == ["preprocess", "model"]
    # its hold-out metrics are fold 1's cross-validation scores, and the kept pipeline reproduces them
    assert lin.holdout.metrics["accuracy"] == pytest.approx(lin.fold_metrics["accuracy"][0])
    assert np.array_equal(lin.pipeline.predict(res.X_test), lin.holdout.y_pred)


def test_progress_is_monotonic_and_complete(cancer_result):
    _, events, _ = cancer_result
    fractions = [f for f, _ in events]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(events) == 3 * 3 + 2  # one per (model, fold); start and end
    assert any("Decision tree: 3/3 folds done" in m for _, m in events)


def test_results_arrive_model_by_model_cheapest_first(cancer_result):
    res, _, arrived = cancer_result
    assert sorted(k for k, _, _ in arrived) == sorted(FAST)
    assert [d for _, d, _ in arrived] == [1, 2, 3] and {t for _, _, t in arrived} == {3}
    # tasks are queued cheapest model first (the dummy baseline), so its row is the first to arrive
    assert arrived[0][0] == "dummy"
    assert {r.task for r in res.results} == {"classification"}


def test_parallel_and_sequential_runs_agree(cancer):
    """Threads change the order folds finish in, never the scores: each fold is fitted from the same seed."""
    one = compare_models(cancer, "target", models=["tree", "forest"], folds=3, n_jobs=1)
    two = compare_models(cancer, "target", models=["tree", "forest"], folds=3, n_jobs=2)
    for key in ("tree", "forest"):
        assert one.result(key).fold_metrics == two.result(key).fold_metrics
        assert np.array_equal(one.result(key).holdout.proba, two.result(key).holdout.proba)
        assert one.result(key).fit_seconds > 0 and two.result(key).predict_seconds > 0


def test_shared_preprocessing_matches_a_pipeline_fitted_per_model(cancer):
    """Sharing one preprocessing fit per fold gives the scores a fresh Pipeline per (model, fold) gives."""
    from sklearn.model_selection import StratifiedKFold

    from core.tabular.compare import make_pipeline
    from core.tabular.schema import infer_schema, prepare_xy

    res = compare_models(cancer, "target", models=["linear", "tree"], folds=3)
    schema = infer_schema(cancer, "target")
    X, y_raw = prepare_xy(cancer, schema)
    y = np.asarray([schema.classes.index(v) for v in y_raw])
    for key in ("linear", "tree"):
        accs = []
        for a, b in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y):
            pipe = make_pipeline(schema, X, key).fit(X.iloc[a], y[a])
            accs.append(float(np.mean(pipe.predict(X.iloc[b]) == y[b])))
        assert res.result(key).fold_metrics["accuracy"] == pytest.approx(accs)


def test_json_schema(cancer_result):
    res, _, _ = cancer_result
    out = result_to_json(res, [{"feature": "worst radius", "mean_abs_shap": 0.5}], {"output_units": "log-odds"})
    assert {"task", "target", "n_rows", "n_features", "columns", "warnings", "leaderboard", "best_model",
            "shap"} <= set(out)
    assert out["n_rows"] == 300 and out["n_features"] == 30 and out["best_model"] == "Linear (logistic / ridge)"
    assert out["columns"][0] == {"name": "mean radius", "inferred_type": "numeric", "action": "used",
                                 "reason": res.schema.columns[0].reason}
    entry = out["leaderboard"][0]
    assert set(entry["metrics"]) == {"accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"}
    assert set(entry["metrics"]["accuracy"]) == {"mean", "std"}
    assert entry["fit_seconds"] > 0 and out["shap"]["top_features"][0]["feature"] == "worst radius"


def test_multiclass_and_charts():
    df = load_wine(as_frame=True).frame
    res = compare_models(df, "target", models=["linear", "dummy"], folds=3)
    assert res.classes == [0, 1, 2] and res.best.metrics["roc_auc"]["mean"] > 0.95  # one-vs-rest
    lin = res.result("linear")
    cm = charts.confusion_matrix_figure(lin.holdout, res.classes)
    assert np.asarray(cm.data[0].z).sum() == len(res.y_test)
    roc = charts.roc_curve_figure({"Linear": lin.holdout}, res.classes)
    assert len(roc.data) == 3 + 1  # one curve per class + chance line
    pr = charts.pr_curve_figure({"Linear": lin.holdout}, res.classes)
    assert len(pr.data) == 3 + 3  # one curve per class + one flat chance line per class at its base rate
    for c, line in zip(res.classes, pr.data[3:]):
        share = float(np.mean(lin.holdout.y_true == c))
        assert list(line.y) == [share, share] and line.name.startswith(f"chance for {c} (base rate ")
    bars = charts.metric_bars(res, "log_loss")
    assert list(bars.data[0].y) == ["Baseline (dummy)", "Linear (logistic / ridge)"]  # best (lowest) on top
    assert bars.data[0].error_x.array[1] == pytest.approx(lin.metrics["log_loss"]["std"])


def test_regression_diabetes():
    df = load_diabetes(as_frame=True).frame
    res = compare_models(df, "target", models=["linear", "dummy"], folds=3)
    assert res.task == "regression" and res.best.key == "linear"
    lin, dummy = res.result("linear"), res.result("dummy")
    assert 0.35 < lin.metrics["r2"]["mean"] < 0.6 and dummy.metrics["r2"]["mean"] < 0.01
    assert lin.metrics["rmse"]["mean"] < dummy.metrics["rmse"]["mean"]
    assert lin.metrics["mae"]["mean"] < lin.metrics["rmse"]["mean"]
    fig = charts.predicted_vs_actual_figure(lin.holdout)
    assert len(fig.data[0].x) == len(res.y_test)
    res_fig = charts.residuals_figure(lin.holdout)
    assert np.allclose(res_fig.data[0].y, lin.holdout.y_true - lin.holdout.y_pred)


def test_folds_adapt_to_rare_classes_and_tiny_data():
    k, notes = plan_folds(np.array([0] * 50 + [1] * 3), "classification", 5)
    assert k == 3 and "rarest class has only 3 rows" in notes[0]
    k, notes = plan_folds(np.arange(7.0), "regression", 5)
    assert k == 3 and "only 7 rows" in notes[0]
    assert plan_folds(np.array([0] * 50 + [1] * 50), "classification", 5) == (5, [])
    with pytest.raises(ConfigError):
        plan_folds(np.arange(10.0), "regression", 1)


def test_rare_class_end_to_end_uses_fewer_folds():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=60), "y": ["a"] * 30 + ["b"] * 27 + ["c"] * 3})
    res = compare_models(df, "y", models=["tree", "dummy"], folds=5)
    assert res.n_splits == 3 and any("instead of 5" in w for w in res.warnings)


def test_hyperparameters_reach_the_model_and_bad_ones_fail_early(cancer):
    res = compare_models(cancer, "target", models={"tree": {"max_depth": 1}}, folds=2)
    assert res.best.pipeline.named_steps["model"].get_depth() == 1
    with pytest.raises(ConfigError, match="between"):
        compare_models(cancer, "target", models={"tree": {"max_depth": -3}}, folds=2)
    with pytest.raises(ConfigError, match="no model selected"):
        compare_models(cancer, "target", models=[], folds=2)


def test_japanese_names_render_in_matplotlib():
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = charts.configure_matplotlib_cjk()
    if font is None:
        pytest.skip("no CJK font installed (Debian: fonts-noto-cjk)")
    fig, ax = plt.subplots()
    ax.set_title("人口（総数） and Age")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    plt.close(fig)
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_max_rows_samples_with_a_notice(cancer):
    res = compare_models(cancer, "target", models=["dummy"], folds=2, max_rows=100)
    assert res.schema.n_rows == 100 and len(res.X_train) + len(res.X_test) == 100
    assert "A random sample of 100 of the 300 rows was used" in res.warnings[0]
    assert res.warnings[0].startswith("A random sample of 100 of the 300 rows")
    with pytest.raises(ConfigError, match="at least 20"):
        compare_models(cancer, "target", models=["dummy"], max_rows=5)


def test_pr_chance_is_a_flat_base_rate_line_and_the_dummy_draws_no_diagonal(cancer_result):
    res, _, _ = cancer_result
    holdouts = {r.label: r.holdout for r in res.results}
    fig = charts.pr_curve_figure(holdouts, res.classes)
    base = float(np.mean(res.y_test == 1))
    chance = [t for t in fig.data if t.name.startswith("chance")]
    assert len(chance) == 1 and chance[0].name == f"chance (base rate {base:.3f})"
    assert list(chance[0].y) == [base, base] and list(chance[0].x) == [0, 1]
    # the constant dummy has no curve of its own (scikit-learn's end point would draw a diagonal from 1)
    names = [t.name for t in fig.data]
    assert not any(n.startswith("Baseline (dummy)") for n in names)
    assert sum(n.startswith(("Linear", "Decision tree")) for n in names) == 2
    assert "Baseline (dummy): one constant probability, on the chance line" in fig.layout.title.text


def test_timing_axis_has_readable_1_2_5_ticks(cancer_result):
    res, _, _ = cancer_result
    assert charts.nice_ticks(0.004, 0.6) == [0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    assert charts.nice_ticks(0.04, 0.4) == [0.02, 0.05, 0.1, 0.2, 0.5]
    import copy

    wide = copy.deepcopy(res)
    wide.results[0].fit_seconds, wide.results[0].predict_seconds = 2.5, 0.004  # a 600x range: log axis
    fig = charts.timing_bars(wide)
    ax = fig.layout.xaxis
    assert ax.type == "log" and list(ax.ticktext) == ["0.001", "0.002", "0.005", "0.010", "0.020", "0.050", "0.10",
                                                       "0.20", "0.50", "1.0", "2.0", "5.0"]
    assert list(ax.tickvals) == charts.nice_ticks(0.004 / 2.5, 2.5)
    narrow = copy.deepcopy(res)
    for r in narrow.results:
        r.fit_seconds, r.predict_seconds = 0.4, 0.1  # a 4x range: linear axis from 0
    assert charts.timing_bars(narrow).layout.xaxis.type == "linear"


def test_chart_numbers_have_thousands_separators():
    df = load_diabetes(as_frame=True).frame
    df["target"] = df["target"] * 1000  # targets in the hundreds of thousands
    res = compare_models(df, "target", models=["linear"], folds=2)
    lin = res.result("linear")
    bars = charts.metric_bars(res, "mae")
    assert "," in bars.data[0].text[0] and "." not in bars.data[0].text[0]  # e.g. "44,512"
    fig = charts.predicted_vs_actual_figure(lin.holdout)
    assert fig.layout.xaxis.tickformat == "," and "," in fig.data[0].customdata[0][0]
    assert f"on {len(res.y_test)} held-out rows" in fig.layout.title.text


def test_restore_refits_fold_1_only_and_reports_an_old_hold_out(cancer):
    from core.tabular.compare import comparison_to_record, restore_comparison

    res = compare_models(cancer, "target", models=["linear", "tree"], folds=3)
    record = comparison_to_record(res)
    assert record["record_version"] == 2 and "test_size" not in record["settings"]
    events = []
    again, check = restore_comparison(cancer, record, on_progress=lambda f, m: events.append(m))
    assert check.matches, check.differences
    assert sum("hold-out model rebuilt" in m for m in events) == 2  # one fit per model, not one per fold
    assert np.array_equal(again.result("linear").holdout.y_pred, res.result("linear").holdout.y_pred)
    assert again.result("tree").fold_metrics == res.result("tree").fold_metrics  # the saved CV figures
    old = dict(record, record_version=1)
    old["settings"] = dict(record["settings"], test_size=0.2)
    _, check = restore_comparison(cancer, old)
    assert not check.matches and "separate 20% split" in check.differences[0]
