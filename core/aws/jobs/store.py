"""The on-disk :class:`JobStore`: job records and the rows to join back, so a job can be resumed by its
name or ID. Never credentials."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd

from core.aws.jobs.helpers import parquet_safe
from core.aws.jobs.records import JobRecord
from core.errors import ConfigError


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
