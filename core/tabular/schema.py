"""Understand a table before modelling: column types, the task, the target.

:func:`infer_column_type` gives each column one of :data:`COLUMN_TYPES` with the
action taken (``used``, ``encoded`` or ``dropped``) and a plain-words reason.
:func:`infer_schema` does it for every feature column, checks the target,
detects the task (classification or regression, overridable) and counts the
rows dropped because their target is missing.

Errors: :class:`core.errors.DataError` for an unknown target column, a target
that is entirely missing, a target with only one class, a non-numeric target
for regression, too few rows, or no usable feature column.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import pandas as pd

from core.errors import DataError
from core.text.script import has_cjk

#: Every inferred column type.
COLUMN_TYPES = ("numeric", "categorical", "boolean", "datetime", "text", "id", "constant", "empty")
#: What happens to a column of each type.
ACTIONS = {
    "numeric": "used", "categorical": "encoded", "boolean": "encoded", "datetime": "encoded",
    "text": "encoded", "id": "dropped", "constant": "dropped", "empty": "dropped",
}
TASKS = ("classification", "regression")

#: A numeric target with at most this many distinct integer values is treated as classes.
MAX_INTEGER_CLASSES = 10
#: A classification target with more classes than this is refused (it is probably continuous).
MAX_CLASSES = 100
#: Fewest rows (with a target) needed to cross-validate anything.
MIN_ROWS = 10

#: Column names that say "identifier": ``id``/``uuid``/``guid``/``key``/``index`` as the last word
#: (``user_id``, ``order-key``, ``Row Index``), or a whole name ``id``/``no``/``number``/``row``.
_ID_NAME = re.compile(r"(^|[_\s\-.])(id|uuid|guid|key|index)$|^(id|no|number|row)$", re.IGNORECASE)
#: camelCase / PascalCase identifiers: ``customerID``, ``PassengerId``, ``userId`` (case-sensitive, so
#: words that merely end in "id" such as ``Paid``, ``Valid`` or ``humid`` are not identifiers).
_ID_CAMEL = re.compile(r"(?<=[a-z0-9])(Id|ID|Uuid|UUID|Guid|GUID)$")


def is_id_name(name: str) -> bool:
    """True when a column name says it is an identifier (``user_id``, ``customerID``, ``PassengerId``, ``ID``).

    Words ending in the letters "id" are not (``Paid``, ``Valid``, ``humid``, ``Rapid``).
    """
    name = str(name).strip()
    return bool(_ID_NAME.search(name) or _ID_CAMEL.search(name))
_BOOL_WORDS = {
    frozenset({"yes", "no"}), frozenset({"true", "false"}), frozenset({"y", "n"}), frozenset({"t", "f"}),
    frozenset({"0", "1"}), frozenset({"0.0", "1.0"}), frozenset({"on", "off"})
}


@dataclass(frozen=True)
class ColumnInfo:
    """What was inferred about one column.

    Attributes:
        name: column name as in the table.
        inferred_type: one of :data:`COLUMN_TYPES`.
        action: ``"used"`` (as is, imputed/scaled), ``"encoded"`` (one-hot, date parts,
            TF-IDF) or ``"dropped"``; ``"target"`` for the target column.
        reason: one sentence in plain words.
        n_missing: missing cells.
        n_unique: distinct non-missing values.
        dtype: the pandas dtype as text.
    """

    name: str
    inferred_type: str
    action: str
    reason: str
    n_missing: int = 0
    n_unique: int = 0
    dtype: str = ""

    def to_dict(self) -> dict:
        """Return ``{name, inferred_type, action, reason, n_missing, n_unique, dtype}``."""
        return {"name": self.name, "inferred_type": self.inferred_type, "action": self.action,
                "reason": self.reason, "n_missing": self.n_missing, "n_unique": self.n_unique,
                "dtype": self.dtype}


@dataclass
class TableSchema:
    """The understood table: feature columns by type, the target and the task.

    Attributes:
        target: the target column's name.
        task: ``"classification"`` or ``"regression"``.
        task_reason: why that task (detected or chosen by the user).
        columns: one :class:`ColumnInfo` per column of the table, target included.
        n_rows_total: rows in the table.
        n_rows: rows kept (target present, and for classification not in a class
            with fewer than 2 rows).
        n_dropped_missing_target: rows dropped because the target is missing.
        n_dropped_rare_class: rows dropped because their class has a single row.
        classes: for classification, the class labels (sorted), else ``[]``.
        warnings: notices for the user (plain sentences).
    """

    target: str
    task: str
    task_reason: str
    columns: list[ColumnInfo]
    n_rows_total: int
    n_rows: int
    n_dropped_missing_target: int = 0
    n_dropped_rare_class: int = 0
    classes: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def features(self, *types: str) -> list[str]:
        """Names of the kept feature columns, optionally only of the given types."""
        return [c.name for c in self.columns
                if c.action in ("used", "encoded") and (not types or c.inferred_type in types)]

    @property
    def feature_columns(self) -> list[str]:
        """Every feature column that goes into the model, in table order."""
        return self.features()

    def column(self, name: str) -> ColumnInfo:
        """The :class:`ColumnInfo` of ``name`` (``KeyError`` if absent)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def columns_frame(self) -> pd.DataFrame:
        """The column table as a DataFrame (one row per column) for display/export."""
        return pd.DataFrame([c.to_dict() for c in self.columns])


def _text_values(s: pd.Series) -> pd.Series:
    return s.dropna().astype(str)


def _looks_like_datetime(values: pd.Series) -> bool:
    """True when at least 90% of (a sample of) string values parse as dates and they are not plain numbers."""
    sample = values.head(500)
    if sample.empty:
        return False
    if sample.str.fullmatch(r"[+-]?\d+([.,]\d+)?").mean() > 0.5:
        return False
    if not sample.str.contains(r"\d").all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def _is_cjk(text: str) -> bool:
    return has_cjk(text)


def infer_column_type(series: pd.Series) -> ColumnInfo:
    """Infer one feature column's type, action and reason.

    Rules, in order: empty (no value) -> dropped; constant (one distinct value)
    -> dropped; boolean (two distinct values) -> encoded as one 0/1 column;
    datetime dtype or text that parses as dates -> encoded as date parts;
    numeric dtype -> used, unless it is an integer counter with a distinct value
    per row and an ID-like name or consecutive values -> dropped as ID-like;
    text with a distinct value in most rows and several words (or long/CJK
    sentences) -> free text (TF-IDF); short text distinct in >= 95% of rows ->
    ID-like, dropped; other text -> categorical (one-hot, infrequent grouped).

    Args:
        series: one column (any dtype); not modified.

    Returns:
        A :class:`ColumnInfo`.
    """
    name = str(series.name)
    n_missing = int(series.isna().sum())
    nonnull = series.dropna()
    n_nonnull = len(nonnull)
    try:
        n_unique = int(nonnull.nunique())
    except TypeError:  # unhashable cells (lists from JSON)
        nonnull = nonnull.astype(str)
        n_unique = int(nonnull.nunique())
    dtype = str(series.dtype)

    def info(t: str, reason: str, action: str | None = None) -> ColumnInfo:
        return ColumnInfo(name, t, action or ACTIONS[t], reason, n_missing, n_unique, dtype)

    if n_nonnull == 0:
        return info("empty", "every value is missing")
    if n_unique == 1:
        return info("constant", f"a single value ({str(nonnull.iloc[0])[:30]!r}) carries no information")
    if pd.api.types.is_bool_dtype(series.dtype):
        return info("boolean", "true/false values, encoded as one 0/1 column")
    if n_unique == 2:
        vals = sorted(map(str, nonnull.unique()))
        words = frozenset(v.strip().lower() for v in vals)
        why = "yes/no-like" if words in _BOOL_WORDS else "exactly two"
        return info("boolean", f"{why} values ({vals[0]!r} / {vals[1]!r}), encoded as one 0/1 column")
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return info("datetime", "dates, encoded as year, month, day, weekday (and hour when present)")
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = pd.to_numeric(nonnull)
        integral = bool(np.all(np.mod(values, 1) == 0))
        if integral and n_unique == n_nonnull and n_nonnull >= 20:
            ordered = np.sort(values.to_numpy())
            consecutive = bool(np.all(np.diff(ordered) == 1))
            if is_id_name(name) or consecutive:
                return info("id", "a distinct whole number on every row (a row number or identifier), "
                                  "which cannot generalise to new rows")
        return info("numeric", "numbers: missing values imputed with the median; scaled for linear models")

    text = _text_values(series)
    if _looks_like_datetime(text):
        return info("datetime", "text that parses as dates, encoded as year, month, day, weekday (and hour)")
    unique_ratio = n_unique / n_nonnull
    words = text.str.split().str.len()
    mean_words = float(words.mean())
    mean_len = float(text.str.len().mean())
    cjk = _is_cjk("".join(text.head(50)))
    if unique_ratio >= 0.5 and n_nonnull >= 20 and (mean_words >= 3 or mean_len >= 40 or (cjk and mean_len >= 15)):
        return info("text", f"free text (distinct in {unique_ratio:.0%} of rows, ~{mean_words:.0f} words), "
                            "encoded with TF-IDF")
    if unique_ratio >= 0.95 and n_nonnull >= 20:
        return info("id", f"a distinct short code on {unique_ratio:.0%} of rows (an identifier), "
                          "which cannot generalise to new rows")
    return info("categorical", f"{n_unique} categories, one-hot encoded (rare ones grouped as 'infrequent')")


def _detect_task(y: pd.Series) -> tuple[str, str]:
    if pd.api.types.is_bool_dtype(y.dtype) or not pd.api.types.is_numeric_dtype(y.dtype):
        return "classification", "the target holds labels (text or true/false)"
    values = pd.to_numeric(y)
    n_unique = values.nunique()
    integral = bool(np.all(np.mod(values, 1) == 0))
    if integral and n_unique <= MAX_INTEGER_CLASSES:
        return "classification", f"the target has only {n_unique} distinct whole-number values"
    return "regression", f"the target is numeric with {n_unique} distinct values"


#: Reason given for a column the user left out (the page's "use" box, the CLI's ``--exclude``).
EXCLUDED_REASON = "left out by you (not used as a feature)"


def infer_schema(df: pd.DataFrame, target: str, *, task: str = "auto",
                 exclude: Sequence[str] = ()) -> TableSchema:
    """Infer column types, check the target and decide the task.

    Args:
        df: the table (rows x columns); not modified.
        target: name of the column to predict.
        task: ``"auto"`` (detect), ``"classification"`` or ``"regression"``.
        exclude: feature columns the user leaves out (e.g. a column that leaks the
            target): they keep their inferred type, get action ``"dropped"`` and the
            reason :data:`EXCLUDED_REASON`, and are not checked for leakage.

    Returns:
        A :class:`TableSchema`. Rows with a missing target are counted in
        ``n_dropped_missing_target`` (and, for classification, rows of classes with
        a single row in ``n_dropped_rare_class``); use :func:`prepare_xy` to get them out.

    Raises:
        DataError: unknown target column, target entirely missing, only one class,
            too many classes, non-numeric target for regression, fewer than
            :data:`MIN_ROWS` usable rows, no usable feature column, or an ``exclude``
            name that is not a column (or is the target).
        ValueError: ``task`` is not one of ``auto``, ``classification``, ``regression``.
    """
    if task not in ("auto", *TASKS):
        raise ValueError(f"task must be auto, classification or regression, not {task!r}")
    if target not in df.columns:
        names = ", ".join(map(str, list(df.columns)[:20])) + (" ..." if df.shape[1] > 20 else "")
        raise DataError(f"unknown target column {target!r}. Pick one of the table's columns: {names}.")
    excluded = list(dict.fromkeys(str(c) for c in exclude))
    unknown = [c for c in excluded if c not in {str(x) for x in df.columns}]
    if unknown:
        raise DataError(f"cannot leave out {', '.join(map(repr, unknown))}: no such column. "
                        f"The columns are: {', '.join(map(str, list(df.columns)[:20]))}"
                        + (" ..." if df.shape[1] > 20 else "") + ".")
    if target in excluded:
        raise DataError(f"{target!r} is the column to predict, so it cannot be left out of the features.")
    y_all = df[target]
    if isinstance(y_all, pd.DataFrame):
        raise DataError(f"the table has several columns named {target!r}. Rename them so names are unique.")
    present = y_all.notna()
    n_missing = int((~present).sum())
    if not present.any():
        raise DataError(f"the target column {target!r} is entirely missing (every value is empty). "
                        "Pick a column that has values to predict.")
    y = y_all[present]
    notices: list[str] = []
    if n_missing:
        notices.append(f"{n_missing} row(s) with a missing target ({target!r}) were dropped.")

    if task == "auto":
        task, task_reason = _detect_task(y)
        task_reason = "detected: " + task_reason
    else:
        task_reason = "chosen by the user"
    n_dropped_rare = 0
    classes: list = []
    if task == "regression":
        if pd.api.types.is_bool_dtype(y.dtype) or not pd.api.types.is_numeric_dtype(y.dtype):
            raise DataError(f"the target {target!r} is not numeric (e.g. {str(y.iloc[0])!r}), so it cannot be "
                            "a regression target. Choose classification, or a numeric column.")
    else:
        counts = y.astype(str).value_counts() if not pd.api.types.is_numeric_dtype(y.dtype) else y.value_counts()
        if len(counts) < 2:
            raise DataError(f"the target {target!r} has only one class ({str(counts.index[0])!r}). "
                            "A classifier needs at least two; pick another column.")
        if len(counts) > MAX_CLASSES:
            raise DataError(f"the target {target!r} has {len(counts)} distinct values, too many classes "
                            f"(at most {MAX_CLASSES}). If it is a quantity, choose regression.")
        rare = counts[counts < 2]
        if len(rare):
            n_dropped_rare = int(rare.sum())
            notices.append(f"{n_dropped_rare} row(s) of class(es) with a single row "
                           f"({', '.join(map(str, rare.index[:5]))}) were dropped: a class needs at least "
                           "2 rows to be both trained on and tested.")
            counts = counts[counts >= 2]
            if len(counts) < 2:
                raise DataError(f"the target {target!r} has only one class with more than one row. "
                                "A classifier needs at least two; pick another column.")
        classes = sorted(counts.index.tolist(), key=lambda v: (str(type(v)), v))
    n_rows = int(present.sum()) - n_dropped_rare
    if n_rows < MIN_ROWS:
        raise DataError(f"only {n_rows} row(s) have a usable target; at least {MIN_ROWS} are needed "
                        "to cross-validate. Use a bigger table.")

    columns: list[ColumnInfo] = []
    for col in df.columns:
        if col == target:
            yi = df[col]
            columns.append(ColumnInfo(str(col), "categorical" if task == "classification" else "numeric",
                                      "target", f"the column to predict ({task})",
                                      n_missing, int(y.nunique()), str(yi.dtype)))
            continue
        info = infer_column_type(df.loc[present, col].rename(col))
        if str(col) in excluded:
            info = replace(info, action="dropped", reason=EXCLUDED_REASON)
        columns.append(info)
    schema = TableSchema(target=target, task=task, task_reason=task_reason, columns=columns,
                         n_rows_total=len(df), n_rows=n_rows, n_dropped_missing_target=n_missing,
                         n_dropped_rare_class=n_dropped_rare, classes=classes, warnings=notices)
    if not schema.feature_columns:
        if excluded:
            raise DataError("no feature column is left: every other column is left out, empty, constant or an "
                            "identifier. Use at least one column again.")
        raise DataError("no usable feature column: every other column is empty, constant or an identifier. "
                        "Add columns that describe the rows.")
    if task == "regression":
        yn = pd.to_numeric(y).astype(float)
        for name in schema.features("numeric"):
            x = pd.to_numeric(df.loc[present, name], errors="coerce").astype(float)
            if x.notna().sum() > 2 and x.std() > 0 and abs(float(yn.corr(x))) > 0.99:
                notices.append(f"{name!r} is almost the target itself (correlation {abs(yn.corr(x)):.3f}); "
                               "if it is not known when you predict, leave it out: untick 'use' in the column table, "
                               "or --exclude on the command line (possible leakage).")
    if excluded:
        notices.append(f"{len(excluded)} column(s) left out by you: {', '.join(excluded[:10])}"
                       + (" ..." if len(excluded) > 10 else "") + ".")
    dropped = [c.name for c in columns if c.action == "dropped" and c.name not in excluded]
    if dropped:
        notices.append(f"{len(dropped)} column(s) not used: {', '.join(dropped[:10])}"
                       + (" ..." if len(dropped) > 10 else "") + " (see the column table for why).")
    return schema


def prepare_xy(df: pd.DataFrame, schema: TableSchema) -> tuple[pd.DataFrame, pd.Series]:
    """Return the feature frame ``X`` and target ``y`` for modelling.

    Rows with a missing target (and rare-class rows for classification) are left
    out; dropped columns are removed; text/categorical cells become Python
    ``object`` values with ``NaN`` for missing so every scikit-learn step accepts them.

    Args:
        df: the table (not modified).
        schema: from :func:`infer_schema` on the same table.

    Returns:
        ``(X, y)``: ``X`` has ``schema.n_rows`` rows and ``schema.feature_columns``
        columns; ``y`` is the target (original labels) with the same index.
    """
    y = df[schema.target]
    keep = y.notna()
    if schema.task == "classification":
        labels = y.astype(str) if not pd.api.types.is_numeric_dtype(y.dtype) else y
        keep &= labels.isin(schema.classes)
        if not pd.api.types.is_numeric_dtype(y.dtype):
            y = labels
    X = prepare_features(df.loc[keep], schema)
    return X, y[keep]


def prepare_features(df: pd.DataFrame, schema: TableSchema) -> pd.DataFrame:
    """Select the feature columns of ``df`` and normalise their dtypes (see :func:`prepare_xy`).

    Args:
        df: rows to predict or explain, with (at least) the schema's feature columns.
        schema: the schema the pipeline was built from.

    Returns:
        A new DataFrame with exactly ``schema.feature_columns`` columns.

    Raises:
        DataError: a feature column is missing from ``df``.
    """
    cols = schema.feature_columns
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"column(s) {', '.join(map(str, missing))} are missing; the model needs them.")
    X = df[cols].copy()
    for c in cols:
        t = schema.column(c).inferred_type
        if t == "numeric":
            X[c] = pd.to_numeric(X[c], errors="coerce").astype(float)
        elif t == "datetime":
            continue
        elif t == "boolean" and pd.api.types.is_numeric_dtype(X[c].dtype) and not pd.api.types.is_bool_dtype(X[c].dtype):
            X[c] = X[c].astype(float)
        else:
            X[c] = pd.Series([np.nan if pd.isna(v) else str(v) for v in X[c].tolist()],
                             index=X.index, dtype=object)
    return X


#: Column-name words that usually mean "the column to predict" (matched case-insensitively
#: against the whole name or one of its words: ``median_house_value`` -> ``value``).
TARGET_NAME_WORDS = ("target", "label", "class", "y", "outcome", "churn", "survived", "price",
                     "quality", "value")
_NOT_TARGET_TYPES = ("id", "text", "constant", "empty")


def _name_words(name: str) -> list[str]:
    """``"median_house_value"`` -> ``["median", "house", "value"]``; ``"SalePrice"`` -> ``["sale", "price"]``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(name))
    return [w for w in re.split(r"[^0-9A-Za-z]+", spaced.lower()) if w]


def suggest_target(df: pd.DataFrame) -> str:
    """Suggest the column to predict, as a default the user can change.

    Rule, in order:

    1. a column whose whole name (case-insensitive) is one of :data:`TARGET_NAME_WORDS`
       (``Survived``, ``Churn``, ``quality``, ``target``...);
    2. else a column with one of those words as a word of its name
       (``median_house_value``, ``sale_price``, ``SalePrice``; ``Pclass`` does not match);
    3. else the last column that is not ID-like, free text, constant or empty
       (see :func:`infer_column_type`);
    4. else the last column.

    Within rules 1 and 2 name-matching columns that are ID-like, free text, constant
    or empty are skipped, and the last match wins (tables usually end with the target).

    Args:
        df: the table (rows x columns, at least one column); not modified.

    Returns:
        The suggested column name (``str``; the table's column label as text).

    Raises:
        DataError: the table has no columns.
    """
    if df.shape[1] == 0:
        raise DataError("the table has no columns, so there is no column to predict.")
    names = [str(c) for c in df.columns]
    sample = df.head(5000)
    usable_cache: dict[int, bool] = {}

    def usable(i: int) -> bool:
        if i not in usable_cache:
            col = sample.iloc[:, i]
            usable_cache[i] = (not isinstance(col, pd.DataFrame)
                               and infer_column_type(col.rename(names[i])).inferred_type not in _NOT_TARGET_TYPES)
        return usable_cache[i]

    words = set(TARGET_NAME_WORDS)
    exact = [i for i, n in enumerate(names) if n.strip().lower() in words]
    partial = [i for i, n in enumerate(names) if i not in exact and words.intersection(_name_words(n))]
    for group in (exact, partial, list(range(len(names)))):
        for i in reversed(group):
            if usable(i):
                return names[i]
    return names[-1]
