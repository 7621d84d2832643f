"""Folds, scores and pipelines: how many folds the target allows, the metrics of one fold, the pipeline of one model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.pipeline import Pipeline

from core.errors import ConfigError
from core.tabular.models import MODELS
from core.tabular.preprocess import build_preprocessor
from core.tabular.schema import TableSchema


def plan_folds(y: np.ndarray, task: str, folds: int) -> tuple[int, list[str]]:
    """Choose how many folds fit the data.

    For classification K is at most the smallest class's row count (stratified
    K-fold needs a row of each class in every fold); for any task each test fold
    keeps at least 2 rows. K is at least 2.

    Args:
        y: (n_rows,) target (encoded classes or numbers).
        task: ``"classification"`` or ``"regression"``.
        folds: requested K (>= 2).

    Returns:
        ``(k, notices)``.

    Raises:
        ConfigError: ``folds`` < 2.
        LimitError: ``folds`` above ``settings.max_folds`` (``CROSSROADS_MAX_FOLDS``, default 20).
    """
    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, not {folds}.")
    from core.settings import settings

    if folds > settings.max_folds:
        raise settings.limit_error("max_folds", f"{folds:,} folds were asked")
    n = len(y)
    k = min(folds, n // 2)
    notices = []
    if task == "classification":
        smallest = int(np.bincount(y).min())
        if smallest < k:
            k = smallest
            notices.append(f"Using {max(k, 2)} folds instead of {folds}: the rarest class has only "
                           f"{smallest} rows, and every fold needs one of each class.")
    elif k < folds:
        notices.append(f"Using {k} folds instead of {folds}: the table has only {n} rows.")
    return max(k, 2), notices


def _scores(task: str, y_true, y_pred, proba, n_classes: int) -> dict[str, float]:
    if task == "regression":
        return {"r2": float(r2_score(y_true, y_pred)),
                "rmse": float(root_mean_squared_error(y_true, y_pred)),
                "mae": float(mean_absolute_error(y_true, y_pred))}
    labels = np.arange(n_classes)
    out = {"accuracy": float(accuracy_score(y_true, y_pred)),
           "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
           "f1_macro": float(f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0))}
    present = np.unique(y_true)
    try:
        if n_classes == 2:
            out["roc_auc"] = float(roc_auc_score(y_true, proba[:, 1])) if len(present) == 2 else float("nan")
        else:
            out["roc_auc"] = float(roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=labels))
    except ValueError:  # a class absent from this test fold
        out["roc_auc"] = float("nan")
    out["log_loss"] = float(log_loss(y_true, np.clip(proba, 1e-15, 1.0), labels=labels))
    return out


def _full_proba(estimator, X, n_classes: int) -> np.ndarray:
    """``predict_proba`` with one column per class 0..k-1, even if a class was absent when fitting."""
    p = estimator.predict_proba(X)
    classes = np.asarray(estimator.classes_, dtype=int)
    if p.shape[1] == n_classes and np.array_equal(classes, np.arange(n_classes)):
        return p
    full = np.zeros((p.shape[0], n_classes))
    full[:, classes] = p
    return full


def make_pipeline(schema: TableSchema, X: pd.DataFrame, key: str, params: dict | None = None,
                  random_state: int = 0) -> Pipeline:
    """The unfitted ``Pipeline([("preprocess", ColumnTransformer), ("model", estimator)])`` for model ``key``.

    Raises:
        ConfigError: unknown model key or bad hyperparameters.
    """
    if key not in MODELS:
        raise ConfigError(f"unknown model {key!r}; choose from {', '.join(MODELS)}.")
    spec = MODELS[key]
    return Pipeline([
        ("preprocess", build_preprocessor(schema, X, scale=spec.needs_scaling)),
        ("model", spec.build(schema.task, params, random_state)),
    ])


#: OpenMP threads for HistGradientBoosting: 1, because on a small shared machine OpenMP's
#: busy-waiting threads slow down badly under load (measured: 2 threads 10x slower than 1 at load 9).
