"""``python -m core aws status|fetch|cancel|jobs|cleanup``: follow, read, stop, list and clean up jobs
already submitted (recorded on this machine, or looked up with ``--kind``); dry runs write the request."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.aws.cli.common import _session
from core.errors import ConfigError


def _job_session(args):
    """(session, record) for status/fetch/cancel: the recorded job's region and profile unless overridden."""
    from core.aws.jobs import JobStore, resolve_job
    from core.aws.session import AwsSession

    rec = JobStore().find(args.job)
    if rec is not None:
        return AwsSession(profile=args.profile or rec.profile, region=args.region or rec.region), rec
    session = _session(args)
    return session, resolve_job(args.job, session=session, kind=args.kind)


def _dry_request(args, request) -> int:
    folder = Path(args.dry_run) if args.dry_run else Path("crossroads-dry-run") / "requests"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{request.operation}.json"
    path.write_text(request.to_json(), encoding="utf-8")
    print(f"Dry run: nothing was sent. Wrote {path}:")
    print(request.to_json(), end="")
    return 0


def _dry_record(args):
    """The record for a dry run of status/fetch/cancel: from the store, else built from --kind."""
    from core.aws.jobs import JobRecord, JobStore

    rec = JobStore().find(args.job)
    if rec is None:
        if not args.kind:
            raise ConfigError(f"{args.job!r} is not recorded on this machine: add --kind to dry-run its request.")
        rec = JobRecord(args.kind, args.job, args.job, args.region or "us-east-1")
    return rec


def run_status(args) -> int:
    """``aws status JOB``."""
    from core.aws.jobs import kind_of, status, wait

    if args.dry_run is not None:
        rec = _dry_record(args)
        return _dry_request(args, kind_of(rec).describe_request(rec))
    session, record = _job_session(args)
    if args.wait:
        st = wait(session, record, poll_seconds=args.poll, timeout_seconds=args.timeout,
                  on_status=lambda s: None if args.json else print(s.describe(), flush=True))
    else:
        st = status(session, record)
        if not args.json:
            print(st.describe())
    if args.json:
        print(json.dumps(st.to_dict(), indent=2, ensure_ascii=False))
    if st.state == "failed":
        from core.aws.jobs import require_fetchable

        require_fetchable(st, record)  # raises JobFailedError with the reason and a fix
    return 0


def run_fetch(args) -> int:
    """``aws fetch JOB``."""
    from core.aws.jobs import fetch, kind_of
    from core.export import to_csv_bytes, to_json_bytes

    if args.dry_run is not None:
        rec = _dry_record(args)
        return _dry_request(args, kind_of(rec).describe_request(rec))
    session, record = _job_session(args)
    result = fetch(session, record)
    if args.out:
        Path(args.out).write_bytes(to_csv_bytes(result.table))
    if args.json:
        sys.stdout.write(to_json_bytes({"job": record.job_name, "summary": result.summary, "notes": result.notes,
                                        "files": result.files}).decode("utf-8") + "\n")
        return 0
    print(f"{record.job_name}: read {len(result.files)} file(s); {len(result.table):,} row(s).")
    _print_summary(result.summary)
    for n in result.notes:
        print(f"Note: {n}")
    if args.out:
        print(f"Wrote {args.out}.")
    elif len(result.table):
        print(result.table.head(10).to_string(max_colwidth=40))
    return 0


def _print_summary(summary: dict) -> None:
    for key in ("linear_learner", "local"):
        if summary.get(key):
            m = summary[key]["metrics"] if key == "local" else summary[key]
            name = "Linear Learner" if key == "linear_learner" else summary[key]["model"]
            if m.get("accuracy") is not None:
                ci = m.get("ci95") or [float("nan")] * 2
                print(f"{name}: accuracy {m['accuracy']:.3f} (95% CI {ci[0]:.3f}-{ci[1]:.3f}, n={m['n']:,})")
            elif m.get("rmse") is not None:
                print(f"{name}: RMSE {m['rmse']:.4g} (n={m['n']:,})")
    if summary.get("verdict"):
        print(summary["verdict"])
    acc = summary.get("accuracy")
    if acc:
        print(f"Accuracy {acc['accuracy']:.3f} (95% CI {acc['ci95'][0]:.3f}-{acc['ci95'][1]:.3f}, n={acc['n']:,})")
    if summary.get("usd") is not None:
        print(f"Actual cost: about USD {summary['usd']:,.4f}")


def run_cancel(args) -> int:
    """``aws cancel JOB``."""
    from core.aws.jobs import cancel, kind_of

    if args.dry_run is not None:
        rec = _dry_record(args)
        return _dry_request(args, kind_of(rec).stop_request(rec))
    session, record = _job_session(args)
    st = cancel(session, record)
    print(json.dumps(st.to_dict(), indent=2) if args.json else
          f"Stop requested. {st.describe()} Staged files were kept: {record.staging_uri}")
    return 0


def run_jobs(args) -> int:
    """``aws jobs``: the jobs recorded on this machine."""
    from core.aws.jobs import JobStore, describe_record

    recs = JobStore().list()
    if args.json:
        print(json.dumps([describe_record(r) for r in recs], indent=2))
        return 0
    if not recs:
        print(f"No AWS jobs recorded in {JobStore().directory}.")
        return 0
    for r in recs:
        d = describe_record(r)
        print(f"{d['job']}  {d['kind']}  {d['region']}  submitted {d['submitted']}")
    return 0


def run_cleanup(args) -> int:
    """``aws cleanup JOB --yes``: delete exactly the files staged for a job."""
    from core.aws.jobs import JobStore
    from core.aws.staging import delete_staged

    record = JobStore().load(args.job)
    if not args.yes:
        print(f"{len(record.staged)} staged file(s) of {record.job_name} would be deleted:")
        for u in record.staged:
            print(f"  {u}")
        print("Nothing was deleted. Run again with --yes to delete them (outputs are kept).")
        return 0
    from core.aws.session import AwsSession

    session = AwsSession(profile=args.profile or record.profile, region=args.region or record.region)
    n = delete_staged(session, record.staged, confirm=True)
    print(f"Deleted {n} staged file(s) of {record.job_name}; the output in {record.output_uri} is kept.")
    return 0
