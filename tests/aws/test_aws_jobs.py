"""What every AWS job shares: the job store (resume by ID), polling, cancel, staging checks, errors, the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pandas as pd
import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from aws_helpers import BUCKET, REGION, ROLE_CO, SECRET, aws_env, moto_aws, s3_keys, s3_put, stubbed  # noqa: F401
from core.aws import jobs
from core.aws.errors import translate
from core.aws.session import AwsSession
from core.aws.staging import S3Location, check_bucket, delete_staged, parse_s3_uri
from core.cli import main
from core.errors import ConfigError, ProviderError

ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/zz9job"


def _record(**kw) -> jobs.JobRecord:
    base = dict(kind="bedrock-batch", job_name="crossroads-bedrock-x", job_id=ARN, region=REGION,
                submitted_at="2026-12-03T09:00:00+00:00", staging_uri=f"s3://{BUCKET}/runs/crossroads-bedrock-x",
                staged=[f"s3://{BUCKET}/runs/crossroads-bedrock-x/input/records-00000.jsonl"],
                output_uri=f"s3://{BUCKET}/runs/crossroads-bedrock-x/output/", meta={"model_id": "m"})
    base.update(kw)
    return jobs.JobRecord(**base)


def test_job_store_resumes_by_name_id_or_arn_suffix(tmp_path):
    store = jobs.JobStore(tmp_path)
    rows = pd.DataFrame({"row": [0, 1], "recordId": ["R0000000000", "R0000000001"], "text": ["a", None]})
    store.save(_record(), rows)
    store.save(_record(job_name="crossroads-bedrock-older", job_id="arn:x/older", submitted_at="2026-12-01T00:00:00"))
    fresh = jobs.JobStore(tmp_path)  # a restart
    for ref in ("crossroads-bedrock-x", ARN, "zz9job"):
        assert fresh.find(ref).job_name == "crossroads-bedrock-x"
    assert [r.job_name for r in fresh.list()] == ["crossroads-bedrock-x", "crossroads-bedrock-older"]
    back = fresh.rows(fresh.find("zz9job"))
    assert back["recordId"].tolist() == ["R0000000000", "R0000000001"] and back["text"].isna().tolist() == [False, True]
    with pytest.raises(ConfigError, match="no job 'nope' is recorded.*--kind and --region"):
        fresh.load("nope")


def test_wait_polls_with_progress_and_elapsed_time(aws_env):
    br, stub = stubbed("bedrock")
    t0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)
    for status, done in (("Submitted", None), ("InProgress", 50), ("InProgress", 150), ("Completed", 200)):
        r = {"jobArn": ARN, "jobName": "crossroads-bedrock-x", "modelId": "m", "roleArn": "arn:aws:iam::1:role/r",
             "status": status, "submitTime": t0,
             "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in/"}},
             "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}}}
        if done is not None:
            r.update(processedRecordCount=done, totalRecordCount=200)
        if status == "Completed":
            r["endTime"] = t0 + timedelta(minutes=42)
        stub.add_response("get_model_invocation_job", r, {"jobIdentifier": ARN})
    seen, slept = [], []
    st = jobs.wait(AwsSession(region=REGION, clients={"bedrock": br}), _record(), poll_seconds=60,
                   on_status=seen.append, sleep=slept.append)
    assert [s.state for s in seen] == ["queued", "running", "running", "completed"]
    assert [s.progress for s in seen] == [None, 0.25, 0.75, 1.0]
    assert slept == [60, 60, 60] and st.done and st.elapsed_seconds == 42 * 60
    assert "200 of 200 records, 42 min 00 s elapsed" in st.describe()


def test_wait_gives_up_after_its_timeout_without_stopping_the_job(aws_env):
    br, stub = stubbed("bedrock")
    r = {"jobArn": ARN, "jobName": "x", "modelId": "m", "roleArn": "arn:aws:iam::1:role/r", "status": "InProgress",
         "submitTime": datetime(2026, 12, 3, tzinfo=timezone.utc),
         "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in/"}},
         "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}}}
    for _ in range(3):
        stub.add_response("get_model_invocation_job", r, {"jobIdentifier": ARN})
    st = jobs.wait(AwsSession(region=REGION, clients={"bedrock": br}), _record(), poll_seconds=30,
                   timeout_seconds=60, sleep=lambda s: None)
    assert not st.done and st.state == "running"
    stub.assert_no_pending_responses()


def test_staging_checks_bucket_existence_and_region(aws_env):
    with moto_aws():
        check_bucket(AwsSession(region=REGION), BUCKET)
        boto3.client("s3", region_name="eu-west-1").create_bucket(
            Bucket="crossroads-eu-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        with pytest.raises(ConfigError, match="is in eu-west-1 but the job runs in us-east-1"):
            check_bucket(AwsSession(region=REGION), "crossroads-eu-bucket")
        with pytest.raises(ConfigError, match="does not exist.*aws s3 mb s3://crossroads-nope"):
            check_bucket(AwsSession(region=REGION), "crossroads-nope")


def test_nothing_staged_is_deleted_without_confirmation(aws_env):
    rec = _record()
    with moto_aws():
        s3_put("runs/crossroads-bedrock-x/input/records-00000.jsonl", b"{}\n")
        s3_put("runs/crossroads-bedrock-x/output/zz9job/records-00000.jsonl.out", b"{}\n")
        session = AwsSession(region=REGION)
        with pytest.raises(ConfigError, match="without confirmation"):
            delete_staged(session, rec.staged)
        assert len(s3_keys("runs/")) == 2
        assert delete_staged(session, rec.staged, confirm=True) == 1
        assert s3_keys("runs/") == ["runs/crossroads-bedrock-x/output/zz9job/records-00000.jsonl.out"]


def test_cli_cleanup_lists_first_and_deletes_only_with_yes(aws_env, capsys):
    jobs.JobStore().save(_record())
    with moto_aws():
        s3_put("runs/crossroads-bedrock-x/input/records-00000.jsonl", b"{}\n")
        assert main(["aws", "cleanup", "crossroads-bedrock-x"]) == 0
        assert "Nothing was deleted" in capsys.readouterr().out and len(s3_keys("runs/")) == 1
        assert main(["aws", "cleanup", "crossroads-bedrock-x", "--yes"]) == 0
        assert s3_keys("runs/") == []


def test_s3_locations_are_validated():
    assert S3Location.make("s3://my-bucket/a/b/").uri("job", "input") == "s3://my-bucket/a/b/job/input"
    assert S3Location.make("my-bucket", "/x//y/").key("job") == "x/y/job"
    assert parse_s3_uri("s3://my-bucket/k/e/y") == ("my-bucket", "k/e/y")
    with pytest.raises(ConfigError, match="not a valid S3 bucket name"):
        S3Location.make("My_Bucket")
    with pytest.raises(ConfigError, match="choose an S3 bucket"):
        S3Location.make("")


def _client_error(code: str, message: str, op: str = "CreateTrainingJob", status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, op)


@pytest.mark.parametrize("exc,service,kind,words", [
    (NoCredentialsError(), "sagemaker", ProviderError, ["no AWS credentials", "--dry-run"]),
    (_client_error("ValidationException", "Could not assume role arn:aws:iam::1:role/r. Please ensure that the role "
                   "exists and allows principal 'sagemaker.amazonaws.com' to assume the role."), "sagemaker",
     ConfigError, ["cannot assume", "sagemaker.amazonaws.com", "iam:PassRole"]),
    (_client_error("ResourceLimitExceeded", "The account-level service limit 'ml.m5.large for training job usage' is "
                   "1 Instances"), "sagemaker", ProviderError, ["quota", "Service Quotas", "ml.m5.large"]),
    (_client_error("AccessDeniedException", "User is not authorized to perform: comprehend:StartSentimentDetectionJob"),
     "comprehend", ProviderError, ["access denied", "Running at scale on AWS"]),
    (_client_error("AccessDeniedException", "User: x is not authorized to perform: iam:PassRole on resource: r"),
     "comprehend", ProviderError, ["iam:PassRole"]),
    (_client_error("ValidationException", "Malformed input"), "bedrock", Exception, ["rejected the request", "--dry-run"]),
])
def test_aws_errors_become_fixable_messages(exc, service, kind, words):
    err = translate(exc, service=service, action="sending the job", region=REGION, role_arn="arn:aws:iam::1:role/r")
    assert isinstance(err, kind)
    for w in words:
        assert w in str(err)


def test_credentials_are_never_shown(aws_env):
    ok, reason = AwsSession(region=REGION).credential_status()
    assert ok and "env" in reason and SECRET not in reason and "AKIA" not in reason
    assert SECRET not in repr(AwsSession(region=REGION))


def test_status_fetch_cancel_dry_runs_write_the_request(aws_env, tmp_path, capsys):
    jobs.JobStore().save(_record(kind="comprehend-sentiment", job_name="crossroads-comprehend-x", job_id="abc123"))
    assert main(["aws", "status", "crossroads-comprehend-x", "--dry-run", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "DescribeSentimentDetectionJob.json").read_text())["params"] == {"JobId": "abc123"}
    assert main(["aws", "cancel", "abc123", "--dry-run", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "StopSentimentDetectionJob.json").read_text())["params"] == {"JobId": "abc123"}
    assert main(["aws", "status", "some-training", "--kind", "linear-learner-training", "--dry-run",
                 str(tmp_path)]) == 0
    assert json.loads((tmp_path / "DescribeTrainingJob.json").read_text())["params"] == {"TrainingJobName": "some-training"}
    assert main(["aws", "fetch", "unknown-job", "--dry-run", str(tmp_path)]) == 2
    assert "add --kind" in capsys.readouterr().err


def test_a_real_run_needs_a_bucket_and_a_role(aws_env, tmp_path, capsys):
    data = tmp_path / "t.csv"
    pd.DataFrame({"text": ["hello there"] * 3}).to_csv(data, index=False)
    assert main(["aws", "comprehend-job", "--data", str(data), "--text-column", "text", "--language", "en"]) == 2
    assert "choose an S3 bucket" in capsys.readouterr().err
    assert main(["aws", "comprehend-job", "--data", str(data), "--text-column", "text", "--language", "en",
                 "--bucket", BUCKET]) == 2
    assert "needs a service role" in capsys.readouterr().err


def test_cli_end_to_end_with_moto_submit_status_and_jobs(aws_env, tmp_path, capsys):
    data = tmp_path / "t.csv"
    pd.DataFrame({"text": ["The delivery was late.", "Thanks, great help!", "Where is my order?"]}).to_csv(data,
                                                                                                         index=False)
    with moto_aws():
        code = main(["aws", "comprehend-job", "--data", str(data), "--text-column", "text", "--language", "en",
                     "--bucket", BUCKET, "--prefix", "cli", "--role", ROLE_CO, "--job-name", "crossroads-comprehend-cli"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "Submitted comprehend-sentiment job crossroads-comprehend-cli" in out and "Estimated cost" in out
        assert s3_keys("cli/") == ["cli/crossroads-comprehend-cli/input/docs-00000.txt"]
        assert main(["aws", "status", "crossroads-comprehend-cli"]) == 0
        assert "crossroads-comprehend-cli:" in capsys.readouterr().out
        assert main(["aws", "jobs", "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert listed[0]["job"] == "crossroads-comprehend-cli" and listed[0]["kind"] == "comprehend-sentiment"
    for f in Path(jobs.default_jobs_dir()).rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes()


def test_a_job_submitted_elsewhere_is_found_through_the_service(aws_env):
    """resolve_job with --kind: the record is rebuilt from Get/Describe (Stubber for Bedrock, moto for SageMaker)."""
    br, stub = stubbed("bedrock")
    stub.add_response("get_model_invocation_job", {
        "jobArn": ARN, "jobName": "someone-elses-job", "modelId": "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "roleArn": "arn:aws:iam::123456789012:role/r", "status": "Completed",
        "submitTime": datetime(2026, 12, 1, tzinfo=timezone.utc),
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": f"s3://{BUCKET}/x/input/"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"s3://{BUCKET}/x/output/"}}}, {"jobIdentifier": "zz9job"})
    rec = jobs.resolve_job("zz9job", store=jobs.JobStore(), session=AwsSession(region=REGION, clients={"bedrock": br}),
                           kind="bedrock-batch")
    assert (rec.job_name, rec.job_id, rec.output_uri) == ("someone-elses-job", ARN, f"s3://{BUCKET}/x/output/")
    assert rec.meta["model_id"].startswith("us.anthropic")
    with moto_aws():
        boto3.client("sagemaker", region_name=REGION).create_training_job(
            TrainingJobName="elsewhere-ll", RoleArn="arn:aws:iam::123456789012:role/r",
            AlgorithmSpecification={"TrainingImage": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
                                    "TrainingInputMode": "File"},
            HyperParameters={"predictor_type": "binary_classifier"},
            OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            StoppingCondition={"MaxRuntimeInSeconds": 600})
        rec = jobs.resolve_job("elsewhere-ll", session=AwsSession(region=REGION), kind="linear-learner-training")
        assert rec.meta["predictor_type"] == "binary_classifier"
        assert rec.meta["model_artifact"] == f"s3://{BUCKET}/out/elsewhere-ll/output/model.tar.gz"
        assert jobs.status(AwsSession(region=REGION), rec).state == "completed"


def test_stop_transform_job_is_sent_as_the_api_model_expects(aws_env):
    from core.aws.sagemaker_linear_learner import TRANSFORM_KIND

    sm, stub = stubbed("sagemaker")
    rec = _record(kind=TRANSFORM_KIND, job_name="crossroads-ll-score-x", job_id="crossroads-ll-score-x")
    stub.add_response("stop_transform_job", {}, {"TransformJobName": "crossroads-ll-score-x"})
    stub.add_response("describe_transform_job", {
        "TransformJobName": "crossroads-ll-score-x", "TransformJobArn": "arn:aws:sagemaker:us-east-1:1:transform-job/x",
        "TransformJobStatus": "Stopping", "ModelName": "crossroads-ll-score-x",
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in/"}}},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "CreationTime": datetime(2026, 12, 3, tzinfo=timezone.utc)}, {"TransformJobName": "crossroads-ll-score-x"})
    st = jobs.cancel(AwsSession(region=REGION, clients={"sagemaker": sm}), rec)
    assert st.state == "stopping" and st.service_status == "Stopping"
    stub.assert_no_pending_responses()


def test_cli_fetch_writes_the_joined_results_as_escaped_csv(aws_env, tmp_path, capsys):
    import io
    import tarfile

    data = tmp_path / "t.csv"
    pd.DataFrame({"text": ["=HYPERLINK(1) bad", "Thanks, great help!"], "label": ["negative", "positive"]}).to_csv(
        data, index=False)
    with moto_aws():
        assert main(["aws", "comprehend-job", "--data", str(data), "--text-column", "text", "--label-column", "label",
                     "--language", "en", "--bucket", BUCKET, "--role", ROLE_CO, "--job-name", "crossroads-c-fetch"]) == 0
        rec = jobs.JobStore().load("crossroads-c-fetch")
        from moto.comprehend.models import comprehend_backends

        comprehend_backends["123456789012"][REGION].jobs[rec.job_id].job_status = "COMPLETED"
        lines = [{"File": "docs-00000.txt", "Line": 1, "Sentiment": "POSITIVE",
                  "SentimentScore": {"Positive": 0.9, "Negative": 0.02, "Neutral": 0.07, "Mixed": 0.01}},
                 {"File": "docs-00000.txt", "Line": 0, "Sentiment": "NEGATIVE",
                  "SentimentScore": {"Positive": 0.01, "Negative": 0.95, "Neutral": 0.03, "Mixed": 0.01}}]
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            raw = "".join(json.dumps(x) + "\n" for x in lines).encode()
            info = tarfile.TarInfo("output")
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
        s3_put(f"crossroads/crossroads-c-fetch/output/123456789012-SENTIMENT-{rec.job_id}/output/output.tar.gz",
               buf.getvalue())
        capsys.readouterr()
        out = tmp_path / "results.csv"
        assert main(["aws", "fetch", "crossroads-c-fetch", "--out", str(out)]) == 0
        said = capsys.readouterr().out
    assert "Accuracy 1.000" in said and "n=2" in said
    table = pd.read_csv(out)
    assert table["Sentiment"].tolist() == ["NEGATIVE", "POSITIVE"] and table["row"].tolist() == [0, 1]
    assert table["text"][0].startswith("'=HYPERLINK")  # exported cells escaped against formula injection


def test_dry_run_json_keeps_stdout_for_the_json(aws_env, tmp_path, capsys):
    data = tmp_path / "t.csv"
    pd.DataFrame({"text": ["hello there", "fine, thanks"]}).to_csv(data, index=False)
    assert main(["aws", "comprehend-job", "--data", str(data), "--text-column", "text", "--language", "en",
                 "--dry-run", str(tmp_path / "out"), "--json"]) == 0
    captured = capsys.readouterr()
    plan = json.loads(captured.out)
    assert plan["kind"] == "comprehend-sentiment" and plan["uploads"][0]["records"] == 2
    assert "2 documents in en" in captured.err
