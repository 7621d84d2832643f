"""The data every job kind shares: :class:`JobRecord` (what this machine remembers about a job),
:class:`JobStatus` (its normalised state) and :class:`JobResult` (its output joined to the rows sent)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from core.aws.dryrun import jsonable

#: Normalised job states. ``done`` states: completed, partial, failed, stopped, expired.
STATES = ("queued", "running", "stopping", "completed", "partial", "failed", "stopped", "expired")
DONE_STATES = ("completed", "partial", "failed", "stopped", "expired")
#: States whose output can be read (all or part of it).
FETCHABLE_STATES = ("completed", "partial", "stopped", "expired")


@dataclass
class JobRecord:
    """What this machine remembers about a submitted job (no credentials).

    Attributes:
        kind: the job kind (a key of :data:`KINDS`).
        job_name: the name given to the job.
        job_id: the service's identifier (SageMaker: the name; Bedrock: the job ARN; Comprehend: the JobId).
        region: the job's region.
        profile: the AWS profile *name* used (``None``: default chain).
        submitted_at: ISO time of submission (UTC).
        staging_uri: the job's input folder in S3.
        staged: the ``s3://`` URIs of the files uploaded for it.
        output_uri: where the service writes its output.
        role_arn: the service role the job runs with.
        meta: what reading the results needs (classes, feature settings, ...).
        estimate: the estimate shown before submitting.
        notes: notes from building the plan.
    """

    kind: str
    job_name: str
    job_id: str
    region: str
    profile: str | None = None
    submitted_at: str = ""
    staging_uri: str = ""
    staged: list[str] = field(default_factory=list)
    output_uri: str = ""
    role_arn: str = ""
    meta: dict = field(default_factory=dict)
    estimate: dict | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return jsonable(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> "JobRecord":
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})

    def matches(self, ref: str) -> bool:
        """Whether ``ref`` names this job (name, service ID, or the last part of an ARN)."""
        ref = ref.strip()
        return ref in (self.job_name, self.job_id) or (self.job_id.startswith("arn:") and
                                                       self.job_id.rsplit("/", 1)[-1] == ref)


@dataclass
class JobStatus:
    """A job's state as the service reports it.

    Attributes:
        kind / job_name / job_id: which job.
        state: one of :data:`STATES`.
        service_status: the service's own status text (``"InProgress"``, ``"IN_PROGRESS"``...).
        phase: a finer step when the service gives one (SageMaker's ``SecondaryStatus``), else ``""``.
        progress: fraction done in [0, 1] when the service reports counts or steps, else ``None``.
        processed / total: records processed / in total, when reported.
        elapsed_seconds: seconds since submission (until the end when finished).
        message: the failure reason or status message, if any.
    """

    kind: str
    job_name: str
    job_id: str
    state: str
    service_status: str
    phase: str = ""
    progress: float | None = None
    processed: int | None = None
    total: int | None = None
    elapsed_seconds: float | None = None
    message: str = ""

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES

    @property
    def fetchable(self) -> bool:
        return self.state in FETCHABLE_STATES

    def describe(self) -> str:
        """One line: ``<job>: running (InProgress, Training), 40%, 3 min 05 s elapsed``."""
        from core.aws.pricing import format_duration

        bits = [self.service_status] + ([self.phase] if self.phase and self.phase != self.service_status else [])
        text = f"{self.job_name}: {self.state} ({', '.join(bits)})"
        if self.processed is not None and self.total:
            text += f", {self.processed:,} of {self.total:,} records"
        elif self.progress is not None:
            text += f", about {self.progress:.0%}"
        if self.elapsed_seconds is not None:
            text += f", {format_duration(self.elapsed_seconds)} elapsed"
        if self.message:
            text += f". {self.message}"
        return text

    def to_dict(self) -> dict:
        return jsonable(asdict(self))


@dataclass
class JobResult:
    """A finished job's output, read back and joined to the user's rows.

    Attributes:
        record: the job.
        table: one row per input record (``row`` = the user's 0-based row number, joined
            columns, then the service's result columns); empty for a training job.
        summary: figures for display (metrics, counts, actual cost...), JSON-ready.
        notes: what the user should know (records that failed, rows missing...).
        files: the ``s3://`` URIs read.
    """

    record: JobRecord
    table: pd.DataFrame
    summary: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def describe_record(record: JobRecord) -> dict[str, Any]:
    """A record as a flat dict for display (no credentials: there are none in it)."""
    return {"job": record.job_name, "kind": record.kind, "region": record.region, "id": record.job_id,
            "submitted": record.submitted_at, "input": record.staging_uri, "output": record.output_uri}
