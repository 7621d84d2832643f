"""Prompt Arena page (AppTest): the batch evaluation can go as a Bedrock batch job. Records are prepared on a button
press from the page's own held-out rows and prompts (masked when masking is on), kept across reruns, and the dry run
is built with nothing sent to any provider or to AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.arena.providers import LLMProvider, LLMResponse, ProviderSpec, ProviderStatus, register_provider, \
    unregister_provider

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "prompt_arena.py")
SENT: list = []


class Counting(LLMProvider):
    """A local fake that counts every call (the batch path must make none)."""

    name = "fakearena"
    description = "Counting fake (test)."

    def list_models(self):
        return [self.model_id]

    def _generate(self, system, messages, max_tokens, temperature):
        SENT.append(messages)
        return LLMResponse("ok", 5, 1, 1.0, "stop", self.model_id, self.name)

    def _stream(self, system, messages, max_tokens, temperature):
        r = self._generate(system, messages, max_tokens, temperature)
        yield r.text
        return r


FAKE = ProviderSpec(name="fakearena", label="Counting fake (test)",
                    factory=lambda model=None, **kw: Counting(model or "fake-model"),
                    probe=lambda **kw: ProviderStatus("fakearena", True, "Counting fake ready.", ["fake-model"],
                                                      "Counting fake (test)"),
                    local=True, capabilities=frozenset())


@pytest.fixture(scope="module", autouse=True)
def fake_registered():
    register_provider(FAKE)
    yield
    unregister_provider("fakearena")


@pytest.fixture
def private_jobs(monkeypatch, tmp_path):
    monkeypatch.setenv("CROSSROADS_AWS_JOBS_DIR", str(tmp_path / "jobs"))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def test_the_evaluation_goes_as_a_bedrock_batch_job_with_a_dry_run_and_nothing_sent(private_jobs):
    from core.aws.bedrock_batch import DEFAULT_MODEL_ID

    at = AppTest.from_file(PAGE, default_timeout=300).run()
    _ok(at)
    at.selectbox(key="arena_provider").set_value("fakearena").run()
    at.toggle(key="arena_mask_pii_fakearena").set_value(True)
    at.number_input(key="arena_eval_n").set_value(17).run()  # 17 queries x 2 prompts x 3 repeats = 102 records
    _ok(at)
    assert not any("Bedrock batch job (" in e.label for e in at.expander)  # nothing built before the button
    at.button(key="arena_batch_prepare").click().run()
    _ok(at)
    labels = [e.label for e in at.expander]
    assert any(x == "Or run this evaluation as a Bedrock batch job (102 records, half price)" for x in labels), labels
    sig, records, rows, meta, model_id = at.session_state["arena_batch_records"]
    assert model_id == DEFAULT_MODEL_ID  # the Arena's provider is not Bedrock
    assert len(records) == len(rows) == 102 and rows["recordId"].is_unique
    assert rows["query_row"].nunique() == 17 and rows.groupby("arm").size().to_dict() == {"raw": 51,
                                                                                          "contextualised": 51}
    assert meta["scorer"] == "arena_context_evaluation" and meta["repeats"] == 3 and meta["temperature"] == 0.7
    from core.arena.prompts import escape_tags

    for rec, text in zip(records, rows["text"]):  # the prompt carries the text NFKC-normalised, tags escaped
        assert f"<query>{escape_tags(text)}</query>" in rec["modelInput"]["messages"][-1]["content"][0]["text"]
        assert rec["modelInput"]["inferenceConfig"]["temperature"] == 0.7
    assert SENT == []
    # a rerun (or a page change) keeps the prepared records: no second button press needed
    at.run()
    assert at.session_state["arena_batch_records"][0] == sig
    # the dry run: the estimate at the batch price, the file and the request, nothing sent
    at.button(key="arena_batch_build").click().run()
    _ok(at)
    m = {x.label: x.value for x in at.metric}
    assert float(m["Estimated cost (USD)"]) > 0
    assert any("Dry run: the 1 file(s) and 1 request(s)" in e.label for e in at.expander)
    req = next(j.value for j in at.json if "modelInvocationType" in (j.value if isinstance(j.value, dict)
                                                                     else json.loads(j.value)))
    req = req if isinstance(req, dict) else json.loads(req)
    assert req["modelId"] == DEFAULT_MODEL_ID and req["modelInvocationType"] == "Converse"
    assert SENT == []
    # changing an option the prompts depend on asks for new records instead of keeping stale ones
    at.number_input(key="arena_eval_m").set_value(4).run()
    _ok(at)
    assert not any("Bedrock batch job (" in e.label for e in at.expander)
    assert any("prepare them again" in c.value for c in at.caption)


ON_TOPIC = {
    "shipping": "Your parcel is on its way: track the delivery with the tracking number in your email.",
    "billing": "We will check the charge on your invoice and correct the billing amount.",
    "refund": "Your refund has been approved and the money will be back on your card in 5 days.",
    "account": "Reset your password from the login page to get back into your account.",
    "technical": "Update the app and restart your phone; if the app still crashes send us the error.",
    "cancellation": "Your subscription is cancelled and will not renew next month.",
    "product_info": "The backpack is waterproof and fits a 15-inch laptop; it comes in three colours.",
    "complaint": "We are sorry about the poor service from our staff and the long wait on the phone.",
}


def test_a_fetched_batch_job_is_scored_like_an_on_demand_evaluation(private_jobs, monkeypatch):
    """S3 in moto, Bedrock's GetModelInvocationJob answered by Stubber: the page fetches a completed job and shows
    the same per-prompt measures as an on-demand run, with the topic adherence core computes."""
    from datetime import datetime, timezone

    import pages._aws as ui
    from aws_helpers import BUCKET, REGION, ROLE_BR, moto_aws, s3_put, stubbed
    from core.arena.batch import score_batch
    from core.arena.classifier import IntentClassifier, load_labelled_queries, sample_queries_path
    from core.arena.evaluation import held_out_rows
    from core.aws import bedrock_batch as bb
    from core.aws.jobs import JobRecord, JobStore
    from core.aws.session import AwsSession

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake-secret-for-moto")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    ui._credential_status.clear()
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.selectbox(key="arena_provider").set_value("fakearena").run()
    at.number_input(key="arena_eval_n").set_value(17).run()
    at.button(key="arena_batch_prepare").click().run()
    _ok(at)
    _, records, rows, meta, model_id = at.session_state["arena_batch_records"]
    # the page's held-out rows and evaluation classifier, rebuilt here from the same sample, split and seed
    data = load_labelled_queries(sample_queries_path(), "text", "label")
    held = held_out_rows(data.texts, data.labels, n=17, holdout=0.2, random_state=0)
    assert sorted(set(rows["text"])) == sorted(set(held.texts))
    clf = IntentClassifier().fit(held.train_texts, held.train_labels)
    for cat, text in ON_TOPIC.items():
        assert clf.predict_top_k(text, k=1)[0][0] == cat
    cats = sorted(ON_TOPIC)
    lines = []
    for rec, row in zip(records, rows.itertuples()):
        text = ON_TOPIC[row.label] if row.arm == "contextualised" else ON_TOPIC[next(c for c in cats if c != row.label)]
        lines.append({"recordId": rec["recordId"], "modelInput": rec["modelInput"], "modelOutput": {
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": "end_turn",
            "usage": {"inputTokens": 250, "outputTokens": 40}, "metrics": {"latencyMs": 900}}})
    lines.reverse()  # the service does not keep the input order
    arn = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/arenajob1"
    record = JobRecord(bb.KIND, "crossroads-arena-batch-test", arn, REGION, submitted_at="2026-12-03T10:00:00",
                       staging_uri=f"s3://{BUCKET}/crossroads/crossroads-arena-batch-test/input",
                       output_uri=f"s3://{BUCKET}/crossroads/crossroads-arena-batch-test/output/", role_arn=ROLE_BR,
                       meta={**meta, "model_id": model_id, "n_records": len(records), "labels": None})
    JobStore().save(record, rows)
    br, stub = stubbed("bedrock")
    done = {"jobArn": arn, "jobName": record.job_name, "modelId": model_id, "roleArn": ROLE_BR, "status": "Completed",
            "submitTime": datetime(2026, 12, 3, 10, tzinfo=timezone.utc),
            "endTime": datetime(2026, 12, 3, 11, tzinfo=timezone.utc),
            "processedRecordCount": 102, "totalRecordCount": 102,
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": record.staging_uri + "/"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": record.output_uri}}}
    stub.add_response("get_model_invocation_job", done, {"jobIdentifier": arn})  # the status shown first
    stub.add_response("get_model_invocation_job", done, {"jobIdentifier": arn})  # fetch checks it is done

    class Session(AwsSession):
        def __init__(self, profile=None, region=None, **kw):
            super().__init__(profile, region, clients={"bedrock": br}, **kw)

    monkeypatch.setattr(ui, "AwsSession", Session)
    with moto_aws():
        s3_put("crossroads/crossroads-arena-batch-test/output/arenajob1/records-00000.jsonl.out",
               "\n".join(json.dumps(x) for x in lines).encode())
        at.run()
        _ok(at)
        at.button(key=f"arena_batch_{record.job_name}_fetch").click().run()
        _ok(at)
    stub.assert_no_pending_responses()
    assert not at.error, [e.value for e in at.error]
    summary = at.session_state["arena_context_summary"]  # the Decide report reads the batch's figures too
    table, _ = bb.join_output(rows, bb.parse_output_lines(json.dumps(x) for x in lines))
    _, expected = score_batch(table, clf, record.meta)
    assert summary["provider"] == "bedrock (batch)" and summary["n_answers"] == 102 and summary["n_errors"] == 0
    for arm, rate in (("raw", 0.0), ("contextualised", 1.0)):
        ta = summary["arms"][arm]["topic_adherence"]
        assert ta == expected["arms"][arm]["topic_adherence"]
        assert ta["rate"] == rate and ta["n_queries"] == 17 and ta["n_answers"] == 51
    assert summary["verdict"].startswith("context helped topic adherence")
    measures = next(d.value for d in at.dataframe if "Topic adherence (95% CI)" in d.value.index)
    assert measures.loc["Topic adherence (95% CI)", "Contextualised prompt"].startswith("100% (")
    assert measures.loc["Topic adherence (95% CI)", "Raw prompt"].endswith("17 queries, 51 answers")
    assert SENT == []
