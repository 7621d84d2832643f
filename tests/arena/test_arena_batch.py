"""The Arena's batch evaluation as one Bedrock batch job: the records are exactly the prompts the on-demand run
sends (masked the same way), they stage byte for byte, and fetched answers are scored per arm like an on-demand run."""

from __future__ import annotations

import json

import pytest
from scipy.stats import binomtest

from aws_helpers import BUCKET, REGION, ROLE_BR  # noqa: F401
from core.arena.batch import (NO_RESULT, ROW_COLUMNS, SCORER, adherence_by_arm, batch_run, evaluation_meta,
                              evaluation_records, score_batch)
from core.arena.classifier import IntentClassifier, load_labelled_queries, sample_queries_path
from core.arena.evaluation import evaluate_prompts, held_out_rows
from core.arena.pricing import load_prices
from core.arena.providers.base import LLMProvider, LLMResponse
from core.arena.providers.bedrock import BedrockProvider
from core.aws import bedrock_batch as bb
from core.aws.dryrun import write_dry_run
from core.aws.staging import S3Location
from core.errors import ConfigError, DataError

MODEL = bb.DEFAULT_MODEL_ID
ON_TOPIC = {  # an answer the intent classifier puts in each sample category (checked in the test that uses it)
    "shipping": "Your parcel is on its way: track the delivery with the tracking number in your email.",
    "billing": "We will check the charge on your invoice and correct the billing amount.",
    "refund": "Your refund has been approved and the money will be back on your card in 5 days.",
    "account": "Reset your password from the login page to get back into your account.",
    "technical": "Update the app and restart your phone; if the app still crashes send us the error.",
    "cancellation": "Your subscription is cancelled and will not renew next month.",
    "product_info": "The backpack is waterproof and fits a 15-inch laptop; it comes in three colours.",
    "complaint": "We are sorry about the poor service from our staff and the long wait on the phone.",
}
PII = " You can reach me at jane.doe@example.com or +1 415 555 0100."


class Recorder(LLMProvider):
    """Records every (system, messages, max_tokens, temperature) it is sent; answers a fixed text; no network."""

    name = "local"

    def __init__(self):
        super().__init__("recorder")
        self.sent: list[tuple] = []

    def list_models(self):
        return [self.model_id]

    def _generate(self, system, messages, max_tokens, temperature):
        self.sent.append((system, [dict(m) for m in messages], max_tokens, temperature))
        return LLMResponse("Thank you for writing.", 10, 5, 1.0, "stop", self.model_id, "local")

    def _stream(self, system, messages, max_tokens, temperature):  # pragma: no cover - not used
        r = self._generate(system, messages, max_tokens, temperature)
        yield r.text
        return r


@pytest.fixture(scope="module")
def held():
    data = load_labelled_queries(sample_queries_path(), "text", "label")
    return held_out_rows(data.texts, data.labels, n=12, holdout=0.2, random_state=0)


@pytest.fixture(scope="module")
def clf(held):
    return IntentClassifier().fit(held.train_texts, held.train_labels)


def _converse_body(system, messages, max_tokens, temperature):
    """What the on-demand Bedrock provider would put in its Converse request, without the modelId."""
    req = BedrockProvider(MODEL, region=REGION).build_request(system, messages, max_tokens, temperature)
    req.pop("modelId")
    return req


OPTIONS = dict(repeats=2, temperature=0.7, max_tokens=96, k=2, include_alternatives=False,
               guidance={"billing": "Mention the invoice number."})


def test_records_are_exactly_what_the_on_demand_run_sends(held, clf):
    prov = Recorder()
    run = evaluate_prompts(held.texts, held.labels, clf, prov, **OPTIONS)
    records, rows = evaluation_records(held.texts, held.labels, clf, model_id=MODEL, **OPTIONS)
    assert len(records) == len(rows) == len(prov.sent) == 12 * 2 * 2
    assert list(rows.columns) == ROW_COLUMNS
    assert rows["recordId"].is_unique and rows["recordId"].tolist() == [r["recordId"] for r in records]
    assert rows["row"].tolist() == list(range(48))
    for rec, call in zip(records, prov.sent):
        assert rec["modelInput"] == _converse_body(*call)
        assert rec["modelInput"]["inferenceConfig"] == {"maxTokens": 96, "temperature": 0.7}
    # each record's row says which query, arm and repeat it is, in the on-demand run's order
    assert rows["arm"].tolist() == run.rows["arm"].tolist()
    assert rows["repeat"].tolist() == run.rows["repeat"].tolist()
    assert (rows["query_row"] + 1).tolist() == run.rows["row"].tolist()
    assert rows["text"].tolist() == run.rows["query"].tolist()
    assert rows["label"].tolist() == run.rows["true_label"].tolist() == [held.labels[i] for i in rows["query_row"]]
    assert rows["predicted"].tolist() == run.rows["predicted"].tolist()
    # the contextualised prompt carries the classifier's category, the raw one does not
    ctx = [r for r, a in zip(records, rows["arm"]) if a == "contextualised"]
    raw = [r for r, a in zip(records, rows["arm"]) if a == "raw"]
    assert all("Category" in r["modelInput"]["messages"][-1]["content"][0]["text"] for r in ctx)
    assert not any("Category" in r["modelInput"]["messages"][-1]["content"][0]["text"] for r in raw)


def test_masked_text_only_when_masking_is_on(held, clf):
    texts = [t + PII for t in held.texts[:4]]
    labels = held.labels[:4]
    prov = Recorder()
    evaluate_prompts(texts, labels, clf, prov, repeats=1, temperature=0.5, mask_pii=True)
    records, rows = evaluation_records(texts, labels, clf, model_id=MODEL, repeats=1, temperature=0.5, mask_pii=True)
    dumped = json.dumps(records) + rows.to_json()
    assert "jane.doe@example.com" not in dumped and "555 0100" not in dumped
    assert all("[EMAIL]" in r["modelInput"]["messages"][-1]["content"][0]["text"] and
               "[PHONE]" in r["modelInput"]["messages"][-1]["content"][0]["text"] for r in records)
    assert all(t.endswith("You can reach me at [EMAIL] or [PHONE].") for t in rows["text"])
    assert set(rows["pii_masked"]) == {"2 items masked: 1 email address, 1 phone number"}
    assert [r["modelInput"] for r in records] == [_converse_body(*c) for c in prov.sent]
    # and without masking the address would have gone out: the check above can fail
    plain, _ = evaluation_records(texts, labels, clf, model_id=MODEL, repeats=1, temperature=0.5)
    assert "jane.doe@example.com" in json.dumps(plain)


def test_records_stage_byte_for_byte_with_the_scorer_in_the_job_meta(held, clf, tmp_path):
    records, rows = evaluation_records(held.texts, held.labels, clf, model_id=MODEL, repeats=5, temperature=0.7)
    assert len(records) == 120  # 12 queries x 2 arms x 5 repeats: over the 100-record minimum
    meta = evaluation_meta(temperature=0.7, repeats=5, max_tokens=128, source="a test", classifier_id="abc")
    job = bb.plan_bedrock_batch(records, staging=S3Location.make(BUCKET, "runs"), role_arn=ROLE_BR, region=REGION,
                                folder=tmp_path, job_name="crossroads-arena-test", rows=rows, meta=meta)
    write_dry_run(job)
    staged = (tmp_path / "s3" / BUCKET / "runs" / "crossroads-arena-test" / "input" / "records-00000.jsonl").read_text()
    assert [json.loads(line) for line in staged.splitlines()] == records
    assert job.meta["scorer"] == SCORER and job.meta["classifier_id"] == "abc" and job.meta["repeats"] == 5
    assert job.meta["model_id"] == MODEL and job.meta["n_records"] == 120 and job.meta["labels"] is None
    price = load_prices().price_for(MODEL)
    assert price is not None and job.estimate.usd > 0


def _output_line(rec, text, tokens=(300, 50)):
    return {"recordId": rec["recordId"], "modelInput": rec["modelInput"], "modelOutput": {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": "end_turn",
        "usage": {"inputTokens": tokens[0], "outputTokens": tokens[1]}, "metrics": {"latencyMs": 800}}}


def test_fetched_answers_out_of_order_are_scored_per_arm(held, clf):
    for cat, text in ON_TOPIC.items():  # the scripted answers' topics, as the evaluation classifier sees them
        assert clf.predict_top_k(text, k=1)[0][0] == cat
    records, rows = evaluation_records(held.texts, held.labels, clf, model_id=MODEL, repeats=1, temperature=0.7)
    cats = sorted(ON_TOPIC)
    lines = []
    for rec, row in zip(records, rows.itertuples()):
        wrong = ON_TOPIC[next(c for c in cats if c != row.label)]
        if row.arm == "raw":  # on topic for the first 3 queries only
            lines.append(_output_line(rec, ON_TOPIC[row.label] if row.query_row < 3 else wrong))
        elif row.query_row == 5:  # the service failed this one
            lines.append({"recordId": rec["recordId"], "modelInput": rec["modelInput"],
                          "error": {"errorCode": 400, "errorMessage": "Malformed input"}})
        elif row.query_row == 7:  # and this one has no output line at all
            continue
        else:
            lines.append(_output_line(rec, ON_TOPIC[row.label]))
    lines.reverse()
    out = bb.parse_output_lines(json.dumps(x) for x in lines)
    table, notes = bb.join_output(rows, out)  # free-text answers: no labels
    assert notes == ["1 of 24 rows have no result in the output."]
    meta = {**evaluation_meta(temperature=0.7, repeats=1, max_tokens=128, source="held-out test"), "model_id": MODEL}
    run, summary = score_batch(table, clf, meta)
    raw, ctx = summary["arms"]["raw"]["topic_adherence"], summary["arms"]["contextualised"]["topic_adherence"]
    assert (raw["rate"], raw["n_queries"], raw["n_answers"]) == (pytest.approx(3 / 12), 12, 12)
    assert (ctx["rate"], ctx["n_queries"], ctx["n_answers"]) == (1.0, 10, 10)
    for m, (k, n) in ((raw, (3, 12)), (ctx, (10, 10))):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert m["ci_method"] == "Wilson 95%"
        assert (m["ci_low"], m["ci_high"]) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert summary["n_errors"] == 2 and summary["n_answers"] == 22 and summary["n_queries"] == 12
    assert summary["provider"] == "bedrock (batch)" and summary["model_id"] == MODEL
    assert summary["source"] == "held-out test" and summary["temperature"] == 0.7
    d = summary["difference"]["topic_adherence"]
    assert d["n_queries"] == 10 and d["estimate"] == pytest.approx(0.7)  # paired on the 10 queries both answered
    assert summary["verdict"].startswith("context helped topic adherence")
    errors = run.rows.set_index(["row", "arm"])["error"]
    assert errors[(6, "contextualised")] == "400: Malformed input" and errors[(8, "contextualised")] == NO_RESULT
    assert run.notes == ["1 record(s) failed in the job; they are counted as errors, not as answers.",
                         "1 record(s) have no result in the job's output."]
    # cost: each answered record's tokens at the batch rate (half of on-demand)
    prices = load_prices()
    p = prices.price_for(MODEL)
    per_record = (300 * p.input + 50 * p.output) / prices.unit_tokens * 0.5
    assert summary["arms"]["raw"]["cost_usd"]["total"] == pytest.approx(12 * per_record)
    assert summary["arms"]["contextualised"]["cost_usd"]["total"] == pytest.approx(10 * per_record)
    shown = adherence_by_arm(summary)
    assert shown["arm"].tolist() == ["raw", "contextualised"] and shown["n_answers"].tolist() == [12, 10]


def test_repeats_give_a_bootstrap_interval_and_consistency(held, clf):
    records, rows = evaluation_records(held.texts[:6], held.labels[:6], clf, model_id=MODEL, repeats=3,
                                       temperature=0.7)
    lines = [_output_line(rec, ON_TOPIC[row.label] + (" Thanks." if row.repeat == 2 else ""))
             for rec, row in zip(records, rows.itertuples())]
    table, _ = bb.join_output(rows, bb.parse_output_lines(json.dumps(x) for x in lines))
    run = batch_run(table, clf, model_id=MODEL, temperature=0.7)
    assert run.repeats == 3 and len(run.rows) == 36
    _, summary = score_batch(table, clf, {"repeats": 3, "temperature": 0.7, "model_id": MODEL})
    for arm in ("raw", "contextualised"):
        ta = summary["arms"][arm]["topic_adherence"]
        assert ta["rate"] == 1.0 and ta["n_answers"] == 18 and ta["ci_method"].startswith("bootstrap over queries")
        cons = summary["arms"][arm]["consistency"]
        assert cons["n_queries"] == 6 and 0.5 < cons["mean_cosine"] < 1.0  # one repeat of three differs


def test_bad_settings_and_foreign_results_get_clear_errors(held, clf):
    with pytest.raises(ConfigError, match="temperature above 0"):
        evaluation_records(held.texts, held.labels, clf, model_id=MODEL, repeats=2, temperature=0.0)
    with pytest.raises(ConfigError, match="pair up"):
        evaluation_records(held.texts, held.labels[:-1], clf, model_id=MODEL, repeats=1)
    import pandas as pd

    with pytest.raises(DataError, match="not the results of an Arena evaluation job"):
        batch_run(pd.DataFrame({"row": [0], "answer": ["x"], "error": [""]}), clf)
