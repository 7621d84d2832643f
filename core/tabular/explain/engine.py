"""Explainer selection and output units: which SHAP explainer runs on a fitted model, and in what units.

Each registered model declares its explainer and output units on its
:class:`~core.tabular.models.ModelSpec` (``explainer``, ``shap_units``):
``LinearExplainer`` for linear models (log-odds for classifiers),
``TreeExplainer`` (path-dependent) for trees, none for the dummy baseline.
An estimator no spec declares falls back to detection: linear coefficients,
then ``TreeExplainer`` if SHAP accepts it, else ``PermutationExplainer`` on
``predict_proba`` or ``predict``. Units are checked, not assumed: the base value
plus the SHAP values is compared with the declared unit's output first, then
``predict_proba``, ``decision_function`` and ``predict`` (:func:`_reference_outputs`). :func:`preload_shap` imports SHAP in the background.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp

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


def declared_explainer(model, task: str) -> tuple[str, str | None]:
    """``(explainer, units)`` the model's :class:`~core.tabular.models.ModelSpec` declares for ``task``;
    ``("", None)`` for an estimator no spec declares (then both are detected)."""
    from core.tabular.models import spec_for_estimator

    spec = spec_for_estimator(model)
    if spec is None:
        return "", None
    return spec.explainer, spec.shap_units.get(task)


def _make_engine(model, background: np.ndarray, names: list[str], task: str,
                 random_state: int, notes: list[str]) -> _Engine:
    """The explainer for ``model``: the one its ``ModelSpec`` declares, else detected (linear
    coefficients, then ``TreeExplainer`` if SHAP accepts the model, else permutation). A declared
    explainer that fails falls back to the permutation explainer with a note."""
    import shap

    declared, declared_units = declared_explainer(model, task)
    n_features = background.shape[1]
    if declared == "none" or (not declared and _is_constant(model)):
        # predictions ignore the features, so every Shapley value is exactly 0 (null-player axiom)
        const = _constant_output(model, background[:1], names, task)

        def run_constant(xb):
            return np.zeros((len(xb), n_features, const.shape[0])), const

        return _Engine(f"none needed: {type(model).__name__} ignores the features", run_constant, 0, None)
    kind = declared or ("linear" if _is_linear(model) else "tree")
    if kind == "linear":
        try:
            ex = shap.LinearExplainer(model, shap.maskers.Independent(background, max_samples=len(background)))

            def run_linear(xb):
                return ex.shap_values(xb), ex.expected_value

            return _Engine("LinearExplainer", run_linear, len(background),
                           declared_units or ("log-odds" if task == "classification" else "target units"))
        except Exception as exc:  # noqa: BLE001 - fall through to the permutation explainer
            notes.append(f"LinearExplainer could not be used ({type(exc).__name__}); permutation explainer used.")
    elif kind == "tree":
        try:
            ex = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")

            def run_tree(xb):
                return ex.shap_values(xb, check_additivity=False), ex.expected_value

            return _Engine("TreeExplainer", run_tree, 0, declared_units)
        except Exception as exc:  # noqa: BLE001 - not a tree model SHAP knows
            # an undeclared model is tried on TreeExplainer, so SHAP's "not supported" is expected there
            if declared or ("not yet supported" not in str(exc) and "Model type not" not in str(exc)):
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

    return _Engine("PermutationExplainer", run_perm, len(background),
                   declared_units if declared == "permutation" and declared_units else units)
