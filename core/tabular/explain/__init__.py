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

Modules, one concern each:

- :mod:`core.tabular.explain.result`: :class:`ShapResult`, units and captions;
- :mod:`core.tabular.explain.shapes`: :func:`normalize_shap_output`, SHAP's output forms;
- :mod:`core.tabular.explain.engine`: explainer choice and output units;
- :mod:`core.tabular.explain.progressive`: :class:`ProgressiveExplainer` and :func:`explain`;
- :mod:`core.tabular.explain.plots`: bar, beeswarm and waterfall figures, PNG export.

The mapping from output features back to source columns (:func:`source_columns`,
:func:`group_matrix`, :func:`display_feature_name`) lives with the preprocessing that
makes those features, in :mod:`core.tabular.preprocess`; it is re-exported here.
"""

from core.tabular.explain.engine import preload_shap
from core.tabular.explain.plots import (
    format_number,
    plot_bar,
    plot_beeswarm,
    plot_waterfall,
    to_png,
)
from core.tabular.explain.progressive import (
    FIRST_VIEW_S,
    REFINE_STEP_S,
    ProgressiveExplainer,
    explain,
)
from core.tabular.explain.result import EXPLAINER_NOTES, UNITS, ShapResult
from core.tabular.explain.shapes import normalize_shap_output
from core.tabular.preprocess import (
    INFREQUENT_SUFFIX,
    display_feature_name,
    group_matrix,
    source_columns,
)

__all__ = [
    "ShapResult", "ProgressiveExplainer", "explain", "normalize_shap_output", "source_columns", "group_matrix",
    "plot_bar", "plot_beeswarm", "plot_waterfall", "to_png", "display_feature_name", "format_number",
    "preload_shap", "FIRST_VIEW_S", "REFINE_STEP_S", "UNITS", "EXPLAINER_NOTES", "INFREQUENT_SUFFIX",
]
