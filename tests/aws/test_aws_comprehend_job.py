"""Comprehend sentiment jobs: one document per line, StartSentimentDetectionJob, output.tar.gz in core.sentiment's schema."""

from __future__ import annotations

import io
import json
import random
import tarfile
from datetime import datetime, timezone

import pandas as pd
import pytest

from aws_helpers import BUCKET, REGION, ROLE_CO, aws_env, moto_aws, s3_put, stubbed  # noqa: F401
from core.aws import comprehend_job as cj
from core.aws import jobs
from core.aws.dryrun import write_dry_run
from core.aws.session import AwsSession
from core.aws.staging import S3Location
from core.cli import main
from core.errors import ConfigError, DataError
from core.sentiment.base import SCORE_KEYS

STAGING = S3Location.make(BUCKET, "runs")
JOB_ID = "0123456789abcdef0123456789abcdef"
TEXTS = ["Great service, thank you!", "The parcel is late\nagain.", "", "普通です。", "Terrible\u2028support",
         "x" * 6000]


def _plan(tmp_path=None, labels=None):
    return cj.plan_comprehend_job(TEXTS, staging=STAGING, role_arn=ROLE_CO, region=REGION, language="en",
                                  labels=labels, folder=tmp_path, job_name="crossroads-comprehend-test")


def test_one_document_per_line_exactly(tmp_path):
    plan = _plan(tmp_path, labels=["positive", "negative", "neutral", "neutral", "negative", "neutral"])
    write_dry_run(plan)
    path = tmp_path / "s3" / BUCKET / "runs" / "crossroads-comprehend-test" / "input" / "docs-00000.txt"
    expected = ("Great service, thank you!\nThe parcel is late again.\n普通です。\nTerrible support\n" + "x" * 5000 + "\n")
    assert path.read_bytes() == expected.encode("utf-8")
    assert plan.rows[["row", "file", "line"]].values.tolist() == [
        [0, "docs-00000.txt", 0], [1, "docs-00000.txt", 1], [3, "docs-00000.txt", 2], [4, "docs-00000.txt", 3],
        [5, "docs-00000.txt", 4]]
    assert any("1 empty row(s)" in n for n in plan.notes) and any("cut to 5,000" in n for n in plan.notes)
    req = json.loads((tmp_path / "requests" / "01-StartSentimentDetectionJob.json").read_text())
    assert req["params"] == {
        "InputDataConfig": {"S3Uri": f"s3://{BUCKET}/runs/crossroads-comprehend-test/input/",
                            "InputFormat": "ONE_DOC_PER_LINE"},
        "OutputDataConfig": {"S3Uri": f"s3://{BUCKET}/runs/crossroads-comprehend-test/output/"},
        "DataAccessRoleArn": ROLE_CO, "JobName": "crossroads-comprehend-test", "LanguageCode": "en"}
    # 5 documents: 4 short ones at the 3-unit minimum, the 5,000-character one is 50 units
    assert plan.estimate.lines[0].quantity == 4 * 3 + 50
    assert plan.estimate.lines[0].unit_usd == 0.0001


def test_language_region_and_empty_input_are_checked():
    with pytest.raises(ConfigError, match="not offered in eu-south-1"):
        cj.plan_comprehend_job(TEXTS, staging=STAGING, role_arn=ROLE_CO, region="eu-south-1", language="en")
    with pytest.raises(DataError, match="does not support 'xx'"):
        cj.plan_comprehend_job(TEXTS, staging=STAGING, role_arn=ROLE_CO, region=REGION, language="xx")
    with pytest.raises(DataError, match="every text is empty"):
        cj.plan_comprehend_job(["", "  "], staging=STAGING, role_arn=ROLE_CO, region=REGION, language="en")
    plan = cj.plan_comprehend_job(["配送が遅すぎます。いつ届くのですか？", "ありがとうございました。"], staging=STAGING,
                                  role_arn=ROLE_CO, region=REGION, language="auto")
    assert plan.meta["language"] == "ja" and any("detected as 'ja'" in n for n in plan.notes)


def _archive(lines: list[dict], *, extra_members: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = ("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n").encode("utf-8")
        info = tarfile.TarInfo("output")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        if extra_members:
            link = tarfile.TarInfo("../../etc/evil")
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            tf.addfile(link)
    return buf.getvalue()


def _fixture_lines(plan) -> list[dict]:
    """Comprehend's documented sentiment output: File, Line, Sentiment, SentimentScore (one error line)."""
    out = []
    for _, r in plan.rows.iterrows():
        if r["line"] == 3:
            out.append({"File": r["file"], "Line": int(r["line"]), "ErrorCode": "INTERNAL_SERVER_ERROR",
                        "ErrorMessage": "Internal server error"})
            continue
        sent = ["POSITIVE", "NEGATIVE", "NEUTRAL", "NEUTRAL", "NEUTRAL"][int(r["line"])]
        score = {"Positive": 0.01, "Negative": 0.01, "Neutral": 0.01, "Mixed": 0.01}
        score[sent.title()] = 0.97
        out.append({"File": r["file"], "Line": int(r["line"]), "Sentiment": sent, "SentimentScore": score})
    random.Random(2).shuffle(out)
    return out


def _describe(status: str, output_uri: str | None = None) -> dict:
    p = {"JobId": JOB_ID, "JobName": "crossroads-comprehend-test", "JobStatus": status, "LanguageCode": "en",
         "SubmitTime": datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc), "DataAccessRoleArn": ROLE_CO,
         "InputDataConfig": {"S3Uri": f"s3://{BUCKET}/runs/crossroads-comprehend-test/input/",
                             "InputFormat": "ONE_DOC_PER_LINE"},
         "OutputDataConfig": {"S3Uri": output_uri or f"s3://{BUCKET}/runs/crossroads-comprehend-test/output/"}}
    if status in ("COMPLETED", "FAILED", "STOPPED"):
        p["EndTime"] = datetime(2026, 12, 3, 9, 12, tzinfo=timezone.utc)
    return {"SentimentDetectionJobProperties": p}


def test_submit_status_cancel_fetch_in_the_live_backends_schema(aws_env):
    plan = _plan(labels=["positive", "negative", "neutral", "neutral", "negative", "neutral"])
    with moto_aws():
        co, stub = stubbed("comprehend")
        session = AwsSession(region=REGION, clients={"comprehend": co})
        stub.add_response("start_sentiment_detection_job", {"JobId": JOB_ID, "JobStatus": "SUBMITTED"},
                          plan.requests[0].params)
        record = jobs.submit(session, plan)
        assert record.job_id == JOB_ID
        stub.add_response("describe_sentiment_detection_job", _describe("IN_PROGRESS"), {"JobId": JOB_ID})
        st = jobs.status(session, jobs.JobStore().load(JOB_ID))
        assert st.state == "running" and st.service_status == "IN_PROGRESS" and st.elapsed_seconds > 0
        stub.add_response("stop_sentiment_detection_job", {"JobId": JOB_ID, "JobStatus": "STOP_REQUESTED"},
                          {"JobId": JOB_ID})
        stub.add_response("describe_sentiment_detection_job", _describe("STOP_REQUESTED"), {"JobId": JOB_ID})
        assert jobs.cancel(session, record).state == "stopping"
        key = f"runs/crossroads-comprehend-test/output/123456789012-SENTIMENT-{JOB_ID}/output/output.tar.gz"
        s3_put(key, _archive(_fixture_lines(plan), extra_members=True))
        stub.add_response("describe_sentiment_detection_job", _describe("COMPLETED", f"s3://{BUCKET}/{key}"),
                          {"JobId": JOB_ID})
        res = jobs.fetch(session, record)
        stub.assert_no_pending_responses()
    t = res.table.set_index("row")
    assert list(t.index) == [0, 1, 3, 4, 5]
    assert t.loc[0, "Sentiment"] == "POSITIVE" and t.loc[1, "Sentiment"] == "NEGATIVE"
    assert t.loc[0, "text"] == TEXTS[0] and t.loc[1, "text"] == TEXTS[1]  # joined by (file, line), not by order
    assert t.loc[4, "Error"].startswith("INTERNAL_SERVER_ERROR") and pd.isna(t.loc[4, "Sentiment"])
    assert t.loc[0, "Positive"] == 0.97 and set(SCORE_KEYS) <= set(t.columns)
    # the same columns as the live DetectSentiment backend's rows (core.sentiment.SentimentResult.as_row)
    from core.sentiment.base import SentimentResult

    live = SentimentResult("POSITIVE", {k: 0.25 for k in SCORE_KEYS}, "en", "comprehend").as_row()
    assert {"Sentiment", *SCORE_KEYS, "LanguageCode", "Backend"} <= set(live) & set(t.columns)
    assert t.loc[0, "Backend"] == "comprehend" and t.loc[0, "LanguageCode"] == "en"
    assert res.summary["errors"] == 1 and res.summary["counts"] == {"NEUTRAL": 2, "POSITIVE": 1, "NEGATIVE": 1}
    acc = res.summary["accuracy"]
    assert acc["n"] == 4 and acc["accuracy"] == 1.0   # the error row has no prediction and is not counted


def test_output_archive_is_read_as_data():
    with pytest.raises(DataError, match="not a .tar.gz archive"):
        cj.read_output_archive(b"not an archive")
    good = cj.read_output_archive(_archive([{"File": "s3://b/in/docs-00000.txt", "Line": "1", "Sentiment": "MIXED",
                                             "SentimentScore": {"Mixed": 0.6, "Positive": 0.2, "Negative": 0.2,
                                                                "Neutral": 0.0}}], extra_members=True), "ja")
    assert good.to_dict("records") == [{"file": "docs-00000.txt", "line": 1, "Sentiment": "MIXED", "Positive": 0.2,
                                        "Negative": 0.2, "Neutral": 0.0, "Mixed": 0.6, "LanguageCode": "ja",
                                        "Backend": "comprehend", "Error": ""}]
    plan = _plan()
    bad = pd.DataFrame([{"file": "docs-00000.txt", "line": 99, "Sentiment": "POSITIVE"}])
    with pytest.raises(DataError, match="line 99, which was not in this job's input"):
        cj.join_output(plan.rows, bad)


def test_a_role_comprehend_cannot_assume_is_explained(aws_env):
    plan = _plan()
    with moto_aws():
        co, stub = stubbed("comprehend")
        stub.add_client_error("start_sentiment_detection_job", "InvalidRequestException",
                              "Unable to assume role " + ROLE_CO + ". Please check the trust policy.", 400,
                              expected_params=plan.requests[0].params)
        with pytest.raises(ConfigError, match="comprehend.amazonaws.com.*sts:AssumeRole"):
            jobs.submit(AwsSession(region=REGION, clients={"comprehend": co}), plan)


@pytest.mark.shared
def test_dry_run_on_chabsa(shared_data, tmp_path, capsys):
    src = shared_data / "ja_chabsa_sentiment" / "chabsa_sentences.csv"
    code = main(["aws", "comprehend-job", "--data", str(src), "--text-column", "sentence", "--label-column", "label",
                 "--language", "ja", "--dry-run", str(tmp_path), "--job-name", "crossroads-comprehend-chabsa"])
    assert code == 0
    out = capsys.readouterr().out
    assert "6,119 documents in ja" in out and "Estimated cost" in out
    path = tmp_path / "s3" / "amzn-s3-demo-bucket" / "crossroads" / "crossroads-comprehend-chabsa" / "input" / "docs-00000.txt"
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) - 1 == 6119
    frame = pd.read_csv(src)
    assert lines[0] == frame["sentence"][0] and lines[6118] == frame["sentence"][6118]
    est = json.loads((tmp_path / "plan.json").read_text())["estimate"]
    assert est["lines"][0]["quantity"] >= 3 * 6119 and est["usd"] == pytest.approx(
        est["lines"][0]["usd"] + est["lines"][1]["usd"] + est["lines"][2]["usd"])
