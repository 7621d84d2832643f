"""Compare models on a table with cross-validation; fold 1 doubles as the held-out view for charts and SHAP.

Notes for SHAP (``core/tabular/explain.py``):
    * Every fitted model is ``Pipeline([("preprocess", ColumnTransformer), ("model", estimator)])``;
      ``ModelResult.pipeline`` is the pipeline of cross-validation fold 1, fitted on
      ``ComparisonResult.X_train`` (the other K-1 folds). Explain it on
      ``ComparisonResult.X_test`` (fold 1's rows, held out from that pipeline) and use
      ``X_train`` as the background.
    * ``X_*`` are already prepared (:func:`core.tabular.schema.prepare_features`): only the
      kept feature columns; text/categorical cells are ``object`` str with ``NaN``.
    * Classification targets are encoded as integers ``0..k-1``; ``ComparisonResult.classes``
      holds the original labels in that order, so ``predict_proba`` column ``i`` is ``classes[i]``.
      Binary "positive class" = ``classes[1]``.
    * Output feature names: ``pipeline.named_steps["preprocess"].get_feature_names_out()``;
      ``core.tabular.preprocess.feature_sources(preprocess)`` maps each output feature to
      its source column (for ``group_onehot``).
    * ``ModelSpec.needs_scaling`` is True for the linear model (``LogisticRegression``/``Ridge``);
      trees: ``DecisionTree*``, ``RandomForest*``, ``HistGradientBoosting*``; ``Dummy*`` has no features.

Metrics (scikit-learn, https://scikit-learn.org/stable/modules/model_evaluation.html):
classification: accuracy, balanced accuracy, macro F1, ROC AUC (binary; one-vs-rest
macro for multiclass), log loss; regression: R², RMSE, MAE. Times are seconds
of wall clock per fold, measured inside the worker that ran the fold: fit = the
pipeline's fit on the training folds (preprocessing + model), predict = preprocessing
of the test fold + ``predict`` + ``predict_proba``. Folds of different models run at
the same time on the machine's cores, so a fold's seconds include that sharing.
"""

from __future__ import annotations

import copy
import os
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
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
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from core.errors import ConfigError
from core.tabular.models import MODELS, available_models
from core.tabular.preprocess import build_preprocessor
from core.tabular.schema import TableSchema, infer_schema, prepare_xy

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
OPENMP_THREADS = 1

#: Worker threads that cross-validate (model, fold) tasks at once: the machine's cores.
#: Threads, not processes: scikit-learn's tree, forest and boosting fits release the GIL, the
#: fold's preprocessed matrices are shared without copying, and no worker process has to start
#: (benchmarks/tabular_compare.py measures the whole run against ``cross_validate(n_jobs=-1)``).
CV_JOBS = max(1, os.cpu_count() or 1)

#: ``on_result(model_result, models_done, models_total)``
ResultCallback = Callable[[ModelResult, int, int], None]


@dataclass
class _Prepared:
    """One fold's preprocessing, fitted once on the fold's training rows and shared by the models."""

    preprocess: Any  # fitted ColumnTransformer
    Z_train: np.ndarray
    Z_test: np.ndarray
    fit_seconds: float  # fit_transform of the training rows
    transform_seconds: float  # transform of the test rows


class _FoldPreprocessing:
    """Thread-safe, lazily computed :class:`_Prepared` per (fold, scaled or not).

    Models that need the same preprocessing (the trees and the baseline: unscaled; the linear
    model: scaled) share one fit per fold instead of refitting identical ``ColumnTransformer``\ s.
    """

    def __init__(self, schema: TableSchema, X: pd.DataFrame, splits: list[tuple[np.ndarray, np.ndarray]], y):
        self.schema, self.X, self.splits, self.y = schema, X, splits, y
        self._done: dict[tuple[int, bool], _Prepared] = {}
        self._locks: dict[tuple[int, bool], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, fold: int, scale: bool) -> _Prepared:
        key = (fold, scale)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._done:
                a, b = self.splits[fold]
                ct = build_preprocessor(self.schema, self.X, scale=scale)
                t0 = time.perf_counter()
                Z_tr = ct.fit_transform(self.X.iloc[a], self.y[a])
                t1 = time.perf_counter()
                Z_te = ct.transform(self.X.iloc[b])
                t2 = time.perf_counter()
                self._done[key] = _Prepared(ct, Z_tr, Z_te, t1 - t0, t2 - t1)
            return self._done[key]


@dataclass
class _FoldOutcome:
    key: str
    fold: int
    scores: dict[str, float]
    fit_seconds: float
    predict_seconds: float
    y_pred: np.ndarray | None = None  # fold 0 only (the hold-out fold)
    proba: np.ndarray | None = None
    pipeline: Pipeline | None = None


def _run_fold(prep: _FoldPreprocessing, key: str, params: dict, fold: int, task: str, n_classes: int,
              random_state: int) -> _FoldOutcome:
    """Fit model ``key`` on one fold's training rows and score it on the fold's test rows (in a worker).

    Seconds are measured here, inside the worker: fit = the fold's preprocessing fit + the model's
    fit; predict = the preprocessing transform of the test rows + ``predict`` (+ ``predict_proba``).
    """
    spec = MODELS[key]
    p = prep.get(fold, spec.needs_scaling)
    a, b = prep.splits[fold]
    est = spec.build(task, params, random_state)
    # OpenMP's thread count is per calling thread, so it is limited here, in the worker
    with threadpool_limits(OPENMP_THREADS, user_api="openmp"):
        t0 = time.perf_counter()
        est.fit(p.Z_train, prep.y[a])
        t1 = time.perf_counter()
        y_pred = est.predict(p.Z_test)
        proba = _full_proba(est, p.Z_test, n_classes) if task == "classification" else None
        t2 = time.perf_counter()
    out = _FoldOutcome(key, fold, _scores(task, prep.y[b], y_pred, proba, n_classes),
                       p.fit_seconds + (t1 - t0), p.transform_seconds + (t2 - t1))
    if fold == 0:  # the hold-out fold: keep its predictions and the fitted pipeline
        out.y_pred, out.proba = y_pred, proba
        out.pipeline = Pipeline([("preprocess", copy.deepcopy(p.preprocess)), ("model", est)])
    return out


def compare_models(
    df: pd.DataFrame,
    target: str,
    *,
    task: str = "auto",
    models: Sequence[str] | Mapping[str, dict] | None = None,
    folds: int = DEFAULT_FOLDS,
    random_state: int = 0,
    on_progress: ProgressCallback | None = None,
    on_result: ResultCallback | None = None,
    max_rows: int | None = None,
    exclude: Sequence[str] = (),
    n_jobs: int | None = None,
) -> ComparisonResult:
    """Cross-validate several models on ``df`` to predict ``target``; keep fold 1 as the hold-out view.

    Cross-validation uses every usable row: ``StratifiedKFold`` (shuffled) for
    classification, ``KFold`` (shuffled) for regression; K adapts to tiny data and
    rare classes (see :func:`plan_folds`). Every (model, fold) pair is one task, and
    the tasks of all models run at once on ``n_jobs`` worker threads (joblib), cheap
    models first, so results arrive model by model. Each fold's preprocessing is
    fitted once and shared by the models that use the same preprocessing; its seconds
    are counted in each of those models' fit and predict times.

    Fold 1 is also the hold-out view: each model's pipeline fitted on the other K-1
    folds (``ComparisonResult.X_train``) and its predictions on fold 1's rows
    (``X_test``, never seen by that pipeline) feed the test-split charts and SHAP.

    Args:
        df: the table (rows x columns); not modified.
        target: the column to predict.
        task: ``"auto"``, ``"classification"`` or ``"regression"``.
        models: model keys (``["linear", "forest"]``), or ``{key: hyperparameters}``;
            ``None`` = every registered model supporting the task.
        folds: requested number of folds K (>= 2).
        random_state: seed for the splits and the models.
        on_progress: called as ``on_progress(fraction in [0, 1], message)`` after each fold of each model.
        on_result: called as ``on_result(model_result, models_done, models_total)`` as soon as all
            folds of a model are done (in the calling thread; models arrive in order of completion,
            not rank).
        max_rows: when the table has more rows, a random sample of this many rows
            (seeded by ``random_state``) is used, with a notice; ``None`` = every row.
        exclude: feature columns to leave out (e.g. one that leaks the target).
        n_jobs: worker threads; default :data:`CV_JOBS` (the machine's cores).

    Returns:
        A :class:`ComparisonResult`, models sorted best first by :data:`PRIMARY_METRIC`.

    Raises:
        DataError: a bad target or ``exclude`` name (see :func:`core.tabular.schema.infer_schema`).
        ConfigError: unknown model, bad hyperparameter, ``folds`` < 2, ``max_rows`` < 20.
        LimitError: ``folds`` above ``settings.max_folds`` (see :func:`plan_folds`).
    """
    settings = ComparisonSettings(target=target, task=task, models={}, folds=folds,
                                  random_state=random_state, max_rows=max_rows, exclude=list(exclude))
    return _compare(df, settings, models, on_progress, saved=None, on_result=on_result, n_jobs=n_jobs)


def _compare(df: pd.DataFrame, settings: ComparisonSettings, models, on_progress: ProgressCallback | None,
             saved: Mapping[str, Mapping[str, Any]] | None, on_result: ResultCallback | None = None,
             n_jobs: int | None = None) -> ComparisonResult:
    """:func:`compare_models` on ``settings``; with ``saved`` (``{key: model record}``) the cross-validation
    is not re-run: its figures are taken from the records and only each model's fold-1 (hold-out)
    pipeline is fitted."""
    target, task, folds = settings.target, settings.task, settings.folds
    random_state, max_rows = settings.random_state, settings.max_rows
    start = time.perf_counter()
    sample_note = None
    if max_rows is not None:
        if max_rows < 20:
            raise ConfigError(f"max_rows must be at least 20, not {max_rows}.")
        if len(df) > max_rows:
            sample_note = (f"A random sample of {max_rows:,} of the {len(df):,} rows was used "
                           "(raise the row limit to use more).")
            df = df.sample(n=max_rows, random_state=random_state)
    schema = infer_schema(df, target, task=task, exclude=settings.exclude)
    if sample_note:
        schema.warnings.insert(0, sample_note)
    task = schema.task
    X, y_raw = prepare_xy(df, schema)
    notices = list(schema.warnings)
    if task == "classification":
        lookup = {c: i for i, c in enumerate(schema.classes)}
        y = np.asarray([lookup[v] for v in y_raw.tolist()], dtype=int)
        n_classes = len(schema.classes)
    else:
        y = pd.to_numeric(y_raw).to_numpy(dtype=float)
        n_classes = 0

    if models is None:
        chosen = {m.key: {} for m in available_models(task)}
    elif isinstance(models, Mapping):
        chosen = {k: dict(v or {}) for k, v in models.items()}
    else:
        chosen = {k: {} for k in models}
    if not chosen:
        raise ConfigError("no model selected; pick at least one.")
    for key in chosen:
        if key not in MODELS:
            raise ConfigError(f"unknown model {key!r}; choose from {', '.join(MODELS)}.")
        if not MODELS[key].supports(task):
            raise ConfigError(f"{MODELS[key].label} does not support {task}.")
        MODELS[key].build(task, chosen[key], random_state)  # validate hyperparameters early

    k, fold_notes = plan_folds(y, task, folds)
    notices += fold_notes
    splitter = (StratifiedKFold(k, shuffle=True, random_state=random_state) if task == "classification"
                else KFold(k, shuffle=True, random_state=random_state))
    splits = list(splitter.split(X, y))
    tr_idx, te_idx = splits[0]
    prep = _FoldPreprocessing(schema, X, splits, y)

    settings.models = {key: dict(params) for key, params in chosen.items()}
    # cheap models first, so the first leaderboard rows come within seconds; a saved comparison
    # only refits fold 1 (the hold-out view): its cross-validation figures are the saved ones
    order = sorted(chosen, key=lambda key: (MODELS[key].relative_cost, list(chosen).index(key)))
    fold_ids = range(k) if saved is None else [0]
    tasks = [(key, f) for key in order for f in fold_ids]
    total = len(tasks)
    if on_progress is not None:
        on_progress(0.0, f"Cross-validating {len(chosen)} model(s) with {k} folds on {len(y):,} rows..."
                    if saved is None else f"Rebuilding {len(chosen)} model(s) on {len(tr_idx):,} training rows...")
    outcomes: dict[str, list[_FoldOutcome]] = {key: [] for key in chosen}
    results: list[ModelResult] = []
    jobs = max(1, min(n_jobs or CV_JOBS, total))
    # BLAS threads: 1 (the fold tasks already use every core); warning filters are process-wide,
    # so both are set here once for every worker thread
    with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*(infrequent|unknown categories|Found unknown).*")
        run = Parallel(n_jobs=jobs, backend="threading", return_as="generator_unordered")
        done = 0
        for out in run(delayed(_run_fold)(prep, key, chosen[key], f, task, n_classes, random_state)
                       for key, f in tasks):
            done += 1
            outcomes[out.key].append(out)
            label = MODELS[out.key].label
            n_done = len(outcomes[out.key])
            if on_progress is not None:
                on_progress(min(1.0, done / total),
                            f"{label}: {n_done}/{k} folds done ({out.fit_seconds:.2f} s fit)" if saved is None
                            else f"{label}: hold-out model rebuilt")
            if n_done == len(fold_ids):
                res = _model_result(out.key, chosen[out.key], outcomes[out.key], task, n_classes, y[te_idx],
                                    None if saved is None else saved[out.key])
                results.append(res)
                if on_result is not None:
                    on_result(res, len(results), len(chosen))

    primary = PRIMARY_METRIC[task]
    results.sort(key=lambda r: (-np.nan_to_num(r.metrics[primary]["mean"], nan=-np.inf), r.baseline))
    if task == "classification" and any(np.isnan(r.metrics["roc_auc"]["mean"]) for r in results):
        notices.append("ROC AUC could not be computed on some folds (a class was missing from a test fold).")
    if on_progress is not None:
        on_progress(1.0, "Done.")
    return ComparisonResult(schema, task, list(schema.classes), k, primary, results, X.iloc[tr_idx],
                            X.iloc[te_idx], y[tr_idx], y[te_idx], notices, time.perf_counter() - start, settings)


def _model_result(key: str, params: dict, outs: list[_FoldOutcome], task: str, n_classes: int,
                  y_test: np.ndarray, record: Mapping[str, Any] | None = None) -> ModelResult:
    """Aggregate one model's fold outcomes (any order) into a :class:`ModelResult`; with a saved
    ``record``, the cross-validation figures are the record's and ``outs`` holds fold 1 only."""
    outs = sorted(outs, key=lambda o: o.fold)
    spec = MODELS[key]
    if record is None:
        fold_scores = {m: [o.scores[m] for o in outs] for m in METRICS[task]}
        fit_s = float(np.mean([o.fit_seconds for o in outs]))
        predict_s = float(np.mean([o.predict_seconds for o in outs]))
    else:
        fold_scores = {m: [float(v) for v in vals] for m, vals in record["fold_metrics"].items()}
        fit_s, predict_s = float(record["fit_seconds"]), float(record["predict_seconds"])
    agg = {}
    for m, vals in fold_scores.items():
        arr = np.asarray(vals, dtype=float)
        ok = arr[~np.isnan(arr)]
        agg[m] = {"mean": float(ok.mean()) if ok.size else float("nan"),
                  "std": float(ok.std()) if ok.size else float("nan")}
    first = outs[0]
    holdout = Holdout(y_test, first.y_pred, first.proba, dict(first.scores))
    return ModelResult(key, spec.label, params, agg, fold_scores, fit_s, predict_s, holdout, first.pipeline,
                       spec.baseline, task)


def result_to_json(result: ComparisonResult, shap_top: list[dict] | None = None,
                   shap_info: dict | None = None) -> dict:
    """The comparison as a JSON-ready dict (the CLI's ``--json`` schema).

    Keys: ``task``, ``target``, ``n_rows``, ``n_features`` (output features of the best
    model's preprocessing), ``n_input_columns``, ``n_dropped_missing_target``, ``folds``,
    ``primary_metric``, ``classes``, ``columns`` (``[{name, inferred_type, action, reason}]``),
    ``warnings``, ``leaderboard`` (``[{model, key, metrics: {name: {mean, std}}, holdout_metrics,
    fit_seconds, predict_seconds}]``, best first), ``best_model`` (label), ``best_model_key``, and
    ``shap`` (``{top_features: [{feature, mean_abs_shap}], ...shap_info}``).

    Args:
        result: from :func:`compare_models`.
        shap_top: ``ShapResult.top_features(k)`` of the best model, or ``None``.
        shap_info: extra fields for ``shap`` (units, explainer, rows explained, error).
    """
    best = result.best
    try:
        n_features = len(best.pipeline.named_steps["preprocess"].get_feature_names_out())
    except Exception:  # noqa: BLE001 - a name clash only loses the count
        n_features = None
    leaderboard = [{
        "model": r.label, "key": r.key, "params": r.params,
        "metrics": r.metrics, "holdout_metrics": r.holdout.metrics,
        "fit_seconds": r.fit_seconds, "predict_seconds": r.predict_seconds,
    } for r in result.results]
    return {
        "task": result.task,
        "target": result.schema.target,
        "n_rows": result.schema.n_rows,
        "n_features": n_features,
        "n_input_columns": len(result.schema.feature_columns),
        "n_dropped_missing_target": result.schema.n_dropped_missing_target,
        "folds": result.n_splits,
        "primary_metric": result.primary_metric,
        "classes": [str(c) for c in result.classes],
        "columns": [{"name": c.name, "inferred_type": c.inferred_type, "action": c.action, "reason": c.reason}
                    for c in result.schema.columns],
        "warnings": result.warnings,
        "leaderboard": leaderboard,
        "best_model": best.label,
        "best_model_key": best.key,
        "shap": {"top_features": shap_top or [], **(shap_info or {})},
        "seconds": result.seconds,
        "settings": result.settings.to_dict() if result.settings else None,
    }


def shap_summary(shap_result, model: ModelResult, class_index: int | None = None, k: int = 10
                 ) -> tuple[list[dict], dict]:
    """What the JSON says about a SHAP explanation: ``(top_features, info)`` for :func:`result_to_json`.

    Args:
        shap_result: a :class:`core.tabular.explain.ShapResult` of ``model``.
        model: the explained model's :class:`ModelResult`.
        class_index: the output shown (multiclass), ``None`` = the default / the class average.
        k: how many top features.

    Returns:
        ``top_features`` (``[{feature, mean_abs_shap}]``, largest first) and ``info``: ``model``,
        ``model_key``, ``output_units``, ``explainer``, ``n_explained``, ``n_total``, ``sampled``,
        ``complete`` (False for a first view still being refined), ``grouped``, ``class_index``, ``caption``.
    """
    info = {"model": model.label, "model_key": model.key, "output_units": shap_result.output_units,
            "explainer": shap_result.explainer_name, "n_explained": shap_result.n_explained,
            "n_total": shap_result.n_total, "sampled": shap_result.sampled, "complete": shap_result.complete,
            "grouped": shap_result.grouped, "class_index": class_index,
            "caption": shap_result.caption(class_index)}
    return shap_result.top_features(k, class_index), info


#: Version of the record written by :func:`comparison_to_record`. Version 2: the hold-out view is
#: cross-validation fold 1 (version 1 held out a separate 20% split).
RECORD_VERSION = 2
#: Largest absolute difference allowed between a saved and a rebuilt hold-out metric.
RESTORE_TOLERANCE = 1e-9


def comparison_to_record(result: ComparisonResult) -> dict[str, Any]:
    """The comparison as JSON-ready data from which :func:`restore_comparison` rebuilds it.

    Fitted models are not in it: they are rebuilt from the table and ``settings``.

    Returns:
        ``{"record_version", "settings", "summary", "models"}`` where ``summary`` is
        :func:`result_to_json` and ``models`` is ``[{key, label, params, baseline, metrics,
        fold_metrics, fit_seconds, predict_seconds, holdout: {metrics, y_pred}}]`` in
        leaderboard order (``y_pred``: hold-out predictions, class indices or numbers).

    Raises:
        ConfigError: the result has no settings (it was not made by :func:`compare_models`).
    """
    if result.settings is None:
        raise ConfigError("this comparison has no settings to save; run it with compare_models.")
    models = [{
        "key": r.key, "label": r.label, "params": r.params, "baseline": r.baseline,
        "metrics": r.metrics, "fold_metrics": r.fold_metrics,
        "fit_seconds": r.fit_seconds, "predict_seconds": r.predict_seconds,
        "holdout": {"metrics": r.holdout.metrics, "y_pred": np.asarray(r.holdout.y_pred).tolist()},
    } for r in result.results]
    return {"record_version": RECORD_VERSION, "settings": result.settings.to_dict(),
            "summary": result_to_json(result), "models": models}


@dataclass
class RestoreCheck:
    """How a rebuilt comparison compares with the saved one.

    Attributes:
        matches: ``True`` when every hold-out prediction and metric is the same.
        differences: plain sentences, one per difference (empty when it matches).
        seconds: wall-clock seconds the rebuild took.
    """

    matches: bool
    differences: list[str]
    seconds: float


def _same(a: float, b: float) -> bool:
    a, b = float(a), float(b)
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= RESTORE_TOLERANCE


def restore_comparison(df: pd.DataFrame, record: Mapping[str, Any],
                       on_progress: ProgressCallback | None = None) -> tuple[ComparisonResult, RestoreCheck]:
    """Rebuild a saved comparison: refit each model on the same rows with the same seed, and check it.

    Cross-validation figures come from ``record``; each model's fold-1 (hold-out) pipeline is
    fitted again (one fit per model, not K) and its hold-out predictions and metrics are
    compared with the saved ones.

    Args:
        df: the same table the comparison ran on (rows x columns).
        record: from :func:`comparison_to_record` (e.g. read from a workspace).
        on_progress: as in :func:`compare_models`.

    Returns:
        ``(result, check)``: the :class:`ComparisonResult` with fitted pipelines, and a
        :class:`RestoreCheck` saying whether it matches what was saved.

    Raises:
        ConfigError: the record is malformed or of a newer version.
        DataError: the table no longer fits the settings (e.g. the target is gone).
    """
    try:
        version = int(record.get("record_version", 0))
        models = {str(m["key"]): m for m in record["models"]}
        order = [str(m["key"]) for m in record["models"]]
        for m in models.values():
            m["fold_metrics"], m["metrics"], m["holdout"]["metrics"], m["holdout"]["y_pred"]  # noqa: B018
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"the saved comparison is incomplete ({exc}); it cannot be rebuilt.") from None
    if version > RECORD_VERSION:
        raise ConfigError(f"the saved comparison has record version {version}; this Crossroads reads up to "
                          f"{RECORD_VERSION}. Update Crossroads to open it.")
    settings = ComparisonSettings.from_dict(record.get("settings") or {})
    start = time.perf_counter()
    result = _compare(df, settings, {k: settings.models.get(k, {}) for k in order}, on_progress, saved=models)
    differences: list[str] = []
    if version < 2:
        differences.append("Saved by an earlier Crossroads that held out a separate 20% split; the models were "
                           "rebuilt on cross-validation fold 1 instead, so the test-split charts show fold 1. "
                           "The cross-validation figures are the saved ones.")
    for r in result.results:
        saved = models[r.key]
        r.metrics = {m: {"mean": float(v["mean"]), "std": float(v["std"])} for m, v in saved["metrics"].items()}
        r.fit_seconds, r.predict_seconds = float(saved["fit_seconds"]), float(saved["predict_seconds"])
        if version < 2:
            continue
        y_saved = np.asarray(saved["holdout"]["y_pred"])
        y_now = np.asarray(r.holdout.y_pred)
        if y_saved.shape != y_now.shape:
            differences.append(f"{r.label}: {len(y_now)} hold-out rows now, {len(y_saved)} when saved.")
            continue
        same = (y_saved == y_now) if result.task == "classification" else np.isclose(
            y_saved.astype(float), y_now.astype(float), rtol=0, atol=RESTORE_TOLERANCE)
        if not np.all(same):
            differences.append(f"{r.label}: {int((~same).sum())} of {len(same)} hold-out predictions differ.")
        for m, v in saved["holdout"]["metrics"].items():
            if m in r.holdout.metrics and not _same(v, r.holdout.metrics[m]):
                differences.append(f"{r.label}: hold-out {METRICS[result.task].get(m, (m,))[0]} "
                                   f"{r.holdout.metrics[m]:.6g} now, {float(v):.6g} when saved.")
    # leaderboard order as saved (the CV figures are the saved ones)
    rank = {k: i for i, k in enumerate(order)}
    result.results.sort(key=lambda r: rank[r.key])
    seconds = time.perf_counter() - start
    summary = record.get("summary") or {}
    result.seconds = float(summary.get("seconds", result.seconds) or result.seconds)
    return result, RestoreCheck(not differences, differences, seconds)


def explain_model(result: ComparisonResult, key: str | None = None, *, max_explain_rows: int = 300,
                  max_background_rows: int = 100, time_budget_s: float = 20.0, group_onehot: bool = False,
                  random_state: int = 0):
    """Explain one compared model with SHAP on the held-out rows (``result.X_test``, fold 1).

    Calls :func:`core.tabular.explain.explain` on the model's fold-1 pipeline, with background
    rows sampled from the rows it was fitted on (``result.X_train``), and names the classes with
    the original labels instead of the encoded ``0..k-1``.

    Args:
        result: from :func:`compare_models`.
        key: model key; default the best model.
        max_explain_rows, max_background_rows, time_budget_s (seconds), group_onehot,
            random_state: passed to :func:`core.tabular.explain.explain`.

    Returns:
        A :class:`core.tabular.explain.ShapResult`.

    Raises:
        KeyError: ``key`` was not compared. ConfigError/DataError from ``explain``.
    """
    from core.tabular.explain import explain

    model = result.best if key is None else result.result(key)
    return explain(model.pipeline, result.X_test, task=result.task, max_explain_rows=max_explain_rows,
                   max_background_rows=max_background_rows, time_budget_s=time_budget_s,
                   group_onehot=group_onehot, random_state=random_state, background=result.X_train,
                   class_labels=result.classes if result.task == "classification" else None)
