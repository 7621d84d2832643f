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

This package re-exports everything from its modules: :mod:`~core.aws.jobs.records` (records,
status, result), :mod:`~core.aws.jobs.store` (the job store), :mod:`~core.aws.jobs.kinds` (the kind
registry), :mod:`~core.aws.jobs.operations` (submit, status, wait, cancel, fetch) and
:mod:`~core.aws.jobs.helpers` (job names, elapsed time, Parquet-safe frames, joining rows).
"""

from __future__ import annotations

from core.aws.jobs.helpers import (
    elapsed,
    join_rows,
    make_job_name,
    parquet_safe,
    utcnow,
)
from core.aws.jobs.kinds import (
    KINDS,
    JobKind,
    _load_kinds,  # noqa: F401 - private, kept importable from here
    call,
    kind_of,
    register_kind,
)
from core.aws.jobs.operations import (
    cancel,
    fetch,
    require_fetchable,
    resolve_job,
    status,
    submit,
    wait,
)
from core.aws.jobs.records import (
    DONE_STATES,
    FETCHABLE_STATES,
    STATES,
    JobRecord,
    JobResult,
    JobStatus,
    describe_record,
)
from core.aws.jobs.store import JobStore, default_jobs_dir

__all__ = ["DONE_STATES", "FETCHABLE_STATES", "KINDS", "STATES", "JobKind", "JobRecord", "JobResult", "JobStatus",
           "JobStore", "call", "cancel", "default_jobs_dir", "describe_record", "elapsed", "fetch", "join_rows",
           "kind_of", "make_job_name", "parquet_safe", "register_kind", "require_fetchable", "resolve_job",
           "status", "submit", "utcnow", "wait"]
