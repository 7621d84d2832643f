"""Amazon Bedrock batch inference (``CreateModelInvocationJob``) in the Converse format.

Input (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html): JSONL files,
one record per line, ``{"recordId": "...", "modelInput": {...}}``, where ``modelInput`` is the body
of a Converse request (``system``, ``messages``, ``inferenceConfig``, optional ``toolConfig``) because
the job is created with ``modelInvocationType="Converse"``.

Output (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-results.html): under
``<output s3Uri>/<job ID>/``, one ``<input file>.out`` per input file, each line
``{"recordId", "modelInput", "modelOutput"}`` (a Converse response) or ``{"recordId", "modelInput",
"error": {"errorCode", "errorMessage"}}``, plus ``manifest.json.out`` with ``totalRecordCount``,
``processedRecordCount``, ``successRecordCount``, ``errorRecordCount``, ``inputTokenCount`` and
``outputTokenCount``. The order of output lines is **not** guaranteed to match the input, so
results are joined back by ``recordId``, never by position.

Records are built by one generic function, :func:`build_record` (record ID, system prompt,
messages, optional ``toolConfig``), so any feature (the Decide bake-off's LLM arm, the Arena
batch) can stage its prompts here. :func:`label_choice_tool` gives the ``toolConfig`` that
constrains the answer to one label: it is the one the on-demand provider sends for
:meth:`core.arena.providers.bedrock.BedrockProvider.choose` (the ``choose_label`` tool, forced or
not per model by :func:`~core.arena.providers.bedrock.choice_tool_mode`), so a batch and an
on-demand run ask the same question. Answers are read with :func:`core.arena.choice.parse_choice`.

Checked before submitting: the per-model minimum and maximum record counts and file sizes from
``quotas.json`` (Service Quotas can raise them; edit the file if you did). Priced at the batch rate
(50% of on-demand, :func:`core.aws.pricing.bedrock_batch_estimate`).

The module is split by concern: records in :mod:`core.aws.bedrock_records`, planning and quotas in
:mod:`core.aws.bedrock_plan`, reading the output in :mod:`core.aws.bedrock_output`; this module holds
the job kind (describe, stop, status, fetch, locate), registers it with :mod:`core.aws.jobs` on import,
and re-exports the names of the other three.
"""

from __future__ import annotations

from pathlib import Path  # noqa: F401 - kept as bb.Path (tests locate quotas.json next to this module)

import pandas as pd

from core.aws.bedrock_output import (  # noqa: F401 - re-exported
    _job_prefix,
    _match_label,
    accuracy_summary,
    actual_cost,
    answer_of,
    join_output,
    parse_output_lines,
    read_batch_output,
)
from core.aws.bedrock_plan import check_record_count, plan_bedrock_batch
from core.aws.bedrock_records import (
    CLASSIFY_SYSTEM,
    DEFAULT_MODEL_ID,
    KIND,
    build_record,
    classification_records,
    label_choice_tool,
    record_id_for,
    records_from_jsonl,
    to_converse_messages,
)
from core.aws.dryrun import Request
from core.aws.jobs import (
    JobKind,
    JobRecord,
    JobResult,
    JobStatus,
    call,
    elapsed,
    register_kind,
    require_fetchable,
)

__all__ = ["CLASSIFY_SYSTEM", "DEFAULT_MODEL_ID", "KIND", "accuracy_summary", "actual_cost", "answer_of",
           "build_record", "check_record_count", "classification_records", "join_output", "label_choice_tool",
           "parse_output_lines", "plan_bedrock_batch", "read_batch_output", "record_id_for", "records_from_jsonl",
           "to_converse_messages"]

_STATES = {"Submitted": "queued", "Validating": "queued", "Scheduled": "queued", "InProgress": "running",
           "Stopping": "stopping", "Completed": "completed", "PartiallyCompleted": "partial", "Failed": "failed",
           "Stopped": "stopped", "Expired": "expired"}


# ------------------------------------------------------------------------------------------- job kind

def _describe_request(record: JobRecord) -> Request:
    return Request("bedrock", "GetModelInvocationJob", {"jobIdentifier": record.job_id})


def _stop_request(record: JobRecord) -> Request:
    return Request("bedrock", "StopModelInvocationJob", {"jobIdentifier": record.job_id})


def _parse_status(record: JobRecord, r: dict) -> JobStatus:
    raw = r.get("status", "")
    total, done = r.get("totalRecordCount"), r.get("processedRecordCount")
    progress = (done / total) if total and done is not None else (1.0 if raw == "Completed" else None)
    return JobStatus(KIND, record.job_name, record.job_id, _STATES.get(raw, "running"), raw,
                     progress=progress, processed=done, total=total,
                     elapsed_seconds=elapsed(r.get("submitTime"), r.get("endTime")), message=r.get("message") or "")


def _fetch(session, record: JobRecord, rows: pd.DataFrame | None) -> JobResult:
    st = _parse_status(record, call(session, _describe_request(record)))
    require_fetchable(st, record)
    output, manifest, files = read_batch_output(session, record)
    labels = record.meta.get("labels")
    table, notes = join_output(rows, output, labels)
    model_id = record.meta.get("model_id", "")
    summary = {"status": st.to_dict(), "manifest": manifest, "model_id": model_id,
               "errors": int(output["error"].ne("").sum()), "usd": actual_cost(manifest, model_id)}
    acc = accuracy_summary(table) if labels else None
    if acc:
        summary["accuracy"] = acc
        if "arm" in table:  # the Decide bake-off's arms: each scored on its own rows
            from core.decide.batch import accuracy_by_arm

            summary["accuracy_by_arm"] = accuracy_by_arm(table)
    if st.state != "completed":
        notes.append(f"The job ended {st.state}: the results below are the records it finished.")
    return JobResult(record, table, summary, notes, files)


def _locate(session, ref: str, region: str) -> JobRecord:
    r = call(session, _describe_request(JobRecord(KIND, ref, ref, region)))
    return JobRecord(KIND, r.get("jobName", ref), r.get("jobArn", ref), region,
                     output_uri=r["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"], role_arn=r.get("roleArn", ""),
                     submitted_at=str(r.get("submitTime", "")), meta={"model_id": r.get("modelId", "")})


register_kind(JobKind(KIND, "bedrock", "Amazon Bedrock batch inference", _describe_request, _parse_status,
                      _stop_request, _fetch, _locate))
