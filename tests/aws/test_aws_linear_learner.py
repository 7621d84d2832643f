"""SageMaker Linear Learner: local features, staged channels, CreateTrainingJob / CreateTransformJob, join back."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import numpy as np
import pandas as pd
import pytest

from aws_helpers import (BUCKET, REGION, ROLE_SM, SECRET, aws_env, moto_aws, parse_recordio_file, s3_keys,  # noqa: F401
                         s3_put, stubbed)
from core.aws import jobs
from core.aws import sagemaker_linear_learner as ll
from core.aws.dryrun import write_dry_run
from core.aws.recordio import recordio_bytes
from core.aws.session import AwsSession
from core.aws.staging import S3Location
from core.cli import main
from core.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[2]
STAGING = S3Location.make(BUCKET, "runs")


@pytest.fixture(scope="module")
def queries() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "support_queries.csv")


@pytest.fixture(scope="module")
def prep(queries):
    return ll.prepare_text(queries, "text", "label", random_state=0)


def test_image_uri_comes_from_the_documented_table():
    assert ll.image_uri("us-east-1") == "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
    assert ll.image_uri("ap-northeast-1") == "351501993468.dkr.ecr.ap-northeast-1.amazonaws.com/linear-learner:1"
    assert ll.image_uri("cn-north-1").endswith(".dkr.ecr.cn-north-1.amazonaws.com.cn/linear-learner:1")
    with pytest.raises(ConfigError, match="not listed for region 'mars-1'"):
        ll.image_uri("mars-1")
    table = json.loads(ll.IMAGES_FILE.read_text())
    assert table["source"].startswith("https://docs.aws.amazon.com/") and "commit" in table["copied_from"]


def test_text_features_are_the_intent_classifiers_tfidf_with_disjoint_channels(prep, queries):
    from core.arena.classifier import IntentClassifier

    assert prep.predictor_type == "multiclass_classifier" and len(prep.classes) == 8
    union = IntentClassifier().build_pipeline().named_steps["features"]
    union.fit(prep.train.frame["text"].tolist())
    assert prep.feature_dim == len(union.get_feature_names_out())
    rows = [set(s.rows) for s in (prep.train, prep.validation, prep.test)]
    assert not (rows[0] & rows[1]) and not (rows[0] & rows[2]) and not (rows[1] & rows[2])
    assert sum(map(len, rows)) == len(queries)
    assert len(prep.test) == pytest.approx(0.2 * len(queries), abs=2)
    # every test class is represented (stratified), and labels encode sorted class names
    assert set(prep.test.y.astype(int)) == set(range(8))
    assert prep.classes == sorted(queries["label"].unique())


def test_training_dry_run_writes_exactly_the_channels_and_the_request(prep, tmp_path):
    plan = ll.plan_training(prep, staging=STAGING, role_arn=ROLE_SM, region=REGION, folder=tmp_path,
                            job_name="crossroads-ll-test", epochs=7, random_state=3)
    write_dry_run(plan)
    base = tmp_path / "s3" / BUCKET / "runs" / "crossroads-ll-test" / "input"
    train = (base / "train" / "train-00000.recordio").read_bytes()
    # byte for byte: the shuffled train rows, as written by the recordIO writer
    order = np.random.default_rng(3).permutation(len(prep.train))
    assert train == recordio_bytes(prep.train.X[order], prep.train.y[order])
    recs = parse_recordio_file(train)
    assert len(recs) == len(prep.train)
    labels = [r["label"]["values"]["values"][0] for r in recs]
    assert sorted(labels) == sorted(prep.train.y.tolist()) and labels != prep.train.y.tolist()  # shuffled
    assert all(r["features"]["values"]["shape"] == [prep.feature_dim] for r in recs)
    assert max(max(r["features"]["values"]["keys"] or [0]) for r in recs) < prep.feature_dim
    test = parse_recordio_file((base / "test" / "test-00000.recordio").read_bytes())
    assert [r["label"]["values"]["values"][0] for r in test] == prep.test.y.tolist()  # not shuffled
    req = json.loads((tmp_path / "requests" / "01-CreateTrainingJob.json").read_text())
    assert req["operation"] == "CreateTrainingJob"
    p = req["params"]
    assert p["HyperParameters"] == {"predictor_type": "multiclass_classifier", "feature_dim": str(prep.feature_dim),
                                    "mini_batch_size": str(min(1000, len(prep.train))), "epochs": "7",
                                    "normalize_data": "false", "num_classes": "8", "balance_multiclass_weights": "true"}
    assert p["AlgorithmSpecification"]["TrainingImage"] == ll.image_uri(REGION)
    assert [c["ChannelName"] for c in p["InputDataConfig"]] == ["train", "validation", "test"]
    assert p["InputDataConfig"][0]["ShuffleConfig"] == {"Seed": 3}
    assert all(c["ContentType"] == "application/x-recordio-protobuf" for c in p["InputDataConfig"])
    assert p["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == \
        f"s3://{BUCKET}/runs/crossroads-ll-test/input/train/"
    summary = json.loads((tmp_path / "plan.json").read_text())
    assert summary["staged_bytes"] == sum(u["bytes"] for u in summary["uploads"]) > 0
    assert summary["estimate"]["usd"] > 0 and summary["estimate"]["usd_max"] >= summary["estimate"]["usd"]
    # the request is valid for botocore's API model (parameter validation, as a real call would do)
    from botocore.validate import validate_parameters

    sm = boto3.client("sagemaker", region_name=REGION)
    validate_parameters(p, sm.meta.service_model.operation_model("CreateTrainingJob").input_shape)


def test_submit_with_moto_then_status_cancel_and_resume(aws_env, prep):
    with moto_aws():
        session = AwsSession(region=REGION)
        plan = ll.plan_training(prep, staging=STAGING, role_arn=ROLE_SM, region=REGION, job_name="crossroads-ll-moto")
        record = jobs.submit(session, plan)
        assert record.job_id == "crossroads-ll-moto"
        assert s3_keys("runs/crossroads-ll-moto/input/") == [
            "runs/crossroads-ll-moto/input/test/test-00000.recordio",
            "runs/crossroads-ll-moto/input/train/train-00000.recordio",
            "runs/crossroads-ll-moto/input/validation/validation-00000.recordio"]
        got = boto3.client("sagemaker", region_name=REGION).describe_training_job(TrainingJobName="crossroads-ll-moto")
        assert got["HyperParameters"]["feature_dim"] == str(prep.feature_dim)
        assert got["RoleArn"] == ROLE_SM
        # resume after a restart: a new store instance finds it by name
        again = jobs.JobStore().load("crossroads-ll-moto")
        st = jobs.status(AwsSession(region=REGION), again)
        assert st.state == "completed" and st.progress == 1.0 and st.elapsed_seconds is not None
        rows = jobs.JobStore().rows(again)
        assert set(rows["split"]) == {"train", "validation", "test"} and len(rows) == 400
        # moto has no StopTrainingJob: Stubber checks the request against the API model
        sm, stub = stubbed("sagemaker")
        stub.add_response("stop_training_job", {}, {"TrainingJobName": "crossroads-ll-moto"})
        stub.add_response("describe_training_job", _describe("Stopping", "Training"),
                          {"TrainingJobName": "crossroads-ll-moto"})
        st = jobs.cancel(AwsSession(region=REGION, clients={"sagemaker": sm}), again)
        stub.assert_no_pending_responses()
        assert st.state == "stopping" and st.phase == "Training" and st.progress == 0.5
        # nothing staged was deleted
        assert len(s3_keys("runs/crossroads-ll-moto/input/")) == 3
    job_dir = Path(jobs.default_jobs_dir()) / "crossroads-ll-moto"
    for f in job_dir.iterdir():
        assert SECRET.encode() not in f.read_bytes()


def _describe(status: str, phase: str, metrics: list | None = None, reason: str | None = None) -> dict:
    from datetime import datetime, timezone

    r = {"TrainingJobName": "crossroads-ll-moto",
         "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/crossroads-ll-moto",
         "ModelArtifacts": {"S3ModelArtifacts": f"s3://{BUCKET}/runs/x/output/model.tar.gz"},
         "TrainingJobStatus": status, "SecondaryStatus": phase,
         "AlgorithmSpecification": {"TrainingImage": ll.image_uri(REGION), "TrainingInputMode": "File"},
         "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
         "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
         "CreationTime": datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc),
         "TrainingEndTime": datetime(2026, 12, 3, 10, 6, 40, tzinfo=timezone.utc)}
    if metrics is not None:
        r["FinalMetricDataList"] = metrics
        r["BillableTimeInSeconds"] = 400
    if reason:
        r["FailureReason"] = reason
    return r


def test_fetch_training_puts_linear_learner_beside_the_local_model(aws_env, prep):
    local = ll.local_baseline(prep)
    m = local["metrics"]
    assert m["n"] == len(prep.test) and 0.5 < m["accuracy"] <= 1 and m["ci95"][0] < m["accuracy"] < m["ci95"][1]
    plan = ll.plan_training(prep, staging=STAGING, role_arn=ROLE_SM, region=REGION, job_name="crossroads-ll-moto",
                            local=local)
    record = jobs.JobRecord(ll.TRAIN_KIND, plan.job_name, plan.job_name, REGION, meta=plan.meta, role_arn=ROLE_SM)
    sm, stub = stubbed("sagemaker")
    from datetime import datetime, timezone

    ts = datetime(2026, 12, 3, 10, 6, tzinfo=timezone.utc)
    stub.add_response("describe_training_job", _describe("Completed", "Completed", [
        {"MetricName": "test:multiclass_accuracy", "Value": 0.5, "Timestamp": ts},
        {"MetricName": "test:macro_f_beta", "Value": 0.45, "Timestamp": ts},
        {"MetricName": "validation:objective_loss", "Value": 1.2, "Timestamp": ts}]), {"TrainingJobName": plan.job_name})
    res = jobs.fetch(AwsSession(region=REGION, clients={"sagemaker": sm}), record, rows=plan.rows)
    s = res.summary
    assert s["linear_learner"]["accuracy"] == 0.5 and s["linear_learner"]["n"] == len(prep.test)
    lo, hi = s["linear_learner"]["ci95"]
    assert lo < 0.5 < hi and hi - lo < 0.3
    assert s["final_metrics"]["validation:objective_loss"] == 1.2
    assert s["usd"] == pytest.approx(400 / 3600 * 0.115)
    assert list(res.table["model"]) == ["SageMaker Linear Learner", local["model"]]
    assert str(len(prep.test)) in s["verdict"]
    if m["ci95"][0] > hi:
        assert "the local model is more accurate" in s["verdict"]


def test_a_failed_training_job_says_why_and_how_to_fix(aws_env, prep):
    record = jobs.JobRecord(ll.TRAIN_KIND, "crossroads-ll-moto", "crossroads-ll-moto", REGION,
                            meta={"predictor_type": "multiclass_classifier", "n_test": 10}, role_arn=ROLE_SM,
                            staging_uri=f"s3://{BUCKET}/runs/crossroads-ll-moto")
    sm, stub = stubbed("sagemaker")
    stub.add_response("describe_training_job", _describe(
        "Failed", "Failed", reason="ClientError: Could not assume role " + ROLE_SM), {"TrainingJobName": "crossroads-ll-moto"})
    from core.aws.errors import JobFailedError

    with pytest.raises(JobFailedError, match="Could not assume role") as err:
        jobs.fetch(AwsSession(region=REGION, clients={"sagemaker": sm}), record, rows=None)
    assert "sagemaker.amazonaws.com" in str(err.value) and "iam:PassRole" in str(err.value)


def test_transform_rebuilds_the_features_scores_in_shards_and_joins_back_by_row(aws_env, prep, queries, tmp_path):
    train_plan = ll.plan_training(prep, staging=STAGING, role_arn=ROLE_SM, region=REGION, job_name="crossroads-ll-moto")
    training = jobs.JobRecord(ll.TRAIN_KIND, train_plan.job_name, train_plan.job_name, REGION, meta=train_plan.meta)
    new = queries.sample(frac=1.0, random_state=1).reset_index(drop=True).head(25)
    new.loc[3, "text"] = "   "  # an empty text is not scored
    plan = ll.plan_transform(training, train_plan.rows, new, staging=STAGING, role_arn=ROLE_SM, region=REGION,
                             job_name="crossroads-ll-score", records_per_file=10, folder=tmp_path)
    write_dry_run(plan)
    assert plan.meta["files"] == {"score-00000.recordio": 10, "score-00001.recordio": 10, "score-00002.recordio": 4}
    assert any("1 row(s) with an empty text" in n for n in plan.notes)
    first = parse_recordio_file((tmp_path / "s3" / BUCKET / "runs" / "crossroads-ll-score" / "input" /
                                 "score-00000.recordio").read_bytes())
    assert len(first) == 10 and all(r["label"] == {} for r in first)  # features only
    expect = prep.builder.transform(new.iloc[[0]])  # same features as the training job's own feature step
    assert first[0]["features"]["values"]["keys"] == list(expect.indices)
    reqs = [json.loads(p.read_text()) for p in sorted((tmp_path / "requests").glob("*.json"))]
    assert [r["operation"] for r in reqs] == ["CreateModel", "CreateTransformJob"]
    assert reqs[0]["params"]["PrimaryContainer"]["ModelDataUrl"] == \
        f"s3://{BUCKET}/runs/crossroads-ll-moto/output/crossroads-ll-moto/output/model.tar.gz"
    t = reqs[1]["params"]
    assert (t["TransformInput"]["SplitType"], t["TransformOutput"]["Accept"], t["TransformOutput"]["AssembleWith"]) == \
        ("RecordIO", "application/jsonlines", "Line")
    with moto_aws():
        session = AwsSession(region=REGION)
        rec = jobs.submit(session, plan)
        assert boto3.client("sagemaker", region_name=REGION).describe_model(ModelName="crossroads-ll-score")
        # fixture output in Linear Learner's documented JSONLINES format, one line per record, in order
        classes = train_plan.meta["classes"]
        truth = {}
        for name, n in plan.meta["files"].items():
            lines = []
            part = plan.rows[plan.rows["file"] == name].sort_values("record")
            for k, row in enumerate(part["row"]):
                idx = (int(row) * 3) % len(classes)
                truth[int(row)] = classes[idx]
                score = [0.01] * len(classes)
                score[idx] = 1 - 0.01 * (len(classes) - 1)
                lines.append(json.dumps({"score": score, "predicted_label": idx}))
            s3_put(f"runs/crossroads-ll-score/output/{name}.out", ("\n".join(lines) + "\n").encode())
        res = jobs.fetch(session, rec)
        table = res.table
        assert len(table) == 24 and 3 not in set(table["row"])
        assert all(table.set_index("row").loc[r, "predicted_label"] == lab for r, lab in truth.items())
        assert table.set_index("row").loc[0, "text"] == new.loc[0, "text"]  # the user's columns are kept
        assert {f"p({c})" for c in classes} <= set(table.columns)
        assert res.summary["accuracy"]["n"] == 24
        # a count that does not match its input is refused rather than joined wrongly
        s3_put("runs/crossroads-ll-score/output/score-00002.recordio.out", b'{"score": [1], "predicted_label": 0}\n')
        with pytest.raises(DataError, match="cannot be joined safely"):
            jobs.fetch(session, rec)


def test_transform_refuses_features_that_do_not_match_the_trained_model(prep, queries):
    plan = ll.plan_training(prep, staging=STAGING, role_arn=ROLE_SM, region=REGION, job_name="crossroads-ll-x")
    meta = dict(plan.meta, fingerprint="0" * 64)
    training = jobs.JobRecord(ll.TRAIN_KIND, "crossroads-ll-x", "crossroads-ll-x", REGION, meta=meta)
    with pytest.raises(DataError, match="do not match the trained model"):
        ll.plan_transform(training, plan.rows, queries.head(5), staging=STAGING, role_arn=ROLE_SM, region=REGION)


def test_parse_transform_output_for_each_predictor_type():
    out = ll.parse_transform_output(['{"score": 0.8, "predicted_label": 1}', '{"score": 0.1, "predicted_label": 0}'],
                                    "binary_classifier", ["No", "Yes"])
    assert out.to_dict("list") == {"predicted_label": ["Yes", "No"], "score": [0.8, 0.1]}
    out = ll.parse_transform_output(['{"score": 12.5}'], "regressor", [])
    assert out.loc[0, "predicted_label"] == 12.5
    with pytest.raises(DataError, match="not Linear Learner output"):
        ll.parse_transform_output(["<html>"], "regressor", [])
    with pytest.raises(DataError, match="predicts class 5"):
        ll.parse_transform_output(['{"score": [0.5, 0.5], "predicted_label": 5}'], "multiclass_classifier", ["a", "b"])


def test_missing_role_and_bad_role_are_fixable(prep):
    with pytest.raises(ConfigError, match="needs a service role"):
        ll.plan_training(prep, staging=STAGING, role_arn="", region=REGION)
    with pytest.raises(ConfigError, match="not an IAM role ARN"):
        ll.plan_training(prep, staging=STAGING, role_arn="CrossroadsRole", region=REGION)


@pytest.mark.shared
def test_dry_run_on_telco_writes_label_first_csv(shared_data, tmp_path, capsys):
    code = main(["aws", "train-linear-learner", "--data", str(shared_data / "telco_churn" / "Telco-Customer-Churn.csv"),
                 "--target", "Churn", "--dry-run", str(tmp_path), "--job-name", "crossroads-ll-telco",
                 "--region", REGION])
    assert code == 0
    out = capsys.readouterr().out
    assert "binary_classifier" in out and "nothing was sent" in out and "Estimated cost" in out
    base = tmp_path / "s3" / "amzn-s3-demo-bucket" / "crossroads" / "crossroads-ll-telco" / "input"
    req = json.loads((tmp_path / "requests" / "01-CreateTrainingJob.json").read_text())["params"]
    dim = int(req["HyperParameters"]["feature_dim"])
    n = {}
    for ch in ("train", "validation", "test"):
        lines = (base / ch / f"{ch}-00000.csv").read_text().splitlines()
        n[ch] = len(lines)
        assert all(len(line.split(",")) == dim + 1 for line in lines)
        assert {line.split(",")[0] for line in lines} == {"0", "1"}  # label first: Churn No/Yes
    assert sum(n.values()) == 7043 and n["test"] == pytest.approx(1409, abs=1)
    assert req["HyperParameters"]["predictor_type"] == "binary_classifier" and "num_classes" not in req["HyperParameters"]
    assert all(c["ContentType"] == "text/csv" for c in req["InputDataConfig"])


@pytest.mark.shared
def test_dry_run_on_banking77_text_is_sparse_recordio(shared_data, tmp_path, capsys):
    d = shared_data / "banking77"
    code = main(["aws", "train-linear-learner", "--data", str(d / "train.csv"), "--test", str(d / "test.csv"),
                 "--text-column", "text", "--label-column", "category", "--dry-run", str(tmp_path),
                 "--job-name", "crossroads-ll-b77"])
    assert code == 0
    base = tmp_path / "s3" / "amzn-s3-demo-bucket" / "crossroads" / "crossroads-ll-b77" / "input"
    test = parse_recordio_file((base / "test" / "test-00000.recordio").read_bytes())
    assert len(test) == 3080
    dim = test[0]["features"]["values"]["shape"][0]
    assert dim > 1000 and all(0 < len(r["features"]["values"]["keys"]) < dim / 10 for r in test)  # sparse
    req = json.loads((tmp_path / "requests" / "01-CreateTrainingJob.json").read_text())["params"]
    assert req["HyperParameters"]["num_classes"] == "77" and req["HyperParameters"]["feature_dim"] == str(dim)
