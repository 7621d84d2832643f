"""What a comparison is and returns: its metrics, :class:`ComparisonSettings`, :class:`ModelResult`, :class:`ComparisonResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from core.errors import ConfigError
from core.tabular.schema import TableSchema

#: Metric key -> (display name, higher is better), per task.
METRICS: dict[str, dict[str, tuple[str, bool]]] = {
    "classification": {
        "accuracy": ("Accuracy", True),
        "balanced_accuracy": ("Balanced accuracy", True),
        "f1_macro": ("Macro F1", True),
        "roc_auc": ("ROC AUC", True),
        "log_loss": ("Log loss", False),
    },
    "regression": {
        "r2": ("R²", True),
        "rmse": ("RMSE", False),
        "mae": ("MAE", False),
    },
}
#: The metric the leaderboard is sorted by, per task.
PRIMARY_METRIC = {"classification": "balanced_accuracy", "regression": "r2"}
DEFAULT_FOLDS = 5

ProgressCallback = Callable[[float, str], None]


@dataclass
class ComparisonSettings:
    """Everything besides the table that decides a comparison's numbers.

    The same table and settings give the same folds, hold-out split, fitted models
    and metrics: a saved workspace rebuilds its models from them
    (:func:`restore_comparison`).

    Attributes:
        target: the column to predict.
        task: as requested: ``"auto"``, ``"classification"`` or ``"regression"``.
        models: ``{model key: hyperparameters}`` compared, in order.
        folds: requested K (fold 1 is also the hold-out view).
        random_state: seed of the splits and the models.
        max_rows: row sample size, or ``None`` for every row.
        exclude: feature columns left out by the user.
    """

    target: str
    task: str = "auto"
    models: dict[str, dict] = field(default_factory=dict)
    folds: int = DEFAULT_FOLDS
    random_state: int = 0
    max_rows: int | None = None
    exclude: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the attributes above."""
        return {"target": self.target, "task": self.task,
                "models": {k: dict(v) for k, v in self.models.items()}, "folds": self.folds,
                "random_state": self.random_state, "max_rows": self.max_rows, "exclude": list(self.exclude)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ComparisonSettings":
        """Settings from :meth:`to_dict` output, type-checked (a ``test_size`` of records written
        before the hold-out view became fold 1 is ignored).

        Raises:
            ConfigError: a field is missing or has the wrong type.
        """
        try:
            models = data.get("models") or {}
            if not isinstance(models, Mapping) or not all(isinstance(v, Mapping) for v in models.values()):
                raise TypeError("models")
            exclude = data.get("exclude") or []
            if not isinstance(exclude, list):
                raise TypeError("exclude")
            max_rows = data.get("max_rows")
            return cls(target=str(data["target"]), task=str(data.get("task", "auto")),
                       models={str(k): dict(v) for k, v in models.items()}, folds=int(data.get("folds", DEFAULT_FOLDS)),
                       random_state=int(data.get("random_state", 0)),
                       max_rows=None if max_rows is None else int(max_rows), exclude=[str(c) for c in exclude])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"the saved comparison settings are invalid ({exc}).") from None


@dataclass
class Holdout:
    """Predictions of one model on the held-out rows (cross-validation fold 1).

    Attributes:
        y_true: (n_test,) true targets (class indices ``0..k-1`` for classification).
        y_pred: (n_test,) predictions (same encoding).
        proba: (n_test, k) ``predict_proba`` for classification, else ``None``.
        metrics: the metrics of :data:`METRICS` on these rows.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    metrics: dict[str, float]


@dataclass
class ModelResult:
    """Cross-validation and hold-out result of one model.

    Attributes:
        key, label: the registry key and display name.
        params: hyperparameters used (as given to the registry).
        metrics: ``{metric: {"mean": float, "std": float}}`` over folds (std: population, ddof=0).
        fold_metrics: ``{metric: [per-fold values]}``.
        fit_seconds, predict_seconds: mean seconds per fold.
        holdout: predictions on the held-out rows, fold 1 (:class:`Holdout`).
        pipeline: the pipeline fitted on the other folds' rows (``ComparisonResult.X_train``).
        baseline: whether it is the dummy baseline.
        task: ``"classification"`` or ``"regression"``.
    """

    key: str
    label: str
    params: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    fold_metrics: dict[str, list[float]]
    fit_seconds: float
    predict_seconds: float
    holdout: Holdout
    pipeline: Pipeline
    baseline: bool = False
    task: str = ""

    @property
    def primary(self) -> dict[str, float]:
        """``{"mean", "std"}`` of the task's :data:`PRIMARY_METRIC`."""
        return self.metrics[PRIMARY_METRIC[self.task]]


@dataclass
class ComparisonResult:
    """Everything a comparison produced.

    Attributes:
        schema: the :class:`~core.tabular.schema.TableSchema`.
        task: ``"classification"`` or ``"regression"``.
        classes: original class labels in encoded order (classification), else ``[]``.
        n_splits: folds actually used.
        primary_metric: the metric the leaderboard is sorted by.
        results: one :class:`ModelResult` per model, best first.
        X_train, X_test: prepared feature frames of the hold-out view: fold 1's training rows
            (the other K-1 folds) and its test rows.
        y_train, y_test: their encoded targets.
        warnings: notices (plain sentences) for the user.
        seconds: total wall-clock seconds.
        settings: the :class:`ComparisonSettings` that produced it.
    """

    schema: TableSchema
    task: str
    classes: list
    n_splits: int
    primary_metric: str
    results: list[ModelResult]
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    settings: ComparisonSettings | None = None

    @property
    def best(self) -> ModelResult:
        """The best model by the primary metric (the first of :attr:`results`)."""
        return self.results[0]

    def result(self, key: str) -> ModelResult:
        """The :class:`ModelResult` of model ``key`` (``KeyError`` if it was not run)."""
        for r in self.results:
            if r.key == key:
                return r
        raise KeyError(key)

    def leaderboard(self) -> pd.DataFrame:
        """One row per model, best first: ``model``, ``<metric> mean``/``<metric> std`` per metric,
        ``fit_seconds``, ``predict_seconds`` (mean per fold)."""
        rows = []
        for r in self.results:
            row: dict[str, Any] = {"model": r.label}
            for m in METRICS[self.task]:
                row[f"{m}_mean"] = r.metrics[m]["mean"]
                row[f"{m}_std"] = r.metrics[m]["std"]
            row["fit_seconds"] = r.fit_seconds
            row["predict_seconds"] = r.predict_seconds
            rows.append(row)
        return pd.DataFrame(rows)
