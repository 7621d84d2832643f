"""The bake-off's LLM arms as one Bedrock batch job: the plan's own prompts as Converse records, each
constrained to its call's labels, staged byte for byte, and the fetched answers scored per arm."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from aws_helpers import BUCKET, REGION, ROLE_BR  # noqa: F401
from core.aws import bedrock_batch as bb
from core.aws.dryrun import write_dry_run
from core.aws.staging import S3Location
from core.decide import BakeoffConfig, load_bakeoff_data, plan_bakeoff
from core.decide.batch import accuracy_by_arm, arm_table, batch_records, use_batch_answers
from core.errors import ConfigError, DataError
from tests.decide_fakes import ScriptedChooser

MODEL = bb.DEFAULT_MODEL_ID


@pytest.fixture(scope="module")
def plan():
    data = load_bakeoff_data("data/support_queries.csv", "text", "label", n_test=40, seed=0)
    prov = ScriptedChooser(lambda q, labels, system, messages: labels[0])
    return plan_bakeoff(data, prov, BakeoffConfig(bootstrap=100, learning_curve=(1.0,)))


def _tool_enum(record):
    spec = record["modelInput"]["toolConfig"]["tools"][0]["toolSpec"]
    return spec["inputSchema"]["json"]["properties"]["label"]["enum"]


def test_one_record_per_planned_call_with_that_calls_prompt_and_labels(plan):
    records, rows = batch_records(plan, MODEL)
    calls = [c for arm in plan.calls.values() for c in arm]
    assert len(records) == len(rows) == len(calls) == 120  # 40 test rows x zero-shot, few-shot, hybrid
    assert rows["recordId"].is_unique and rows["recordId"].tolist() == [r["recordId"] for r in records]
    assert rows.groupby("arm").size().to_dict() == {"zero_shot": 40, "few_shot": 40, "hybrid": 40}
    for rec, row, call in zip(records, rows.itertuples(), calls):
        body = rec["modelInput"]
        assert body["system"] == [{"text": call.system}]
        assert [m["content"][0]["text"] for m in body["messages"]] == [m["content"] for m in call.messages]
        assert _tool_enum(rec) == list(call.labels)  # hybrid: only the classifier's candidates
        assert row.text == plan.data.test_texts[call.row] and row.label == plan.data.test_labels[call.row]
        assert body["inferenceConfig"]["maxTokens"] == 64
    hybrid = rows.index[rows["arm"] == "hybrid"]
    assert all(len(_tool_enum(records[i])) == plan.config.top_k for i in hybrid)
    assert all(len(_tool_enum(records[i])) == len(plan.data.labels) for i in rows.index[rows["arm"] == "zero_shot"])


def test_records_stage_byte_for_byte_and_answers_are_scored_per_arm(plan, tmp_path):
    records, rows = batch_records(plan, MODEL)
    job = bb.plan_bedrock_batch(records, staging=S3Location.make(BUCKET, "runs"), role_arn=ROLE_BR, region=REGION,
                                folder=tmp_path, job_name="crossroads-decide-test", rows=rows,
                                labels=list(plan.data.labels))
    write_dry_run(job)
    staged = (tmp_path / "s3" / BUCKET / "runs" / "crossroads-decide-test" / "input" / "records-00000.jsonl").read_text()
    assert [json.loads(line) for line in staged.splitlines()] == records
    # an output in the service's format, out of order: zero-shot always right, few-shot right on even
    # test rows, hybrid never right (first candidate that is wrong), one record failed
    lines = []
    for rec, row in zip(records, rows.itertuples()):
        if row.arm == "zero_shot":
            answer = row.label
        elif row.arm == "few_shot":
            answer = row.label if row.test_row % 2 == 0 else next(x for x in plan.data.labels if x != row.label)
        else:
            answer = next(x for x in _tool_enum(rec) if x != row.label)
        if row.row == 5:
            lines.append({"recordId": rec["recordId"], "modelInput": rec["modelInput"],
                          "error": {"errorCode": 400, "errorMessage": "bad"}})
            continue
        lines.append({"recordId": rec["recordId"], "modelInput": rec["modelInput"], "modelOutput": {
            "output": {"message": {"role": "assistant", "content": [
                {"toolUse": {"toolUseId": "t", "name": "choose_label", "input": {"label": answer}}}]}},
            "stopReason": "tool_use", "usage": {"inputTokens": 300, "outputTokens": 20}}})
    lines.reverse()
    out = bb.parse_output_lines(json.dumps(x) for x in lines)
    table, _ = bb.join_output(rows, out, list(plan.data.labels))
    by_arm = accuracy_by_arm(table)
    assert by_arm["zero_shot"]["n"] == 40 and by_arm["zero_shot"]["correct"] == 39  # row 5 failed: counted wrong
    assert by_arm["zero_shot"]["n_missing"] == 1
    assert by_arm["few_shot"]["correct"] == 20 and by_arm["few_shot"]["accuracy"] == pytest.approx(0.5)
    lo, hi = by_arm["few_shot"]["ci95"]
    assert 0.33 < lo < 0.5 < hi < 0.67  # Wilson 95% on 20/40
    assert by_arm["hybrid"]["correct"] == 0
    shown = arm_table(by_arm, {"zero_shot": "Zero-shot LLM"})
    assert shown["arm"].tolist()[0] == "Zero-shot LLM" and shown["n"].tolist() == [40, 40, 40]


def test_a_classifier_only_plan_has_no_batch_and_says_so():
    data = load_bakeoff_data("data/support_queries.csv", "text", "label", n_test=40, seed=0)
    plan = plan_bakeoff(data, None, BakeoffConfig(arms=("classifier",), bootstrap=100, learning_curve=(1.0,)))
    with pytest.raises(DataError, match="no LLM arm"):
        batch_records(plan, MODEL)
    assert accuracy_by_arm(pd.DataFrame({"chosen": ["a"], "label": ["a"], "error": [""]})) == {}


def _output_lines(records, rows, answer_of, *, fail=()):
    lines = []
    for rec, row in zip(records, rows.itertuples()):
        if row.row in fail:
            lines.append({"recordId": rec["recordId"], "modelInput": rec["modelInput"],
                          "error": {"errorCode": 429, "errorMessage": "throttled"}})
            continue
        lines.append({"recordId": rec["recordId"], "modelInput": rec["modelInput"], "modelOutput": {
            "output": {"message": {"role": "assistant", "content": [
                {"toolUse": {"toolUseId": "t", "name": "choose_label", "input": {"label": answer_of(rec, row)}}}]}},
            "stopReason": "tool_use", "usage": {"inputTokens": 300 + row.row, "outputTokens": 20},
            "metrics": {"latencyMs": 400 + row.row}}})
    return [json.dumps(x) for x in reversed(lines)]


def test_a_fetched_job_becomes_the_bake_off_with_no_call_sent(monkeypatch):
    from core.arena.cache import ResponseCache
    from core.arena.providers.bedrock import BedrockProvider
    from core.decide import run_plan

    data = load_bakeoff_data("data/support_queries.csv", "text", "label", n_test=40, seed=0)
    prov = BedrockProvider(MODEL, region="us-east-1")
    sent = []
    monkeypatch.setattr(prov, "_choose", lambda *a, **k: sent.append(a) or (_ for _ in ()).throw(
        AssertionError("no on-demand call expected")))
    plan = plan_bakeoff(data, prov, BakeoffConfig(bootstrap=100, learning_curve=(1.0,)), cache=ResponseCache(None))
    records, rows = batch_records(plan, MODEL)
    assert records[0]["modelInput"]["inferenceConfig"] == {"maxTokens": plan.config.max_tokens, "temperature": 0.0}

    def answer(rec, row):  # zero-shot always right, few-shot right on even rows, hybrid: its first candidate
        if row.arm == "zero_shot" or (row.arm == "few_shot" and row.test_row % 2 == 0):
            return row.label
        if row.arm == "few_shot":
            return next(x for x in plan.data.labels if x != row.label)
        return _tool_enum(rec)[0]

    out = bb.parse_output_lines(_output_lines(records, rows, answer))
    table, _ = bb.join_output(rows, out, list(plan.data.labels))
    assert use_batch_answers(plan, table, MODEL) == {"stored": 120, "missing": 0}
    res = run_plan(plan)
    assert sent == []  # every answer came from the job
    by = {arm: [r[f"{arm}_pred"] for r in res.rows] for arm in ("zero_shot", "few_shot")}
    assert by["zero_shot"] == list(data.test_labels)
    assert sum(p == t for p, t in zip(by["few_shot"], data.test_labels)) == 20
    lat = sorted(r["zero_shot_latency_ms"] for r in res.rows)
    assert lat[0] >= 400 and lat[-1] < 400 + 120  # the job's latencyMs, not a made-up number


def test_batch_answers_are_refused_for_another_model_or_another_plan(monkeypatch):
    from core.arena.cache import ResponseCache
    from core.arena.providers.bedrock import BedrockProvider

    data = load_bakeoff_data("data/support_queries.csv", "text", "label", n_test=40, seed=0)
    plan = plan_bakeoff(data, BedrockProvider(MODEL, region="us-east-1"),
                        BakeoffConfig(arms=("classifier", "zero_shot"), bootstrap=100, learning_curve=(1.0,)),
                        cache=ResponseCache(None))
    records, rows = batch_records(plan, MODEL)
    out = bb.parse_output_lines(_output_lines(records, rows, lambda rec, row: row.label, fail={3}))
    table, _ = bb.join_output(rows, out, list(plan.data.labels))
    with pytest.raises(ConfigError, match="choose Amazon Bedrock and that model"):
        use_batch_answers(plan, table, "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    other = plan_bakeoff(load_bakeoff_data("data/support_queries.csv", "text", "label", n_test=40, seed=1),
                         plan.provider, plan.config, cache=ResponseCache(None))
    with pytest.raises(DataError, match="not this bake-off's job|not from this bake-off"):
        use_batch_answers(other, table.assign(recordId="R9999999999"), MODEL)
    assert use_batch_answers(plan, table, MODEL) == {"stored": 39, "missing": 1}  # the failed record: asked again
