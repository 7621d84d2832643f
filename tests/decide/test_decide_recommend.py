"""The verdict rules on constructed result sets where the right answer is known."""

from __future__ import annotations

import pytest

from core.decide.recommend import Candidate, Constraints, MIN_TEST_ROWS, recommend
from core.decide.stats import Estimate
from core.errors import ConfigError

N = 300


def est(value, half=0.03, n=N):
    return Estimate(value, value - half, value + half, n)


def cands(clf=0.88, llm=0.70, hyb=0.90, *, half=0.03, llm_cost=2.0, hyb_cost=0.5, llm_p95=900.0, hyb_p95=400.0,
          share=0.25, tau=0.6, n=N):
    return {
        "classifier": Candidate("classifier", "Trained classifier", est(clf, half, n), 5.0, 0.0),
        "few_shot": Candidate("few_shot", "Few-shot LLM", est(llm, half, n), llm_p95, llm_cost, llm_cost / 2),
        "hybrid": Candidate("hybrid", "Hybrid cascade", est(hyb, half, n), hyb_p95, hyb_cost, hyb_cost / 2,
                            llm_share=share, tau=tau),
    }


def diffs(**pairs):
    """``a_b=(value, low, high)`` -> {(a, b): Estimate}."""
    out = {}
    for key, (v, lo, hi) in pairs.items():
        a, b = key.split("__")
        out[(a, b)] = Estimate(v, lo, hi, N)
    return out


def test_classifier_when_it_clearly_meets_the_target_and_is_cheapest():
    r = recommend(cands(clf=0.90, hyb=0.92), Constraints(min_accuracy=0.85, volume_per_month=100_000), n_test=N,
                  differences=diffs(hybrid__classifier=(0.02, -0.005, 0.045)))
    assert r.verdict == "classifier" and r.arm == "classifier"
    assert r.headline == "Trained classifier"
    assert "90.0% (95% CI 87.0–93.0%, n=300)" in r.reasons[0] and "85.0%" in r.reasons[0]
    # the pricier arms are explained with their measured cost and accuracy
    assert any(s.startswith("Hybrid cascade costs $0.50 per 1,000 queries") for s in r.reasons)
    assert any("Few-shot LLM" in s and "70.0% (95% CI 67.0–73.0%, n=300)" in s for s in r.reasons)
    assert any("$0 a month" in s for s in r.reasons)


def test_hybrid_when_only_it_reaches_the_target():
    r = recommend(cands(clf=0.80, hyb=0.91, llm=0.86), Constraints(min_accuracy=0.86), n_test=N,
                  differences=diffs(hybrid__classifier=(0.11, 0.08, 0.14)))
    assert r.verdict == "hybrid" and r.headline == "Hybrid at τ = 0.60"
    assert any("does not reach the target: 80.0%" in s for s in r.reasons)
    assert any("LLM decides the other 25.0% of queries" in s for s in r.reasons)


def test_llm_when_latency_rules_out_nothing_and_only_it_is_accurate_enough():
    c = cands(clf=0.60, hyb=0.70, llm=0.93)
    r = recommend(c, Constraints(min_accuracy=0.9, p95_latency_ms=2000), n_test=N)
    assert r.verdict == "llm" and r.arm == "few_shot" and r.headline == "LLM (few-shot)"
    assert any("p95 latency is 900 ms per query (n=300), within the 2,000 ms budget" in s for s in r.reasons)


def test_latency_budget_and_monthly_budget_rule_arms_out():
    c = cands(clf=0.60, hyb=0.91, llm=0.93, hyb_p95=1500.0)
    r = recommend(c, Constraints(min_accuracy=0.9, p95_latency_ms=1000, volume_per_month=1_000_000,
                                 budget_usd_per_month=1000), n_test=N)
    # hybrid too slow (1,500 ms > 1,000 ms); LLM $2/1k * 1M = $2,000 > $1,000: nothing left that reaches 90%
    assert r.verdict == "not_enough_evidence"
    assert "hybrid" in r.excluded and "1,500 ms" in r.excluded["hybrid"]
    assert "few_shot" in r.excluded and "$2,000.00 a month" in r.excluded["few_shot"]
    assert sum(s.startswith("Ruled out: ") for s in r.reasons) == 2  # the reader sees why each arm is out


def test_explainability_rules_out_the_llm_alone():
    r = recommend(cands(clf=0.60, hyb=0.70, llm=0.95), Constraints(min_accuracy=0.9, explainable=True), n_test=N)
    assert r.verdict == "not_enough_evidence" and "explainable" in r.excluded["few_shot"]
    r2 = recommend(cands(clf=0.60, hyb=0.94, llm=0.95), Constraints(min_accuracy=0.9, explainable=True), n_test=N)
    assert r2.verdict == "hybrid" and any("auditable" in c for c in r2.caveats)


def test_not_enough_evidence_when_the_cheaper_arm_straddles_the_target_and_the_leader_is_not_better():
    # classifier 0.89 [0.86, 0.92] straddles 0.90; hybrid 0.94 [0.91, 0.97] meets it, but paired diff includes 0
    r = recommend(cands(clf=0.89, hyb=0.94), Constraints(min_accuracy=0.90), n_test=N,
                  differences=diffs(hybrid__classifier=(0.05, -0.01, 0.11)))
    assert r.verdict == "not_enough_evidence" and r.arm is None
    assert any("may too (89.0% (95% CI 86.0–92.0%, n=300))" in s for s in r.reasons)
    assert r.resolve and "Test on about" in r.resolve[0] and "trained classifier reaches 90.0%" in r.resolve[0]


def test_same_case_with_a_measurable_difference_gives_the_hybrid():
    r = recommend(cands(clf=0.89, hyb=0.94), Constraints(min_accuracy=0.90), n_test=N,
                  differences=diffs(hybrid__classifier=(0.05, 0.02, 0.08)))
    assert r.verdict == "hybrid"
    assert any("+5.0 points (paired 95% CI +2.0 to +8.0, n=300)" in s for s in r.reasons)


def test_not_enough_evidence_when_every_arm_fails_with_what_would_resolve_it():
    r = recommend(cands(clf=0.70, hyb=0.72, llm=0.40), Constraints(min_accuracy=0.9), n_test=N,
                  provider_label="gemma-3-270m-q4_k_m.gguf (local)", learning_gain=0.04)
    assert r.verdict == "not_enough_evidence"
    assert any("does not reach the 90.0% target: 70.0%" in s for s in r.reasons)
    joined = " ".join(r.resolve)
    assert "stronger LLM than gemma-3-270m-q4_k_m.gguf (local)" in joined
    assert "gained 4.0 points" in joined and "reconsider the 90.0% target" in joined


def test_not_enough_evidence_when_the_target_is_inside_every_interval():
    r = recommend(cands(clf=0.89, hyb=0.895, llm=0.5, half=0.04), Constraints(min_accuracy=0.9), n_test=N)
    assert r.verdict == "not_enough_evidence"
    assert any("may or may not reach" in s for s in r.reasons)
    import re
    m = re.match(r"Test on about ([\d,]+) rows \(now 300\)", r.resolve[0])
    assert m and int(m.group(1).replace(",", "")) >= 600  # more rows than today, never fewer


def test_without_target_the_leading_arms_must_be_separated():
    tied = recommend(cands(clf=0.88, hyb=0.90), Constraints(), n_test=N,
                     differences=diffs(hybrid__classifier=(0.02, -0.01, 0.05)))
    assert tied.verdict == "not_enough_evidence"
    assert any("not separated" in s for s in tied.reasons)
    assert any("Set a minimum accuracy" in s for s in tied.resolve)
    clear = recommend(cands(clf=0.80, hyb=0.90), Constraints(), n_test=N,
                      differences=diffs(hybrid__classifier=(0.10, 0.07, 0.13)))
    assert clear.verdict == "hybrid"
    # overlapping marginal CIs but a clear paired difference: the paired test decides
    overlap = recommend(cands(clf=0.86, hyb=0.89, half=0.04), Constraints(), n_test=N,
                        differences=diffs(hybrid__classifier=(0.03, 0.01, 0.05)))
    assert overlap.verdict == "hybrid"
    best_is_cheapest = recommend(cands(clf=0.95, hyb=0.90), Constraints(), n_test=N)
    assert best_is_cheapest.verdict == "classifier"


def test_too_few_rows_and_missing_language_rows():
    few = recommend(cands(n=20), Constraints(min_accuracy=0.5), n_test=20)
    assert few.verdict == "not_enough_evidence" and f"at least {MIN_TEST_ROWS}" in few.resolve[0]
    lang = recommend(cands(clf=0.95), Constraints(min_accuracy=0.8, languages=("en", "ja")), n_test=N,
                     language_rows={"en": 290, "ja": 10})
    assert lang.verdict == "not_enough_evidence"
    assert "'ja'" in lang.reasons[0] and "only 10" in lang.reasons[0]
    ok = recommend(cands(clf=0.95), Constraints(min_accuracy=0.8, languages=("en", "ja")), n_test=N,
                   language_rows={"en": 150, "ja": 150})
    assert ok.verdict == "classifier"


def test_hybrid_that_sends_nothing_to_the_llm_is_the_classifier():
    c = cands(clf=0.95, hyb=0.95, share=0.0, tau=0.0)
    r = recommend(c, Constraints(min_accuracy=0.8), n_test=N)
    assert r.verdict == "classifier" and any("classifier alone" in s for s in r.caveats)


def test_arms_stopped_early_are_not_candidates():
    c = cands(clf=0.70, llm=0.95)
    c["few_shot"] = Candidate("few_shot", "Few-shot LLM", est(0.95, n=12), 900, 2.0)
    r = recommend(c, Constraints(min_accuracy=0.9), n_test=N)
    assert r.verdict != "llm" and any("only 12 rows" in s for s in r.caveats)


def test_constraints_are_validated():
    with pytest.raises(ConfigError, match="fraction, e.g. 0.85"):
        Constraints(min_accuracy=85).validate()
    with pytest.raises(ConfigError, match="cannot be negative"):
        Constraints(budget_usd_per_month=-1).validate()
    assert Constraints(languages=(" EN", "ja", "en", "")).validate().languages == ("en", "ja")
