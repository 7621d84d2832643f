"""What every AWS job has in common: submit, follow, resume, cancel, fetch.

* :func:`submit` checks the bucket, uploads a :class:`~core.aws.dryrun.JobPlan`'s files,
  sends its requests and returns a :class:`JobRecord` with the service's job ID. The record
  (and the rows needed to join results back) is saved in a local :class:`JobStore`, so a job
  can be **resumed by its ID** after a restart of the app or the CLI.
* :func:`status` asks the service and returns a :class:`JobStatus`: a normalised ``state``,
  the service's own status, a ``progress`` fraction when the service reports counts, and the
  elapsed time. :func:`wait` polls it with a progress callback.
* :func:`cancel` sends the service's Stop call (``StopTrainingJob``, ``StopTransformJob``,
  ``StopModelInvocationJob``, ``StopSentimentDetectionJob``).
* :func:`fetch` reads the output from S3 and joins it to the user's rows (a :class:`JobResult`).

Each job kind (:data:`KINDS`) registers how to describe, stop and fetch it; the service modules
(:mod:`~core.aws.sagemaker_linear_learner`, :mod:`~core.aws.bedrock_batch`,
:mod:`~core.aws.comprehend_job`) do so when imported.

The job store holds job names, IDs, regions, profile *names*, S3 URIs and the rows sent;
never credentials. Default folder: ``$CROSSROADS_AWS_JOBS_DIR``, else
``$XDG_DATA_HOME/crossroads/aws-jobs`` (``~/.local/share/crossroads/aws-jobs``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from core.aws.dryrun import JobPlan, Request, jsonable
from core.aws.errors import translate
from core.aws.staging import check_bucket, upload
from core.errors import ConfigError, DataError

#: Normalised job states. ``done`` states: completed, partial, failed, stopped, expired.
STATES = ("queued", "running", "stopping", "completed", "partial", "failed", "stopped", "expired")
DONE_STATES = ("completed", "partial", "failed", "stopped", "expired")
#: States whose output can be read (all or part of it).
FETCHABLE_STATES = ("completed", "partial", "stopped", "expired")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.timezone.utc)


def make_job_name(kind: str, now: dt.datetime | None = None, suffix: str | None = None) -> str:
    """A unique job name valid for SageMaker, Bedrock and Comprehend: ``crossroads-<kind>-YYYYMMDD-HHMMSS-xxxx``."""
    now = now or utcnow()
    tag = re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-")[:20]
    return f"crossroads-{tag}-{now:%Y%m%d-%H%M%S}-{suffix or secrets.token_hex(2)}"


# --------------------------------------------------------------------------------------- records

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


def parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose object columns hold only strings or ``None`` (Parquet needs one type per column)."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
    return out


def default_jobs_dir() -> Path:
    """``$CROSSROADS_AWS_JOBS_DIR``, else ``platformdirs.user_data_path("crossroads") / "aws-jobs"``
    (``$XDG_DATA_HOME/crossroads/aws-jobs`` or ``~/.local/share/crossroads/aws-jobs`` on Linux)."""
    import platformdirs

    from core.settings import settings

    if settings.aws_jobs_dir:
        return Path(settings.aws_jobs_dir).expanduser()
    return platformdirs.user_data_path("crossroads") / "aws-jobs"


class JobStore:
    """Job records on disk: ``<dir>/<job name>/job.json`` and ``rows.parquet`` (the rows to join back).

    Args:
        directory: the folder (default :func:`default_jobs_dir`).
    """

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory else default_jobs_dir()

    def save(self, record: JobRecord, rows: pd.DataFrame | None = None) -> Path:
        """Write (or overwrite) a record and its rows; returns the job's folder."""
        folder = self.directory / record.job_name
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / "job.json.tmp"
        tmp.write_text(json.dumps(record.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(folder / "job.json")
        if rows is not None:
            parquet_safe(rows).to_parquet(folder / "rows.parquet", index=False)
        return folder

    def list(self) -> list[JobRecord]:
        """Every saved record, newest first."""
        out = []
        if self.directory.is_dir():
            for p in self.directory.glob("*/job.json"):
                try:
                    out.append(JobRecord.from_dict(json.loads(p.read_text(encoding="utf-8"))))
                except (OSError, ValueError, TypeError):
                    continue
        return sorted(out, key=lambda r: r.submitted_at, reverse=True)

    def find(self, ref: str) -> JobRecord | None:
        """The record named by ``ref`` (job name, service ID or ARN), or ``None``."""
        direct = self.directory / ref / "job.json"
        if re.fullmatch(r"[\w.-]+", ref or "") and direct.is_file():
            return JobRecord.from_dict(json.loads(direct.read_text(encoding="utf-8")))
        return next((r for r in self.list() if r.matches(ref)), None)

    def load(self, ref: str) -> JobRecord:
        """Like :meth:`find` but raises a :class:`ConfigError` that says how to proceed."""
        rec = self.find(ref)
        if rec is None:
            raise ConfigError(f"no job {ref!r} is recorded on this machine ({self.directory}). Give the job name "
                              "or ID printed when it was submitted; for a job submitted elsewhere pass --kind and "
                              "--region to ask the service directly.")
        return rec

    def rows(self, record: JobRecord) -> pd.DataFrame | None:
        """The rows saved with ``record`` (``row`` + join columns), or ``None``."""
        p = self.directory / record.job_name / "rows.parquet"
        return pd.read_parquet(p) if p.is_file() else None


# --------------------------------------------------------------------------------------- status

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


def elapsed(start, end=None, now: dt.datetime | None = None) -> float | None:
    """Seconds from ``start`` to ``end`` (or now); accepts datetimes or ISO strings; ``None`` if no start."""
    def parse(v):
        if v is None or v == "":
            return None
        if isinstance(v, str):
            v = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        if v.tzinfo is None:
            v = v.replace(tzinfo=dt.timezone.utc)
        return v

    s, e = parse(start), parse(end)
    if s is None:
        return None
    return max(0.0, ((e or now or utcnow()) - s).total_seconds())


# --------------------------------------------------------------------------------------- results

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


@dataclass(frozen=True)
class JobKind:
    """How to follow one kind of job.

    Attributes:
        name: the kind (``"bedrock-batch"``...).
        service: the boto3 service that runs it.
        label: for display.
        describe_request: ``record -> Request`` (the Describe/Get call).
        parse_status: ``(record, response) -> JobStatus``.
        stop_request: ``record -> Request`` (the Stop call).
        fetch: ``(session, record, rows) -> JobResult``.
        locate: ``(session, job_ref, region) -> JobRecord`` rebuilding a record from the service alone
            (for a job not in the local store), or ``None``.
    """

    name: str
    service: str
    label: str
    describe_request: Callable[[JobRecord], Request]
    parse_status: Callable[[JobRecord, dict], JobStatus]
    stop_request: Callable[[JobRecord], Request]
    fetch: Callable[..., JobResult]
    locate: Callable[..., JobRecord] | None = None

    def describe(self, session, record: JobRecord) -> JobStatus:
        """Send the Describe call and parse it."""
        return self.parse_status(record, call(session, self.describe_request(record)))


def call(session, request: Request) -> dict:
    """Send one :class:`~core.aws.dryrun.Request` with the session's client; returns the response dict."""
    from botocore import xform_name

    return getattr(session.client(request.service), xform_name(request.operation))(**request.params)


KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> JobKind:
    """Add a job kind to :data:`KINDS` (one entry per kind)."""
    KINDS[kind.name] = kind
    return kind


def kind_of(record: JobRecord) -> JobKind:
    """The :class:`JobKind` of a record (imports the service modules on first use)."""
    _load_kinds()
    if record.kind not in KINDS:
        raise ConfigError(f"unknown job kind {record.kind!r}; known: {', '.join(sorted(KINDS))}.")
    return KINDS[record.kind]


def _load_kinds() -> None:
    import core.aws.bedrock_batch  # noqa: F401 - registers its kind
    import core.aws.comprehend_job  # noqa: F401
    import core.aws.sagemaker_linear_learner  # noqa: F401 - registers its kinds


# --------------------------------------------------------------------------------------- operations

def resolve_job(ref: str, *, store: JobStore | None = None, session=None, kind: str | None = None) -> JobRecord:
    """The job named ``ref``: from the local store, else (with ``kind`` and a session) from the service.

    Raises:
        ConfigError: not recorded here and no ``kind`` given, or an unknown kind.
    """
    store = store or JobStore()
    rec = store.find(ref)
    if rec is not None:
        return rec
    if kind and session is not None:
        _load_kinds()
        if kind not in KINDS:
            raise ConfigError(f"unknown job kind {kind!r}; choose one of {', '.join(sorted(KINDS))}.")
        k = KINDS[kind]
        try:
            return k.locate(session, ref, session.region)
        except Exception as exc:  # noqa: BLE001
            err = translate(exc, service=k.service, action=f"looking up the job {ref}", region=session.region,
                            job=ref)
            if err is exc:
                raise
            raise err from None
    return store.load(ref)


def submit(session, plan: JobPlan, *, store: JobStore | None = None,
           progress: Callable[[str, float | None], None] | None = None) -> JobRecord:
    """Upload a plan's files, send its requests, and record the job.

    Args:
        session: an :class:`core.aws.session.AwsSession` in the plan's region.
        plan: from one of the ``plan_*`` functions.
        store: where to record the job (default :class:`JobStore` ()).
        progress: ``callback(message, fraction or None)`` for the UI/CLI.

    Returns:
        The saved :class:`JobRecord` (its ``job_id`` is the service's identifier).

    Raises:
        ConfigError / ProviderError / DataError: a missing bucket or role, a role the service cannot
            assume, a region without the service or model, a quota, missing permissions. Files
            already uploaded are left in place (never deleted without asking); the message says where.
    """
    say = progress or (lambda msg, frac: None)
    if session.region != plan.region:
        raise ConfigError(f"the plan was built for {plan.region} but the session is in {session.region}; "
                          "rebuild it for the session's region.")
    say(f"Checking the bucket {plan.staging.bucket}...", 0.0)
    check_bucket(session, plan.staging.bucket)
    total = plan.staged_bytes or 1
    say(f"Uploading {len(plan.objects)} file(s)...", 0.0)
    upload(session, plan.objects, progress=lambda done, _t: say("Uploading...", min(done / total, 1.0)))
    kind = kind_of(JobRecord(plan.kind, plan.job_name, plan.job_name, plan.region))
    job_id = plan.job_name
    for req in plan.requests:
        say(f"Sending {req.operation}...", None)
        try:
            resp = call(session, req)
        except Exception as exc:  # noqa: BLE001
            err = translate(exc, service=req.service, action=f"sending {req.operation}", region=plan.region,
                            bucket=plan.staging.bucket, role_arn=plan.role_arn or None,
                            model_id=plan.meta.get("model_id"))
            if err is exc:
                raise
            raise type(err)(f"{err} (The input was uploaded to {plan.staging.uri(plan.job_name)} and left there; "
                            "nothing was deleted.)") from None
        job_id = resp.get("jobArn") or resp.get("JobId") or job_id
    record = JobRecord(kind=plan.kind, job_name=plan.job_name, job_id=job_id, region=plan.region,
                       profile=getattr(session, "profile", None), submitted_at=utcnow().isoformat(),
                       staging_uri=plan.staging.uri(plan.job_name), staged=[o.uri for o in plan.objects],
                       output_uri=plan.output_uri, role_arn=plan.role_arn, meta=jsonable(plan.meta),
                       estimate=plan.estimate.to_dict() if plan.estimate else None, notes=list(plan.notes))
    (store or JobStore()).save(record, plan.rows)
    say(f"Submitted {kind.label} job {plan.job_name}.", 1.0)
    return record


def status(session, record: JobRecord) -> JobStatus:
    """Ask the service for the job's state (see :class:`JobStatus`)."""
    kind = kind_of(record)
    try:
        return kind.describe(session, record)
    except Exception as exc:  # noqa: BLE001
        err = translate(exc, service=kind.service, action=f"reading the status of {record.job_name}",
                        region=record.region, job=record.job_name)
        if err is exc:
            raise
        raise err from None


def wait(session, record: JobRecord, *, poll_seconds: float = 30.0, timeout_seconds: float | None = None,
         on_status: Callable[[JobStatus], None] | None = None,
         sleep: Callable[[float], None] = time.sleep) -> JobStatus:
    """Poll :func:`status` until the job is done (or ``timeout_seconds`` pass).

    Args:
        session: an :class:`core.aws.session.AwsSession`.
        record: the job.
        poll_seconds: seconds between calls.
        timeout_seconds: stop waiting after this many seconds (the job keeps running); ``None`` waits on.
        on_status: called with each :class:`JobStatus` (progress and elapsed time for the UI/CLI).
        sleep: the sleep function (tests pass a fake one).

    Returns:
        The last :class:`JobStatus` (``done`` is ``False`` if the wait timed out).
    """
    waited = 0.0
    while True:
        st = status(session, record)
        if on_status:
            on_status(st)
        if st.done or (timeout_seconds is not None and waited >= timeout_seconds):
            return st
        sleep(poll_seconds)
        waited += poll_seconds


def cancel(session, record: JobRecord) -> JobStatus:
    """Send the service's Stop call, then return the new status. Staged files are left in place."""
    kind = kind_of(record)
    try:
        call(session, kind.stop_request(record))
    except Exception as exc:  # noqa: BLE001
        err = translate(exc, service=kind.service, action=f"stopping {record.job_name}", region=record.region,
                        job=record.job_name)
        if err is exc:
            raise
        raise err from None
    return status(session, record)


def fetch(session, record: JobRecord, rows: pd.DataFrame | None = None, *,
          store: JobStore | None = None) -> JobResult:
    """Read a finished job's output and join it to the rows sent.

    Args:
        session: an :class:`core.aws.session.AwsSession`.
        record: the job.
        rows: the rows to join to (default: those saved in ``store`` with the job).
        store: the job store.

    Raises:
        ConfigError: the job has not finished (the message gives its status).
        JobFailedError: the job failed (with its failure reason).
    """
    kind = kind_of(record)
    if rows is None:
        rows = (store or JobStore()).rows(record)
    try:
        return kind.fetch(session, record, rows)
    except Exception as exc:  # noqa: BLE001
        err = translate(exc, service=kind.service, action=f"reading the results of {record.job_name}",
                        region=record.region, job=record.job_name)
        if err is exc:
            raise
        raise err from None


def require_fetchable(st: JobStatus, record: JobRecord) -> None:
    """Raise a clear error unless ``st`` says the output can be read."""
    from core.aws.errors import job_failed

    kind = kind_of(record)
    if st.state == "failed":
        raise job_failed(kind.service, record.job_name, st.message, role_arn=record.role_arn or None,
                         bucket=record.staging_uri[5:].split("/", 1)[0] if record.staging_uri else None)
    if not st.fetchable:
        raise ConfigError(f"job {record.job_name} has no results yet: {st.describe()}. Check again later with "
                          f"`python -m core aws status {record.job_name}`.")


def join_rows(rows: pd.DataFrame | None, results: pd.DataFrame, on: str = "row") -> tuple[pd.DataFrame, list[str]]:
    """Left-join the rows sent with the results on ``row``; notes count results missing or unknown.

    Returns:
        ``(table, notes)``: one line per row sent (results in their columns, empty when missing).
    """
    notes: list[str] = []
    if rows is None:
        notes.append("The rows sent are not recorded on this machine: results are shown by row number only.")
        return results.sort_values(on).reset_index(drop=True), notes
    extra = set(results[on]) - set(rows[on])
    if extra:
        raise DataError(f"the output has {len(extra)} result(s) for rows that were not sent (e.g. row "
                        f"{sorted(extra)[0]}): it does not belong to this job's input.")
    table = rows.merge(results, on=on, how="left", validate="one_to_one")
    missing = int((~rows[on].isin(results[on])).sum())
    if missing:
        notes.append(f"{missing:,} of {len(rows):,} rows have no result in the output.")
    return table, notes


def describe_record(record: JobRecord) -> dict[str, Any]:
    """A record as a flat dict for display (no credentials: there are none in it)."""
    return {"job": record.job_name, "kind": record.kind, "region": record.region, "id": record.job_id,
            "submitted": record.submitted_at, "input": record.staging_uri, "output": record.output_uri}
