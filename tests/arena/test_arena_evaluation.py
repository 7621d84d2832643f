"""Batch evaluation on held-out rows: splits, measures, intervals, paired verdicts, export and cost projection."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import binomtest

from core.arena.cache import ResponseCache
from core.arena.classifier import IntentClassifier, load_labelled_queries, sample_queries_path
from core.arena.evaluation import (EVAL_COLUMNS, SUMMARY_KIND, drop_training_overlap, evaluate_prompts, held_out_rows,
                                   holdout_split, project_costs, rate_ci, summarise, wide_table)
from core.arena.hybrid import example_pool
from core.arena.pricing import load_prices
from core.arena.providers.base import LLMProvider, LLMResponse
from core.errors import ConfigError, ProviderError

ON_TOPIC = {  # an answer the intent classifier puts in each sample category
    "shipping": "Your parcel is on its way: track the delivery with the tracking number in your email.",
    "billing": "We will check the charge on your invoice and correct the billing amount.",
    "refund": "Your refund has been approved and the money will be back on your card in 5 days.",
    "account": "Reset your password from the login page to get back into your account.",
    "technical": "Update the app and restart your phone; if the app still crashes send us the error.",
    "cancellation": "Your subscription is cancelled and will not renew next month.",
    "product_info": "The backpack is waterproof and fits a 15-inch laptop; it comes in three colours.",
    "complaint": "We are sorry about the poor service from our staff and the long wait on the phone.",
}


class Scripted(LLMProvider):
    """Raw answers are off-topic and always the same; contextualised answers follow the category in the prompt."""

    name = "local"

    def __init__(self, fail_on=None):
        super().__init__("scripted-model")
        self.calls = 0
        self.fail_on = fail_on or {}

    def list_models(self):
        return [self.model_id]

    def _generate(self, system, messages, max_tokens, temperature):
        self.calls += 1
        if self.calls in self.fail_on:
            raise self.fail_on[self.calls]
        text = messages[-1]["content"]
        if "Category: " in text:
            cat = text.split("Category: ")[1].split(" (")[0].replace(" ", "_").lower()
            answer = ON_TOPIC.get(cat, "Sorry, I do not know.") + f" Reference {self.calls % 3}."
        else:
            answer = "Hello! Thank you for writing to us today."
        return LLMResponse(answer, len(text) // 4, len(answer) // 4, 10.0 + self.calls, "stop", self.model_id, "local")

    def _stream(self, system, messages, max_tokens, temperature):
        r = self._generate(system, messages, max_tokens, temperature)
        yield r.text
        return r


def _sentiment(text):
    from core.sentiment import analyze
    return analyze(text, backend="local")


@pytest.fixture(scope="module")
def sample():
    return load_labelled_queries(sample_queries_path(), "text", "label")


@pytest.fixture(scope="module")
def held(sample):
    return held_out_rows(sample.texts, sample.labels, n=12, holdout=0.2, random_state=0)


@pytest.fixture(scope="module")
def clf(held):
    return IntentClassifier().fit(held.train_texts, held.train_labels)


def test_holdout_split_is_stratified_and_disjoint(sample):
    tr_t, tr_l, te_t, te_l = holdout_split(sample.texts, sample.labels, test_size=0.2, random_state=1)
    assert len(te_t) == 80 and len(tr_t) == 320
    assert not set(tr_t) & set(te_t)
    assert {lab: te_l.count(lab) for lab in set(te_l)} == {lab: 10 for lab in set(sample.labels)}
    with pytest.raises(ConfigError, match="between 0 and 1"):
        holdout_split(sample.texts, sample.labels, test_size=1.5)
    t, lab, _, _ = holdout_split(["a", "b", "c", "d", "e"], ["x", "x", "y", "y", "z"], test_size=0.4)
    assert "e" in t and "z" in lab  # a one-row category stays in training


def test_second_file_rows_never_repeat_training_texts(sample):
    test = (["Where is my parcel??", "  where is my PARCEL?? ", "A brand new question about a refund"],
            ["shipping", "shipping", "unseen_label"])
    h = held_out_rows(["Where is my parcel??", "x"], ["shipping", "refund"], n=5, test=test, test_name="test.csv")
    assert h.texts == ["A brand new question about a refund"]
    assert any("2 row(s) of test.csv are also training texts" in n for n in h.notes)
    assert any("not in the training data" in n and "unseen_label" in n for n in h.notes)
    assert h.train_texts == ["Where is my parcel??", "x"]
    assert drop_training_overlap(["Ａｂｃ"], ["l"], ["abc"])[2] == 1  # NFKC and case


def test_rate_ci_wilson_for_single_answers_bootstrap_for_repeats():
    one = rate_ci({i: [i < 7] for i in range(10)})
    ci = binomtest(7, 10).proportion_ci(method="wilson")
    assert one["rate"] == 0.7 and one["ci_low"] == pytest.approx(ci.low) and one["ci_method"] == "Wilson 95%"
    rep = rate_ci({i: [True, i % 2 == 0, False] for i in range(20)})
    assert rep["rate"] == pytest.approx(0.5) and rep["n_queries"] == 20 and rep["n_answers"] == 60
    assert rep["ci_low"] < 0.5 < rep["ci_high"] and "bootstrap" in rep["ci_method"]


def test_evaluation_measures_adherence_consistency_copies_and_exports(held, clf):
    prov = Scripted()
    cache = ResponseCache()
    seen = []
    run = evaluate_prompts(held.texts, held.labels, clf, prov, repeats=3, temperature=0.7, max_tokens=32, cache=cache,
                           sentiment_fn=_sentiment, source=held.source, progress=lambda d, t, r: seen.append((d, t)))
    rows = run.rows
    assert list(rows.columns) == EVAL_COLUMNS
    assert len(rows) == 12 * 2 * 3 and (rows["error"] == "").all()
    assert seen[-1] == (72, 72) and prov.calls == 72  # each repeat is its own call (and cache entry)
    assert set(rows["repeat"]) == {1, 2, 3} and rows["row"].min() == 1
    # the classifier judged each answer: the raw answer is always the same greeting, on topic only by chance
    raw, ctx = rows[rows["arm"] == "raw"], rows[rows["arm"] == "contextualised"]
    hello = clf.predict_top_k("Hello! Thank you for writing to us today.", k=1)[0][0]
    assert (raw["adheres"] == (raw["true_label"] == hello)).all() and set(raw["answer_topic"]) == {hello}
    assert (ctx["adheres"] == (ctx["predicted"] == ctx["true_label"])).mean() > 0.8
    s = summarise(run)
    assert s["kind"] == SUMMARY_KIND and s["version"] == 1 and s["n_queries"] == 12 and s["n_answers"] == 72
    assert s["arms"]["raw"]["topic_adherence"]["rate"] == pytest.approx((raw["true_label"] == hello).mean())
    assert s["arms"]["contextualised"]["topic_adherence"]["rate"] > 0.5
    assert s["difference"]["topic_adherence"]["ci_low"] > 0
    assert s["verdict"].startswith("context helped topic adherence")
    # the raw answer never varies: consistency 1.0; the contextualised one varies in its reference number
    assert s["arms"]["raw"]["consistency"]["mean_cosine"] == pytest.approx(1.0)
    assert 0.5 < s["arms"]["contextualised"]["consistency"]["mean_cosine"] < 1.0
    assert s["arms"]["raw"]["consistency"]["length_sd_chars"] == 0.0
    acc = s["classifier_accuracy"]
    assert acc["n_queries"] == 12 and acc["rate"] == pytest.approx(rows.drop_duplicates("row")["classifier_correct"].mean())
    lat = s["arms"]["raw"]["latency_ms"]
    assert lat["n_measured"] == 36 and lat["p50"] <= lat["p95"]
    tok = s["arms"]["contextualised"]["tokens"]
    assert tok["input_total"] == int(ctx["input_tokens"].sum()) and tok["input_mean"] > s["arms"]["raw"]["tokens"]["input_mean"]
    # local answers: cost 0, and a projection on the price file's models with its date
    prices = load_prices()
    assert s["arms"]["raw"]["cost_usd"]["total"] == 0.0
    proj = s["cost_projection"]
    assert proj["retrieved"] == prices.retrieved and len(proj["arms"]["raw"]) == len(prices.models)
    haiku = next(p for p in proj["arms"]["contextualised"] if p["model"] == "anthropic.claude-haiku-4-5")
    expected = (tok["input_total"] * 1.0 + tok["output_total"] * 5.0) / 1e6
    assert haiku["cost_usd"] == pytest.approx(expected) and haiku["usd_per_1000_queries"] == pytest.approx(
        expected / 36 * 1000)
    json.dumps(s)  # JSON-ready
    wide = wide_table(rows)
    assert len(wide) == 12 and set(wide["raw on topic"]) <= {"0/3", "3/3"} and wide["raw answer"].nunique() == 1
    # a rerun is served from the cache: nothing called, no latency measured, nothing charged
    again = evaluate_prompts(held.texts, held.labels, clf, prov, repeats=3, temperature=0.7, max_tokens=32,
                             cache=cache, sentiment_fn=_sentiment)
    assert prov.calls == 72 and again.rows["cached"].all() and again.rows["latency_ms"].isna().all()
    s2 = summarise(again)
    assert s2["arms"]["raw"]["latency_ms"]["p50"] is None
    assert s2["arms"]["raw"]["topic_adherence"] == s["arms"]["raw"]["topic_adherence"]


def test_small_or_tied_runs_say_not_enough_evidence(held, clf):
    run = evaluate_prompts(held.texts[:3], held.labels[:3], clf, Scripted(), repeats=1, temperature=0.0,
                           sentiment_fn=_sentiment)
    s = summarise(run)
    assert s["verdict"].startswith("not enough evidence")
    assert s["arms"]["raw"]["consistency"] is None and s["difference"]["consistency"] is None
    assert s["arms"]["raw"]["topic_adherence"]["ci_method"] == "Wilson 95%"


def test_copies_of_worked_examples_are_counted(held, clf):
    class Copier(Scripted):
        is_base_model = True

        def _generate(self, system, messages, max_tokens, temperature):
            self.calls += 1
            return LLMResponse(messages[1]["content"], 100, 10, 5.0, "stop", self.model_id, "local")

    pool = example_pool(held.train_texts, held.train_labels, clf, sentiment_fn=_sentiment)
    run = evaluate_prompts(held.texts[:4], held.labels[:4], clf, Copier(), repeats=1, temperature=None,
                           examples=pool, sentiment_fn=_sentiment)
    assert run.rows["copied"].all() and run.rows["copy_of"].eq("example 1 answer").all()
    s = summarise(run)
    assert s["arms"]["raw"]["copy_rate"]["rate"] == 1.0 == s["arms"]["contextualised"]["copy_rate"]["rate"]


def test_errors_transient_continue_setup_stops(held, clf):
    throttled = ProviderError("throttled", retryable=True, code="ThrottlingException")
    denied = ProviderError("access denied", code="AccessDeniedException")
    run = evaluate_prompts(held.texts[:4], held.labels[:4], clf, Scripted(fail_on={2: throttled, 5: denied}),
                           repeats=1, sentiment_fn=_sentiment)
    assert list(run.rows["error"]) == ["", "throttled", "", "", "access denied"]
    assert run.stopped_early == "access denied"
    s = summarise(run)
    assert s["n_errors"] == 2 and s["stopped_early"] == "access denied"
    with pytest.raises(ConfigError, match="temperature above 0"):
        evaluate_prompts(held.texts[:2], held.labels[:2], clf, Scripted(), repeats=3, temperature=0.0)
    with pytest.raises(ConfigError, match="no held-out query"):
        evaluate_prompts([], [], clf, Scripted())


def test_project_costs_uses_global_prices_and_sorts():
    prices = load_prices()
    rows = project_costs(1_000_000, 100_000, prices, per_queries=1000)
    assert [r["cost_usd"] for r in rows] == sorted(r["cost_usd"] for r in rows)
    opus = next(r for r in rows if r["model"] == "anthropic.claude-opus-4-7")
    assert opus["tier"] == "global" and opus["cost_usd"] == pytest.approx(5.0 + 2.5)
    assert opus["usd_per_1000_queries"] == pytest.approx(7.5)
    old = next(r for r in rows if r["model"] == "anthropic.claude-3-haiku")
    assert old["tier"] == "regional" and old["cost_usd"] == pytest.approx(0.25 + 0.125)


def test_pii_is_masked_in_every_prompt(held, clf):
    class Echo(Scripted):
        def _generate(self, system, messages, max_tokens, temperature):
            self.calls += 1
            self.last = messages[-1]["content"]
            return LLMResponse("ok", 10, 1, 1.0, "stop", self.model_id, "local")

    prov = Echo()
    run = evaluate_prompts(["My card 4111 1111 1111 1111 was charged twice, mail me at a.b@example.com"], ["billing"],
                           clf, prov, repeats=1, mask_pii=True, sentiment_fn=_sentiment)
    assert "[CARD_NUMBER]" in prov.last and "4111" not in prov.last and "a.b@example.com" not in prov.last
    assert run.rows["pii_masked"].iloc[0] == "2 items masked: 1 card number, 1 email address"
    assert "4111" not in run.rows.to_csv()


def test_embedded_model_end_to_end(held, clf):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    from core.arena.providers import EmbeddedProvider

    pool = example_pool(held.train_texts, held.train_labels, clf, sentiment_fn=_sentiment)
    run = evaluate_prompts(held.texts[:2], held.labels[:2], clf, EmbeddedProvider(), repeats=2, temperature=0.8,
                           max_tokens=12, examples=pool, sentiment_fn=_sentiment)
    assert (run.rows["error"] == "").all() and len(run.rows) == 8
    assert (run.rows["input_tokens"] > 100).all() and (run.rows["output_tokens"] <= 12).all()
    s = summarise(run)
    for arm in ("raw", "contextualised"):
        m = s["arms"][arm]
        assert m["consistency"] is not None and 0.0 <= m["consistency"]["mean_cosine"] <= 1.0 + 1e-9
        assert m["cost_usd"]["total"] == 0.0 and m["latency_ms"]["p95"] > 0
    assert np.isfinite(s["arms"]["contextualised"]["tokens"]["input_mean"])


def test_optional_llm_judge_is_labelled_and_never_alone(held, clf):
    class Judged(Scripted):
        def _generate(self, system, messages, max_tokens, temperature):
            if system.startswith("You rate customer-support answers"):
                assert "<query>" in messages[-1]["content"] and temperature == 0.0
                return LLMResponse("4", 50, 1, 1.0, "stop", self.model_id, "local")
            return super()._generate(system, messages, max_tokens, temperature)

    run = evaluate_prompts(held.texts[:3], held.labels[:3], clf, Judged(), repeats=1, judge=True,
                           sentiment_fn=_sentiment)
    assert (run.rows["judge_score"] == 4.0).all()
    s = summarise(run)
    for arm in ("raw", "contextualised"):
        j = s["arms"][arm]["judge"]
        assert j["mean"] == 4.0 and j["n"] == 3 and "LLM judge" in j["label"] and "biased" in j["label"]
        assert s["arms"][arm]["topic_adherence"]["rate"] is not None  # the judge is never the only number
    assert s["judge"]["label"].startswith("LLM judge")
