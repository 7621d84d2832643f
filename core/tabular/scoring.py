"""Use a compared model: save it with skops, load it back, and score new rows.

A model file (``.skops``) holds the fitted
``Pipeline([("preprocess", ColumnTransformer), ("model", estimator)])`` of one
compared model, the hold-out pipeline whose test metrics the user saw (fitted on
the comparison's training rows), and a JSON description: the feature columns and
their types, the target, the task, the class labels, the model and its metrics.

Format: `skops <https://skops.readthedocs.io/en/stable/persistence.html>`_, made
for scikit-learn: a zip of JSON and ``.npy`` members that is loaded without
pickle and refuses types it does not trust. :func:`load_model` lists the
file's types first and loads it only when every one is in
:data:`TRUSTED_TYPES` (scikit-learn's own types are trusted by skops already);
it never passes ``trusted=True``.

Scoring (:func:`score_table`) rules, for a table of new rows:

* **missing columns**: a feature column the model needs is absent ->
  :class:`~core.errors.DataError` naming every missing column;
* **extra columns**: ignored (kept in the output for reference), listed in ``notes``;
  the target column, if present, is ignored too;
* **unseen categories**: a category the model never saw in a categorical column is
  scored as the column's "infrequent" group when the model has one, otherwise as
  none of the known categories (all its one-hot columns 0); in a two-value
  (yes/no-like) column it is scored like the first value. Each such column is
  named in ``notes`` with a count and examples;
* **unreadable numbers**: a numeric column's cell that is not a number is read as
  missing and imputed with the training median, counted in ``notes``;
* **output**: the input columns, then ``predicted_<target>`` and, for
  classification, ``probability_<class>`` per class (0-1); export it with
  :func:`core.export.to_csv_bytes` (formula-safe).
"""

from __future__ import annotations

import json
import platform
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import ConfigError, DataError
from core.tabular.compare import ComparisonResult
from core.tabular.schema import ColumnInfo, TableSchema, prepare_features

#: Format name and version written in every model file's description.
MODEL_FORMAT = "crossroads-model"
MODEL_FORMAT_VERSION = 1

#: Types skops reports as "untrusted" that a Crossroads pipeline legitimately holds: numpy's dtype
#: objects, scikit-learn's compiled tree structures (decision tree, random forest, gradient boosting)
#: and Crossroads' own two preprocessing steps. Anything else in a file refuses to load.
TRUSTED_TYPES: frozenset[str] = frozenset({
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "core.tabular.preprocess.DateParts",
    "core.tabular.preprocess.TextTfidf",
})

#: Largest model file accepted, in bytes (a 100-tree random forest on telco is ~22 MB).
MAX_MODEL_BYTES = 512 * 1024 * 1024


@dataclass
class SavedModel:
    """A fitted pipeline with what is needed to score new rows.

    Attributes:
        pipeline: the fitted scikit-learn ``Pipeline`` (input: :func:`prepare_features` output).
        schema: the comparison's :class:`~core.tabular.schema.TableSchema` (feature
            columns and their types, target, task, classes).
        key, label: the model's registry key and display name.
        classes: class labels in the order of ``predict_proba`` columns (classification), else ``[]``.
        metrics: ``{"cv": {metric: {mean, std}}, "holdout": {metric: value}}`` when it was compared.
        info: other facts (versions, training rows) for people reading the file.
    """

    pipeline: Any
    schema: TableSchema
    key: str
    label: str
    classes: list = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return self.schema.task

    @property
    def target(self) -> str:
        """The target column's name."""
        return self.schema.target

    @property
    def feature_columns(self) -> list[str]:
        """The columns a table to score must have."""
        return self.schema.feature_columns

    def describe(self) -> dict[str, Any]:
        """The JSON description stored beside the pipeline (see :func:`model_to_bytes`)."""
        return {
            "format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
            "model_key": self.key, "model_label": self.label,
            "task": self.task, "target": self.target, "classes": _json_labels(self.classes),
            "columns": [c.to_dict() for c in self.schema.columns],
            "task_reason": self.schema.task_reason, "n_rows": self.schema.n_rows,
            "metrics": self.metrics, "info": self.info,
        }


def _json_labels(values: list) -> list:
    out = []
    for v in values:
        if isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating,)):
            v = float(v)
        elif isinstance(v, np.bool_):
            v = bool(v)
        out.append(v if isinstance(v, (str, int, float, bool)) or v is None else str(v))
    return out


def model_from_comparison(result: ComparisonResult, key: str | None = None) -> SavedModel:
    """The :class:`SavedModel` of one compared model (default: the best).

    Args:
        result: from :func:`core.tabular.compare.compare_models` (or restored from a workspace).
        key: model key (``"hgb"``...), or ``None`` for the best model.

    Raises:
        ConfigError: ``key`` was not compared (the message lists the compared keys).
    """
    try:
        r = result.best if key is None else result.result(key)
    except KeyError:
        raise ConfigError(f"model {key!r} was not compared; choose one of "
                          f"{', '.join(x.key for x in result.results)}.") from None
    import sklearn

    info = {"trained_on_rows": int(len(result.y_train)), "holdout_rows": int(len(result.y_test)),
            "cv_folds": result.n_splits, "settings": result.settings.to_dict() if result.settings else None,
            "scikit_learn": sklearn.__version__, "python": platform.python_version(),
            "note": "Fitted on the comparison's training rows; the hold-out metrics are on rows it never saw."}
    return SavedModel(r.pipeline, result.schema, r.key, r.label, list(result.classes),
                      {"cv": r.metrics, "holdout": r.holdout.metrics}, info)


def model_to_bytes(model: SavedModel) -> bytes:
    """Serialise a model with skops (never pickle).

    Returns:
        The bytes of a ``.skops`` file: ``{"format", "description" (JSON text), "pipeline"}``.
    """
    import skops.io as sio

    description = json.dumps(model.describe(), ensure_ascii=False, default=_json_default)
    return sio.dumps({"format": MODEL_FORMAT, "description": description, "pipeline": model.pipeline})


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def save_model(model: SavedModel, path) -> int:
    """Write :func:`model_to_bytes` to ``path``; returns the number of bytes written."""
    from pathlib import Path

    data = model_to_bytes(model)
    Path(path).write_bytes(data)
    return len(data)


def load_model(source, *, name: str | None = None) -> SavedModel:
    """Load a model file written by :func:`save_model`, trusting only :data:`TRUSTED_TYPES`.

    Args:
        source: path of the file, or its bytes.
        name: display name for messages (default: the path's name or ``"model"``).

    Returns:
        The :class:`SavedModel`.

    Raises:
        DataError: not a skops file, damaged, too large, holds a type outside
            :data:`TRUSTED_TYPES`, or is not a Crossroads model / of a newer format version.
    """
    from pathlib import Path

    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), name or "model"
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise DataError(f"No model file at '{path}'. Check the path.")
        if path.stat().st_size > MAX_MODEL_BYTES:
            raise DataError(f"'{name}' is larger than {MAX_MODEL_BYTES // 2**20} MB; it is not a Crossroads model.")
        data = path.read_bytes()
    if len(data) > MAX_MODEL_BYTES:
        raise DataError(f"'{name}' is larger than {MAX_MODEL_BYTES // 2**20} MB; it is not a Crossroads model.")
    import skops.io as sio

    try:
        untrusted = set(sio.get_untrusted_types(data=data))
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not a skops file"
        raise DataError(f"'{name}' is not a model file saved by Crossroads (skops could not read it: "
                        f"{type(exc).__name__}). Download the model again from Data & Models.") from None
    unexpected = sorted(untrusted - TRUSTED_TYPES)
    if unexpected:
        raise DataError(f"'{name}' contains types Crossroads does not trust, so it was not loaded: "
                        f"{', '.join(unexpected[:8])}. Only models saved by Crossroads can be used.")
    try:
        obj = sio.loads(data, trusted=sorted(untrusted))
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"'{name}' could not be loaded ({type(exc).__name__}: {str(exc)[:200]}). "
                        "It may be damaged or saved by another scikit-learn version; save it again.") from None
    if not isinstance(obj, dict) or obj.get("format") != MODEL_FORMAT or not isinstance(obj.get("description"), str):
        raise DataError(f"'{name}' is a skops file but not a Crossroads model. Download the model from "
                        "Data & Models (or `python -m core compare --save-model`).")
    try:
        desc = json.loads(obj["description"])
        version = int(desc["format_version"])
    except (ValueError, KeyError, TypeError):
        raise DataError(f"'{name}' has a damaged description; save the model again.") from None
    if version > MODEL_FORMAT_VERSION:
        raise DataError(f"'{name}' was saved by a newer Crossroads (model format {version}; this one reads "
                        f"up to {MODEL_FORMAT_VERSION}). Update Crossroads to use it.")
    pipeline = obj.get("pipeline")
    if not hasattr(pipeline, "predict"):
        raise DataError(f"'{name}' holds no fitted pipeline; save the model again.")
    try:
        columns = [ColumnInfo(**{k: c[k] for k in ("name", "inferred_type", "action", "reason", "n_missing",
                                                   "n_unique", "dtype")}) for c in desc["columns"]]
        schema = TableSchema(target=str(desc["target"]), task=str(desc["task"]),
                             task_reason=str(desc.get("task_reason", "")), columns=columns,
                             n_rows_total=int(desc.get("n_rows", 0)), n_rows=int(desc.get("n_rows", 0)),
                             classes=list(desc.get("classes") or []))
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"'{name}' has a damaged description ({exc}); save the model again.") from None
    return SavedModel(pipeline, schema, str(desc.get("model_key", "")), str(desc.get("model_label", "")),
                      list(desc.get("classes") or []), dict(desc.get("metrics") or {}), dict(desc.get("info") or {}))


@dataclass
class ScoredTable:
    """New rows scored by a model.

    Attributes:
        frame: the input columns, then ``predicted_<target>`` and (classification)
            ``probability_<class>`` per class, one row per input row.
        notes: plain sentences on what was ignored or handled (extra columns,
            unseen categories, unreadable numbers).
        prediction_column: name of the prediction column.
        probability_columns: ``{class label: column name}`` (classification), else ``{}``.
    """

    frame: pd.DataFrame
    notes: list[str]
    prediction_column: str
    probability_columns: dict[Any, str]


def _unique_name(name: str, taken: set[str]) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name}_{i}", i + 1
    taken.add(out)
    return out


def _seen_categories(pipeline) -> dict[str, tuple[set[str], bool]]:
    """``{column: (categories seen when fitting, has an infrequent group)}`` for one-hot encoded columns."""
    out: dict[str, tuple[set[str], bool]] = {}
    try:
        ct = pipeline.named_steps["preprocess"]
    except (AttributeError, KeyError):
        return out
    for name, trans, cols in getattr(ct, "transformers_", []):
        if name not in ("cat", "bool"):
            continue
        enc = trans.named_steps.get("onehot") if hasattr(trans, "named_steps") else None
        if enc is None:
            continue
        try:
            infrequent = list(enc.infrequent_categories_)
        except AttributeError:  # no infrequent grouping configured
            infrequent = [None] * len(enc.categories_)
        for col, cats, rare in zip(cols, enc.categories_, infrequent):
            has_group = name == "cat" and rare is not None and len(rare) > 0
            out[str(col)] = ({str(c) for c in cats}, has_group)
    return out


def score_table(model: SavedModel, table: pd.DataFrame) -> ScoredTable:
    """Predict every row of ``table`` with ``model`` (rules in the module docstring).

    Args:
        model: from :func:`load_model` or :func:`model_from_comparison`.
        table: new rows (n_rows x columns) with at least the model's feature columns; not modified.

    Returns:
        A :class:`ScoredTable` with one output row per input row.

    Raises:
        DataError: the table is empty, or feature columns are missing (all named).
    """
    if len(table) == 0:
        raise DataError("the table to score has no rows. Upload a file with at least one row.")
    cols = {str(c) for c in table.columns}
    needed = model.feature_columns
    missing = [c for c in needed if c not in cols]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:15]) + (f" and {len(missing) - 15} more" if len(missing) > 15
                                                          else "")
        raise DataError(f"the table to score lacks {len(missing)} column(s) the model needs: {shown}. "
                        f"Add them (same names as in the training table: {', '.join(needed[:20])}"
                        + (" ..." if len(needed) > 20 else "") + ").")
    notes: list[str] = []
    extra = [str(c) for c in table.columns if str(c) not in set(needed)]
    if model.target in extra:
        notes.append(f"The column {model.target!r} (the target) is in the file; it was ignored, not used to "
                     "predict.")
        extra.remove(model.target)
    if extra:
        notes.append(f"{len(extra)} column(s) the model does not use were ignored (kept in the output): "
                     + ", ".join(extra[:10]) + (" ..." if len(extra) > 10 else "") + ".")
    frame = table.copy()
    frame.columns = [str(c) for c in frame.columns]
    X = prepare_features(frame, model.schema)
    for c in model.schema.features("numeric"):
        bad = int((X[c].isna() & frame[c].notna()).sum())
        if bad:
            notes.append(f"{c!r}: {bad} value(s) are not numbers; they were read as missing and filled with "
                         "the training median.")
    for c, (seen, has_group) in _seen_categories(model.pipeline).items():
        values = X[c].dropna().astype(str)
        unseen = values[~values.isin(seen)]
        if len(unseen):
            examples = ", ".join(repr(v) for v in list(dict.fromkeys(unseen))[:3])
            how = ("scored as the 'infrequent' group of this column" if has_group
                   else "scored as none of the known categories" if model.schema.column(c).inferred_type
                   == "categorical" else f"scored like {sorted(seen)[0]!r}")
            notes.append(f"{c!r}: {len(unseen)} row(s) have a category the model never saw ({examples}); "
                         f"{how}.")
    with warnings.catch_warnings():  # unseen categories are reported in notes above, in plain words
        warnings.filterwarnings("ignore", message=".*(unknown categories|Found unknown|infrequent).*")
        pred = model.pipeline.predict(X)
        proba = model.pipeline.predict_proba(X) if model.task == "classification" else None
    taken = set(frame.columns)
    pred_col = _unique_name(f"predicted_{model.target}", taken)
    out = frame
    prob_cols: dict[Any, str] = {}
    if model.task == "classification":
        labels = model.classes
        out[pred_col] = [labels[int(i)] for i in pred]
        fitted = [int(c) for c in model.pipeline.classes_]
        for j, label in enumerate(labels):
            colname = _unique_name(f"probability_{label}", taken)
            prob_cols[label] = colname
            out[colname] = proba[:, fitted.index(j)] if j in fitted else 0.0
    else:
        out[pred_col] = np.asarray(pred, dtype=float)
    return ScoredTable(out, notes, pred_col, prob_cols)


def predictions_csv(scored: ScoredTable) -> bytes:
    """The scored table as formula-safe UTF-8 CSV bytes (:func:`core.export.to_csv_bytes`)."""
    from core.export import to_csv_bytes

    return to_csv_bytes(scored.frame)


__all__ = ["MODEL_FORMAT", "MODEL_FORMAT_VERSION", "TRUSTED_TYPES", "MAX_MODEL_BYTES", "SavedModel",
           "ScoredTable", "model_from_comparison", "model_to_bytes", "save_model", "load_model", "score_table",
           "predictions_csv"]
