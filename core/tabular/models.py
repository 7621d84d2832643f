"""The model registry: one :class:`ModelSpec` entry adds a model to the CLI and the page.

Each entry says which tasks it supports, whether its inputs must be scaled, how
to build the scikit-learn estimator, and its main hyperparameters *as data*
(:class:`Hyperparameter`) so the page can render one widget per hyperparameter.

Built-in models (keys): ``linear`` (``LogisticRegression`` / ``Ridge``, the local
counterpart of Amazon SageMaker's Linear Learner), ``tree`` (``DecisionTree*``,
``max_depth=5``, ``min_samples_split=5``), ``forest`` (``RandomForest*``,
``n_estimators=100``, ``max_features="sqrt"``), ``hgb``
(``HistGradientBoosting*``) and ``dummy`` (``Dummy*`` baseline).

To add a model::

    register_model(ModelSpec(key="knn", label="k-nearest neighbours", needs_scaling=True,
        classifier=KNeighborsClassifier, regressor=KNeighborsRegressor,
        hyperparameters=(Hyperparameter("n_neighbors", "Neighbours", "int", 5, 1, 100),)))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from core.errors import ConfigError

#: Parallel jobs for models that support it: the machine's cores, at most 2 (the app shares a small machine).
N_JOBS = max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class Hyperparameter:
    """One editable hyperparameter, described as data for a UI widget.

    Attributes:
        name: the scikit-learn parameter name (e.g. ``"max_depth"``).
        label: short label for the widget.
        kind: ``"int"``, ``"float"`` or ``"choice"``.
        default: the default value.
        min, max: bounds for ``int``/``float``.
        step: widget step for ``int``/``float``.
        choices: the options for ``choice``.
        log: a float best edited on a log scale (e.g. ``C``).
        help: one sentence on what it does.
        tasks: tasks where it applies (both by default).
        none_label: for ``int``: the value ``0`` means ``None`` and is shown with this label (e.g. "no limit").
    """

    name: str
    label: str
    kind: str
    default: Any
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple = ()
    log: bool = False
    help: str = ""
    tasks: tuple[str, ...] = ("classification", "regression")
    none_label: str | None = None

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to the right type, or raise :class:`ConfigError` if out of range."""
        if self.kind == "choice":
            if value not in self.choices:
                raise ConfigError(f"{self.label} must be one of {list(self.choices)}, not {value!r}.")
            return value
        try:
            v = int(value) if self.kind == "int" else float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{self.label} must be a number, not {value!r}.") from None
        if self.none_label and v == 0:
            return 0
        if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
            raise ConfigError(f"{self.label} must be between {self.min} and {self.max}, not {v}.")
        return v


@dataclass(frozen=True)
class ModelSpec:
    """A model that can be compared.

    Attributes:
        key: short identifier used by the CLI/JSON (``"forest"``).
        label: display name (``"Random forest"``).
        classifier / regressor: estimator classes (``None`` if the task is unsupported).
        needs_scaling: whether numeric inputs are standardised for it.
        hyperparameters: editable hyperparameters (see :class:`Hyperparameter`).
        fixed: extra constructor arguments per task, not shown in the UI
            (``{"classification": {...}, "regression": {...}}``).
        description: one sentence for the page.
        baseline: ``True`` for the reference model that any useful model must beat.
        relative_cost: rough fitting cost rank (0 = trivial); cheaper models are cross-validated
            first so the leaderboard fills in quickly (:func:`core.tabular.compare.compare_models`).
        explainer: the SHAP explainer for the fitted estimator: ``"linear"`` (``LinearExplainer``),
            ``"tree"`` (``TreeExplainer``, path-dependent), ``"permutation"`` (``PermutationExplainer`` on
            ``predict_proba``/``predict``) or ``"none"`` (the estimator ignores the features: every SHAP
            value is 0); ``""`` = detected from the fitted estimator (:mod:`core.tabular.explain.engine`).
        shap_units: the units of that explainer's output per task (``"log-odds"``, ``"probability"`` or
            ``"target units"``), e.g. ``{"classification": "log-odds"}`` for logistic regression. The
            explainer still checks additivity against the model's own output and says so if it fails.
    """

    key: str
    label: str
    classifier: Callable[..., BaseEstimator] | None
    regressor: Callable[..., BaseEstimator] | None
    needs_scaling: bool = False
    hyperparameters: tuple[Hyperparameter, ...] = ()
    fixed: dict = field(default_factory=dict)
    description: str = ""
    baseline: bool = False
    random_state: bool = True
    relative_cost: int = 1
    explainer: str = ""
    shap_units: dict = field(default_factory=dict)

    def supports(self, task: str) -> bool:
        """True when the model has an estimator for ``task``."""
        return (self.classifier if task == "classification" else self.regressor) is not None

    def params_for(self, task: str) -> tuple[Hyperparameter, ...]:
        """The hyperparameters that apply to ``task``."""
        return tuple(h for h in self.hyperparameters if task in h.tasks)

    def default_params(self, task: str) -> dict[str, Any]:
        """``{name: default}`` for ``task``."""
        return {h.name: h.default for h in self.params_for(task)}

    def build(self, task: str, params: dict[str, Any] | None = None, random_state: int = 0) -> BaseEstimator:
        """Build the unfitted estimator for ``task`` with ``params`` over the defaults.

        Raises:
            ConfigError: unsupported task, unknown hyperparameter or a value out of range.
        """
        cls = self.classifier if task == "classification" else self.regressor
        if cls is None:
            raise ConfigError(f"{self.label} does not support {task}.")
        specs = {h.name: h for h in self.params_for(task)}
        values = self.default_params(task)
        for k, v in (params or {}).items():
            if k not in specs:
                raise ConfigError(f"{self.label} has no hyperparameter {k!r} for {task}; "
                                  f"use one of {sorted(specs)}.")
            values[k] = specs[k].validate(v)
        for k, h in specs.items():
            if h.none_label and values[k] == 0:
                values[k] = None
        kwargs = dict(self.fixed.get(task, {}))
        kwargs.update(values)
        if self.random_state:
            kwargs["random_state"] = random_state
        return cls(**kwargs)


MODELS: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add (or replace) a model in :data:`MODELS`; returns ``spec``."""
    MODELS[spec.key] = spec
    return spec


def spec_for_estimator(estimator: Any) -> ModelSpec | None:
    """The registered :class:`ModelSpec` whose classifier or regressor class built ``estimator`` (exact class),
    or ``None`` for an estimator no spec declares."""
    cls = type(estimator)
    return next((m for m in MODELS.values() if cls in (m.classifier, m.regressor)), None)


def available_models(task: str) -> list[ModelSpec]:
    """Registered models supporting ``task``, in registration order."""
    return [m for m in MODELS.values() if m.supports(task)]


def make_estimator(key: str, task: str, params: dict[str, Any] | None = None, random_state: int = 0) -> BaseEstimator:
    """Build the estimator registered as ``key`` for ``task``.

    Raises:
        ConfigError: unknown key (the message lists the known ones) or bad hyperparameters.
    """
    if key not in MODELS:
        raise ConfigError(f"unknown model {key!r}; choose from {', '.join(MODELS)}.")
    return MODELS[key].build(task, params, random_state)


register_model(ModelSpec(
    key="linear", label="Linear (logistic / ridge)",
    classifier=LogisticRegression, regressor=Ridge, needs_scaling=True,
    hyperparameters=(
        Hyperparameter("C", "Inverse regularisation C", "float", 1.0, 1e-3, 1e3, log=True,
                       help="Smaller C = stronger L2 regularisation (simpler model).", tasks=("classification",)),
        Hyperparameter("alpha", "Regularisation alpha", "float", 1.0, 1e-4, 1e4, log=True,
                       help="Larger alpha = stronger L2 regularisation (simpler model).", tasks=("regression",)),
    ),
    fixed={"classification": {"max_iter": 2000}},
    description="A weighted sum of the features; the local counterpart of SageMaker Linear Learner. "
                "Fast and easy to read; misses interactions.",
    explainer="linear", shap_units={"classification": "log-odds", "regression": "target units"},
))
register_model(ModelSpec(
    key="tree", label="Decision tree",
    classifier=DecisionTreeClassifier, regressor=DecisionTreeRegressor,
    hyperparameters=(
        Hyperparameter("max_depth", "Max depth", "int", 5, 1, 50, 1, none_label="no limit",
                       help="How many questions deep the tree may go (0 = no limit)."),
        Hyperparameter("min_samples_split", "Min rows to split", "int", 5, 2, 200, 1,
                       help="A node with fewer rows is not split further."),
    ),
    description="A flowchart of yes/no questions. Readable, but unstable on its own.",
    explainer="tree", shap_units={"classification": "probability", "regression": "target units"},
))
register_model(ModelSpec(
    key="forest", label="Random forest",
    classifier=RandomForestClassifier, regressor=RandomForestRegressor,
    hyperparameters=(
        Hyperparameter("n_estimators", "Trees", "int", 100, 10, 1000, 10, help="Number of trees averaged."),
        Hyperparameter("max_features", "Features per split", "choice", "sqrt", choices=("sqrt", "log2", 1.0),
                       help="Features considered at each split (1.0 = all)."),
        Hyperparameter("max_depth", "Max depth", "int", 0, 1, 100, 1, none_label="no limit",
                       help="Depth limit of each tree (0 = no limit)."),
        Hyperparameter("min_samples_leaf", "Min rows per leaf", "int", 1, 1, 100, 1,
                       help="Larger values smooth the trees."),
    ),
    fixed={"classification": {"n_jobs": N_JOBS}, "regression": {"n_jobs": N_JOBS}},
    description="Many decorrelated trees voting together. Robust default, slower to predict.",
    relative_cost=4,
    explainer="tree", shap_units={"classification": "probability", "regression": "target units"},
))
register_model(ModelSpec(
    key="hgb", label="Histogram gradient boosting",
    classifier=HistGradientBoostingClassifier, regressor=HistGradientBoostingRegressor,
    hyperparameters=(
        Hyperparameter("learning_rate", "Learning rate", "float", 0.1, 0.005, 1.0, log=True,
                       help="Shrinks each tree's contribution; smaller needs more iterations."),
        Hyperparameter("max_iter", "Boosting iterations", "int", 100, 10, 2000, 10,
                       help="Number of trees added one after another."),
        Hyperparameter("max_leaf_nodes", "Leaves per tree", "int", 31, 2, 255, 1,
                       help="Size of each tree."),
    ),
    description="Trees added one after another, each fixing the last one's errors; "
                "scikit-learn's LightGBM-style booster. Often the most accurate on tables.",
    relative_cost=3,
    explainer="tree", shap_units={"classification": "log-odds", "regression": "target units"},
))
register_model(ModelSpec(
    key="dummy", label="Baseline (dummy)",
    classifier=DummyClassifier, regressor=DummyRegressor,
    hyperparameters=(
        Hyperparameter("strategy", "Strategy", "choice", "prior",
                       choices=("prior", "most_frequent", "stratified", "uniform"), tasks=("classification",),
                       help="prior/most_frequent: always the majority class (prior gives class shares as probabilities)."),
        Hyperparameter("strategy", "Strategy", "choice", "mean", choices=("mean", "median"), tasks=("regression",),
                       help="Always predicts the mean (or median) of the training target."),
    ),
    description="Ignores the features: the score any useful model must beat.",
    baseline=True, random_state=False, relative_cost=0,
    explainer="none", shap_units={"classification": "probability", "regression": "target units"},
))
