"""The batch transform job: ``CreateModel`` + ``CreateTransformJob`` on a new file, and its output read back.

The training job's feature step is re-fitted on its recorded train rows
(:func:`rebuild_builder`, fingerprint checked); Linear Learner's
``application/jsonlines`` output is parsed (:func:`parse_transform_output`) and
joined back to the user's rows by (file, record position). The job kind
:data:`TRANSFORM_KIND` is registered with :mod:`core.aws.jobs`.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from core.aws.dryrun import JobPlan, Request
from core.aws.errors import check_role_arn
from core.aws.jobs import (
    JobKind,
    JobRecord,
    JobResult,
    JobStatus,
    call,
    elapsed,
    join_rows,
    make_job_name,
    register_kind,
    require_fetchable,
)
from core.aws.pricing import sagemaker_estimate
from core.aws.recordio import (
    CSV_CONTENT_TYPE,
    RECORDIO_CONTENT_TYPE,
)
from core.aws.sagemaker_linear_learner.features import (
    RECORDS_PER_FILE,
    _choose_format,
    _fingerprint,
    _label_text,
    builder_from_spec,
    write_shards,
)
from core.aws.sagemaker_linear_learner.metrics import classification_metrics
from core.aws.sagemaker_linear_learner.training import (
    _TRAIN_STATES,
    DEFAULT_INSTANCE,
    TRAIN_KIND,
    image_uri,
)
from core.aws.staging import (
    S3Location,
    list_objects,
    read_object,
)
from core.errors import ConfigError, DataError

TRANSFORM_KIND = "linear-learner-transform"


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


def _transform_locate(session, ref: str, region: str) -> JobRecord:
    rec = JobRecord(TRANSFORM_KIND, ref, ref, region)
    r = _transform_desc(session, rec)
    return JobRecord(TRANSFORM_KIND, ref, ref, region, output_uri=r["TransformOutput"]["S3OutputPath"],
                     submitted_at=str(r.get("CreationTime", "")), meta={})


register_kind(JobKind(TRANSFORM_KIND, "sagemaker", "SageMaker batch transform", _transform_describe_request,
                      _transform_status, _transform_stop_request, _transform_fetch, _transform_locate))
