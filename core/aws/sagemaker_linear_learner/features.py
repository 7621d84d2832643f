"""Features and records: the rows split and turned into Linear Learner's inputs, built locally.

Text gets the intent classifier's TF-IDF, tables the Data & Models preprocessing,
so the local models and Linear Learner see the same inputs (:func:`prepare_text`,
:func:`prepare_table` return a :class:`Prepared` with train/validation/test
:class:`Split`\ s). :func:`write_shards` writes a channel as recordIO-protobuf
(sparse or dense) or label-first headerless CSV, :data:`RECORDS_PER_FILE` records a file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.aws.recordio import (
    CSV_CONTENT_TYPE,
    RECORDIO_CONTENT_TYPE,
    write_csv,
    write_recordio_protobuf,
)
from core.aws.staging import (
    S3Location,
    StagedObject,
    local_path,
)
from core.errors import ConfigError, DataError

FORMATS = ("recordio", "csv")
#: Records per staged file (our choice): big inputs become several files, read in parallel.
RECORDS_PER_FILE = 100_000


# ------------------------------------------------------------------------------------------- features

@dataclass
class Split:
    """One channel's data: features ``X`` (n x feature_dim), encoded labels ``y`` (float32) and row numbers."""

    X: Any
    y: np.ndarray | None
    rows: np.ndarray
    frame: pd.DataFrame

    def __len__(self) -> int:
        return int(self.X.shape[0])


@dataclass
class Prepared:
    """Features built locally for Linear Learner.

    Attributes:
        spec: how the features were built (``{"kind": "text"|"table", ...}``), enough to rebuild them.
        predictor_type: ``binary_classifier``, ``multiclass_classifier`` or ``regressor``.
        classes: class labels in encoded order (label ``i`` is ``classes[i]``); ``[]`` for regression.
        feature_dim: number of feature columns.
        fingerprint: SHA-256 of the feature names (checks a rebuilt feature step).
        sparse: whether ``X`` is sparse (TF-IDF) or dense (tables).
        builder: the fitted feature step (``transform(frame) -> X``).
        train / validation / test: the channels (validation and test may be ``None``).
        notes: what was dropped or decided, in plain words.
    """

    spec: dict
    predictor_type: str
    classes: list
    feature_dim: int
    fingerprint: str
    sparse: bool
    builder: Any
    train: Split
    validation: Split | None = None
    test: Split | None = None
    notes: list[str] = field(default_factory=list)


def _fingerprint(names: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(map(str, names)).encode("utf-8")).hexdigest()


class TextFeatureBuilder:
    """The intent classifier's TF-IDF features, fitted on training texts (``transform(frame) -> CSR``)."""

    def __init__(self, text_column: str, japanese_tokenizer: str | None = "janome"):
        from core.arena.classifier import IntentClassifier

        self.text_column = text_column
        self.japanese_tokenizer = japanese_tokenizer
        self.union = IntentClassifier(japanese_tokenizer=japanese_tokenizer).build_pipeline().named_steps["features"]

    def fit(self, frame: pd.DataFrame) -> "TextFeatureBuilder":
        self.union.fit(frame[self.text_column].astype(str).tolist())
        return self

    def transform(self, frame: pd.DataFrame):
        return sp.csr_matrix(self.union.transform(frame[self.text_column].astype(str).tolist()), dtype=np.float32)

    def feature_names(self) -> list[str]:
        return [str(n) for n in self.union.get_feature_names_out()]


class TableFeatureBuilder:
    """The Data & Models preprocessing (scaled), fitted on training rows (``transform(frame) -> dense array``)."""

    def __init__(self, schema):
        self.schema = schema
        self.pre = None

    def fit(self, frame: pd.DataFrame) -> "TableFeatureBuilder":
        import warnings

        from core.tabular.preprocess import build_preprocessor
        from core.tabular.schema import prepare_features

        X = prepare_features(frame, self.schema)
        self.pre = build_preprocessor(self.schema, X, scale=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.pre.fit(X)
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        import warnings

        from core.tabular.schema import prepare_features

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self.pre.transform(prepare_features(frame, self.schema)), dtype=np.float32)

    def feature_names(self) -> list[str]:
        return [str(n) for n in self.pre.get_feature_names_out()]


def _schema_to_spec(schema) -> dict:
    return {"target": schema.target, "task": schema.task, "task_reason": schema.task_reason,
            "columns": [c.to_dict() for c in schema.columns], "classes": list(schema.classes),
            "n_rows_total": schema.n_rows_total, "n_rows": schema.n_rows}


def _schema_from_spec(spec: dict):
    from core.tabular.schema import ColumnInfo, TableSchema

    return TableSchema(target=spec["target"], task=spec["task"], task_reason=spec.get("task_reason", ""),
                       columns=[ColumnInfo(**c) for c in spec["columns"]], n_rows_total=spec.get("n_rows_total", 0),
                       n_rows=spec.get("n_rows", 0), classes=list(spec.get("classes", [])))


def builder_from_spec(spec: dict):
    """An unfitted feature step for a recorded ``spec``."""
    if spec["kind"] == "text":
        return TextFeatureBuilder(spec["text_column"], spec.get("japanese_tokenizer", "janome"))
    return TableFeatureBuilder(_schema_from_spec(spec["schema"]))


def _label_text(v) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _split(frame: pd.DataFrame, y: np.ndarray, *, stratify: bool, test_size: float, seed: int):
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(frame))
    strat = y if stratify else None
    if stratify:
        counts = pd.Series(y).value_counts()
        if (counts < 2).any() or int(round(len(frame) * test_size)) < counts.size:
            strat = None
    a, b = train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
    return np.sort(a), np.sort(b)


def _make_split(builder, frame: pd.DataFrame, y: np.ndarray | None, pos: np.ndarray) -> Split:
    sub = frame.iloc[pos]
    return Split(builder.transform(sub), None if y is None else y[pos].astype(np.float32),
                 sub["row"].to_numpy(), sub.reset_index(drop=True))


def prepare_text(df: pd.DataFrame, text_column: str, label_column: str, *, test_df: pd.DataFrame | None = None,
                 test_size: float = 0.2, validation_size: float = 0.1, random_state: int = 0,
                 japanese_tokenizer: str | None = "janome") -> Prepared:
    """Build Linear Learner features for labelled texts (the intent classifier's TF-IDF).

    Rows with a blank text or label are dropped (counted in ``notes``), as are labels with a single
    row (they cannot be both trained on and tested). Split: the test rows are ``test_df`` when given,
    else a stratified ``test_size`` hold-out; ``validation_size`` of the rest is the validation channel.

    Args:
        df: the labelled table (row ``i`` of ``df`` is row number ``i``).
        text_column / label_column: its columns.
        test_df: an optional separate test table with the same columns.
        test_size / validation_size: fractions in (0, 0.5].
        random_state: seed of the splits and of the training shuffle.
        japanese_tokenizer: as in :class:`core.arena.classifier.IntentClassifier`.

    Returns:
        A :class:`Prepared` with sparse float32 features.

    Raises:
        DataError: missing columns, fewer than 2 classes, too few rows.
    """
    def clean(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        for col in (text_column, label_column):
            if col not in frame.columns:
                raise DataError(f"{name} has no column {col!r}; its columns are {[str(c) for c in frame.columns]}.")
        out = pd.DataFrame({"row": np.arange(len(frame)),
                            "text": ["" if (v is None or (not isinstance(v, str) and pd.isna(v))) else str(v)
                                     for v in frame[text_column].tolist()],
                            "label": [_label_text(v) for v in frame[label_column].tolist()]})
        return out[(out["text"].str.strip() != "") & (out["label"] != "")].reset_index(drop=True)

    notes: list[str] = []
    data = clean(df, "the table")
    if len(data) < len(df):
        notes.append(f"{len(df) - len(data):,} row(s) without a text or a label were left out.")
    counts = data["label"].value_counts()
    single = counts[counts < 2].index
    if len(single):
        notes.append(f"{len(single)} label(s) with a single row were left out ({', '.join(map(str, single[:5]))}).")
        data = data[~data["label"].isin(single)].reset_index(drop=True)
    classes = sorted(data["label"].unique().tolist())
    if len(classes) < 2:
        raise DataError("Linear Learner needs at least two labels with two rows each; check the label column.")
    code = {c: i for i, c in enumerate(classes)}
    y = data["label"].map(code).to_numpy(dtype=np.float32)
    data = data.rename(columns={"text": text_column})
    if test_df is not None:
        test = clean(test_df, "the test table").rename(columns={"text": text_column})
        unseen = set(test["label"]) - set(classes)
        if unseen:
            notes.append(f"{len(test[test['label'].isin(unseen)]):,} test row(s) with labels not in training "
                         f"were left out ({', '.join(sorted(unseen)[:5])}).")
            test = test[~test["label"].isin(unseen)].reset_index(drop=True)
        y_test = test["label"].map(code).to_numpy(dtype=np.float32)
        trainval, test_pos = np.arange(len(data)), None
    else:
        trainval, test_pos = _split(data, y, stratify=True, test_size=test_size, seed=random_state)
    tv = data.iloc[trainval].reset_index(drop=True)
    tr_pos, va_pos = _split(tv, y[trainval], stratify=True, test_size=validation_size, seed=random_state + 1)
    builder = TextFeatureBuilder(text_column, japanese_tokenizer).fit(tv.iloc[tr_pos])
    names = builder.feature_names()
    spec = {"kind": "text", "text_column": text_column, "label_column": label_column,
            "japanese_tokenizer": japanese_tokenizer}
    prep = Prepared(spec=spec, predictor_type="binary_classifier" if len(classes) == 2 else "multiclass_classifier",
                    classes=classes, feature_dim=len(names), fingerprint=_fingerprint(names), sparse=True,
                    builder=builder, train=_make_split(builder, tv, y[trainval], tr_pos),
                    validation=_make_split(builder, tv, y[trainval], va_pos), notes=notes)
    if test_df is not None:
        prep.test = _make_split(builder, test, y_test, np.arange(len(test)))
    else:
        prep.test = _make_split(builder, data, y, test_pos)
    return prep


def prepare_table(df: pd.DataFrame, target: str, *, task: str = "auto", test_df: pd.DataFrame | None = None,
                  test_size: float = 0.2, validation_size: float = 0.1, random_state: int = 0) -> Prepared:
    """Build Linear Learner features for a table (the Data & Models preprocessing, scaled).

    Args:
        df: the table; ``target`` the column to predict; ``task`` ``auto``/``classification``/``regression``.
        test_df / test_size / validation_size / random_state: as in :func:`prepare_text`.

    Returns:
        A :class:`Prepared` with dense float32 features.

    Raises:
        DataError: as :func:`core.tabular.schema.infer_schema` (bad target, too few rows...).
    """
    from core.tabular.schema import infer_schema, prepare_xy

    frame = df.reset_index(drop=True)
    schema = infer_schema(frame, target, task=task)
    X, y_raw = prepare_xy(frame, schema)
    keep = X.index.to_numpy()
    notes = list(schema.warnings)
    data = frame.loc[keep, schema.feature_columns + [target]].copy()
    data.insert(0, "row", keep)
    data = data.reset_index(drop=True)
    if schema.task == "classification":
        classes = list(schema.classes)
        code = {c: i for i, c in enumerate(classes)}
        y = np.asarray([code[v] for v in y_raw.tolist()], dtype=np.float32)
        predictor = "binary_classifier" if len(classes) == 2 else "multiclass_classifier"
    else:
        classes = []
        y = pd.to_numeric(y_raw).to_numpy(dtype=np.float32)
        predictor = "regressor"
    stratify = schema.task == "classification"
    if test_df is not None:
        tX, ty = prepare_xy(test_df.reset_index(drop=True), schema)
        test = test_df.reset_index(drop=True).loc[tX.index, schema.feature_columns + [target]].copy()
        test.insert(0, "row", tX.index.to_numpy())
        test = test.reset_index(drop=True)
        if stratify:
            ok = ty.isin(classes).to_numpy()
            test, ty = test[ok].reset_index(drop=True), ty[ok]
            y_test = np.asarray([code[v] for v in ty.tolist()], dtype=np.float32)
        else:
            y_test = pd.to_numeric(ty).to_numpy(dtype=np.float32)
        trainval, test_pos = np.arange(len(data)), None
    else:
        trainval, test_pos = _split(data, y, stratify=stratify, test_size=test_size, seed=random_state)
    tv = data.iloc[trainval].reset_index(drop=True)
    tr_pos, va_pos = _split(tv, y[trainval], stratify=stratify, test_size=validation_size, seed=random_state + 1)
    builder = TableFeatureBuilder(schema).fit(tv.iloc[tr_pos])
    names = builder.feature_names()
    spec = {"kind": "table", "target": target, "schema": _schema_to_spec(schema)}
    prep = Prepared(spec=spec, predictor_type=predictor, classes=classes, feature_dim=len(names),
                    fingerprint=_fingerprint(names), sparse=False, builder=builder,
                    train=_make_split(builder, tv, y[trainval], tr_pos),
                    validation=_make_split(builder, tv, y[trainval], va_pos), notes=notes)
    prep.test = (_make_split(builder, test, y_test, np.arange(len(test))) if test_df is not None
                 else _make_split(builder, data, y, test_pos))
    return prep


# ------------------------------------------------------------------------------------------- staging

def _choose_format(fmt: str, prep_sparse: bool) -> str:
    fmt = (fmt or "auto").lower()
    if fmt == "auto":
        return "recordio" if prep_sparse else "csv"
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}: choose recordio, csv or auto.")
    return fmt


def write_shards(folder: Path, staging: S3Location, job_name: str, channel: str, X, y, fmt: str, *,
                 records_per_file: int = RECORDS_PER_FILE, name: str | None = None) -> list[StagedObject]:
    """Write one channel's rows as files of at most ``records_per_file`` records; returns the staged files."""
    ext = "recordio" if fmt == "recordio" else "csv"
    ctype = RECORDIO_CONTENT_TYPE if fmt == "recordio" else CSV_CONTENT_TYPE
    n = int(X.shape[0])
    objs = []
    for k, start in enumerate(range(0, max(n, 1), records_per_file)):
        stop = min(start + records_per_file, n)
        key = staging.key(job_name, "input", channel, f"{name or channel}-{k:05d}.{ext}")
        path = local_path(folder, staging.bucket, key)
        with open(path, "wb") as fh:
            part_y = None if y is None else y[start:stop]
            if fmt == "recordio":
                write_recordio_protobuf(fh, X[start:stop], part_y)
            else:
                write_csv(fh, X[start:stop], part_y)
        objs.append(StagedObject(staging.bucket, key, path, ctype, stop - start))
    return objs
