"""Past one machine: the same work on AWS services, with the cost shown first and a dry run.

UI-free (never imports Streamlit). Modules, by concern:

- :mod:`core.aws.session` – boto3 clients from the default credential chain (profile, region); never
  logs or shows credentials.
- :mod:`core.aws.staging` – the S3 staging location (bucket + prefix), uploads, reading outputs,
  deleting staged files only when confirmed.
- :mod:`core.aws.dryrun` – :class:`~core.aws.dryrun.JobPlan` (the exact files and requests) and the
  dry run that writes them to a local folder.
- :mod:`core.aws.jobs` – submit → job ID, status with progress and elapsed time, wait, resume by job
  ID (a local :class:`~core.aws.jobs.JobStore`), cancel, fetch results joined to the user's rows.
- :mod:`core.aws.recordio` – recordIO-protobuf (sparse or dense) and label-first CSV writers.
- :mod:`core.aws.sagemaker_linear_learner` – Linear Learner training on locally built features, batch
  transform, metrics beside the local linear model.
- :mod:`core.aws.bedrock_batch` – Bedrock batch inference in the Converse format (generic
  :func:`~core.aws.bedrock_batch.build_record`), joined by ``recordId``; its records, planning and
  output reading live in :mod:`core.aws.bedrock_records`, :mod:`core.aws.bedrock_plan` and
  :mod:`core.aws.bedrock_output` (all re-exported by :mod:`core.aws.bedrock_batch`).
- :mod:`core.aws.comprehend_job` – Comprehend sentiment jobs, results in ``core.sentiment``'s schema.
- :mod:`core.aws.pricing` – estimates from dated price files (``aws_prices.json``, ``quotas.json``).
- :mod:`core.aws.errors` – clear, fixable messages (bucket, role, trust, region, quota, failed job).
- :mod:`core.aws.cli` – ``python -m core aws ...``.

Typical use::

    from core.aws.session import AwsSession
    from core.aws.staging import S3Location
    from core.aws import bedrock_batch as bb, jobs
    recs = bb.classification_records(texts, labels)
    plan = bb.plan_bedrock_batch(recs, staging=S3Location.make("my-bucket"), role_arn=ROLE, region="us-east-1")
    print(plan.estimate.describe())
    record = jobs.submit(AwsSession(region="us-east-1"), plan)       # or dryrun.write_dry_run(plan)
    jobs.wait(session, record, on_status=print); result = jobs.fetch(session, record)
"""
