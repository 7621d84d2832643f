"""Shared steps of the ``python -m core aws`` submit actions: the session, staging bucket, role and
placeholders for dry runs, reading the input table, and writing a dry run or submitting a plan."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from core.errors import ConfigError


def _session(args):
    from core.aws.session import AwsSession

    return AwsSession(profile=getattr(args, "profile", None), region=getattr(args, "region", None))


def _settings(args, service: str) -> tuple[object, str, object, str, list[str]]:
    """(session, region, staging, role ARN, notes); dry runs fill placeholders, real runs require values."""
    from core.aws.dryrun import (
        PLACEHOLDER_BUCKET,
        PLACEHOLDER_REGION,
        PLACEHOLDER_ROLES,
    )
    from core.aws.staging import S3Location

    session = _session(args)
    notes: list[str] = []
    dry = args.dry_run is not None
    try:
        region = session.region
    except ConfigError:
        if not dry:
            raise
        region = PLACEHOLDER_REGION
        notes.append(f"No region set: the dry run uses {region}.")
    bucket, role = args.bucket, args.role
    if not bucket:
        if not dry:
            raise ConfigError("choose an S3 bucket for staging with --bucket (or run with --dry-run first).")
        bucket = PLACEHOLDER_BUCKET
        notes.append(f"No --bucket: the dry run uses the placeholder {bucket}.")
    if not role:
        if not dry:
            from core.aws.errors import check_role_arn

            check_role_arn(None, service)
        role = PLACEHOLDER_ROLES[service]
        notes.append(f"No --role: the dry run uses the placeholder {role}.")
    return session, region, S3Location.make(bucket, args.prefix), role, notes


def _info(args, message: str) -> None:
    """A progress/summary line: on stdout, or on stderr when --json keeps stdout for the JSON."""
    print(message, file=sys.stderr if getattr(args, "json", False) else sys.stdout)


def _folder(args, job_name: str) -> Path | None:
    if args.dry_run is None:
        return None
    return Path(args.dry_run) if args.dry_run else Path("crossroads-dry-run") / job_name


def _load(path: str, limit: int | None = None):
    from core.io import load_table

    frame = load_table(path).frame
    if limit is not None:
        if limit < 1:
            raise ConfigError("--limit must be at least 1.")
        frame = frame.head(limit)
    return frame


def _finish(args, plan, session, notes: list[str]) -> int:
    """Dry run: write and describe the folder. Real run: submit and say how to follow the job."""
    from core.aws.dryrun import describe_dry_run, write_dry_run
    from core.aws.jobs import submit

    plan.notes = notes + plan.notes
    if args.dry_run is not None:
        folder = write_dry_run(plan)
        if args.json:
            print(json.dumps({**plan.summary(), "folder": str(folder)}, indent=2, ensure_ascii=False, default=str))
            return 0
        print(f"Dry run of {plan.kind} job {plan.job_name} in {plan.region}: nothing was sent.")
        print(f"Wrote {folder}/:")
        for f in describe_dry_run(folder):
            print(f"  {f['path']}  ({f['size']})")
        print(plan.estimate.describe())
        for n in plan.notes:
            print(f"Note: {n}")
        print("To submit it, run the same command without --dry-run, with --bucket and --role.")
        return 0
    try:
        print(plan.estimate.describe())
        for n in plan.notes:
            print(f"Note: {n}")
        record = submit(session, plan, progress=lambda msg, frac: print(msg, file=sys.stderr) if frac in (None, 0.0)
                        else None)
    finally:
        shutil.rmtree(plan.folder, ignore_errors=True)  # our temporary copy; the staged S3 files stay
    if args.json:
        print(json.dumps(record.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(f"Submitted {plan.kind} job {record.job_name} (ID {record.job_id}) in {record.region}.")
    print(f"Follow it:   python -m core aws status {record.job_name} --wait")
    print(f"Results:     python -m core aws fetch {record.job_name} --out results.csv")
    return 0
