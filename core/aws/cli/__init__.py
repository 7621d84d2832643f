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

This module holds the argument parsing (:func:`register` and the shared options); the actions live in
:mod:`~core.aws.cli.linear_learner` (train, transform), :mod:`~core.aws.cli.bedrock`,
:mod:`~core.aws.cli.comprehend` and :mod:`~core.aws.cli.follow` (status, fetch, cancel, jobs, cleanup),
with the shared submit steps in :mod:`~core.aws.cli.common`.
"""

from __future__ import annotations

from core.aws.cli.bedrock import run_bedrock
from core.aws.cli.comprehend import run_comprehend
from core.aws.cli.follow import run_cancel, run_cleanup, run_fetch, run_jobs, run_status
from core.aws.cli.linear_learner import run_train, run_transform

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


__all__ = ["SERVICES", "register", "run_bedrock", "run_cancel", "run_cleanup", "run_comprehend", "run_fetch",
           "run_jobs", "run_status", "run_train", "run_transform"]
