"""``python -m core aws ...``: run the work on AWS services, or see exactly what would be sent.

Actions::

    python -m core aws train-linear-learner --data train.csv (--text-column C --label-column L | --target T)
        [--test test.csv] [--format auto|recordio|csv] [--epochs 15] [--instance-type ml.m5.large] ...
    python -m core aws transform --training-job NAME --data new.csv [--train-data ... as above]
    python -m core aws bedrock-batch (--prompts prompts.jsonl | --data table.csv --text-column C --label-column L)
        [--model ID] [--max-tokens N] [--limit N]
    python -m core aws comprehend-job --data file.csv --text-column C [--label-column L] [--language ja]
    python -m core aws status JOB [--wait]      python -m core aws fetch JOB [--out results.csv]
    python -m core aws cancel JOB               python -m core aws jobs
    python -m core aws cleanup JOB --yes

Every action takes ``--dry-run [DIR]``: nothing is sent; the exact S3 objects and request bodies
are written to DIR (default ``./crossroads-dry-run/<job name>``) with ``plan.json`` (sizes, the cost
and time estimate). A dry run needs no AWS account: without ``--bucket``/``--role``/``--region`` it
uses AWS's documentation placeholders (bucket ``amzn-s3-demo-bucket``, account 111122223333,
``us-east-1``). A real run needs ``--bucket`` and ``--role``; credentials come only from boto3's
default chain (``--profile`` picks a profile).

Bad input or an AWS error: one ``error: ...`` line, exit status 2 (see :mod:`core.cli`).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from core.errors import ConfigError

SERVICES = {"train-linear-learner": "sagemaker", "transform": "sagemaker", "bedrock-batch": "bedrock",
            "comprehend-job": "comprehend"}


def register(subparsers) -> None:
    """Add the ``aws`` sub-command (and its actions) to ``python -m core``."""
    p = subparsers.add_parser(
        "aws", help="run training, scoring, batch LLM and sentiment jobs on AWS (or --dry-run them)",
        description="Run the same work on SageMaker Linear Learner, SageMaker batch transform, Bedrock batch "
                    "inference and Comprehend sentiment jobs. The cost is estimated first; --dry-run writes "
                    "exactly what would be sent to a local folder, with no AWS account needed.")
    sub = p.add_subparsers(dest="aws_action", metavar="ACTION", parser_class=type(p))
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])

    t = sub.add_parser("train-linear-learner", help="train SageMaker Linear Learner on features built here",
                       description="Build the features locally (text: the intent classifier's TF-IDF; table: the Data "
                                   "& Models preprocessing), stage train/validation/test channels and create a "
                                   "Linear Learner training job.")
    _feature_args(t)
    t.add_argument("--test", metavar="PATH", help="a separate test table (default: a stratified 20%% hold-out)")
    t.add_argument("--format", default="auto", choices=["auto", "recordio", "csv"],
                   help="recordIO-protobuf (sparse for text) or label-first CSV; auto: recordio for text, csv for tables")
    t.add_argument("--epochs", type=int, default=15, help="passes over the data (default 15)")
    t.add_argument("--mini-batch-size", type=int, default=None, help="default min(1000, training rows)")
    t.add_argument("--max-runtime-minutes", type=int, default=60, help="the job is stopped after this (default 60)")
    _instance_args(t)
    t.add_argument("--local-baseline", dest="local_baseline", action="store_true", default=None,
                   help="also train the local linear model on the same rows (default: on for real runs)")
    t.add_argument("--no-local-baseline", dest="local_baseline", action="store_false")
    _common(t)
    t.set_defaults(func=run_train)

    x = sub.add_parser("transform", help="score a file with a trained Linear Learner (SageMaker batch transform)",
                       description="Create a model from a Linear Learner training job and a batch transform job that "
                                   "scores a file; predictions join back to your rows.")
    x.add_argument("--training-job", required=True, metavar="NAME", help="the Linear Learner training job")
    x.add_argument("--data", required=True, metavar="PATH", help="the table to score")
    x.add_argument("--model-artifact", metavar="S3URI", help="model.tar.gz (default: the training job's output)")
    x.add_argument("--train-data", metavar="PATH", help="the training table, when the training job is not recorded "
                   "on this machine (with the same --text-column/--label-column or --target)")
    x.add_argument("--text-column", metavar="COL")
    x.add_argument("--label-column", metavar="COL")
    x.add_argument("--target", metavar="COL")
    x.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    x.add_argument("--format", default=None, choices=["recordio", "csv"], help="default: the training job's")
    x.add_argument("--limit", type=int, metavar="N", help="score only the first N rows")
    _instance_args(x)
    _common(x)
    x.set_defaults(func=run_transform)

    b = sub.add_parser("bedrock-batch", help="run prompts or a labelled table as a Bedrock batch inference job",
                       description="Converse-format JSONL records with a recordId; results join back by recordId. "
                                   "A labelled table becomes a classification job whose answer is constrained to "
                                   "the table's labels (choose_label tool).")
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompts", metavar="PATH", help="JSONL: one {\"prompt\"|\"messages\"|\"modelInput\", ...} "
                     "per line (optional \"system\", \"id\", \"label\")")
    src.add_argument("--data", metavar="PATH", help="a labelled table (with --text-column and --label-column)")
    b.add_argument("--text-column", metavar="COL")
    b.add_argument("--label-column", metavar="COL")
    b.add_argument("--model", default=None, metavar="ID", help="Bedrock model ID or inference profile "
                   "(default us.anthropic.claude-haiku-4-5-20251001-v1:0)")
    b.add_argument("--max-tokens", type=int, default=None, help="default 64 for a table, 512 for prompts")
    b.add_argument("--temperature", type=float, default=None)
    b.add_argument("--system", default=None, help="system prompt for --prompts lines without one")
    b.add_argument("--limit", type=int, metavar="N", help="only the first N rows or prompts")
    b.add_argument("--timeout-hours", type=int, default=24, help="24-168 (default 24)")
    _common(b)
    b.set_defaults(func=run_bedrock)

    c = sub.add_parser("comprehend-job", help="sentiment of a large file as an Amazon Comprehend job",
                       description="One document per line; results read from output.tar.gz in the Sentiment / "
                                   "SentimentScore schema of the Sentiment page.")
    c.add_argument("--data", required=True, metavar="PATH")
    c.add_argument("--text-column", required=True, metavar="COL")
    c.add_argument("--label-column", metavar="COL", help="reference labels, for accuracy after fetch")
    c.add_argument("--language", default="auto", help="a Comprehend code (en, ja, ...) or auto (majority language)")
    c.add_argument("--limit", type=int, metavar="N")
    _common(c)
    c.set_defaults(func=run_comprehend)

    for name, helptext, func in (("status", "the job's state, progress and elapsed time", run_status),
                                 ("fetch", "read a finished job's results, joined to your rows", run_fetch),
                                 ("cancel", "stop a running job (staged files are kept)", run_cancel)):
        s = sub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        s.add_argument("job", metavar="JOB", help="job name, ID or ARN")
        s.add_argument("--kind", choices=["linear-learner-training", "linear-learner-transform", "bedrock-batch",
                                          "comprehend-sentiment"],
                       help="for a job not recorded on this machine: its kind (then --region)")
        s.add_argument("--region", help="AWS region")
        s.add_argument("--profile", help="AWS profile (default: boto3's default chain)")
        s.add_argument("--dry-run", nargs="?", const="", default=None, metavar="DIR",
                       help="write the request that would be sent to DIR instead of sending it")
        s.add_argument("--json", action="store_true", help="print JSON")
        if name == "status":
            s.add_argument("--wait", action="store_true", help="poll until the job ends")
            s.add_argument("--poll", type=float, default=30.0, help="seconds between polls (default 30)")
            s.add_argument("--timeout", type=float, default=None, help="stop waiting after this many seconds")
        if name == "fetch":
            s.add_argument("--out", metavar="CSV", help="write the joined results as CSV")
        s.set_defaults(func=func)

    j = sub.add_parser("jobs", help="list the jobs recorded on this machine")
    j.add_argument("--json", action="store_true")
    j.set_defaults(func=run_jobs)

    d = sub.add_parser("cleanup", help="delete a job's staged input files from S3 (asks for --yes)")
    d.add_argument("job", metavar="JOB")
    d.add_argument("--yes", action="store_true", help="confirm the deletion")
    d.add_argument("--profile")
    d.add_argument("--region")
    d.set_defaults(func=run_cleanup)


def _feature_args(p) -> None:
    p.add_argument("--data", required=True, metavar="PATH", help="the labelled table")
    p.add_argument("--text-column", metavar="COL", help="text column (text classification)")
    p.add_argument("--label-column", metavar="COL", help="label column (text classification)")
    p.add_argument("--target", metavar="COL", help="column to predict (tables)")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"])
    p.add_argument("--limit", type=int, metavar="N", help="use only the first N rows")


def _instance_args(p) -> None:
    p.add_argument("--instance-type", default="ml.m5.large", help="default ml.m5.large")
    p.add_argument("--instance-count", type=int, default=1)


def _common(p) -> None:
    p.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    p.add_argument("--profile", help="AWS profile (default: boto3's default chain)")
    p.add_argument("--bucket", help="S3 bucket for staging (s3://bucket/prefix also accepted)")
    p.add_argument("--prefix", default=None, help="key prefix in the bucket (default crossroads)")
    p.add_argument("--role", metavar="ARN", help="the service role the job runs with")
    p.add_argument("--job-name", default=None, help="default crossroads-<kind>-<time>-<random>")
    p.add_argument("--dry-run", nargs="?", const="", default=None, metavar="DIR",
                   help="send nothing: write the S3 objects and request bodies to DIR "
                        "(default ./crossroads-dry-run/<job name>)")
    p.add_argument("--json", action="store_true", help="print the plan (dry run) or the job record as JSON")


# --------------------------------------------------------------------------------------- shared steps

def _session(args):
    from core.aws.session import AwsSession

    return AwsSession(profile=getattr(args, "profile", None), region=getattr(args, "region", None))


def _settings(args, service: str) -> tuple[object, str, object, str, list[str]]:
    """(session, region, staging, role ARN, notes); dry runs fill placeholders, real runs require values."""
    from core.aws.dryrun import PLACEHOLDER_BUCKET, PLACEHOLDER_REGION, PLACEHOLDER_ROLES
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


def _prepare(args, frame, test=None):
    from core.aws.sagemaker_linear_learner import prepare_table, prepare_text

    if args.target and (args.text_column or args.label_column):
        raise ConfigError("give either --target (a table) or --text-column and --label-column (texts), not both.")
    if args.target:
        return prepare_table(frame, args.target, task=args.task, test_df=test)
    if not (args.text_column and args.label_column):
        raise ConfigError("give --text-column and --label-column (texts) or --target (a table).")
    return prepare_text(frame, args.text_column, args.label_column, test_df=test)


# --------------------------------------------------------------------------------------- actions

def run_train(args) -> int:
    """``aws train-linear-learner``."""
    from core.aws.jobs import make_job_name
    from core.aws.sagemaker_linear_learner import local_baseline, plan_training

    session, region, staging, role, notes = _settings(args, "sagemaker")
    if args.epochs < 1:
        raise ConfigError("--epochs must be at least 1.")
    prep = _prepare(args, _load(args.data, args.limit), _load(args.test) if args.test else None)
    want_local = args.local_baseline if args.local_baseline is not None else args.dry_run is None
    local = None
    if want_local:
        print("Training the local linear model on the same rows (for the comparison)...", file=sys.stderr)
        local = local_baseline(prep)
    job_name = args.job_name or make_job_name("ll-train")
    plan = plan_training(prep, staging=staging, role_arn=role, region=region, fmt=args.format,
                         instance_type=args.instance_type, instance_count=args.instance_count, epochs=args.epochs,
                         mini_batch_size=args.mini_batch_size, max_runtime_seconds=args.max_runtime_minutes * 60,
                         local=local, folder=_folder(args, job_name), job_name=job_name)
    _info(args, f"{prep.predictor_type}: {plan.meta['n_train']:,} train, {plan.meta['n_validation']:,} validation, "
          f"{plan.meta['n_test']:,} test rows; feature_dim {prep.feature_dim:,}; format {plan.meta['format']}.")
    if local:
        m = local["metrics"]
        if "accuracy" in m:
            _info(args, f"Local {local['model']}: accuracy {m['accuracy']:.3f} (95% CI {m['ci95'][0]:.3f}-{m['ci95'][1]:.3f}, "
                  f"n={m['n']:,}) on the test rows.")
        else:
            _info(args, f"Local {local['model']}: RMSE {m['rmse']:.4g}, R² {m['r2']:.3f} (n={m['n']:,}) on the test rows.")
    return _finish(args, plan, session, notes)


def run_transform(args) -> int:
    """``aws transform``."""
    from core.aws.jobs import JobRecord, JobStore, make_job_name
    from core.aws.sagemaker_linear_learner import TRAIN_KIND, plan_transform, plan_training

    session, region, staging, role, notes = _settings(args, "sagemaker")
    store = JobStore()
    training = store.find(args.training_job)
    rows = store.rows(training) if training else None
    if training is None or rows is None:
        if not args.train_data:
            raise ConfigError(f"the training job {args.training_job!r} is not recorded on this machine: give "
                              "--train-data with the same --text-column/--label-column or --target it was trained "
                              "with, so the same features can be rebuilt.")
        prep = _prepare(args, _load(args.train_data))
        tplan = plan_training(prep, staging=staging, role_arn=role, region=region,
                              fmt=args.format or "auto", job_name=args.training_job,
                              folder=Path(_tmpdir()))
        shutil.rmtree(tplan.folder, ignore_errors=True)
        training = JobRecord(TRAIN_KIND, args.training_job, args.training_job, region, meta=tplan.meta)
        rows = tplan.rows
        notes.append("Features rebuilt from --train-data (the training job is not recorded on this machine).")
    job_name = args.job_name or make_job_name("ll-score")
    plan = plan_transform(training, rows, _load(args.data, args.limit), staging=staging, role_arn=role, region=region,
                          model_artifact=args.model_artifact, fmt=args.format, instance_type=args.instance_type,
                          instance_count=args.instance_count, folder=_folder(args, job_name), job_name=job_name)
    _info(args, f"Scoring {plan.meta['n_records']:,} rows with the model of {training.job_name} "
          f"({plan.meta['model_artifact']}).")
    return _finish(args, plan, session, notes)


def _tmpdir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="crossroads-")


def run_bedrock(args) -> int:
    """``aws bedrock-batch``."""
    import pandas as pd

    from core.aws.bedrock_batch import (DEFAULT_MODEL_ID, classification_records, plan_bedrock_batch,
                                        record_id_for, records_from_jsonl)
    from core.aws.jobs import make_job_name

    session, region, staging, role, notes = _settings(args, "bedrock")
    model = args.model or DEFAULT_MODEL_ID
    labels = None
    if args.prompts:
        records, rows = records_from_jsonl(args.prompts, model_id=model, max_tokens=args.max_tokens or 512,
                                           temperature=args.temperature, system=args.system)
        if args.limit:
            records, rows = records[:args.limit], rows.head(args.limit)
        if rows["label"].notna().any():
            labels = sorted(rows["label"].dropna().unique().tolist())
    else:
        if not (args.text_column and args.label_column):
            raise ConfigError("with --data, give --text-column and --label-column (the labels the model chooses from).")
        frame = _load(args.data, args.limit)
        for col in (args.text_column, args.label_column):
            if col not in frame.columns:
                raise ConfigError(f"no column {col!r}; the columns are {[str(c) for c in frame.columns]}.")
        keep = frame[args.text_column].notna() & frame[args.label_column].notna()
        keep &= frame[args.text_column].astype(str).str.strip().ne("")
        sub = frame[keep]
        if (~keep).any():
            notes.append(f"{int((~keep).sum()):,} row(s) without a text or a label are not sent.")
        from core.aws.sagemaker_linear_learner.features import _label_text

        truth = [_label_text(v) for v in sub[args.label_column].tolist()]
        labels = sorted(set(truth))
        positions = [int(i) for i in range(len(frame)) if keep.iloc[i]]
        records = classification_records(sub[args.text_column].astype(str).tolist(), labels, positions,
                                         model_id=model, max_tokens=args.max_tokens or 64,
                                         temperature=0.0 if args.temperature is None else args.temperature)
        rows = pd.DataFrame({"row": positions, "recordId": [record_id_for(p) for p in positions],
                             "text": sub[args.text_column].astype(str).tolist(), "label": truth})
    job_name = args.job_name or make_job_name("bedrock-batch")
    plan = plan_bedrock_batch(records, staging=staging, role_arn=role, region=region, model_id=model,
                              folder=_folder(args, job_name), job_name=job_name, rows=rows,
                              timeout_hours=args.timeout_hours, labels=labels)
    _info(args, f"{len(records):,} records for {model}" + (f", answers constrained to {len(labels)} labels" if labels and
                                                      not args.prompts else "") + ".")
    return _finish(args, plan, session, notes)


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
