"""Saving and restoring a comparison: the workspace record, and rebuilding it with a check against the saved metrics."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from core.errors import ConfigError
from core.tabular.compare.report import result_to_json
from core.tabular.compare.result import (
    METRICS,
    ComparisonResult,
    ComparisonSettings,
    ProgressCallback,
)
from core.tabular.compare.run import _compare

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
