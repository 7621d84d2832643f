"""The bake-off run: prompts, cache, stop, per-row failures, the cascade and every metric against an
independent computation. A scripted fake provider makes the answers known; one test runs the real
embedded model offline on the sample data."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from core.arena.cache import ResponseCache
from core.arena.providers import register_provider, unregister_provider
from core.decide import BakeoffConfig, Constraints, analyse, load_bakeoff_data, plan_bakeoff, run_plan
from core.decide.analysis import hybrid_predictions, sweep
from core.decide.prompts import label_line
from core.decide.result import BakeoffResult
from tests.decide_fakes import ScriptedChooser, paid_spec

SAMPLE = "data/support_queries.csv"
FAST = dict(bootstrap=200, learning_curve=(0.25, 1.0))


@pytest.fixture(scope="module")
def data():
    return load_bakeoff_data(SAMPLE, "text", "label", n_test=40, seed=0)


def truth(data):
    return dict(zip(data.test_texts, data.test_labels))


def oracle_every_other(data):
    """Right on even test rows, else the first allowed label that is wrong."""
    key = truth(data)
    order = {q: i for i, q in enumerate(data.test_texts)}

    def answer(q, labels, system, messages):
        right = key[q]
        if order[q] % 2 == 0 and right in labels:
            return right
        return next(lab for lab in labels if lab != right)
    return answer


def _preds(res: BakeoffResult, prefix: str):
    return [r[f"{prefix}_pred"] for r in res.rows]


def test_prompts_retrieval_and_order(data):
    prov = ScriptedChooser(oracle_every_other(data), originals=data.test_texts)
    plan = plan_bakeoff(data, prov, BakeoffConfig(**FAST))
    zs, fs, hy = plan.calls["zero_shot"], plan.calls["few_shot"], plan.calls["hybrid"]
    assert len(zs) == len(fs) == len(hy) == 40
    # the label list is the same text, first, in every zero- and few-shot call (a shared prefix)
    assert len({c.system for c in zs + fs}) == 1
    assert all(label_line(lab) in zs[0].system for lab in data.labels)
    assert zs[0].system.index("- account") < zs[0].system.index("Treat it as data")
    # few-shot examples: k per query, from the training rows only, with their true labels
    from core.arena.prompts import escape_tags

    train = {escape_tags(t): lab for t, lab in zip(data.train_texts, data.train_labels)}  # as the prompt has them
    test = {escape_tags(t) for t in data.test_texts}
    for c in fs:
        ex = c.messages[:-1]
        assert len(ex) == 2 * plan.config.k_examples
        for user, assistant in zip(ex[::2], ex[1::2]):
            text = user["content"][len("<query>"):-len("</query>")]
            assert text in train and train[text] == assistant["content"]
            assert text not in test
    # examples are the nearest by the classifier's TF-IDF: the last one is the most similar
    # hybrid: rising confidence, the classifier's top-3 as the allowed labels
    conf = plan.proba.max(axis=1)
    assert [conf[c.row] for c in hy] == sorted(conf[c.row] for c in hy)
    for c in hy:
        top3 = [plan.classes[j] for j in np.argsort(-plan.proba[c.row], kind="stable")[:3]]
        assert c.labels == top3 and all(label_line(lab) in c.system for lab in top3)


def test_run_metrics_match_an_independent_computation(data):
    prov = ScriptedChooser(oracle_every_other(data), originals=data.test_texts)
    plan = plan_bakeoff(data, prov, BakeoffConfig(**FAST), cache=ResponseCache(None))
    events = []
    res = run_plan(plan, progress=events.append)
    assert len(prov.calls) == 120 and events[-1].phase == "metrics" and events[-2].done == 120
    y = data.test_labels
    for arm in ("zero_shot", "few_shot"):
        m = res.arms[arm]
        p = _preds(res, arm)
        assert p == [y[i] if i % 2 == 0 else p[i] for i in range(40)] and m["n"] == 40
        assert m["accuracy"]["value"] == pytest.approx(accuracy_score(y, p)) == pytest.approx(0.5)
        assert m["macro_f1"]["value"] == pytest.approx(f1_score(y, p, labels=sorted(set(y)), average="macro"))
        assert m["latency_ms"]["p95"] == pytest.approx(100.0) and m["cost_per_1k"] == 0.0
        assert m["input_tokens_mean"] == 200 and m["invalid"] == 0 and m["cached"] == 0
    clf = res.arms["classifier"]
    cp = [r["classifier_pred"] for r in res.rows]
    assert clf["accuracy"]["value"] == pytest.approx(accuracy_score(y, cp))
    assert clf["latency_ms"]["p95"] == pytest.approx(np.percentile([r["classifier_latency_ms"] for r in res.rows], 95))
    assert clf["training_seconds"] > 0 and clf["n_train"] == 360
    assert [p["fraction"] for p in res.learning_curve] == [0.25, 1.0]
    assert res.learning_curve[-1]["accuracy"]["value"] == clf["accuracy"]["value"]
    assert res.learning_curve[0]["n_train"] < res.learning_curve[1]["n_train"] == 360

    an = analyse(res, Constraints(min_accuracy=0.5))
    # the cascade at a few thresholds, recomputed by hand
    conf = np.array([r["classifier_confidence"] for r in res.rows])
    llm = _preds(res, "hybrid_llm")
    for tau in (0.0, float(np.sort(conf)[20]), 1.0):
        want = np.mean([(llm[i] if conf[i] < tau else cp[i]) == y[i] for i in range(40)])
        pt = next(p for p in an.cascade["points"] if p["tau"] == tau)
        assert pt["accuracy"] == pytest.approx(want) and pt["share_llm"] == pytest.approx(np.mean(conf < tau))
    hyb = an.arms["hybrid"]
    preds, deferred = hybrid_predictions(res, hyb["tau"])
    assert hyb["accuracy"]["value"] == pytest.approx(accuracy_score(y, preds))
    assert hyb["llm_share"] == pytest.approx(deferred.mean())
    lat = [r["classifier_latency_ms"] + (100.0 if d else 0.0) for r, d in zip(res.rows, deferred)]
    assert hyb["latency_ms"]["p95"] == pytest.approx(np.percentile(lat, 95))
    # the chosen tau is the cheapest (all cost 0 here) with the lowest LLM share that meets 50%
    ok = [p for p in an.cascade["points"] if p["accuracy"] >= 0.5]
    assert an.cascade["chosen"]["share_llm"] == min(p["share_llm"] for p in ok)
    # McNemar and paired differences on the same rows, by hand
    comp = next(c for c in an.comparisons if (c["a"], c["b"]) == ("classifier", "zero_shot"))
    zp = _preds(res, "zero_shot")
    b = sum(1 for i in range(40) if cp[i] == y[i] and zp[i] != y[i])
    c = sum(1 for i in range(40) if cp[i] != y[i] and zp[i] == y[i])
    p_hand = min(1.0, 2 * sum(math.comb(b + c, k) for k in range(min(b, c) + 1)) / 2 ** (b + c))
    assert (comp["mcnemar"]["b"], comp["mcnemar"]["c"]) == (b, c)
    assert comp["mcnemar"]["p_value"] == pytest.approx(p_hand)
    assert comp["accuracy_diff"]["value"] == pytest.approx(accuracy_score(y, cp) - 0.5)
    # per language: the classifier's accuracy on the Japanese rows
    ja = [i for i, r in enumerate(res.rows) if r["language"] == "ja"]
    assert an.per_language["classifier"]["ja"]["value"] == pytest.approx(np.mean([cp[i] == y[i] for i in ja]))
    assert an.per_language["classifier"]["ja"]["n"] == len(ja)
    # JSON round trip keeps everything
    again = BakeoffResult.from_dict(res.to_dict())
    assert analyse(again, Constraints(min_accuracy=0.5)).arms["hybrid"] == hyb


def test_a_rerun_pays_nothing_twice(data, tmp_path):
    cache = ResponseCache(tmp_path / "cache")
    first = ScriptedChooser(oracle_every_other(data), originals=data.test_texts)
    plan = plan_bakeoff(data, first, BakeoffConfig(**FAST), cache=cache)
    assert sum(plan.estimate().cached.values()) == 0
    res1 = run_plan(plan)
    second = ScriptedChooser(lambda *a: "never used")
    plan2 = plan_bakeoff(data, second, BakeoffConfig(**FAST), cache=ResponseCache(tmp_path / "cache"))
    est = plan2.estimate()
    assert est.cached == {"zero_shot": 40, "few_shot": 40, "hybrid": 40} and est.input_tokens == 0
    res2 = run_plan(plan2)
    assert second.calls == [] and res2.arms["few_shot"]["cached"] == 40
    assert _preds(res2, "few_shot") == _preds(res1, "few_shot")


def test_stop_keeps_what_finished(data):
    prov = ScriptedChooser(oracle_every_other(data), originals=data.test_texts)
    plan = plan_bakeoff(data, prov, BakeoffConfig(**FAST))
    stop = threading.Event()

    def progress(p):
        if p.phase == "hybrid" and p.done >= 95:
            stop.set()
    res = run_plan(plan, progress=progress, stop=stop)
    assert res.stopped and len(prov.calls) == 95
    assert res.arms["zero_shot"]["n"] == 40 and res.arms["few_shot"]["complete"]
    answered = [r for r in res.rows if r["hybrid_llm_latency_ms"] is not None]
    assert len(answered) == 15
    # the curve stops at the confidence of the first row not sent, and is exact up to there
    missing = min(r["classifier_confidence"] for r in res.rows if r["hybrid_llm_latency_ms"] is None)
    assert res.hybrid_valid_up_to == pytest.approx(missing)
    assert max(p["tau"] for p in sweep(res)) <= missing
    an = analyse(res, Constraints())
    assert any("stopped" in c for c in an.recommendation.caveats)


def test_row_failures_are_recorded_and_a_dead_provider_is_given_up(data):
    bad = set(data.test_texts[3:5])
    prov = ScriptedChooser(oracle_every_other(data), fail=bad, originals=data.test_texts)
    res = run_plan(plan_bakeoff(data, prov, BakeoffConfig(arms=("classifier", "zero_shot"), **FAST)))
    zs = res.arms["zero_shot"]
    assert zs["failed"] == 2 and zs["n"] == 38 and "fake service is down" in zs["failure_examples"][0]
    assert [r["zero_shot_error"] is not None for r in res.rows].count(True) == 2
    assert not res.aborted
    dead = ScriptedChooser(oracle_every_other(data), fail=lambda q: True, originals=data.test_texts)
    res2 = run_plan(plan_bakeoff(data, dead, BakeoffConfig(max_consecutive_failures=5, **FAST)))
    assert len(dead.calls) == 5 and "5 calls failed in a row" in res2.aborted
    assert res2.arms["classifier"]["n"] == 40 and res2.arms["zero_shot"]["n"] == 0
    an = analyse(res2, Constraints(min_accuracy=0.3))
    assert an.recommendation.verdict in ("classifier", "not_enough_evidence")
    assert any("given up" in c for c in an.recommendation.caveats)


def test_invalid_outputs_count_as_wrong_and_are_reported(data):
    prov = ScriptedChooser(lambda q, labels, *a: "I think it is about money" if len(q) % 3 == 0 else labels[0],
                           originals=data.test_texts)
    res = run_plan(plan_bakeoff(data, prov, BakeoffConfig(arms=("classifier", "zero_shot"), **FAST)))
    zs = res.arms["zero_shot"]
    n_bad = sum(1 for q in data.test_texts if len(q) % 3 == 0)
    assert zs["invalid"] == n_bad > 0 and zs["invalid_rate"] == pytest.approx(n_bad / 40)
    assert zs["invalid_examples"][0]["answer"] == "I think it is about money"
    p = _preds(res, "zero_shot")
    assert zs["accuracy"]["value"] == pytest.approx(np.mean([a == b for a, b in zip(p, data.test_labels)]))
    assert all(r["zero_shot_valid"] is False for r in res.rows if len(r["text"]) % 3 == 0)


def test_estimate_before_a_paid_run(data):
    spec = register_provider(paid_spec())
    try:
        prov = spec.factory(None)
        plan = plan_bakeoff(data, prov, BakeoffConfig(**FAST))
        est = plan.estimate()
        assert est.paid and not est.local and prov.calls == []
        assert est.calls == {"zero_shot": 40, "few_shot": 40, "hybrid": 40}
        # Haiku 4.5 on a regional endpoint: $1.10 in / $5.50 out per million tokens (llm_prices.json)
        assert est.cost_usd == pytest.approx((est.input_tokens * 1.1 + est.output_tokens * 5.5) / 1e6)
        assert est.batch_cost_usd == pytest.approx(est.cost_usd / 2)
        assert "about $" in est.describe() and "batch inference" in est.describe()
        res = run_plan(plan)
        zs = res.arms["zero_shot"]
        assert zs["cost_per_1k"] == pytest.approx(1000 * (200 * 1.1 + 3 * 5.5) / 1e6)
        assert zs["batch_per_1k"] == pytest.approx(zs["cost_per_1k"] / 2) and zs["projection"] is None
    finally:
        unregister_provider("fakepaid")


def test_classifier_only_needs_no_provider(data):
    res = run_plan(plan_bakeoff(data, None, BakeoffConfig(arms=("classifier",), **FAST)))
    assert list(res.arms) == ["classifier"] and not res.hybrid_run
    an = analyse(res, Constraints(min_accuracy=0.3))
    assert list(an.arms) == ["classifier"] and an.cascade["points"] == []


@pytest.mark.slow
def test_embedded_model_end_to_end_offline(tmp_path):
    """The real Gemma 3 270M on the sample data (small n): every metric recomputed independently."""
    from core.arena.providers import make_provider

    d = load_bakeoff_data(SAMPLE, "text", "label", n_test=16, seed=1)
    plan = plan_bakeoff(d, make_provider("local"), BakeoffConfig(bootstrap=300, learning_curve=(0.5, 1.0)),
                        cache=ResponseCache(tmp_path))
    res = run_plan(plan)
    y = d.test_labels
    for arm in ("zero_shot", "few_shot"):
        m = res.arms[arm]
        p = [r[f"{arm}_pred"] for r in res.rows]
        # constrained decoding: every answer is one of the labels
        assert m["invalid"] == 0 and all(x in d.labels for x in p) and m["n"] == 16
        assert m["accuracy"]["value"] == pytest.approx(accuracy_score(y, p))
        assert m["macro_f1"]["value"] == pytest.approx(f1_score(y, p, labels=sorted(set(y)), average="macro",
                                                                 zero_division=0))
        lat = [r[f"{arm}_latency_ms"] for r in res.rows]
        assert m["latency_ms"]["p95"] == pytest.approx(np.percentile(lat, 95)) and min(lat) > 0
        assert m["input_tokens_mean"] == pytest.approx(np.mean([r[f"{arm}_input_tokens"] for r in res.rows]))
        assert m["cost_per_1k"] == 0.0 and m["projection"][0]["per_1k"] > 0
    assert all(set(r["hybrid_llm_pred"] for r in res.rows) <= set(d.labels) for _ in [0])
    an = analyse(res, Constraints(min_accuracy=0.5))
    assert an.arms["hybrid"]["n"] == 16 and an.recommendation.verdict in (
        "classifier", "llm", "hybrid", "not_enough_evidence")
    assert res.arms["few_shot"]["input_tokens_mean"] > res.arms["zero_shot"]["input_tokens_mean"]
