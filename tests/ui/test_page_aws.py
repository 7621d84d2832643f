"""AppTest of the AWS sections (pages/_aws.py) on Data & Models, Sentiment and the Bedrock batch render function.

S3 and SageMaker run in moto; Bedrock is answered by Stubber; no network, no account.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from aws_helpers import BUCKET, REGION, ROLE_BR, ROLE_CO, ROLE_SM, moto_aws, s3_put, stubbed

ROOT = Path(__file__).resolve().parents[2]
DM = str(ROOT / "pages" / "data_models.py")


@pytest.fixture
def no_account(monkeypatch, tmp_path):
    """No credentials anywhere (not even the user's ~/.aws), and a private job store."""
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION",
              "AWS_REGION"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CROSSROADS_AWS_JOBS_DIR", str(tmp_path / "jobs"))
    from pages._aws import _credential_status

    _credential_status.clear()
    return tmp_path


@pytest.fixture
def fake_account(no_account, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-for-moto")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return no_account


def _json(at) -> list:
    return [json.loads(j.value) if isinstance(j.value, str) else j.value for j in at.json]


def _compared() -> AppTest:
    at = AppTest.from_file(DM, default_timeout=240)
    at.run()
    at.multiselect(key=next(w.key for w in at.multiselect if w.key.startswith("dm_models_"))).set_value(["linear"])
    at.number_input(key="dm_folds").set_value(2)
    at.button(key="dm_run").click().run()
    assert not at.exception, at.exception
    return at


def test_dry_run_without_an_account_shows_estimate_files_and_requests(no_account):
    at = _compared()
    assert any(s.value == "Past one machine: Amazon SageMaker" for s in at.subheader)
    at.button(key="dm_aws_train_build").click().run()
    assert not at.exception, at.exception
    assert any(m.label == "Estimated cost (USD)" and float(m.value) > 0 for m in at.metric)
    cost = next(d.value for d in at.dataframe if "unit price (USD)" in getattr(d.value, "columns", []))
    assert cost["item"][0] == "1 x ml.m5.large training" and cost["unit price (USD)"][0] == "0.115"
    assert any(c.value.startswith("Time assumed:") for c in at.caption)
    assert any("https://aws.amazon.com/sagemaker/pricing/ (recorded" in c.value for c in at.caption)
    assert any("placeholder amzn-s3-demo-bucket" in c.value for c in at.caption)
    files = next(d.value for d in at.dataframe if list(getattr(d.value, "columns", [])) == ["file", "size"])
    assert {"plan.json", "requests/01-CreateTrainingJob.json"} <= set(files["file"])
    assert any(f.endswith("train-00000.csv") for f in files["file"])
    assert any(j.get("HyperParameters", {}).get("predictor_type") == "binary_classifier" for j in _json(at))
    local = next(d.value for d in at.dataframe if "accuracy" in getattr(d.value, "columns", []))
    assert local["accuracy"][0] > 0.9 and local["test rows"][0] == 114  # breast cancer: 20% of 569
    submit = at.button(key="dm_aws_train_submit")
    assert submit.disabled
    assert any(c.value.startswith("To submit: no AWS credentials") for c in at.caption)


def test_train_submit_status_then_score_a_file_and_fetch_predictions(fake_account):
    with moto_aws():
        at = _compared()
        at.text_input(key="aws_job_bucket").set_value(BUCKET)
        at.text_input(key="aws_job_role_sagemaker").set_value(ROLE_SM)
        at.text_input(key="aws_job_region").set_value(REGION)
        at.button(key="dm_aws_train_build").click().run()
        assert not at.button(key="dm_aws_train_submit").disabled
        at.button(key="dm_aws_train_submit").click().run()
        assert not at.exception, at.exception
        job = at.session_state["dm_aws_train_plan"][1].job_name
        assert at.selectbox(key="dm_aws_train_pick").value == job
        assert any(f"{job}: completed" in p.proto.text for p in at.get("progress"))
        at.button(key=f"dm_aws_train_{job}_fetch").click().run()
        assert not at.exception, at.exception
        metrics = next(d.value for d in at.dataframe if "model" in getattr(d.value, "columns", [])
                       and "SageMaker Linear Learner" in list(d.value["model"]))
        assert metrics["model"].tolist()[1].startswith("Local: Linear")
        # score the same table with the trained job's model
        assert at.selectbox(key="dm_aws_score_training").value == job
        at.button(key="dm_aws_score_build").click().run()
        assert not at.exception, at.exception
        at.button(key="dm_aws_score_submit").click().run()
        plan = at.session_state["dm_aws_score_plan"]
        (name, n), = plan.meta["files"].items()
        classes = plan.meta["classes"]
        lines = [json.dumps({"score": 0.9, "predicted_label": 1}) for _ in range(n)]
        s3_put(f"crossroads/{plan.job_name}/output/{name}.out", ("\n".join(lines) + "\n").encode())
        at.button(key=f"dm_aws_score_{plan.job_name}_fetch").click().run()
        assert not at.exception, at.exception
        table = next(d.value for d in at.dataframe if "predicted_label" in getattr(d.value, "columns", []))
        assert len(table) == 569 and set(table["predicted_label"]) == {classes[1]}
        assert table["row"].tolist() == list(range(569))
        assert any(m.label == "Accuracy against your labels" for m in at.metric)


def _comprehend_script():
    import pandas as pd

    from pages._aws import render_comprehend_job

    df = pd.DataFrame({"text": [f"The parcel number {i} arrived late." for i in range(5001)],
                       "label": ["negative"] * 5001})
    render_comprehend_job(df, "text", "label", language="en", region="us-east-1")


def test_comprehend_job_for_a_large_file_submit_and_fetch(fake_account):
    import io
    import tarfile

    with moto_aws():
        at = AppTest.from_function(_comprehend_script, default_timeout=120)
        at.run()
        assert any("Run as a Comprehend job (files over 5,000 rows: this one has 5,001)" in e.label
                   for e in at.expander)
        at.text_input(key="aws_job_bucket").set_value(BUCKET)
        at.text_input(key="aws_job_role_comprehend").set_value(ROLE_CO)
        at.button(key="sent_aws_build").click().run()
        assert not at.exception, at.exception
        assert any(m.label == "Estimated cost (USD)" and float(m.value) == pytest.approx(5001 * 3 * 0.0001)
                   for m in at.metric)
        at.button(key="sent_aws_submit").click().run()
        assert not at.exception, at.exception
        plan = at.session_state["sent_aws_plan"][1]
        from core.aws.jobs import JobStore

        rec = JobStore().load(plan.job_name)
        from moto.comprehend.models import comprehend_backends

        comprehend_backends["123456789012"][REGION].jobs[rec.job_id].job_status = "COMPLETED"
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tf:
            data = "".join(json.dumps({"File": "docs-00000.txt", "Line": i, "Sentiment": "NEGATIVE",
                                       "SentimentScore": {"Positive": 0.01, "Negative": 0.97, "Neutral": 0.01,
                                                          "Mixed": 0.01}}) + "\n" for i in range(5001)).encode()
            info = tarfile.TarInfo("output")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        s3_put(f"crossroads/{plan.job_name}/output/123456789012-SENTIMENT-{rec.job_id}/output/output.tar.gz",
               buf.getvalue())
        at.button(key=f"sent_aws_{plan.job_name}_refresh").click().run()
        assert any(": completed" in p.proto.text for p in at.get("progress"))
        at.button(key=f"sent_aws_{plan.job_name}_fetch").click().run()
        assert not at.exception, at.exception
        table = next(d.value for d in at.dataframe if "Sentiment" in getattr(d.value, "columns", []))
        assert len(table) == 5001 and set(table["Sentiment"]) == {"NEGATIVE"}
        acc = next(m for m in at.metric if m.label == "Accuracy against your labels")
        assert float(acc.value) == 1.0


def test_small_files_do_not_offer_a_comprehend_job(no_account):
    at = AppTest.from_file(str(ROOT / "pages" / "sentiment.py"), default_timeout=120)
    at.run()
    at.tabs  # noqa: B018 - the page renders both tabs
    assert not at.exception
    assert not any("Run as a Comprehend job" in e.label for e in at.expander)


def _bedrock_script():
    import pandas as pd

    from core.aws.bedrock_batch import classification_records, record_id_for
    from pages._aws import render_bedrock_batch

    texts = [f"question {i}" for i in range(120)]
    labels = ["a", "b", "c"]
    rows = pd.DataFrame({"row": range(120), "recordId": [record_id_for(i) for i in range(120)], "text": texts,
                         "label": [labels[i % 3] for i in range(120)]})
    render_bedrock_batch(classification_records(texts, labels), rows=rows, labels=labels)


def test_bedrock_batch_render_function_dry_run_and_submit(fake_account, monkeypatch):
    import pages._aws as ui
    from core.aws.session import AwsSession

    br, stub = stubbed("bedrock")
    arn = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/uijob1"
    stub.add_response("create_model_invocation_job", {"jobArn": arn})
    from datetime import datetime, timezone

    stub.add_response("get_model_invocation_job", {
        "jobArn": arn, "jobName": "x", "modelId": "m", "roleArn": ROLE_BR, "status": "InProgress",
        "submitTime": datetime(2026, 12, 3, tzinfo=timezone.utc), "processedRecordCount": 60, "totalRecordCount": 120,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/in/"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/out/"}}}, {"jobIdentifier": arn})

    class Session(AwsSession):
        def __init__(self, profile=None, region=None, **kw):
            super().__init__(profile, region, clients={"bedrock": br}, **kw)

    monkeypatch.setattr(ui, "AwsSession", Session)
    with moto_aws():
        at = AppTest.from_function(_bedrock_script, default_timeout=120)
        at.run()
        at.button(key="bedrock_batch_build").click().run()
        assert not at.exception, at.exception
        assert any(j.get("modelInvocationType") == "Converse" for j in _json(at))
        assert at.button(key="bedrock_batch_submit").disabled  # no bucket or role yet
        at.text_input(key="aws_job_bucket").set_value(BUCKET)
        at.text_input(key="aws_job_role_bedrock").set_value(ROLE_BR)
        at.text_input(key="aws_job_region").set_value(REGION)
        at.button(key="bedrock_batch_build").click().run()
        at.button(key="bedrock_batch_submit").click().run()
        assert not at.exception, at.exception
        assert any("60 of 120 records" in p.proto.text for p in at.get("progress"))
    stub.assert_no_pending_responses()
