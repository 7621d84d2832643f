"""Decide page (AppTest): data checks, estimate before a run, background run with progress and Stop, the verdict
and the arms table equal to core's, constraints that update the verdict without new calls, paid-run consent."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.arena.providers import ProviderSpec, ProviderStatus, register_provider, unregister_provider
from core.decide import Constraints, analyse
from tests.decide_fakes import ScriptedChooser, paid_spec

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "decide.py")
CALLS: list = []


def _answer(q, labels, system, messages):
    time.sleep(0.01)
    return labels[len(q) % len(labels)]


def _factory(model=None, **kw):
    prov = ScriptedChooser(_answer, name="fakedecide", model=model or "fake-chooser")
    CALLS.append(prov)
    return prov


FAKE = ProviderSpec(name="fakedecide", label="Fake chooser (test)", factory=_factory,
                    probe=lambda **kw: ProviderStatus("fakedecide", True, "Fake chooser ready.", ["fake-chooser"],
                                                      "Fake chooser (test)"),
                    local=True, capabilities=frozenset({"constrained_choice"}))


@pytest.fixture(scope="module", autouse=True)
def fake_registered():
    register_provider(FAKE)
    yield
    unregister_provider("fakedecide")


def _calls() -> int:
    return sum(len(p.calls) for p in CALLS)


def _ok(at):
    assert not at.exception, [e.value for e in at.exception]


def _wait(at, timeout=120):
    job = at.session_state["decide_job"] if "decide_job" in at.session_state else None
    if job is not None:
        assert job.wait(timeout)
    at.run()
    _ok(at)


def fresh():
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    _ok(at)
    return at


def test_sample_data_is_split_and_summarised():
    at = fresh()
    m = {x.label: x.value for x in at.metric}
    assert m["Training rows"] == "320" and m["Test rows"] == "80" and m["Categories"] == "8"
    assert "en" in m["Languages (test rows)"] and "ja" in m["Languages (test rows)"]
    assert any("Stratified split, 20% test, seed 0" in c.value for c in at.caption)
    assert at.button(key="decide_prepare").label == "Estimate cost and time"


def test_bad_label_column_is_a_clear_message():
    at = fresh()
    at.selectbox(key="decide_label_col").set_value("text").run()
    _ok(at)
    assert any("must be different columns" in e.value for e in at.error)
    at.selectbox(key="decide_text_col").set_value("label").run()  # the query texts as categories: 400 of them
    _ok(at)
    assert any("400 different values" in e.value and "at most 200" in e.value for e in at.error)
    assert not at.metric  # nothing below the error is drawn


def test_estimate_run_results_and_constraints():
    at = fresh()
    at.selectbox(key="decide_provider").set_value("fakedecide").run()
    _ok(at)
    at.button(key="decide_prepare").click().run()
    _ok(at)
    assert any("240 LLM calls to fake-chooser (fakedecide)" in i.value and "cost 0" in i.value for i in at.info)
    assert _calls() == 0  # nothing sent before the user runs it
    at.button(key="decide_run").click().run()
    _ok(at)
    _wait(at)
    result = at.session_state["decide_result"]
    assert _calls() == 240 and result.n_test == 80
    # the verdict and the table are core's, for the page's default constraints
    an = analyse(result, Constraints(volume_per_month=100_000, p95_latency_ms=1000, min_accuracy=0.8,
                                     budget_usd_per_month=500, languages=("ja", "en")))
    boxes = [b.value for b in at.success] + [w.value for w in at.warning]
    assert any(b.startswith(f"### Recommendation: {an.recommendation.headline}") for b in boxes)
    table = next(d.value for d in at.dataframe if "accuracy [95% CI]" in d.value.columns)
    assert len(table) == 4
    clf = an.arms["classifier"]["accuracy"]
    assert table["accuracy [95% CI]"].iloc[0] == f"{clf['value']:.1%} [{clf['low']:.1%}, {clf['high']:.1%}]"
    assert {b.label for b in at.get("download_button")} >= {"HTML report", "Markdown report", "JSON", "Per-row CSV"}
    # changing a constraint re-decides from the stored answers: no new call
    at.number_input(key="decide_min_acc").set_value(10.0).run()
    _ok(at)
    an10 = analyse(result, Constraints(volume_per_month=100_000, p95_latency_ms=1000, min_accuracy=0.1,
                                       budget_usd_per_month=500, languages=("ja", "en")))
    boxes = [b.value for b in at.success] + [w.value for w in at.warning]
    assert any(b.startswith(f"### Recommendation: {an10.recommendation.headline}") for b in boxes)
    assert _calls() == 240
    # a Prompt Arena evaluation of this session is offered for the report's "Does context help?" section
    assert not [c for c in at.checkbox if c.key == "decide_use_arena_eval"]
    at.session_state["arena_eval"] = {"summary": {"kind": "crossroads.arena.context_evaluation", "version": 1,
                                                  "n_queries": 30, "model_id": "gemma"}}
    at.run()
    _ok(at)
    box = at.checkbox(key="decide_use_arena_eval")
    assert box.value is True and "30 queries, gemma" in box.label


def test_stop_keeps_what_finished():
    at = fresh()
    at.selectbox(key="decide_provider").set_value("fakedecide").run()
    at.checkbox(key="decide_use_cache").uncheck().run()  # real calls, so there is time to stop
    at.button(key="decide_prepare").click().run()
    at.button(key="decide_run").click().run()
    _ok(at)
    job = at.session_state["decide_job"]
    deadline = time.time() + 60
    while time.time() < deadline and not (job.progress and job.progress.done >= 5):
        time.sleep(0.05)
    at.run()
    at.button(key="decide_stop").click().run()
    _ok(at)
    assert job.stopping
    _wait(at)
    result = at.session_state["decide_result"]
    assert result.stopped
    done = sum(r["zero_shot_latency_ms"] is not None for r in result.rows)
    assert 0 < done <= 80
    assert any("stopped early" in w.value for w in at.warning)


def test_paid_provider_needs_consent():
    register_provider(paid_spec("fakepaidpage"))
    try:
        at = fresh()
        at.selectbox(key="decide_provider").set_value("fakepaidpage").run()
        at.button(key="decide_prepare").click().run()
        _ok(at)
        assert any("sends queries to a paid service" in w.value and "about $" in w.value for w in at.warning)
        assert at.button(key="decide_run").disabled
        at.checkbox(key="decide_accept").check().run()
        assert not at.button(key="decide_run").disabled
    finally:
        unregister_provider("fakepaidpage")


def test_a_bakeoff_opened_from_a_workspace_is_shown_with_its_constraints():
    from core.decide import BakeoffConfig, load_bakeoff_data, plan_bakeoff, run_plan

    data = load_bakeoff_data("data/support_queries.csv", "text", "label", n_test=40, detect_languages=False)
    result = run_plan(plan_bakeoff(data, None, BakeoffConfig(arms=("classifier",), bootstrap=200,
                                                             learning_curve=(1.0,))))
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["decide_restored"] = {
        "result": result, "check": None,
        "record": {"constraints": {"min_accuracy": 0.55, "volume_per_month": 20000, "p95_latency_ms": None,
                                   "budget_usd_per_month": None, "explainable": True}}}
    at.run()
    _ok(at)
    assert any(i.value.startswith("Opened from a workspace: a bake-off on 40 test rows") for i in at.info)
    assert at.number_input(key="decide_min_acc").value == pytest.approx(55.0)
    assert at.number_input(key="decide_volume").value == 20000
    assert at.checkbox(key="decide_explainable").value is True
    an = analyse(result, Constraints(min_accuracy=0.55, volume_per_month=20000, explainable=True,
                                     languages=("ja", "en")))
    boxes = [b.value for b in at.success] + [w.value for w in at.warning]
    assert any(b.startswith(f"### Recommendation: {an.recommendation.headline}") for b in boxes)


def test_the_llm_arms_can_go_as_a_bedrock_batch_job_with_a_dry_run():
    before = _calls()  # earlier tests of this module made calls through the same fake
    at = fresh()
    at.selectbox(key="decide_provider").set_value("fakedecide").run()
    at.button(key="decide_prepare").click().run()
    _ok(at)
    labels = [e.label for e in at.expander]
    assert any("Bedrock batch job (240 records, half price)" in x for x in labels), labels
    records = at.session_state["decide_batch_records"][1]
    assert len(records) == 240 and _calls() == before  # built from the plan, nothing sent
    assert records[0]["modelInput"]["toolConfig"]["tools"][0]["toolSpec"]["name"] == "choose_label"
    # the dry run: with no bucket or role yet, placeholders; the estimate at the batch price comes first
    at.button(key="decide_batch_build").click().run()
    _ok(at)
    m = {x.label: x.value for x in at.metric}
    assert float(m["Estimated cost (USD)"]) > 0
    assert any("Dry run: the 1 file(s) and 1 request(s)" in e.label for e in at.expander)
    assert _calls() == before
