"""``python -m core aws comprehend-job``: sentiment of a large file as an Amazon Comprehend job."""

from __future__ import annotations

from core.aws.cli.common import _finish, _folder, _info, _load, _settings
from core.errors import ConfigError


def run_comprehend(args) -> int:
    """``aws comprehend-job``."""
    from core.aws.comprehend_job import plan_comprehend_job
    from core.aws.jobs import make_job_name

    session, region, staging, role, notes = _settings(args, "comprehend")
    frame = _load(args.data, args.limit)
    for col in [args.text_column] + ([args.label_column] if args.label_column else []):
        if col not in frame.columns:
            raise ConfigError(f"no column {col!r}; the columns are {[str(c) for c in frame.columns]}.")
    job_name = args.job_name or make_job_name("comprehend")
    labels = frame[args.label_column].tolist() if args.label_column else None
    plan = plan_comprehend_job(frame[args.text_column].tolist(), staging=staging, role_arn=role, region=region,
                               language=args.language, labels=labels, folder=_folder(args, job_name),
                               job_name=job_name)
    _info(args, f"{plan.meta['n_documents']:,} documents in {plan.meta['language']}, "
          f"{len(plan.objects)} file(s).")
    return _finish(args, plan, session, notes)
