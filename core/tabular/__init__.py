"""Tabular modelling: understand a table, compare classic ML models, explain them.

Modules:
    schema      column type inference (numeric, categorical, boolean, datetime,
                free text, ID-like, constant, empty), task detection, target checks.
    preprocess  the scikit-learn ``ColumnTransformer`` built from a schema.
    models      the model registry (one entry adds a model) with editable hyperparameters.
    compare     cross-validation, metrics, hold-out split, progress callback.
    charts      plotly figures for the results.
    explain     SHAP explanations of a fitted pipeline.
    cli         ``python -m core compare ...``.

The fitted pipeline shape used everywhere is
``Pipeline([("preprocess", ColumnTransformer), ("model", estimator)])``.
"""

from core.tabular.compare import ComparisonResult, ModelResult, compare_models, result_to_json
from core.tabular.models import MODELS, Hyperparameter, ModelSpec, available_models, make_estimator, register_model
from core.tabular.schema import ColumnInfo, TableSchema, infer_column_type, infer_schema, suggest_target

__all__ = [
    "ColumnInfo", "TableSchema", "infer_column_type", "infer_schema", "suggest_target",
    "MODELS", "Hyperparameter", "ModelSpec", "available_models", "make_estimator", "register_model",
    "ComparisonResult", "ModelResult", "compare_models", "result_to_json",
]
