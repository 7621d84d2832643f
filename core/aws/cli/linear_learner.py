"""``python -m core aws train-linear-learner`` and ``aws transform``: SageMaker Linear Learner training
on features built here, and batch transform scoring with a trained model."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from core.aws.cli.common import _finish, _folder, _info, _load, _settings
from core.errors import ConfigError


def _prepare(args, frame, test=None):
    from core.aws.sagemaker_linear_learner import prepare_table, prepare_text

    if args.target and (args.text_column or args.label_column):
        raise ConfigError("give either --target (a table) or --text-column and --label-column (texts), not both.")
    if args.target:
        return prepare_table(frame, args.target, task=args.task, test_df=test)
    if not (args.text_column and args.label_column):
        raise ConfigError("give --text-column and --label-column (texts) or --target (a table).")
    return prepare_text(frame, args.text_column, args.label_column, test_df=test)


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
    from core.aws.sagemaker_linear_learner import (
        TRAIN_KIND,
        plan_training,
        plan_transform,
    )

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
