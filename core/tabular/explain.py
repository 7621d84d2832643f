"""SHAP explanations of a fitted tabular pipeline, sized to stay interactive.

The pipelines explained here are
``Pipeline([("preprocess", ColumnTransformer(...)), ("model", estimator)])``.
SHAP works on the *transformed* features (the model's real inputs) with the
names from ``get_feature_names_out``; :func:`explain` can also group the
outputs of one source column (one-hot levels, date parts, TF-IDF terms) back
into that column by summing their SHAP values (SHAP values are additive, so a
group's value is the contribution of the whole source column).

Explainer choice, by capability (Lundberg & Lee 2017, "A Unified Approach to
Interpreting Model Predictions", https://arxiv.org/abs/1705.07874; Lundberg et
al. 2020, "From local explanations to global understanding with explainable AI
for trees", https://doi.org/10.1038/s42256-019-0138-9):

* ``LinearExplainer`` for models with ``coef_``/``intercept_`` (LogisticRegression,
  Ridge): exact, interventional, uses a background sample; it explains
  ``decision_function``, i.e. **log-odds** for classifiers.
* ``TreeExplainer`` (path-dependent algorithm, exact) for trees, forests and
  histogram gradient boosting: it needs no background sample (it uses the
  training-data cover stored in the trees). Its units depend on the model:
  scikit-learn forests and decision trees give **probability**,
  ``HistGradientBoosting*`` gives the raw margin (**log-odds**).
* otherwise ``PermutationExplainer`` on ``predict_proba`` (**probability**) or
  ``predict`` (**target units**) with an independent background sample. SHAP
  compiles its masking code with numba on the first permutation explanation of a
  process (about 25-35 s on the 2-core machine, once); later calls cost the
  model's prediction time only.
* ``DummyClassifier``/``DummyRegressor`` ignore their inputs: every SHAP value is
  exactly 0 (null-player axiom) and the base value is the constant prediction, so
  no explainer is run (``explainer_name`` says so).

Units are never assumed: after explaining, :func:`explain` checks SHAP's
additivity (base value + sum of SHAP values = model output) against
``predict_proba``, ``decision_function`` and ``predict`` and records the units
that match, together with the largest difference (``additivity_error``).

Cost per explained row: the exact tree SHAP of a default random forest (100 fully
grown trees) costs about a hundred times more per row than the other models
(``benchmarks/shap_budget.py`` and ``benchmarks/tabular_compare.py`` measure it), so
explaining every held-out row would take many times any interactive budget. Rows are
therefore explained in steps (:class:`ProgressiveExplainer`): a small first batch
measures the cost per row, then only as many further rows as fit the time given;
:func:`explain` runs the steps up to ``time_budget_s`` in one call (CLI), the page shows
a first view after :data:`FIRST_VIEW_S` seconds and refines it in the background. The
caption says how many rows were explained and why.

Options measured before settling on this for the random forest's first view (see
``benchmarks/tabular_compare.py``): SHAP's Saabas approximation (``approximate=True``),
thousands of times faster but not SHAP values; the interventional ``TreeExplainer``
with a small background (25 rows), no faster per unit of agreement on these tables and
a different value function; and the exact path-dependent ``TreeExplainer`` on fewer
rows. The exact explainer on the rows that fit in a few seconds already agrees closely
with a large reference run (top-10 overlap and Spearman's rho printed by the benchmark),
so the page keeps it: the same explainer and the same model at every step.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.errors import ConfigError, DataError
from core.numbers import format_significant

__all__ = [
    "ShapResult", "ProgressiveExplainer", "explain", "normalize_shap_output", "source_columns", "group_matrix",
    "plot_bar", "plot_beeswarm", "plot_waterfall", "to_png", "display_feature_name", "format_number",
]

UNITS = ("log-odds", "probability", "target units")
#: Seconds of a first view's explaining, set-up included (``ProgressiveExplainer.first_view``): the
#: random forest's exact tree SHAP explains ~3-30 rows in that time on 2 cores, the other models
#: their whole row cap; drawing the three charts takes the rest of a first view.
FIRST_VIEW_S = 2.5
#: Seconds of explaining per background refinement step after the first view.
REFINE_STEP_S = 1.5
#: How each explainer computes its values, said in captions.
EXPLAINER_NOTES = {
    "TreeExplainer": "exact tree SHAP",
    "LinearExplainer": "exact for a linear model",
    "PermutationExplainer": "estimated from sampled permutations",
}
_TASKS = ("classification", "regression")
# pyplot keeps global state (the "current figure"); SHAP's plots use it, so plotting is serialised.
_PLOT_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------

@dataclass
class ShapResult:
    """SHAP values of a sample of rows, in one normalised shape.

    Attributes:
        values: float ndarray ``(n_explained, n_features, n_outputs)``. ``n_outputs`` is the
            number of classes for classification (2 for binary: class 0's values are the
            complement of class 1's) and 1 for regression.
        base_values: float ndarray ``(n_explained, n_outputs)``; for every row and output,
            ``base_values + values.sum(axis=1)`` equals the model output in ``output_units``.
        data: float ndarray ``(n_explained, n_features)``: the transformed feature values
            (for grouped features of several columns: the source value when numeric, else NaN).
        feature_names: ``n_features`` names (``get_feature_names_out``, or source columns when grouped;
            the infrequent-categories column ``X_infrequent_sklearn`` reads ``"X = (other)"``,
            see :func:`display_feature_name`).
        output_units: ``"log-odds"``, ``"probability"`` or ``"target units"``.
        explainer_name: ``"LinearExplainer"``, ``"TreeExplainer"`` or ``"PermutationExplainer"``.
        n_explained: rows explained. n_total: rows in the table given to :func:`explain`.
        n_background: background rows used by the explainer (0 for path-dependent TreeExplainer).
        sampled: ``True`` when ``n_explained < n_total``.
        classes: class labels (``model.classes_``) for classification, ``None`` for regression.
        row_index: ``n_explained`` labels of the explained rows in the original ``X.index``.
        seconds: wall time of :func:`explain` (transform + explain + checks), in seconds.
        display_data: object ndarray ``(n_explained, n_features)`` of the values shown in
            waterfall labels: the user's original value for grouped columns and for numeric
            columns that became one feature (so a scaled ``tenure`` reads ``8``, not ``-0.99``),
            else the transformed value; ``"missing"`` where the original cell was empty.
        budget_limited: ``True`` when fewer rows than ``max_explain_rows`` were explained
            because of ``time_budget_s``.
        time_budget_s: the time budget used, in seconds.
        seconds_per_row: measured explaining cost per row, in seconds.
        additivity_error: max |base + sum(values) - model output| over explained rows and outputs.
        grouped: ``True`` when features were grouped into source columns.
        notes: plain-language remarks (fallbacks, checks).
        complete: ``False`` for a first view that :class:`ProgressiveExplainer` is still refining
            (more rows will be explained).
        max_rows: the row cap (most rows that will be explained; 0 = unknown).
    """

    values: np.ndarray
    base_values: np.ndarray
    data: np.ndarray
    feature_names: list[str]
    output_units: str
    explainer_name: str
    n_explained: int
    n_total: int
    n_background: int
    sampled: bool
    classes: list | None
    row_index: list
    seconds: float
    display_data: np.ndarray | None = None
    budget_limited: bool = False
    time_budget_s: float = 20.0
    seconds_per_row: float = float("nan")
    additivity_error: float = float("nan")
    grouped: bool = False
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    max_rows: int = 0

    # ---- helpers ------------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        """Number of outputs (classes, or 1 for regression)."""
        return int(self.values.shape[2])

    def default_class_index(self) -> int:
        """Output shown when none is chosen: class 1 for binary, else 0 (first class / regression)."""
        return 1 if self.classes is not None and len(self.classes) == 2 else 0

    def _check_class_index(self, class_index: int | None) -> int:
        c = self.default_class_index() if class_index is None else int(class_index)
        if not 0 <= c < self.n_outputs:
            raise ConfigError(f"class_index {class_index} is out of range: this explanation has "
                              f"{self.n_outputs} output(s); use 0..{self.n_outputs - 1}.")
        return c

    def output_label(self, class_index: int | None = None) -> str:
        """Plain words for one output: ``"log-odds of class '1'"``, ``"target units"``..."""
        if self.classes is None:
            return self.output_units
        c = self._check_class_index(class_index)
        return f"{self.output_units} of class '{self.classes[c]}'"

    def position_of(self, label: Any) -> int:
        """Position (0..n_explained-1) of the explained row whose original index label is ``label``.

        Raises:
            DataError: the row was not among the explained (sampled) rows.
        """
        for i, v in enumerate(self.row_index):
            if v == label:
                return i
        raise DataError(f"row {label!r} was not among the {self.n_explained} explained rows; "
                        "pick one of the explained rows or raise max_explain_rows.")

    # ---- API ----------------------------------------------------------------------------
    def to_explanation(self, class_index: int | None = None):
        """One output as a ``shap.Explanation`` with values ``(n_explained, n_features)``.

        Args:
            class_index: output to take; default class 1 for binary, the single output for
                regression, class 0 for multiclass.

        Returns:
            ``shap.Explanation`` (values, base_values ``(n_explained,)``, data, feature_names,
            display_data when grouped).

        Raises:
            ConfigError: ``class_index`` out of range.
        """
        import shap

        c = self._check_class_index(class_index)
        return shap.Explanation(
            values=self.values[:, :, c].copy(),
            base_values=self.base_values[:, c].copy(),
            data=self.data.copy(),
            display_data=None if self.display_data is None else self.display_data.copy(),
            feature_names=list(self.feature_names),
        )

    def mean_abs(self, class_index: int | None = None) -> np.ndarray:
        """Mean |SHAP value| per feature, shape ``(n_features,)``, in ``output_units``.

        With ``class_index=None`` a multiclass result is averaged over classes (binary and
        regression use their default output, which for binary equals the class average).
        """
        a = np.abs(self.values)
        if class_index is None and self.classes is not None and len(self.classes) > 2:
            return a.mean(axis=(0, 2))
        return a[:, :, self._check_class_index(class_index)].mean(axis=0)

    def top_features(self, k: int = 10, class_index: int | None = None) -> list[dict]:
        """The ``k`` features with the largest mean |SHAP value|, largest first.

        Returns:
            ``[{"feature": str, "mean_abs_shap": float}, ...]`` (JSON-ready; units are
            ``output_units``; multiclass with ``class_index=None``: mean over classes).
        """
        m = self.mean_abs(class_index)
        order = np.argsort(-m, kind="stable")[: max(0, int(k))]
        return [{"feature": self.feature_names[i], "mean_abs_shap": float(m[i])} for i in order]

    def sample_text(self) -> str:
        """``"300 of 7,043 rows explained, 100 background rows"`` (+ why rows were sampled).

        A first view that is still being refined says so: ``"25 of 1,409 rows explained so far
        (first view; refining up to 200 rows)"``.
        """
        rows = f"{self.n_explained:,} of {self.n_total:,} rows explained"
        if not self.complete:
            rows += f" so far (first view; refining up to {self.max_rows:,} rows)"
        elif self.budget_limited:
            rows += f" (sampled to fit the {self.time_budget_s:g} s time budget)"
        elif self.sampled:
            rows += " (random sample)"
        if self.n_background:
            bg = f"{self.n_background:,} background rows"
        elif not self.explainer_name.endswith("Explainer"):
            bg = "no background needed"
        else:
            bg = "no background sample (path-dependent, uses the trees' training cover)"
        return f"{rows}, {bg}"

    def caption(self, class_index: int | None = None) -> str:
        """One plain sentence stating units, sample size and explainer.

        Example: ``"SHAP values in log-odds of class '1'; 300 of 7,043 rows explained,
        100 background rows, LinearExplainer."``; multiclass with ``class_index=None`` says
        "per class".
        """
        if self.classes is not None and len(self.classes) > 2 and class_index is None:
            units = f"{self.output_units} per class ({len(self.classes)} classes)"
        else:
            units = self.output_label(class_index)
        grouped = ", one-hot/text/date columns grouped by source column" if self.grouped else ""
        how = EXPLAINER_NOTES.get(self.explainer_name)
        name = f"{self.explainer_name} ({how})" if how else self.explainer_name
        return f"SHAP values in {units}; {self.sample_text()}, {name}{grouped}."


# --------------------------------------------------------------------------------------------
# Shape normalisation (the one place that knows SHAP's output forms)
# --------------------------------------------------------------------------------------------

def normalize_shap_output(values: Any, base_values: Any, *, n_rows: int, n_features: int,
                          n_classes: int | None = None, units: str | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Bring SHAP's output into ``values (n_rows, n_features, n_outputs)`` and ``base (n_rows, n_outputs)``.

    Accepted forms (all seen from SHAP ≤ 0.51 across explainers and versions):

    * values: a list of ``n_outputs`` arrays ``(n_rows, n_features)`` (old multi-output form),
      an array ``(n_rows, n_features, n_outputs)``, an array ``(n_rows, n_features)``
      (single output), or ``(n_features,)`` for one row;
    * base values: a scalar, ``(n_outputs,)`` (``expected_value``), ``(n_rows,)``,
      ``(n_rows, n_outputs)``, ``(n_rows, 1)`` or a list of these.

    Binary classifiers explained with a single output (log-odds of class 1, as
    LinearExplainer and HistGradientBoosting give) are completed to two outputs so
    that output index = class index: class 0's values are the negation; its base value
    is ``-base`` in log-odds and ``1 - base`` in probability.

    Args:
        n_classes: number of classes for classification, ``None`` for regression.
        units: ``"log-odds"`` or ``"probability"``; needed only to complete a binary single output.

    Returns:
        ``(values, base_values)`` as float64 arrays.

    Raises:
        ValueError: shapes that do not match ``n_rows``/``n_features``.
    """
    if isinstance(values, (list, tuple)):
        v = np.stack([np.asarray(a, dtype=float) for a in values], axis=-1)
    else:
        v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v.reshape(1, -1, 1) if n_rows == 1 else v.reshape(n_rows, 1, 1)
    elif v.ndim == 2:
        if n_rows == 1 and v.shape[0] == n_features and v.shape[1] != n_features:
            v = v[None, :, :]  # one row, (n_features, n_outputs)
        else:
            v = v[:, :, None]
    if v.ndim != 3 or v.shape[0] != n_rows or v.shape[1] != n_features:
        raise ValueError(f"SHAP values of shape {np.shape(values)} do not match "
                         f"{n_rows} rows x {n_features} features")
    k = v.shape[2]

    if isinstance(base_values, (list, tuple)):
        b = np.stack([np.asarray(x, dtype=float) for x in base_values], axis=-1)
    else:
        b = np.asarray(base_values, dtype=float)
    if b.ndim == 0:
        b = np.full((n_rows, k), float(b))
    elif b.ndim == 1:
        if k == 1 and b.shape[0] in (1, n_rows):
            b = np.broadcast_to(b.reshape(-1, 1), (n_rows, 1))
        elif b.shape[0] == k:
            b = np.broadcast_to(b.reshape(1, k), (n_rows, k))
        else:
            raise ValueError(f"base values of shape {b.shape} do not match {n_rows} rows x {k} outputs")
    elif b.ndim == 2:
        if b.shape == (n_rows, k):
            pass
        elif b.shape in ((n_rows, 1), (1, k), (1, 1)):
            b = np.broadcast_to(b, (n_rows, k))
        else:
            raise ValueError(f"base values of shape {b.shape} do not match {n_rows} rows x {k} outputs")
    else:
        raise ValueError(f"base values of shape {b.shape} are not understood")
    b = np.array(b, dtype=float)

    if n_classes == 2 and k == 1:
        if units == "log-odds":
            v = np.concatenate([-v, v], axis=2)
            b = np.concatenate([-b, b], axis=1)
        elif units == "probability":
            v = np.concatenate([-v, v], axis=2)
            b = np.concatenate([1.0 - b, b], axis=1)
        else:
            raise ValueError("units ('log-odds' or 'probability') are needed to complete a binary output")
    return np.ascontiguousarray(v), b


# --------------------------------------------------------------------------------------------
# Output feature -> source column
# --------------------------------------------------------------------------------------------

def _find_column_transformer(preprocess) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if isinstance(preprocess, ColumnTransformer):
        return preprocess
    if isinstance(preprocess, Pipeline):
        cts = [s for _, s in preprocess.steps if isinstance(s, ColumnTransformer)]
        # only usable when the ColumnTransformer is the last step (its outputs are the model's inputs)
        if cts and preprocess.steps[-1][1] is cts[-1]:
            return cts[-1]
    return None


def _resolve_columns(cols, names_in: np.ndarray | None) -> list[str]:
    if isinstance(cols, str):
        return [cols]
    if isinstance(cols, (int, np.integer)):
        return [str(names_in[cols]) if names_in is not None else str(cols)]
    if isinstance(cols, slice):
        return [str(c) for c in names_in[cols]] if names_in is not None else []
    arr = np.asarray(cols)
    if arr.dtype == bool:
        return [str(c) for c in names_in[arr]] if names_in is not None else []
    if np.issubdtype(arr.dtype, np.integer):
        return [str(names_in[i]) if names_in is not None else str(i) for i in arr]
    return [str(c) for c in arr]


def _match_source(name: str, cols: Sequence[str]) -> str | None:
    """Source column of one output of a multi-column transformer, from that transformer's own columns."""
    if name in cols:
        return name
    best = None
    for c in cols:  # "Contract_Two year", "Date.month", "Name: mr"
        if name.startswith(c) and not name[len(c)].isalnum() and (best is None or len(c) > len(best)):
            best = c
    if best is not None:
        return best
    for c in cols:  # "missingindicator_Age"
        if name.endswith(c) and not name[-len(c) - 1].isalnum() and (best is None or len(c) > len(best)):
            best = c
    return best


#: Suffix scikit-learn's ``OneHotEncoder`` gives the column of grouped infrequent categories.
INFREQUENT_SUFFIX = "infrequent_sklearn"


def display_feature_name(name: str, source: str | None = None) -> str:
    """The name shown to people for one transformed feature (display only).

    scikit-learn names the one-hot column of grouped rare categories
    ``<column>_infrequent_sklearn`` (``OneHotEncoder(handle_unknown="infrequent_if_exist")``);
    it is shown as ``"<column> = (other)"``. Every other name is returned unchanged.

    Args:
        name: a ``get_feature_names_out`` name, e.g. ``"Cabin_infrequent_sklearn"``.
        source: its source column (from :func:`source_columns`); default: the name
            without the suffix.

    Returns:
        ``str``, e.g. ``"Cabin = (other)"``.
    """
    if not name.endswith(INFREQUENT_SUFFIX):
        return name
    if not source or source == name:
        source = name[: -len(INFREQUENT_SUFFIX)].rstrip("_ ") or name
        if "__" in source:  # verbose ColumnTransformer prefix "cat__"
            source = source.split("__", 1)[1]
    return f"{source} = (other)"


def source_columns(preprocess, n_features: int | None = None) -> list[str]:
    """Source column of every transformed feature, in output order.

    Uses the fitted ``ColumnTransformer``'s ``transformers_`` and ``output_indices_``
    (which output slice each transformer produced and from which input columns), not
    the output names alone: a transformer with one input column (a one-hot encoder on one
    column, a TF-IDF vectorizer, date parts of one column) maps all its outputs to it;
    for a transformer of several columns each output is matched to the *longest* of that
    transformer's own input columns that its name starts (or ends) with at a word
    boundary; ``passthrough`` and one-to-one transformers map by position. Outputs that
    cannot be attributed keep their own name.

    Args:
        preprocess: a fitted ``ColumnTransformer`` or a ``Pipeline`` ending with one.
        n_features: number of transformed features (used when ``preprocess`` has no
            ``ColumnTransformer``: every feature is then its own source).

    Returns:
        list of ``n_features`` source column names (str).
    """
    ct = _find_column_transformer(preprocess)
    try:
        out_names = [str(n) for n in preprocess.get_feature_names_out()]
    except Exception:  # noqa: BLE001 - a step without feature names
        out_names = [f"x{i}" for i in range(n_features or 0)]
    if ct is None or not hasattr(ct, "output_indices_"):
        return list(out_names)
    names_in = getattr(ct, "feature_names_in_", None)
    ct_names = [str(n) for n in ct.get_feature_names_out()]
    sources = list(ct_names)
    verbose = bool(getattr(ct, "verbose_feature_names_out", True))
    for name, trans, cols in ct.transformers_:
        sl = ct.output_indices_.get(name)
        if sl is None or sl.stop <= sl.start or (isinstance(trans, str) and trans == "drop"):
            continue
        cols_list = _resolve_columns(cols, names_in)
        outs = ct_names[sl]
        if verbose:
            prefix = f"{name}__"
            outs = [o[len(prefix):] if o.startswith(prefix) else o for o in outs]
        if len(cols_list) == 1:
            mapped = [cols_list[0]] * len(outs)
        elif (isinstance(trans, str) and trans == "passthrough") or outs == cols_list:
            mapped = list(cols_list) if len(cols_list) == len(outs) else list(outs)
        else:
            mapped = []
            for j, o in enumerate(outs):
                m = _match_source(o, cols_list)
                if m is None and len(outs) == len(cols_list):
                    m = cols_list[j]
                mapped.append(m if m is not None else ct_names[sl][j])
        sources[sl] = mapped
    if len(sources) != len(out_names):  # a step after the ColumnTransformer changed the features
        return list(out_names)
    return sources


def group_matrix(sources: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Groups in order of first appearance and the 0/1 matrix ``(n_features, n_groups)`` that sums them."""
    groups: list[str] = []
    pos: dict[str, int] = {}
    for s in sources:
        if s not in pos:
            pos[s] = len(groups)
            groups.append(s)
    g = np.zeros((len(sources), len(groups)))
    for i, s in enumerate(sources):
        g[i, pos[s]] = 1.0
    return groups, g


# --------------------------------------------------------------------------------------------
# explain()
# --------------------------------------------------------------------------------------------

_PRELOAD: threading.Thread | None = None


def preload_shap() -> None:
    """Import ``shap`` in a background thread, once per process, so a first explanation does not wait for it.

    ``import shap`` takes about 1-4 s on the 2-core machine (numba, etc.); the Data & Models
    page calls this when it opens, while the user sets the comparison up. Returns at once.
    """
    global _PRELOAD
    import sys

    if _PRELOAD is None and "shap" not in sys.modules:
        def load() -> None:
            try:
                import shap  # noqa: F401
            except Exception:  # noqa: BLE001 - the real import, later, reports the problem
                pass

        _PRELOAD = threading.Thread(target=load, name="preload-shap", daemon=True)
        _PRELOAD.start()


def _dense(a) -> np.ndarray:
    if sp.issparse(a):
        return np.asarray(a.toarray(), dtype=float)
    if isinstance(a, pd.DataFrame):
        return a.to_numpy(dtype=float)
    return np.asarray(a, dtype=float)


def _model_input(model, arr: np.ndarray, names: list[str]):
    """What the model was fitted on: a DataFrame when it saw feature names, else the array."""
    fn = getattr(model, "feature_names_in_", None)
    if fn is not None and len(fn) == arr.shape[1]:
        return pd.DataFrame(arr, columns=list(fn))
    return arr


def _is_linear(model) -> bool:
    coef, icpt = getattr(model, "coef_", None), getattr(model, "intercept_", None)
    if coef is None or icpt is None:
        return False
    # kernel models (SVC) expose coef_ only for the linear kernel; LinearExplainer needs a plain linear map
    return np.ndim(coef) in (1, 2) and getattr(model, "kernel", "linear") == "linear"


def _display_values(src: pd.Series) -> list:
    """Original cell values for waterfall labels: numbers stay numbers, text is cut to 40 characters."""
    out = []
    for x in src.tolist():
        if x is None or (isinstance(x, float) and np.isnan(x)) or x is pd.NA or x is pd.NaT:
            out.append("missing")
        elif isinstance(x, (bool, np.bool_)):
            out.append(str(x))
        elif isinstance(x, (int, float, np.number)):
            out.append(x)
        else:
            out.append(str(x)[:40])
    return out


def _is_constant(model) -> bool:
    from sklearn.dummy import DummyClassifier, DummyRegressor

    return isinstance(model, (DummyClassifier, DummyRegressor))


def _constant_output(model, row: np.ndarray, names: list[str], task: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xi = _model_input(model, row, names)
        if task == "classification" and hasattr(model, "predict_proba"):
            return np.asarray(model.predict_proba(xi), dtype=float)[0]
        return np.asarray(model.predict(xi), dtype=float).reshape(-1)


def _reference_outputs(model, Xe: np.ndarray, names: list[str], task: str,
                       n_classes: int | None) -> dict[str, np.ndarray]:
    """Model outputs ``(n, n_outputs)`` in each unit the explainer might be using."""
    xi = _model_input(model, Xe, names)
    refs: dict[str, np.ndarray] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == "regression":
            refs["target units"] = np.asarray(model.predict(xi), dtype=float).reshape(len(Xe), -1)
            return refs
        if hasattr(model, "predict_proba"):
            try:
                refs["probability"] = np.asarray(model.predict_proba(xi), dtype=float)
            except Exception:  # noqa: BLE001 - e.g. a classifier without probabilities
                pass
        if hasattr(model, "decision_function"):
            try:
                d = np.asarray(model.decision_function(xi), dtype=float)
                refs["log-odds"] = np.column_stack([-d, d]) if d.ndim == 1 and n_classes == 2 else d.reshape(len(Xe), -1)
            except Exception:  # noqa: BLE001
                pass
    return refs


class _Engine:
    """A SHAP explainer plus the function that explains a batch of dense rows."""

    def __init__(self, name: str, fn, n_background: int, units_hint: str | None):
        self.name, self.fn, self.n_background, self.units_hint = name, fn, n_background, units_hint


def _make_engine(model, background: np.ndarray, names: list[str], task: str,
                 random_state: int, notes: list[str]) -> _Engine:
    import shap

    n_features = background.shape[1]
    if _is_constant(model):
        # predictions ignore the features, so every Shapley value is exactly 0 (null-player axiom)
        const = _constant_output(model, background[:1], names, task)

        def run_constant(xb):
            return np.zeros((len(xb), n_features, const.shape[0])), const

        return _Engine(f"none needed: {type(model).__name__} ignores the features", run_constant, 0, None)
    if _is_linear(model):
        try:
            ex = shap.LinearExplainer(model, shap.maskers.Independent(background, max_samples=len(background)))

            def run_linear(xb):
                return ex.shap_values(xb), ex.expected_value

            return _Engine("LinearExplainer", run_linear, len(background),
                           "log-odds" if task == "classification" else "target units")
        except Exception as exc:  # noqa: BLE001 - fall through to the permutation explainer
            notes.append(f"LinearExplainer could not be used ({type(exc).__name__}); permutation explainer used.")
    else:
        try:
            ex = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")

            def run_tree(xb):
                return ex.shap_values(xb, check_additivity=False), ex.expected_value

            return _Engine("TreeExplainer", run_tree, 0, None)
        except Exception as exc:  # noqa: BLE001 - not a tree model SHAP knows
            if "not yet supported" not in str(exc) and "Model type not" not in str(exc):
                notes.append(f"TreeExplainer could not be used ({type(exc).__name__}); permutation explainer used.")

    if task == "classification" and hasattr(model, "predict_proba"):
        raw, units = model.predict_proba, "probability"
    else:
        raw, units = model.predict, ("target units" if task == "regression" else "probability")

    def f(a):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(raw(_model_input(model, np.asarray(a, dtype=float), names)), dtype=float)

    masker = shap.maskers.Independent(background, max_samples=len(background))
    ex = shap.PermutationExplainer(f, masker, seed=random_state)
    max_evals = max(500, 2 * n_features + 1)

    def run_perm(xb):
        e = ex(xb, max_evals=max_evals, silent=True)
        return e.values, e.base_values

    return _Engine("PermutationExplainer", run_perm, len(background), units)


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


# --------------------------------------------------------------------------------------------
# Charts (SHAP's own plots, returned as matplotlib figures)
# --------------------------------------------------------------------------------------------

#: 3 significant digits for SHAP chart labels; the one set of number rules lives in :mod:`core.numbers`.
format_number = format_significant


def _format_feature_value(v: Any) -> Any:
    """A user's numeric cell for a waterfall label: whole numbers exact with separators, else 4 significant digits."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)):
        return v
    v = float(v)
    if not math.isfinite(v):
        return "missing" if math.isnan(v) else str(v)
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return format_number(v, digits=4).replace("\u2212", "-")


def _shap_format_value(s: Any, format_str: str) -> str:
    """Drop-in for ``shap.utils.format_value`` used while drawing a waterfall (3 significant digits)."""
    if isinstance(s, str):
        return s
    return format_number(float(s), signed=format_str.startswith("%+"))


def _finish(fig, title: str, subtitle: str):
    import matplotlib.pyplot as plt

    import textwrap

    fig.suptitle(title + "\n" + textwrap.fill(subtitle, 95), fontsize=10, x=0.02, ha="left")
    try:
        fig.tight_layout()
    except Exception:  # noqa: BLE001 - layout is cosmetic
        pass
    plt.close(fig)  # detach from pyplot's global state; the Figure object stays usable
    return fig


def _thousands_axis(ax) -> None:
    """Value axis of large units (190000 -> 190,000, at most ~6 ticks so labels do not collide)."""
    lo, hi = ax.get_xlim()
    if max(abs(lo), abs(hi)) >= 1000:
        from matplotlib.ticker import FuncFormatter, MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _widen_waterfall(fig) -> None:
    """Room for the value labels SHAP draws past the arrows (they were cut at the plot's edges)."""
    axes = fig.axes
    if not axes:
        return
    lo, hi = axes[0].get_xlim()
    pad = 0.12 * (hi - lo)
    for ax in axes:
        ax.set_xlim(lo - pad, hi + pad)
    fig.set_size_inches(max(fig.get_size_inches()[0], 10), fig.get_size_inches()[1])
    _thousands_axis(axes[0])


def to_png(fig, dpi: int = 120) -> bytes:
    """A matplotlib figure (e.g. from :func:`plot_bar`) as PNG bytes.

    The figures are already laid out (``tight_layout``), so no ``bbox_inches="tight"``: that
    draws every figure twice, which was a third of the time of a SHAP view.
    """
    import io

    buf = io.BytesIO()
    with _PLOT_LOCK:
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def plot_bar(result: ShapResult, class_index: int | None = None, max_display: int = 15):
    """Global importance: SHAP's bar plot of mean |SHAP value| per feature.

    Multiclass with ``class_index=None``: mean |SHAP| averaged over classes.

    Returns:
        ``matplotlib.figure.Figure`` (closed from pyplot; use ``st.pyplot(fig)`` or ``fig.savefig``),
        titled with units and sample size.
    """
    import matplotlib.pyplot as plt
    import shap

    multi_avg = class_index is None and result.classes is not None and len(result.classes) > 2
    if multi_avg:
        expl = shap.Explanation(values=np.abs(result.values).mean(axis=2), data=result.data,
                                feature_names=list(result.feature_names))
        units = f"{result.output_units}, mean over {len(result.classes)} classes"
    else:
        expl = result.to_explanation(class_index)
        units = result.output_label(class_index)
    import shap.plots._bar as shap_bar

    with _PLOT_LOCK:
        fig, ax = plt.subplots(figsize=(8, 0.4 * min(max_display, len(result.feature_names)) + 1.8))
        original_format = shap_bar.format_value
        shap_bar.format_value = _shap_format_value  # "+50232.18" -> "+50,200" (display only)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                shap.plots.bar(expl, max_display=max_display, ax=ax, show=False)
        finally:
            shap_bar.format_value = original_format
        lo, hi = ax.get_xlim()
        ax.set_xlim(lo, hi + 0.12 * (hi - lo))  # room for SHAP's "+0.12" labels past the longest bar
        _thousands_axis(ax)
        ax.set_xlabel(f"mean |SHAP value| ({units})")
        return _finish(fig, "Which features matter most", result.sample_text())


def plot_beeswarm(result: ShapResult, class_index: int | None = None, max_display: int = 15):
    """Global: SHAP's beeswarm (one dot per explained row and feature, colour = feature value).

    Returns:
        ``matplotlib.figure.Figure`` with units (of ``class_index``, default as in
        :meth:`ShapResult.to_explanation`) on the x axis and the sample size in the title.
    """
    import matplotlib.pyplot as plt
    import shap

    expl = result.to_explanation(class_index)
    with _PLOT_LOCK:
        fig, ax = plt.subplots(figsize=(8, 0.4 * min(max_display, len(result.feature_names)) + 1.8))
        label = "Feature value"
        if np.isnan(result.data).all(axis=0).any():
            label += " (grey: categories/text, no order)"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shap.plots.beeswarm(expl, max_display=max_display, ax=ax, show=False, plot_size=None,
                                color_bar_label=label)
        ax.set_xlabel(f"SHAP value ({result.output_label(class_index)})")
        _thousands_axis(ax)
        return _finish(fig, "How each feature pushes predictions", result.sample_text())


def plot_waterfall(result: ShapResult, row_position: int, class_index: int | None = None,
                   max_display: int = 12):
    """Local: SHAP's waterfall for one explained row, from the base value to the model output.

    Args:
        row_position: 0..n_explained-1 (see :meth:`ShapResult.position_of` for an index label).
        class_index: output to explain; default: class 1 for binary, the row's predicted
            class (largest output) for multiclass, the single output for regression.

    Returns:
        ``matplotlib.figure.Figure`` titled with the row's original index and the units.

    Raises:
        ConfigError: ``row_position`` or ``class_index`` out of range.
    """
    import matplotlib.pyplot as plt
    import shap

    if not 0 <= int(row_position) < result.n_explained:
        raise ConfigError(f"row_position {row_position} is out of range: "
                          f"{result.n_explained} rows were explained (0..{result.n_explained - 1}).")
    r = int(row_position)
    if class_index is None and result.classes is not None and len(result.classes) > 2:
        class_index = int(np.argmax(result.base_values[r] + result.values[r].sum(axis=0)))
    expl = result.to_explanation(class_index)[r]
    # display only: the user's values as readable text, SHAP numbers to 3 significant digits
    shown = expl.display_data if expl.display_data is not None else expl.data
    if shown is not None:
        expl.display_data = np.array([_format_feature_value(v) for v in np.asarray(shown, dtype=object)],
                                     dtype=object)
    import shap.plots._waterfall as shap_waterfall

    with _PLOT_LOCK:
        fig = plt.figure()
        original_format = shap_waterfall.format_value
        shap_waterfall.format_value = _shap_format_value
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                shap.plots.waterfall(expl, max_display=max_display, show=False)
        finally:
            shap_waterfall.format_value = original_format
        fig = plt.gcf()
        _widen_waterfall(fig)
        fig = _finish(fig, f"Why row {result.row_index[r]!r} got this prediction",
                      f"{result.output_label(class_index)}; {result.explainer_name}")
        fig.subplots_adjust(right=min(fig.subplotpars.right, 0.88))  # room for "f(x) = 253,000"
        return fig
