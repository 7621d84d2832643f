"""The time-budgeted engine: :class:`ProgressiveExplainer` explains rows in steps, :func:`explain` runs them.

A small first batch measures the cost per row, then only as many further rows
as fit the time given are explained; the page shows a first view after
:data:`FIRST_VIEW_S` seconds and refines it in :data:`REFINE_STEP_S` steps.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from core.errors import ConfigError, DataError
from core.tabular.explain.engine import (
    _dense,
    _display_values,
    _make_engine,
    _reference_outputs,
)
from core.tabular.explain.result import ShapResult
from core.tabular.explain.shapes import normalize_shap_output
from core.tabular.preprocess import (
    display_feature_name,
    group_matrix,
    source_columns,
)

#: Seconds of a first view's explaining, set-up included (``ProgressiveExplainer.first_view``): the
#: random forest's exact tree SHAP explains ~3-30 rows in that time on 2 cores, the other models
#: their whole row cap; drawing the three charts takes the rest of a first view.
FIRST_VIEW_S = 2.5
#: Seconds of explaining per background refinement step after the first view.
REFINE_STEP_S = 1.5


_TASKS = ("classification", "regression")


class ProgressiveExplainer:
    """Explain rows with SHAP in steps: a quick first view, then more rows until the budget or the row cap.

    Rows are sampled at random (``random_state``): up to ``max_background_rows`` as the
    background (LinearExplainer / PermutationExplainer) and up to ``max_explain_rows`` to
    explain, always in the same random order, so every step extends the previous one (the
    first view's rows stay in every later view). Each :meth:`step` explains as many further
    rows as fit in the seconds it is given, measuring the cost per row as it goes, and never
    beyond ``time_budget_s`` of explaining in total; at least one row is explained by the
    first step. The explainer and the model are the same at every step: only the number of
    rows grows. Only the sampled rows are transformed and densified (sparse TF-IDF output included).

    Typical use (the Data & Models page)::

        pe = ProgressiveExplainer(pipeline, X_test, task="classification", max_explain_rows=200)
        pe.first_view()                   # first view: the rows that fit in FIRST_VIEW_S seconds
        show(pe.result(group_onehot=True))
        while not pe.done:                # later reruns: refine
            pe.step(2.0); show(pe.result(group_onehot=True))

    Args:
        fitted_pipeline: fitted scikit-learn ``Pipeline`` whose last step is the estimator.
        X: the *untransformed* feature table (DataFrame, the pipeline's input columns).
        task: ``"classification"`` or ``"regression"``.
        max_explain_rows: most rows to explain (the row cap).
        max_background_rows: most background rows.
        time_budget_s: seconds of explaining in total, over all steps (setup included; time
            between steps is not counted).
        random_state: seed for sampling and the permutation explainer.
        background: optional table (same columns as ``X``, e.g. the training rows) to sample
            the background from; default ``X`` itself.
        class_labels: names for ``model.classes_`` in the results (e.g. the original labels of
            classes encoded ``0..k-1``); default the model's own classes.

    Raises:
        ConfigError: unknown task, non-positive limits, or ``class_labels`` of the wrong length.
        DataError: empty table, unfitted pipeline, or a table the pipeline cannot transform.
    """

    def __init__(self, fitted_pipeline, X: pd.DataFrame, *, task: str, max_explain_rows: int = 300,
                 max_background_rows: int = 100, time_budget_s: float = 20.0, random_state: int = 0,
                 background: pd.DataFrame | None = None, class_labels: Sequence | None = None):
        t0 = time.perf_counter()
        if task not in _TASKS:
            raise ConfigError(f"task must be 'classification' or 'regression', not {task!r}.")
        if max_explain_rows < 1 or max_background_rows < 1 or not time_budget_s > 0:
            raise ConfigError("max_explain_rows and max_background_rows must be at least 1 and "
                              "time_budget_s above 0.")
        if not isinstance(X, pd.DataFrame) or len(X) == 0:
            raise DataError("there are no rows to explain: give the feature table (a non-empty DataFrame).")
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        steps = getattr(fitted_pipeline, "steps", None)
        if not steps:
            raise ConfigError("explain() needs a scikit-learn Pipeline whose last step is the model.")
        model = fitted_pipeline.steps[-1][1]
        preprocess = fitted_pipeline[:-1] if len(steps) > 1 else None
        try:
            check_is_fitted(model)
        except NotFittedError as exc:
            raise DataError("the model is not fitted yet: fit (compare) the models before explaining them.") from exc
        is_clf = task == "classification"
        classes = ([c.item() if hasattr(c, "item") else c for c in model.classes_]
                   if is_clf and hasattr(model, "classes_") else None)
        if is_clf and classes is None:
            raise ConfigError("task is 'classification' but the model has no classes_: choose task 'regression'.")
        if classes is not None and class_labels is not None:
            if len(class_labels) != len(classes):
                raise ConfigError(f"class_labels has {len(class_labels)} names but the model has "
                                  f"{len(classes)} classes.")
            classes = list(class_labels)

        n_total = len(X)
        rng = np.random.default_rng(random_state)
        order = rng.permutation(n_total)[: int(max_explain_rows)]  # explained in this (random) order
        bg_frame = X if background is None else background
        if not isinstance(bg_frame, pd.DataFrame) or len(bg_frame) == 0:
            raise DataError("the background table is empty: give a DataFrame with rows (or leave it out).")
        bg_pos = np.sort(rng.choice(len(bg_frame), size=min(int(max_background_rows), len(bg_frame)),
                                    replace=False))

        def transform(rows: np.ndarray, frame: pd.DataFrame = X) -> np.ndarray:
            part = frame.iloc[rows]
            if preprocess is None:
                return _dense(part)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return _dense(preprocess.transform(part))
            except NotFittedError as exc:
                raise DataError("the preprocessing is not fitted yet: fit the pipeline before explaining it.") from exc
            except (KeyError, ValueError) as exc:
                raise DataError(f"the table does not match what the model was trained on ({exc}); "
                                "explain the same columns the pipeline was fitted on.") from exc

        self._Xe_all = transform(order)
        background_t = transform(bg_pos, bg_frame)
        n_features = self._Xe_all.shape[1]
        if preprocess is not None:
            try:
                names = [str(n) for n in preprocess.get_feature_names_out()]
            except Exception:  # noqa: BLE001
                names = [f"x{i}" for i in range(n_features)]
        else:
            names = [str(c) for c in X.columns]
        if len(names) != n_features:
            names = [f"x{i}" for i in range(n_features)]

        self.X, self.task, self.model, self.preprocess = X, task, model, preprocess
        self.classes, self.n_classes = classes, (len(classes) if classes is not None else None)
        self.names, self.n_features, self.order, self.n_total = names, n_features, order, n_total
        self.time_budget_s = float(time_budget_s)
        self.notes: list[str] = []
        self.engine = _make_engine(model, background_t, names, task, random_state, self.notes)
        self._parts_v: list[np.ndarray] = []
        self._parts_b: list[np.ndarray] = []
        self.n_explained = 0
        self.explain_seconds = 0.0  # inside the explainer only
        self.seconds = time.perf_counter() - t0  # setup + steps, in seconds
        self._views: dict[bool, ShapResult] = {}
        # step() may run in the page's script thread while a download builds result() in another
        self._lock = threading.RLock()

    @property
    def n_candidates(self) -> int:
        """Rows that will be explained at most (``min(max_explain_rows, len(X))``)."""
        return len(self.order)

    @property
    def budget_left(self) -> float:
        """Seconds of the time budget not used yet."""
        return max(0.0, self.time_budget_s - self.seconds)

    @property
    def done(self) -> bool:
        """True when every candidate row is explained, or the budget left cannot fit one more row
        (at the measured cost per row, with :meth:`step`'s 90% margin)."""
        if self.n_explained >= self.n_candidates:
            return True
        if self.n_explained == 0:
            return False
        return 0.9 * self.budget_left < self.seconds_per_row  # the same 90% margin as step()

    @property
    def seconds_per_row(self) -> float:
        """Measured explaining cost per row, in seconds (NaN before the first step)."""
        return self.explain_seconds / self.n_explained if self.n_explained else float("nan")

    def first_view(self, seconds: float = FIRST_VIEW_S) -> int:
        """Explain the rows that fit in ``seconds`` counted from the explainer's creation (its set-up
        included: transforming the rows, reading the trees), at least one row.

        Returns:
            Rows explained.
        """
        return self.step(max(0.0, seconds - self.seconds))

    def step(self, seconds: float) -> int:
        """Explain more rows for about ``seconds`` (wall time), within the budget left.

        The first call always explains at least one row (one row first, to measure the cost per
        row), then sizes the next batches from the measured cost per row so the call ends within
        ``seconds`` (90% safety margin, re-estimated every ~2 s).

        Returns:
            Rows explained by this call (0 when :attr:`done`).
        """
        t0 = time.perf_counter()
        added = 0
        deadline = t0 + min(float(seconds), self.budget_left)
        while self.n_explained < self.n_candidates:
            left_rows = self.n_candidates - self.n_explained
            if self.n_explained == 0:
                size = 1  # measure the cost per row on one row (a forest row can cost seconds under load)
            else:
                per_row = self.seconds_per_row
                left = deadline - time.perf_counter()
                fit = int(math.floor(0.9 * left / per_row)) if per_row > 0 else left_rows
                if fit < 1:
                    break
                chunk = max(5, int(2.0 / per_row)) if per_row > 0 else left_rows  # re-estimate every ~2 s
                size = min(fit, chunk, left_rows)
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v, b = self.engine.fn(self._Xe_all[self.n_explained: self.n_explained + size])
            self.explain_seconds += time.perf_counter() - t
            v, b = normalize_shap_output(v, b, n_rows=size, n_features=self.n_features)
            with self._lock:
                self._parts_v.append(v)
                self._parts_b.append(b)
                self.n_explained += size
                self._views.clear()
            added += size
        self.seconds += time.perf_counter() - t0
        return added

    def result(self, group_onehot: bool = False) -> ShapResult:
        """The :class:`ShapResult` of every row explained so far (grouped by source column or not).

        Both views come from the same SHAP values (grouping sums them), so switching
        ``group_onehot`` costs no explaining. ``ShapResult.complete`` is False while
        :attr:`done` is False (more rows can follow).

        Raises:
            DataError: no row explained yet (call :meth:`step` first).
        """
        if self.n_explained == 0:
            raise DataError("no row explained yet: call step() first.")
        key = bool(group_onehot)
        with self._lock:
            if key not in self._views:
                t0 = time.perf_counter()
                self._views[key] = self._build(key)
                self.seconds += time.perf_counter() - t0
                self._views[key].seconds = self.seconds
            return self._views[key]

    def _build(self, group_onehot: bool) -> ShapResult:
        done, X, names, n_features, n_classes = self.n_explained, self.X, self.names, self.n_features, self.n_classes
        notes = list(self.notes)
        raw_v, raw_b = np.concatenate(self._parts_v, axis=0), np.concatenate(self._parts_b, axis=0)
        Xe = self._Xe_all[:done]

        # ---- units: check additivity against the model's outputs -----------------------------
        refs = _reference_outputs(self.model, Xe, names, self.task, n_classes)
        best_units, best_err, best = None, math.inf, None
        engine = self.engine
        candidates = [engine.units_hint] if engine.units_hint in refs else []
        candidates += [u for u in ("probability", "log-odds", "target units") if u in refs and u not in candidates]
        for u in candidates:
            try:
                vv, bb = normalize_shap_output(raw_v, raw_b, n_rows=done, n_features=n_features,
                                               n_classes=n_classes, units=u)
            except ValueError:
                continue
            ref = refs[u]
            if ref.shape != bb.shape:
                continue
            err = float(np.max(np.abs(bb + vv.sum(axis=1) - ref)))
            if err < best_err:
                best_units, best_err, best = u, err, (vv, bb)
            if err <= 1e-6 * max(1.0, float(np.max(np.abs(ref)))):
                break
        if best is None:
            units = engine.units_hint or ("target units" if self.task == "regression" else "probability")
            values, base = normalize_shap_output(raw_v, raw_b, n_rows=done, n_features=n_features,
                                                 n_classes=n_classes, units=units)
            notes.append("The model's output could not be recomputed to check SHAP additivity.")
        else:
            units, (values, base) = best_units, best
            scale = max(1.0, float(np.max(np.abs(refs[units]))))
            if best_err > 1e-3 * scale:
                notes.append(f"SHAP values add up to the model output only within {best_err:.3g} {units}.")

        # ---- back to the original row order ------------------------------------------------
        pos = self.order[:done]
        srt = np.argsort(pos, kind="stable")
        pos, values, base, Xe = pos[srt], values[srt], base[srt], Xe[srt]

        # ---- grouping, and the original values shown in waterfall labels ------------------
        preprocess = self.preprocess
        sources = source_columns(preprocess, n_features) if preprocess is not None else list(names)
        groups, g = group_matrix(sources)
        members = [np.flatnonzero(g[:, j]) for j in range(len(groups))]
        originals = {grp: X[grp].iloc[pos] for grp in groups if grp in X.columns}
        if group_onehot:
            values = np.einsum("nfk,fg->ngk", values, g)
            data = np.full((done, len(groups)), np.nan)
            display = np.empty((done, len(groups)), dtype=object)
            for j, (grp, idx) in enumerate(zip(groups, members)):
                src = originals.get(grp)
                if len(idx) == 1:
                    data[:, j] = Xe[:, idx[0]]
                elif src is not None and pd.api.types.is_numeric_dtype(src.dtype):
                    data[:, j] = pd.to_numeric(src, errors="coerce").to_numpy(dtype=float)
                display[:, j] = _display_values(src) if src is not None else data[:, j]
            feat_names = list(groups)
        else:
            data = Xe
            display = np.array(Xe, dtype=object)
            for j, (grp, idx) in enumerate(zip(groups, members)):
                src = originals.get(grp)
                # a numeric column that became one feature (imputed/scaled): show the user's own value
                if len(idx) == 1 and src is not None and pd.api.types.is_numeric_dtype(src.dtype):
                    display[:, idx[0]] = _display_values(src)
            feat_names = [display_feature_name(n, src) for n, src in zip(names, sources)]

        n_cand = self.n_candidates
        return ShapResult(
            values=values, base_values=base, data=data, feature_names=list(feat_names),
            output_units=units, explainer_name=engine.name, n_explained=int(done), n_total=int(self.n_total),
            n_background=int(engine.n_background), sampled=bool(done < self.n_total),
            classes=None if self.classes is None else list(self.classes),
            row_index=list(X.index[pos]), seconds=self.seconds, display_data=display,
            budget_limited=bool(done < n_cand and self.done), time_budget_s=self.time_budget_s,
            seconds_per_row=self.seconds_per_row, additivity_error=float(best_err),
            grouped=bool(group_onehot), notes=notes, complete=bool(self.done), max_rows=int(n_cand),
        )


def explain(fitted_pipeline, X: pd.DataFrame, *, task: str, max_explain_rows: int = 300,
            max_background_rows: int = 100, time_budget_s: float = 20.0, group_onehot: bool = False,
            random_state: int = 0, background: pd.DataFrame | None = None,
            class_labels: Sequence | None = None) -> ShapResult:
    """Explain a fitted ``Pipeline([("preprocess", ...), ("model", estimator)])`` with SHAP, in one call.

    A :class:`ProgressiveExplainer` run until its row cap or its time budget: a first small
    batch is explained and timed, then further rows in chunks while the measured cost per row
    fits ``time_budget_s`` (seconds, for the whole call including the transform), so at least
    one row is always explained.

    Args:
        fitted_pipeline: fitted scikit-learn ``Pipeline`` whose last step is the estimator.
        X: the *untransformed* feature table (DataFrame, the pipeline's input columns).
        task: ``"classification"`` or ``"regression"``.
        max_explain_rows: most rows to explain.
        max_background_rows: most background rows.
        time_budget_s: wall-time budget in seconds.
        group_onehot: sum SHAP values of the outputs of each source column (one-hot levels,
            TF-IDF terms, date parts) into one feature named after the column.
        random_state: seed for sampling and the permutation explainer.
        background: optional table (same columns as ``X``, e.g. the training rows) to sample
            the background from; default ``X`` itself.
        class_labels: names for ``model.classes_`` (see :class:`ProgressiveExplainer`).

    Returns:
        :class:`ShapResult` with values ``(n_explained, n_features, n_outputs)``.

    Raises:
        ConfigError: unknown task or non-positive limits.
        DataError: empty table, unfitted pipeline, or a table the pipeline cannot transform.
    """
    pe = ProgressiveExplainer(fitted_pipeline, X, task=task, max_explain_rows=max_explain_rows,
                              max_background_rows=max_background_rows, time_budget_s=time_budget_s,
                              random_state=random_state, background=background, class_labels=class_labels)
    while not pe.done:
        if not pe.step(pe.budget_left):
            break
    return pe.result(group_onehot)
