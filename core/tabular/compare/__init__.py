"""Compare models on a table with cross-validation; fold 1 doubles as the held-out view for charts and SHAP.

Notes for SHAP (:mod:`core.tabular.explain`):
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

Modules, one concern each:

- :mod:`core.tabular.compare.result`: metrics, settings and the result types;
- :mod:`core.tabular.compare.folds`: fold planning, one fold's scores, one model's pipeline;
- :mod:`core.tabular.compare.run`: :func:`compare_models`, the parallel cross-validation;
- :mod:`core.tabular.compare.report`: the JSON result, SHAP summaries, :func:`explain_model`;
- :mod:`core.tabular.compare.restore`: the workspace record and :func:`restore_comparison`.

The public names are re-exported here: import them from ``core.tabular.compare``.
"""

from core.tabular.compare.folds import make_pipeline, plan_folds
from core.tabular.compare.report import explain_model, result_to_json, shap_summary
from core.tabular.compare.restore import (
    RECORD_VERSION,
    RESTORE_TOLERANCE,
    RestoreCheck,
    comparison_to_record,
    restore_comparison,
)
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
from core.tabular.compare.run import (
    CV_JOBS,
    OPENMP_THREADS,
    ResultCallback,
    compare_models,
)

__all__ = [
    "DEFAULT_FOLDS", "METRICS", "PRIMARY_METRIC", "ComparisonResult", "ComparisonSettings", "Holdout", "ModelResult",
    "ProgressCallback", "plan_folds", "make_pipeline", "CV_JOBS", "OPENMP_THREADS", "ResultCallback", "compare_models",
    "result_to_json", "shap_summary", "explain_model", "RECORD_VERSION", "RESTORE_TOLERANCE", "RestoreCheck",
    "comparison_to_record", "restore_comparison",
]
