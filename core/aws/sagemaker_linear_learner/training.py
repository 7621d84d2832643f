"""The training job: the algorithm image, hyperparameters, the ``CreateTrainingJob`` plan, status and results.

:func:`plan_training` stages the three channels and returns a dry-run :class:`~core.aws.dryrun.JobPlan`
with its cost estimate; the job kind :data:`TRAIN_KIND` is registered with :mod:`core.aws.jobs`
(describe, status by ``SecondaryStatus``, stop, fetch, locate).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

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
    Prepared,
    _choose_format,
    write_shards,
)
from core.aws.sagemaker_linear_learner.metrics import (
    compare_verdict,
    final_metrics,
    linear_learner_test_metrics,
)
from core.aws.staging import (
    S3Location,
)
from core.errors import ConfigError

TRAIN_KIND = "linear-learner-training"


IMAGES_FILE = Path(__file__).parent.parent / "linear_learner_images.json"


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


register_kind(JobKind(TRAIN_KIND, "sagemaker", "SageMaker Linear Learner training", _train_describe_request,
                      _train_status, _train_stop_request, _train_fetch, _train_locate))
