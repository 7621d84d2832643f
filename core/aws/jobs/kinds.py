"""The job-kind registry: :class:`JobKind` (how to describe, stop and fetch one kind of job),
:data:`KINDS`, :func:`register_kind` and :func:`kind_of`, and :func:`call` to send one request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from core.aws.dryrun import Request
from core.aws.jobs.records import JobRecord, JobResult, JobStatus
from core.errors import ConfigError


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
