"""Scores on the held-out rows: the local linear baseline, Linear Learner's ``test:*`` metrics, the verdict.

Both are measured on the same test rows; accuracies carry a 95% interval and n, and
:func:`compare_verdict` says "not enough evidence" when the intervals overlap.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from core.aws.sagemaker_linear_learner.features import Prepared
from core.errors import DataError

# ------------------------------------------------------------------------------------------- local baseline

def classification_metrics(y_true: Sequence, y_pred: Sequence) -> dict:
    """Accuracy with its 95% Wilson interval and n, and macro F1 (for a paired view on the same rows)."""
    from scipy.stats import binomtest
    from sklearn.metrics import f1_score

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    n = int(len(y_true))
    correct = int((y_true == y_pred).sum())
    lo, hi = binomtest(correct, n).proportion_ci(0.95, method="wilson") if n else (math.nan, math.nan)
    return {"accuracy": correct / n if n else math.nan, "ci95": [float(lo), float(hi)], "n": n,
            "macro_f1": float(f1_score(y_true, y_pred, average="macro")) if n else math.nan}


def regression_metrics(y_true: Sequence, y_pred: Sequence) -> dict:
    """RMSE, MAE and R² with n."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return {"rmse": float(math.sqrt(mean_squared_error(y_true, y_pred))), "mae": float(mean_absolute_error(y_true, y_pred)),
            "r2": float(r2_score(y_true, y_pred)), "n": int(len(y_true))}


def local_baseline(prep: Prepared) -> dict:
    """Train the local linear model on the train channel's rows and score the test rows.

    Text: :class:`core.arena.classifier.IntentClassifier` (TF-IDF + logistic regression). Tables: the
    Data & Models ``linear`` model (logistic regression / ridge) in its pipeline. Same rows as the
    Linear Learner ``train`` and ``test`` channels, so the metrics are comparable.

    Returns:
        ``{"model": name, "metrics": {...}}`` (see :func:`classification_metrics` / :func:`regression_metrics`).
    """
    if prep.test is None or len(prep.test) == 0:
        raise DataError("no test rows: the local comparison needs a held-out test split.")
    if prep.spec["kind"] == "text":
        from core.arena.classifier import IntentClassifier

        col = prep.spec["text_column"]
        clf = IntentClassifier(japanese_tokenizer=prep.spec.get("japanese_tokenizer", "janome"))
        clf.fit(prep.train.frame[col].tolist(), [prep.classes[int(i)] for i in prep.train.y])
        pred = clf.predict(prep.test.frame[col].tolist())
        truth = [prep.classes[int(i)] for i in prep.test.y]
        return {"model": "IntentClassifier (TF-IDF + logistic regression)", "metrics": classification_metrics(truth, pred)}
    import warnings

    from core.tabular.compare import make_pipeline
    from core.tabular.schema import prepare_features

    schema = prep.builder.schema
    Xtr = prepare_features(prep.train.frame, schema)
    pipe = make_pipeline(schema, Xtr, "linear")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(Xtr, prep.train.y if schema.task == "regression" else prep.train.y.astype(int))
        pred = pipe.predict(prepare_features(prep.test.frame, schema))
    if schema.task == "regression":
        return {"model": "Linear (ridge)", "metrics": regression_metrics(prep.test.y, pred)}
    return {"model": "Linear (logistic regression)", "metrics": classification_metrics(prep.test.y.astype(int), pred)}


def final_metrics(describe: dict) -> dict[str, float]:
    """``{metric name: value}`` from ``DescribeTrainingJob``'s ``FinalMetricDataList``."""
    return {m["MetricName"]: float(m["Value"]) for m in describe.get("FinalMetricDataList", []) or []}


def linear_learner_test_metrics(metrics: dict[str, float], predictor_type: str, n_test: int) -> dict:
    """Linear Learner's ``test:*`` metrics in the same shape as :func:`local_baseline` (Wilson CI from ``n_test``)."""
    from scipy.stats import binomtest

    if predictor_type == "regressor":
        mse = metrics.get("test:mse")
        return {"rmse": math.sqrt(mse) if mse is not None else None, "mae": metrics.get("test:absolute_loss"),
                "n": n_test}
    acc = metrics.get("test:multiclass_accuracy", metrics.get("test:binary_classification_accuracy"))
    out = {"accuracy": acc, "n": n_test, "macro_f1": metrics.get("test:macro_f_beta", metrics.get("test:binary_f_beta"))}
    if acc is not None and n_test:
        lo, hi = binomtest(int(round(acc * n_test)), n_test).proportion_ci(0.95, method="wilson")
        out["ci95"] = [float(lo), float(hi)]
    return out


def compare_verdict(ll: dict, local: dict | None) -> str:
    """One honest sentence comparing Linear Learner with the local model on the same test rows."""
    if not local or ll.get("accuracy") is None:
        return ""
    la, lb = ll["accuracy"], local["metrics"].get("accuracy")
    if lb is None:
        return ""
    (a0, a1), (b0, b1) = ll.get("ci95", [la, la]), local["metrics"].get("ci95", [lb, lb])
    if a0 > b1 or b0 > a1:
        better = "Linear Learner" if la > lb else "the local model"
        return (f"On the same {ll['n']:,} test rows, {better} is more accurate ({la:.3f} vs {lb:.3f}); the 95% "
                "intervals do not overlap.")
    return (f"On the same {ll['n']:,} test rows: Linear Learner {la:.3f}, local {lb:.3f}. The 95% intervals overlap: "
            "not enough evidence that either is more accurate.")
