"""SageMaker Linear Learner: train on features built here, then score a large file with batch transform.

The DPR201 workshop's classifier was a SageMaker Linear Learner (multiclass). Crossroads builds the
features **locally**, with the same code as the local models, so both see the same inputs:

* text: the intent classifier's TF-IDF (word + character n-grams,
  :meth:`core.arena.classifier.IntentClassifier.build_pipeline`, its ``features`` step);
* tables: the Data & Models preprocessing (:func:`core.tabular.preprocess.build_preprocessor` on the
  schema from :func:`core.tabular.schema.infer_schema`).

They are written as recordIO-protobuf (:mod:`core.aws.recordio`; sparse for TF-IDF, dense for tables)
or label-first headerless CSV, in three channels: ``train`` (shuffled: Linear Learner trains by
stochastic gradient descent, https://docs.aws.amazon.com/sagemaker/latest/dg/linear-learner.html),
``validation`` (model selection and early stopping) and ``test`` (the held-out rows: Linear
Learner reports ``test:*`` metrics on them, shown beside the local linear model's on the same rows).

``CreateTrainingJob`` gets ``predictor_type`` (``binary_classifier`` / ``multiclass_classifier`` /
``regressor``), ``num_classes`` (multiclass), ``feature_dim`` and ``mini_batch_size``
(https://docs.aws.amazon.com/sagemaker/latest/dg/ll_hyperparameters.html). The image is the
algorithm's registry path for the region, from ``linear_learner_images.json`` (copied from the
SageMaker Python SDK's table, source and commit in the file).

Batch transform: ``CreateModel`` (the training job's ``model.tar.gz`` + the same image), then
``CreateTransformJob`` on the new file's features, built by re-fitting the feature step on the
training rows recorded with the training job (deterministic; a fingerprint of the feature names
checks that it matches). Output is ``application/jsonlines``, one line per input record in order
(https://docs.aws.amazon.com/sagemaker/latest/dg/LL-in-formats.html): each input file's ``.out``
is joined back to the user's rows by (file, record position), and the counts are checked.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from core.aws.dryrun import JobPlan, Request
from core.aws.errors import check_role_arn
from core.aws.jobs import (JobKind, JobRecord, JobResult, JobStatus, call, elapsed, join_rows, make_job_name,
                           register_kind, require_fetchable)
from core.aws.pricing import sagemaker_estimate
from core.aws.recordio import (CSV_CONTENT_TYPE, RECORDIO_CONTENT_TYPE, write_csv, write_recordio_protobuf)
from core.aws.staging import S3Location, StagedObject, list_objects, local_path, read_object
from core.errors import ConfigError, DataError

TRAIN_KIND = "linear-learner-training"
TRANSFORM_KIND = "linear-learner-transform"
IMAGES_FILE = Path(__file__).with_name("linear_learner_images.json")
FORMATS = ("recordio", "csv")
#: Records per staged file (our choice): big inputs become several files, read in parallel.
RECORDS_PER_FILE = 100_000
DEFAULT_INSTANCE = "ml.m5.large"
_TRAIN_STATES = {"InProgress": "running", "Completed": "completed", "Failed": "failed", "Stopping": "stopping",
                 "Stopped": "stopped"}
#: Rough progress of a training job by its SecondaryStatus (steps, not a time forecast).
_PHASES = {"Starting": 0.05, "Pending": 0.05, "LaunchingMLInstances": 0.1, "PreparingTrainingStack": 0.15,
           "Downloading": 0.25, "DownloadingTrainingImage": 0.3, "Training": 0.5, "Uploading": 0.9,
           "Completed": 1.0}


def image_uri(region: str, images_file: str | Path | None = None) -> str:
    """The Linear Learner image for ``region``: ``<account>.dkr.ecr.<region>.<suffix>/linear-learner:1``.

    Raises:
        ConfigError: a region without Linear Learner in the table (the message names the source).
    """
    table = json.loads(Path(images_file or IMAGES_FILE).read_text(encoding="utf-8"))
    account = table["registries"].get(region)
    if not account:
        raise ConfigError(f"SageMaker Linear Learner is not listed for region {region!r} in {Path(IMAGES_FILE).name} "
                          f"(source: {table['source']}): choose one of {', '.join(sorted(table['registries']))}.")
    suffix = next((v for k, v in table["dns_suffix"].items() if k != "default" and region.startswith(k)),
                  table["dns_suffix"]["default"])
    return f"{account}.dkr.ecr.{region}.{suffix}/{table['repository']}:{table['tag']}"


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


# ------------------------------------------------------------------------------------------- local baseline

def classification_metrics(y_true: Sequence, y_pred: Sequence) -> dict:
    """Accuracy with its 95% Wilson interval and n, and macro F1 (for a paired view on the same rows)."""
    from scipy.stats import binomtest
    from sklearn.metrics import f1_score

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    n = int(len(y_true))
    correct = int((y_true == y_pred).sum())
    lo, hi = binomtest(correct, n).proportion_ci(0.95, method="wilson") if n else (math.nan, math.nan)
    return {"accuracy": correct / n if n else math.nan, "ci95": [float(lo), float(hi)], "n": n,
            "macro_f1": float(f1_score(y_true, y_pred, average="macro")) if n else math.nan}


def regression_metrics(y_true: Sequence, y_pred: Sequence) -> dict:
    """RMSE, MAE and R² with n."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return {"rmse": float(math.sqrt(mean_squared_error(y_true, y_pred))), "mae": float(mean_absolute_error(y_true, y_pred)),
            "r2": float(r2_score(y_true, y_pred)), "n": int(len(y_true))}


def local_baseline(prep: Prepared) -> dict:
    """Train the local linear model on the train channel's rows and score the test rows.

    Text: :class:`core.arena.classifier.IntentClassifier` (TF-IDF + logistic regression). Tables: the
    Data & Models ``linear`` model (logistic regression / ridge) in its pipeline. Same rows as the
    Linear Learner ``train`` and ``test`` channels, so the metrics are comparable.

    Returns:
        ``{"model": name, "metrics": {...}}`` (see :func:`classification_metrics` / :func:`regression_metrics`).
    """
    if prep.test is None or len(prep.test) == 0:
        raise DataError("no test rows: the local comparison needs a held-out test split.")
    if prep.spec["kind"] == "text":
        from core.arena.classifier import IntentClassifier

        col = prep.spec["text_column"]
        clf = IntentClassifier(japanese_tokenizer=prep.spec.get("japanese_tokenizer", "janome"))
        clf.fit(prep.train.frame[col].tolist(), [prep.classes[int(i)] for i in prep.train.y])
        pred = clf.predict(prep.test.frame[col].tolist())
        truth = [prep.classes[int(i)] for i in prep.test.y]
        return {"model": "IntentClassifier (TF-IDF + logistic regression)", "metrics": classification_metrics(truth, pred)}
    import warnings

    from core.tabular.compare import make_pipeline
    from core.tabular.schema import prepare_features

    schema = prep.builder.schema
    Xtr = prepare_features(prep.train.frame, schema)
    pipe = make_pipeline(schema, Xtr, "linear")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(Xtr, prep.train.y if schema.task == "regression" else prep.train.y.astype(int))
        pred = pipe.predict(prepare_features(prep.test.frame, schema))
    if schema.task == "regression":
        return {"model": "Linear (ridge)", "metrics": regression_metrics(prep.test.y, pred)}
    return {"model": "Linear (logistic regression)", "metrics": classification_metrics(prep.test.y.astype(int), pred)}


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


def hyperparameters_for(prep: Prepared, *, epochs: int = 15, mini_batch_size: int | None = None,
                        extra: dict | None = None) -> dict[str, str]:
    """Linear Learner hyperparameters (all strings, as ``CreateTrainingJob`` wants them).

    ``predictor_type``, ``feature_dim``, ``mini_batch_size`` (default ``min(1000, train rows)``),
    ``epochs``, ``num_classes`` for multiclass; ``normalize_data=false`` because the features are
    already scaled the way the local model sees them; ``balance_multiclass_weights=true`` for text
    (the local intent classifier uses balanced class weights).
    """
    mb = int(mini_batch_size or min(1000, max(1, len(prep.train))))
    hp = {"predictor_type": prep.predictor_type, "feature_dim": str(prep.feature_dim), "mini_batch_size": str(mb),
          "epochs": str(int(epochs)), "normalize_data": "false"}
    if prep.predictor_type == "multiclass_classifier":
        hp["num_classes"] = str(len(prep.classes))
        if prep.spec["kind"] == "text":
            hp["balance_multiclass_weights"] = "true"
    for k, v in (extra or {}).items():
        hp[str(k)] = str(v)
    return hp


def _rows_for_record(prep: Prepared) -> pd.DataFrame:
    """The training rows kept with the job: raw inputs of every channel, with ``row`` and ``split``."""
    parts = []
    for name, s in (("train", prep.train), ("validation", prep.validation), ("test", prep.test)):
        if s is not None:
            f = s.frame.copy()
            f["split"] = name
            parts.append(f)
    return pd.concat(parts, ignore_index=True)


def plan_training(prep: Prepared, *, staging: S3Location, role_arn: str, region: str, fmt: str = "auto",
                  instance_type: str = DEFAULT_INSTANCE, instance_count: int = 1, epochs: int = 15,
                  mini_batch_size: int | None = None, max_runtime_seconds: int = 3600,
                  hyperparameters: dict | None = None, local: dict | None = None, folder: str | Path | None = None,
                  job_name: str | None = None, random_state: int = 0, records_per_file: int = RECORDS_PER_FILE,
                  prices: dict | None = None) -> JobPlan:
    """Build (and write locally) everything a Linear Learner ``CreateTrainingJob`` would send.

    Files: ``<prefix>/<job>/input/{train,validation,test}/<channel>-00000.{recordio,csv}``; the train rows
    are shuffled (seeded) before writing. Request: one ``CreateTrainingJob`` with the three channels,
    ``ShuffleConfig`` on ``train``, output to ``<prefix>/<job>/output/``.

    Args:
        prep: from :func:`prepare_text` or :func:`prepare_table`.
        staging / role_arn / region: where and as whom (role trusted by ``sagemaker.amazonaws.com``).
        fmt: ``"recordio"``, ``"csv"`` or ``"auto"`` (recordIO for sparse text, CSV for tables).
        instance_type / instance_count / epochs / mini_batch_size / max_runtime_seconds: the job's settings.
        hyperparameters: extra Linear Learner hyperparameters (strings).
        local: the local baseline (:func:`local_baseline`) to keep with the job for the comparison.
        folder / job_name / random_state / records_per_file / prices: as elsewhere.

    Returns:
        A :class:`JobPlan` (``rows`` holds the raw training rows, so a transform can rebuild the features).

    Raises:
        ConfigError: no role, unknown region or instance type, bad format.
    """
    role_arn = check_role_arn(role_arn, "sagemaker")
    fmt = _choose_format(fmt, prep.sparse)
    image = image_uri(region)
    if int(max_runtime_seconds) < 60:
        raise ConfigError("the maximum runtime must be at least 60 seconds.")
    job_name = job_name or make_job_name("ll-train")
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="crossroads-ll-"))
    order = np.random.default_rng(random_state).permutation(len(prep.train))
    Xtr = prep.train.X[order]
    ytr = prep.train.y[order]
    objects = write_shards(folder, staging, job_name, "train", Xtr, ytr, fmt, records_per_file=records_per_file)
    channels = ["train"]
    for name, s in (("validation", prep.validation), ("test", prep.test)):
        if s is not None and len(s):
            objects += write_shards(folder, staging, job_name, name, s.X, s.y, fmt, records_per_file=records_per_file)
            channels.append(name)
    ctype = RECORDIO_CONTENT_TYPE if fmt == "recordio" else CSV_CONTENT_TYPE
    hp = hyperparameters_for(prep, epochs=epochs, mini_batch_size=mini_batch_size, extra=hyperparameters)

    def channel(name: str) -> dict:
        ch = {"ChannelName": name,
              "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": staging.uri(job_name, "input", name) + "/",
                                              "S3DataDistributionType": "FullyReplicated"}},
              "ContentType": ctype, "CompressionType": "None", "RecordWrapperType": "None"}
        if name == "train":
            ch["ShuffleConfig"] = {"Seed": int(random_state)}
        return ch

    output_path = staging.uri(job_name, "output")
    params = {
        "TrainingJobName": job_name,
        "HyperParameters": hp,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "RoleArn": role_arn,
        "InputDataConfig": [channel(c) for c in channels],
        "OutputDataConfig": {"S3OutputPath": output_path},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": int(instance_count), "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": int(max_runtime_seconds)},
    }
    est = sagemaker_estimate(job="training", n_rows=len(prep.train), passes=int(epochs), instance_type=instance_type,
                             instance_count=int(instance_count), max_runtime_seconds=int(max_runtime_seconds),
                             region=region, staged_bytes=sum(o.size for o in objects), n_objects=len(objects),
                             prices=prices)
    meta = {"spec": prep.spec, "predictor_type": prep.predictor_type, "classes": [str(c) for c in prep.classes],
            "class_values": prep.classes, "feature_dim": prep.feature_dim, "fingerprint": prep.fingerprint,
            "format": fmt, "hyperparameters": hp, "image": image, "instance_type": instance_type,
            "n_train": len(prep.train), "n_validation": len(prep.validation) if prep.validation else 0,
            "n_test": len(prep.test) if prep.test else 0, "model_artifact": f"{output_path}/{job_name}/output/model.tar.gz",
            "local": local}
    return JobPlan(kind=TRAIN_KIND, job_name=job_name, region=region, folder=folder, staging=staging, objects=objects,
                   requests=[Request("sagemaker", "CreateTrainingJob", params)], output_uri=output_path + "/",
                   estimate=est, rows=_rows_for_record(prep), meta=meta, notes=list(prep.notes), role_arn=role_arn)


def rebuild_builder(meta: dict, training_rows: pd.DataFrame):
    """Re-fit the training job's feature step on its recorded train rows and check the fingerprint.

    Raises:
        DataError: the rebuilt features differ from the trained model's (different library versions or rows).
    """
    builder = builder_from_spec(meta["spec"])
    train = training_rows[training_rows["split"] == "train"].drop(columns=["split"]).reset_index(drop=True)
    if meta["spec"]["kind"] == "table":
        schema = builder.schema
        for c in schema.feature_columns:
            info = schema.column(c)
            if info.inferred_type == "numeric":
                train[c] = pd.to_numeric(train[c], errors="coerce")
    builder.fit(train)
    names = builder.feature_names()
    if len(names) != int(meta["feature_dim"]) or _fingerprint(names) != meta["fingerprint"]:
        raise DataError(f"the features rebuilt on this machine ({len(names):,} columns) do not match the trained "
                        f"model's ({int(meta['feature_dim']):,}): scikit-learn or the data changed since training. "
                        "Train a new job, or score with the same versions.")
    return builder


def plan_transform(training: JobRecord, training_rows: pd.DataFrame, data: pd.DataFrame, *, staging: S3Location,
                   role_arn: str, region: str, model_artifact: str | None = None, fmt: str | None = None,
                   instance_type: str = DEFAULT_INSTANCE, instance_count: int = 1, max_runtime_seconds: int = 3600,
                   folder: str | Path | None = None, job_name: str | None = None,
                   records_per_file: int = RECORDS_PER_FILE, keep_columns: Sequence[str] | None = None,
                   prices: dict | None = None) -> JobPlan:
    """Build (and write locally) a batch transform that scores ``data`` with a trained Linear Learner.

    Requests: ``CreateModel`` (name = the transform job's name; the training job's ``model.tar.gz`` and the
    same image) then ``CreateTransformJob`` (``SplitType`` ``RecordIO``/``Line``, ``BatchStrategy``
    ``MultiRecord``, ``Accept`` ``application/jsonlines``, ``AssembleWith`` ``Line``). Files:
    ``<prefix>/<job>/input/score-00000.{recordio,csv}``, features only, one record per scored row.

    Args:
        training: the training job's record (its ``meta`` says how the features were built).
        training_rows: the rows recorded with it (``JobStore.rows``).
        data: the rows to score (row ``i`` of ``data`` is row number ``i``).
        model_artifact: the model's ``s3://.../model.tar.gz`` (default: SageMaker's path for the job).
        fmt: ``"recordio"``/``"csv"`` (default: the training job's format).
        keep_columns: columns of ``data`` kept locally to show beside the predictions (default: all).

    Raises:
        DataError: missing columns, rebuilt features that do not match, no row to score.
    """
    role_arn = check_role_arn(role_arn, "sagemaker")
    meta = training.meta
    if training.kind != TRAIN_KIND:
        raise ConfigError(f"{training.job_name} is a {training.kind} job, not a Linear Learner training job.")
    builder = rebuild_builder(meta, training_rows)
    fmt = _choose_format(fmt or meta.get("format", "auto"), meta["spec"]["kind"] == "text")
    frame = data.reset_index(drop=True)
    notes: list[str] = []
    if meta["spec"]["kind"] == "text":
        col = meta["spec"]["text_column"]
        if col not in frame.columns:
            raise DataError(f"the file to score has no text column {col!r} (the training job used it); its columns "
                            f"are {[str(c) for c in frame.columns]}.")
        ok = frame[col].map(lambda v: isinstance(v, str) and v.strip() != "" or
                            (v is not None and not isinstance(v, str) and not pd.isna(v)))
        if (~ok).any():
            notes.append(f"{int((~ok).sum()):,} row(s) with an empty text are not scored.")
        positions = np.flatnonzero(ok.to_numpy())
    else:
        positions = np.arange(len(frame))
    if len(positions) == 0:
        raise DataError("no row to score.")
    X = builder.transform(frame.iloc[positions])
    job_name = job_name or make_job_name("ll-score")
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="crossroads-llx-"))
    objects = write_shards(folder, staging, job_name, "", X, None, fmt, records_per_file=records_per_file,
                           name="score")
    files, lines = [], []
    for o, start in zip(objects, range(0, len(positions), records_per_file)):
        n = o.n_records
        files += [Path(o.key).name] * n
        lines += list(range(n))
    keep = list(frame.columns) if keep_columns is None else [c for c in keep_columns if c in frame.columns]
    rows = frame.iloc[positions][keep].copy()
    rows.insert(0, "row", positions)
    rows["file"], rows["record"] = files, lines
    rows = rows.reset_index(drop=True)
    model_artifact = model_artifact or meta.get("model_artifact")
    ctype = RECORDIO_CONTENT_TYPE if fmt == "recordio" else CSV_CONTENT_TYPE
    output_path = staging.uri(job_name, "output")
    requests = [
        Request("sagemaker", "CreateModel", {
            "ModelName": job_name,
            "PrimaryContainer": {"Image": image_uri(region), "ModelDataUrl": model_artifact},
            "ExecutionRoleArn": role_arn}),
        Request("sagemaker", "CreateTransformJob", {
            "TransformJobName": job_name,
            "ModelName": job_name,
            "BatchStrategy": "MultiRecord",
            "MaxPayloadInMB": 6,
            "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                               "S3Uri": staging.uri(job_name, "input") + "/"}},
                               "ContentType": ctype, "CompressionType": "None",
                               "SplitType": "RecordIO" if fmt == "recordio" else "Line"},
            "TransformOutput": {"S3OutputPath": output_path, "Accept": "application/jsonlines", "AssembleWith": "Line"},
            "TransformResources": {"InstanceType": instance_type, "InstanceCount": int(instance_count)}}),
    ]
    est = sagemaker_estimate(job="transform", n_rows=len(positions), passes=1, instance_type=instance_type,
                             instance_count=int(instance_count), max_runtime_seconds=int(max_runtime_seconds),
                             region=region, staged_bytes=sum(o.size for o in objects), n_objects=len(objects),
                             prices=prices)
    tmeta = {"training_job": training.job_name, "predictor_type": meta["predictor_type"], "classes": meta["classes"],
             "format": fmt, "model_artifact": model_artifact, "n_records": int(len(positions)),
             "files": {Path(o.key).name: o.n_records for o in objects}, "spec": meta["spec"],
             "instance_type": instance_type}
    return JobPlan(kind=TRANSFORM_KIND, job_name=job_name, region=region, folder=folder, staging=staging,
                   objects=objects, requests=requests, output_uri=output_path + "/", estimate=est, rows=rows,
                   meta=tmeta, notes=notes, role_arn=role_arn)


# ------------------------------------------------------------------------------------------- reading output

def parse_transform_output(lines: Sequence[str], predictor_type: str, classes: Sequence[str]) -> pd.DataFrame:
    """Parse Linear Learner's ``application/jsonlines`` output, one line per scored record, in order.

    Returns:
        Columns ``predicted_label`` (the class name; for regression the predicted value) and
        ``score`` (binary: probability of ``classes[1]``; regression: the value), plus
        ``p(<class>)`` per class for multiclass.

    Raises:
        DataError: a line that is not Linear Learner output.
    """
    out = []
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            score = obj["score"]
        except (ValueError, KeyError, TypeError):
            raise DataError(f"transform output line {n + 1} is not Linear Learner output: {line[:80]!r}.") from None
        if predictor_type == "regressor":
            out.append({"predicted_label": float(score), "score": float(score)})
            continue
        idx = int(round(float(obj.get("predicted_label", np.argmax(score) if isinstance(score, list) else score >= .5))))
        if not 0 <= idx < len(classes):
            raise DataError(f"transform output line {n + 1} predicts class {idx}, but the model has {len(classes)}.")
        row = {"predicted_label": classes[idx]}
        if isinstance(score, list):
            row["score"] = float(max(score))
            row.update({f"p({c})": float(s) for c, s in zip(classes, score)})
        else:
            row["score"] = float(score)
        out.append(row)
    return pd.DataFrame(out)


def _transform_describe_request(record: JobRecord) -> Request:
    return Request("sagemaker", "DescribeTransformJob", {"TransformJobName": record.job_id})


def _transform_stop_request(record: JobRecord) -> Request:
    return Request("sagemaker", "StopTransformJob", {"TransformJobName": record.job_id})


def _transform_desc(session, record: JobRecord) -> dict:
    return call(session, _transform_describe_request(record))


def _transform_status(record: JobRecord, r: dict) -> JobStatus:
    raw = r.get("TransformJobStatus", "")
    return JobStatus(TRANSFORM_KIND, record.job_name, record.job_id, _TRAIN_STATES.get(raw, "running"), raw,
                     progress=1.0 if raw == "Completed" else None,
                     elapsed_seconds=elapsed(r.get("CreationTime"), r.get("TransformEndTime")),
                     message=r.get("FailureReason") or "")


def _transform_fetch(session, record: JobRecord, rows: pd.DataFrame | None) -> JobResult:
    st = _transform_status(record, _transform_desc(session, record))
    require_fetchable(st, record)
    bucket = record.output_uri[5:].split("/", 1)[0]
    outs = {Path(o["Key"]).name[:-4]: o["Key"] for o in list_objects(session, record.output_uri)
            if o["Key"].endswith(".out")}
    parts, notes, files = [], [], []
    for name, n_records in record.meta.get("files", {}).items():
        key = outs.get(name)
        if key is None:
            notes.append(f"no output for {name} ({n_records:,} records): those rows have no prediction.")
            continue
        files.append(f"s3://{bucket}/{key}")
        text = read_object(session, files[-1]).decode("utf-8")
        part = parse_transform_output(text.splitlines(), record.meta["predictor_type"], record.meta["classes"])
        if len(part) != n_records:
            raise DataError(f"{name}.out has {len(part):,} predictions for {n_records:,} records: rows cannot be "
                            "joined safely. Run the transform again.")
        part.insert(0, "record", range(len(part)))
        part.insert(0, "file", name)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["file", "record"])
    if rows is None:
        return JobResult(record, out, {"status": st.to_dict()}, notes + ["The rows sent are not recorded here."], files)
    keyed = out.merge(rows[["file", "record", "row"]], on=["file", "record"], how="left").drop(columns=["file", "record"])
    table, more = join_rows(rows.drop(columns=["file", "record"]), keyed)
    summary = {"status": st.to_dict(), "n_scored": int(len(out))}
    spec = record.meta.get("spec", {})
    truth_col = spec.get("label_column") if spec.get("kind") == "text" else spec.get("target")
    if truth_col and truth_col in table and len(out) and record.meta["predictor_type"] != "regressor":
        have = table[truth_col].notna() & table["predicted_label"].notna()
        if have.any():
            truth = table.loc[have, truth_col].map(_label_text)
            summary["accuracy"] = classification_metrics(truth.tolist(), table.loc[have, "predicted_label"].tolist())
    return JobResult(record, table, summary, notes + more, files)


def _train_describe_request(record: JobRecord) -> Request:
    return Request("sagemaker", "DescribeTrainingJob", {"TrainingJobName": record.job_id})


def _train_stop_request(record: JobRecord) -> Request:
    return Request("sagemaker", "StopTrainingJob", {"TrainingJobName": record.job_id})


def _train_desc(session, record: JobRecord) -> dict:
    return call(session, _train_describe_request(record))


def _train_status(record: JobRecord, r: dict) -> JobStatus:
    raw = r.get("TrainingJobStatus", "")
    phase = r.get("SecondaryStatus", "")
    progress = 1.0 if raw == "Completed" else _PHASES.get(phase)
    return JobStatus(TRAIN_KIND, record.job_name, record.job_id, _TRAIN_STATES.get(raw, "running"), raw, phase=phase,
                     progress=progress, elapsed_seconds=elapsed(r.get("CreationTime"), r.get("TrainingEndTime")),
                     message=r.get("FailureReason") or "")


def final_metrics(describe: dict) -> dict[str, float]:
    """``{metric name: value}`` from ``DescribeTrainingJob``'s ``FinalMetricDataList``."""
    return {m["MetricName"]: float(m["Value"]) for m in describe.get("FinalMetricDataList", []) or []}


def linear_learner_test_metrics(metrics: dict[str, float], predictor_type: str, n_test: int) -> dict:
    """Linear Learner's ``test:*`` metrics in the same shape as :func:`local_baseline` (Wilson CI from ``n_test``)."""
    from scipy.stats import binomtest

    if predictor_type == "regressor":
        mse = metrics.get("test:mse")
        return {"rmse": math.sqrt(mse) if mse is not None else None, "mae": metrics.get("test:absolute_loss"),
                "n": n_test}
    acc = metrics.get("test:multiclass_accuracy", metrics.get("test:binary_classification_accuracy"))
    out = {"accuracy": acc, "n": n_test, "macro_f1": metrics.get("test:macro_f_beta", metrics.get("test:binary_f_beta"))}
    if acc is not None and n_test:
        lo, hi = binomtest(int(round(acc * n_test)), n_test).proportion_ci(0.95, method="wilson")
        out["ci95"] = [float(lo), float(hi)]
    return out


def compare_verdict(ll: dict, local: dict | None) -> str:
    """One honest sentence comparing Linear Learner with the local model on the same test rows."""
    if not local or ll.get("accuracy") is None:
        return ""
    la, lb = ll["accuracy"], local["metrics"].get("accuracy")
    if lb is None:
        return ""
    (a0, a1), (b0, b1) = ll.get("ci95", [la, la]), local["metrics"].get("ci95", [lb, lb])
    if a0 > b1 or b0 > a1:
        better = "Linear Learner" if la > lb else "the local model"
        return (f"On the same {ll['n']:,} test rows, {better} is more accurate ({la:.3f} vs {lb:.3f}); the 95% "
                "intervals do not overlap.")
    return (f"On the same {ll['n']:,} test rows: Linear Learner {la:.3f}, local {lb:.3f}. The 95% intervals overlap: "
            "not enough evidence that either is more accurate.")


def _train_fetch(session, record: JobRecord, rows: pd.DataFrame | None) -> JobResult:
    r = _train_desc(session, record)
    st = _train_status(record, r)
    require_fetchable(st, record)
    metrics = final_metrics(r)
    ll = linear_learner_test_metrics(metrics, record.meta["predictor_type"], int(record.meta.get("n_test", 0)))
    local = record.meta.get("local")
    summary = {"status": st.to_dict(), "final_metrics": metrics, "linear_learner": ll, "local": local,
               "model_artifact": (r.get("ModelArtifacts") or {}).get("S3ModelArtifacts", record.meta.get("model_artifact")),
               "billable_seconds": r.get("BillableTimeInSeconds"), "verdict": compare_verdict(ll, local)}
    if r.get("BillableTimeInSeconds") is not None:
        from core.aws.pricing import load_aws_prices

        per_hour = load_aws_prices()["sagemaker"]["training_usd_per_hour"].get(record.meta.get("instance_type", ""))
        if per_hour:
            summary["usd"] = float(r["BillableTimeInSeconds"]) / 3600 * float(per_hour)
    table = pd.DataFrame([{"model": "SageMaker Linear Learner", **{k: v for k, v in ll.items() if k != "ci95"},
                           "ci95": ll.get("ci95")}] +
                         ([{"model": local["model"], **{k: v for k, v in local["metrics"].items() if k != "ci95"},
                            "ci95": local["metrics"].get("ci95")}] if local else []))
    notes = [] if local else ["No local baseline was recorded with this job (train with --local-baseline)."]
    return JobResult(record, table, summary, notes, [summary["model_artifact"]] if summary["model_artifact"] else [])


def _train_locate(session, ref: str, region: str) -> JobRecord:
    rec = JobRecord(TRAIN_KIND, ref, ref, region)
    r = _train_desc(session, rec)
    hp = r.get("HyperParameters", {})
    return JobRecord(TRAIN_KIND, ref, ref, region, output_uri=r["OutputDataConfig"]["S3OutputPath"],
                     role_arn=r.get("RoleArn", ""), submitted_at=str(r.get("CreationTime", "")),
                     meta={"predictor_type": hp.get("predictor_type", ""), "n_test": 0,
                           "model_artifact": (r.get("ModelArtifacts") or {}).get("S3ModelArtifacts")})


def _transform_locate(session, ref: str, region: str) -> JobRecord:
    rec = JobRecord(TRANSFORM_KIND, ref, ref, region)
    r = _transform_desc(session, rec)
    return JobRecord(TRANSFORM_KIND, ref, ref, region, output_uri=r["TransformOutput"]["S3OutputPath"],
                     submitted_at=str(r.get("CreationTime", "")), meta={})


register_kind(JobKind(TRAIN_KIND, "sagemaker", "SageMaker Linear Learner training", _train_describe_request,
                      _train_status, _train_stop_request, _train_fetch, _train_locate))
register_kind(JobKind(TRANSFORM_KIND, "sagemaker", "SageMaker batch transform", _transform_describe_request,
                      _transform_status, _transform_stop_request, _transform_fetch, _transform_locate))
