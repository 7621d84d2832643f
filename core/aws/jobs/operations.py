"""What is done to a job, dispatched through its kind: :func:`submit`, :func:`resolve_job`,
:func:`status`, :func:`wait`, :func:`cancel`, :func:`fetch` and :func:`require_fetchable`."""

from __future__ import annotations

import time
from typing import Callable

import pandas as pd

from core.aws.dryrun import JobPlan, jsonable
from core.aws.errors import translate
from core.aws.jobs.helpers import utcnow
from core.aws.jobs.kinds import KINDS, _load_kinds, call, kind_of
from core.aws.jobs.records import JobRecord, JobResult, JobStatus
from core.aws.jobs.store import JobStore
from core.aws.staging import check_bucket, upload
from core.errors import ConfigError


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
