"""The hybrid pipeline: real classifier on the sample data, real offline sentiment,
both prompts, batch with progress, error handling, and the embedded model end to end."""

from __future__ import annotations

import json

import pytest

from core.arena.cache import ResponseCache
from core.arena.classifier import IntentClassifier, load_labelled_queries, sample_queries_path
from core.arena.hybrid import BATCH_COLUMNS, analyze_query, batch_summary, respond, run_batch
from core.arena.providers.base import LLMProvider, LLMResponse
from core.errors import ConfigError, DataError, ProviderError


def _sentiment_fn():
    try:
        from core.sentiment import analyze
        return lambda text: analyze(text, language="auto", backend="local")
    except ImportError:  # the sentiment area's public function not landed yet: use its backend
        from core.sentiment.local import LocalBackend
        return LocalBackend().detect


@pytest.fixture(scope="module")
def classifier():
    data = load_labelled_queries(sample_queries_path(), "text", "label")
    return IntentClassifier().fit(data.texts, data.labels)


class RecordingProvider(LLMProvider):
    """Deterministic provider that records prompts; can fail on chosen calls."""

    name = "bedrock"

    def __init__(self, fail_on: dict[int, Exception] | None = None):
        super().__init__("us.anthropic.claude-sonnet-4-6")
        self.calls: list[dict] = []
        self.fail_on = fail_on or {}

    def list_models(self):
        return [self.model_id]

    def _generate(self, system, messages, max_tokens, temperature):
        self.calls.append({"system": system, "messages": messages})
        if len(self.calls) in self.fail_on:
            raise self.fail_on[len(self.calls)]
        n_in = len(system.split()) + sum(len(m["content"].split()) for m in messages)
        return LLMResponse("ok", n_in, 20, 12.5, "end_turn", self.model_id, self.name)

    def _stream(self, system, messages, max_tokens, temperature):
        r = self._generate(system, messages, max_tokens, temperature)
        yield r.text
        return r


def test_analyze_query_real_classifier_and_sentiment(classifier):
    a = analyze_query("I was charged twice for my order and I am furious, refund me now!", classifier,
                      k=3, sentiment_fn=_sentiment_fn())
    assert a.category in ("billing", "refund")
    assert len(a.top_k) == 3 and a.top_k[0] == (a.category, a.confidence)
    assert sum(p for _, p in a.top_k) <= 1.0 + 1e-9
    assert a.sentiment == "NEGATIVE" and a.urgency in ("high", "medium")
    assert a.language_code == "en"
    ja = analyze_query("荷物がまだ届きません。どうなっていますか？", classifier, sentiment_fn=_sentiment_fn())
    assert ja.category == "shipping" and ja.language_code == "ja"


def test_respond_sends_both_prompts_and_prices_them(classifier):
    prov = RecordingProvider()
    res = respond("How do I reset my password?", classifier, prov, max_tokens=32,
                  sentiment_fn=_sentiment_fn())
    assert [c["messages"][0]["content"].startswith("<query>") for c in prov.calls] == [True, False]
    ctx = prov.calls[1]["messages"][0]["content"]
    from core.arena.prompts import humanise_label
    assert f"Category: {humanise_label(res.analysis.category)}" in ctx and "<query>How do I reset my password?</query>" in ctx
    raw, cx = res.arms["raw"], res.arms["contextualised"]
    # us. Sonnet 4.6 regional price: $3.30 in / $16.50 out per 1M tokens.
    assert raw.cost_usd == pytest.approx((raw.response.input_tokens * 3.3 + 20 * 16.5) / 1e6)
    assert cx.response.input_tokens > raw.response.input_tokens
    assert raw.sent == raw.prompt.as_text() and raw.sent.startswith("[system]\n")
    json.dumps(res.to_dict())  # JSON-ready


def test_unsupported_language_keeps_going_without_sentiment(classifier):
    def no_french(text):
        raise DataError("language fr is not supported by the local backend.")
    a = analyze_query("Ma commande n'est pas arrivée", classifier, sentiment_fn=no_french)
    assert a.sentiment == "UNKNOWN" and a.urgency == "unknown" and "fr" in a.notes[0]


def test_batch_progress_cache_and_summary(classifier):
    prov = RecordingProvider()
    seen = []
    queries = ["Where is my parcel?", "", "I want to cancel my subscription", "Where is my parcel?"]
    cache = ResponseCache()
    df = run_batch(queries, classifier, prov, progress=lambda d, t, row: seen.append((d, t)),
                   cache=cache, max_tokens=16, sentiment_fn=_sentiment_fn())
    assert list(df.columns) == list(BATCH_COLUMNS)
    assert len(df) == 3 and seen == [(1, 3), (2, 3), (3, 3)]  # blank query skipped
    assert len(prov.calls) == 4  # the repeated query came from the cache
    assert bool(df.loc[2, "raw_cached"]) and not bool(df.loc[0, "raw_cached"])
    s = batch_summary(df)
    assert s["n_queries"] == 3 and s["n_errors"] == 0
    assert s["raw"]["output_tokens"] == 60
    assert s["raw"]["cost_usd"] == pytest.approx(float(df["raw_cost_usd"].sum()))


def test_batch_continues_after_transient_error_and_stops_on_setup_error(classifier):
    throttled = ProviderError("throttled, retried 3 times", retryable=True, code="ThrottlingException")
    denied = ProviderError("Setup error: access denied", code="AccessDeniedException")
    prov = RecordingProvider(fail_on={1: throttled, 4: denied})
    df = run_batch(["a parcel question", "a billing question", "a refund", "never reached"], classifier,
                   prov, max_tokens=8, sentiment_fn=_sentiment_fn())
    assert list(df["error"]) == ["throttled, retried 3 times", "", "Setup error: access denied"]
    assert df.attrs["stopped_early"] == "Setup error: access denied"
    assert df.loc[1, "contextualised_response"] == "ok"


def test_batch_needs_a_query(classifier):
    with pytest.raises(ConfigError):
        run_batch(["", "  "], classifier, RecordingProvider())


def test_batch_with_embedded_model(classifier):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
    from core.arena.providers import EmbeddedProvider
    df = run_batch(["My parcel is late.", "注文をキャンセルしたいです。"], classifier, EmbeddedProvider(),
                   max_tokens=8, sentiment_fn=_sentiment_fn())
    assert (df["error"] == "").all()
    assert (df["raw_input_tokens"] > 50).all() and (df["contextualised_output_tokens"] <= 8).all()
    assert (df["raw_cost_usd"] == 0.0).all()
