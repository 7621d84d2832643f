"""Planning a Bedrock batch job: the per-model record-count quotas, and the :class:`~core.aws.dryrun.JobPlan`
(JSONL input files, the ``CreateModelInvocationJob`` request, the cost estimate) of
:func:`plan_bedrock_batch` (see :mod:`core.aws.bedrock_batch`)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from core.aws.bedrock_records import DEFAULT_MODEL_ID, KIND
from core.aws.dryrun import JobPlan, Request
from core.aws.errors import check_role_arn
from core.aws.jobs import make_job_name
from core.aws.pricing import bedrock_batch_estimate, load_quotas, per_model
from core.aws.staging import S3Location, StagedObject, local_path
from core.errors import ConfigError, DataError


def check_record_count(n: int, model_id: str, quotas: dict | None = None) -> None:
    """Check ``n`` records against the model's minimum and maximum per job.

    Raises:
        DataError: too few or too many records, with the quota's name and how to proceed.
    """
    q = (quotas or load_quotas())["bedrock_batch"]
    low = int(per_model(q["minimum_records"], model_id))
    high = int(per_model(q["max_records_per_job"], model_id))
    if n < low:
        raise DataError(f"a Bedrock batch job for {model_id} needs at least {low:,} records (Service Quotas: "
                        f"'Minimum number of records per batch inference job'); this one has {n:,}. Add records, "
                        "or run these few on demand in the Prompt Arena.")
    if n > high:
        raise DataError(f"{n:,} records is more than {high:,} per batch job for {model_id} (Service Quotas: "
                        "'Records per batch inference job'): split the input into several jobs, or raise the quota "
                        "and set CROSSROADS_AWS_QUOTAS to an edited copy of core/aws/quotas.json.")


def plan_bedrock_batch(records: Sequence[Mapping[str, Any]], *, staging: S3Location, role_arn: str, region: str,
                       model_id: str = DEFAULT_MODEL_ID, folder: str | Path | None = None,
                       job_name: str | None = None, rows: pd.DataFrame | None = None, timeout_hours: int = 24,
                       labels: Sequence[str] | None = None, quotas: dict | None = None,
                       prices: dict | None = None, llm_prices=None, meta: Mapping[str, Any] | None = None) -> JobPlan:
    """Build (and write locally) everything a Bedrock batch job would send.

    Files: ``<prefix>/<job>/input/records-00000.jsonl`` (and more when a file would pass the per-file
    record or size quota), one compact JSON record per line, UTF-8. Request: one
    ``CreateModelInvocationJob`` with ``modelInvocationType="Converse"``.

    Args:
        records: from :func:`build_record` (unique ``recordId`` each).
        staging: the S3 bucket and prefix.
        role_arn: the Bedrock service role (trusted by ``bedrock.amazonaws.com``).
        region: the job's region.
        model_id: the model or inference profile.
        folder: where to write (default: a new temporary folder).
        job_name: default :func:`core.aws.jobs.make_job_name`.
        rows: one row per record with at least ``row`` and ``recordId`` (default: ``row`` = position).
        timeout_hours: 24 to 168.
        labels: the allowed labels when the records choose a label (for accuracy on fetch).
        quotas / prices / llm_prices: override the bundled files.
        meta: more JSON-ready facts kept with the job record (e.g. ``{"scorer": ...}``: how the feature
            that built the records scores the fetched answers); ``model_id``, ``n_records`` and ``labels``
            are set here and cannot be overridden.

    Returns:
        A :class:`JobPlan`.

    Raises:
        DataError: duplicate record IDs, too few/many records, a record over the file size quota.
        ConfigError: no role, bad timeout, no price for the model.
    """
    role_arn = check_role_arn(role_arn, "bedrock")
    quotas = quotas or load_quotas()
    q = quotas["bedrock_batch"]
    lo, hi = int(q["timeout_hours"]["min"]), int(q["timeout_hours"]["max"])
    if not lo <= int(timeout_hours) <= hi:
        raise ConfigError(f"the timeout must be {lo}-{hi} hours, got {timeout_hours}.")
    records = list(records)
    ids = [str(r.get("recordId", "")) for r in records]
    dup = pd.Series(ids)[pd.Series(ids).duplicated()]
    if len(dup):
        raise DataError(f"record IDs must be unique; {dup.iloc[0]!r} appears more than once.")
    check_record_count(len(records), model_id, quotas)
    job_name = job_name or make_job_name("bedrock-batch")
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="crossroads-bedrock-"))
    per_file = int(per_model(q["max_records_per_file"], model_id))
    max_bytes = int(per_model(q["max_file_bytes"], model_id))
    lines = [(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8") for r in records]
    objects: list[StagedObject] = []
    start = 0
    while start < len(lines):
        size, end = 0, start
        while end < len(lines) and end - start < per_file and size + len(lines[end]) <= max_bytes:
            size += len(lines[end])
            end += 1
        if end == start:
            raise DataError(f"record {ids[start]!r} alone is larger than the {max_bytes:,}-byte file quota.")
        key = staging.key(job_name, "input", f"records-{len(objects):05d}.jsonl")
        path = local_path(folder, staging.bucket, key)
        path.write_bytes(b"".join(lines[start:end]))
        objects.append(StagedObject(staging.bucket, key, path, "application/jsonl", end - start))
        start = end
    if sum(o.size for o in objects) > int(per_model(q["max_job_bytes"], model_id)):
        raise DataError("the records are larger than the batch job size quota: split them into several jobs.")
    output_uri = staging.uri(job_name, "output") + "/"
    params = {
        "jobName": job_name,
        "roleArn": role_arn,
        "modelId": model_id,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": staging.uri(job_name, "input") + "/",
                                                  "s3InputFormat": "JSONL"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": output_uri}},
        "timeoutDurationInHours": int(timeout_hours),
        "modelInvocationType": "Converse",
    }
    if rows is None:
        rows = pd.DataFrame({"row": range(len(records)), "recordId": ids})
    elif "recordId" not in rows or "row" not in rows:
        raise DataError("rows must have 'row' and 'recordId' columns (one per record).")
    elif set(rows["recordId"].astype(str)) != set(ids):
        raise DataError("rows and records do not pair up: every record needs exactly one row with its recordId.")
    est = bedrock_batch_estimate(records, model_id, staged_bytes=sum(o.size for o in objects),
                                 n_objects=len(objects), timeout_hours=int(timeout_hours), prices=prices,
                                 llm_prices=llm_prices)
    meta = {**dict(meta or {}), "model_id": model_id, "n_records": len(records),
            "labels": list(labels) if labels else None}
    return JobPlan(kind=KIND, job_name=job_name, region=region, folder=folder, staging=staging, objects=objects,
                   requests=[Request("bedrock", "CreateModelInvocationJob", params)], output_uri=output_uri,
                   estimate=est, rows=rows.reset_index(drop=True), meta=meta, role_arn=role_arn)
