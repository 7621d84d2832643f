"""A comparison for others: the JSON written by the CLI, and SHAP on a compared model (:func:`explain_model`)."""

from __future__ import annotations

from core.tabular.compare.result import ComparisonResult, ModelResult


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
