"""Small helpers shared by the job kinds: the current time, job names, elapsed seconds, Parquet-safe
frames and joining results back to the rows sent."""

from __future__ import annotations

import datetime as dt
import re
import secrets

import pandas as pd

from core.errors import DataError


def utcnow() -> dt.datetime:
    """The current time, timezone-aware (UTC)."""
    return dt.datetime.now(dt.timezone.utc)


def make_job_name(kind: str, now: dt.datetime | None = None, suffix: str | None = None) -> str:
    """A unique job name valid for SageMaker, Bedrock and Comprehend: ``crossroads-<kind>-YYYYMMDD-HHMMSS-xxxx``."""
    now = now or utcnow()
    tag = re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-")[:20]
    return f"crossroads-{tag}-{now:%Y%m%d-%H%M%S}-{suffix or secrets.token_hex(2)}"


def parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose object columns hold only strings or ``None`` (Parquet needs one type per column)."""
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))
    return out


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
