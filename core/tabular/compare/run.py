"""Running the comparison: (model, fold) tasks cross-validated in parallel threads, with progress and results as they finish."""

from __future__ import annotations

import copy
import os
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from core.errors import ConfigError
from core.tabular.compare.folds import _full_proba, _scores, plan_folds
from core.tabular.compare.result import (
    DEFAULT_FOLDS,
    METRICS,
    PRIMARY_METRIC,
    ComparisonResult,
    ComparisonSettings,
    Holdout,
    ModelResult,
    ProgressCallback,
)
from core.tabular.models import MODELS, available_models
from core.tabular.preprocess import build_preprocessor
from core.tabular.schema import TableSchema, infer_schema, prepare_xy

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
