"""The hybrid pipeline of DPR201: classifier + sentiment in front of an LLM.

For one customer query:

1. the intent classifier gives the category and the top-k alternatives with
   probabilities (:meth:`IntentClassifier.predict_top_k`);
2. :func:`core.sentiment.analyze` gives the sentiment (AWS Comprehend's
   ``Sentiment``/``SentimentScore`` schema) and :func:`urgency_from_sentiment`
   turns it into an urgency;
3. two prompts are rendered: *raw* (the query alone) and *contextualised*
   (query + category, confidence, sentiment, urgency, alternatives, guidance);
4. both are sent to the same provider; each answer comes with input/output
   tokens, latency (ms) and cost (USD, from :mod:`core.arena.pricing`).

Answers are cached (:class:`core.arena.cache.ResponseCache`) when a cache is
given, so a rerun does not pay twice. :func:`run_batch` does the same for N
queries with a progress callback and returns a ``pandas.DataFrame``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import pandas as pd

from core.errors import ConfigError, CrossroadsError, DataError, ProviderError

from .cache import ResponseCache, cache_key
from .pricing import PriceTable, load_prices
from .prompts import (CONTEXTUALISED_TEMPLATE, RAW_TEMPLATE, PromptTemplate, RenderedPrompt, context_values,
                      few_shot_messages)
from .providers.base import LLMProvider, LLMResponse, ResponseStream

ARMS = ("raw", "contextualised")

#: Probability of NEGATIVE above which urgency is "high" (our rule, see :func:`urgency_from_sentiment`).
HIGH_URGENCY_NEGATIVE = 0.6


def urgency_from_sentiment(sentiment: str, scores: Mapping[str, float] | None = None) -> str:
    """Urgency of a query from its sentiment.

    The rule (ours, in the spirit of DPR201 where Comprehend's sentiment
    flags urgent tickets): ``NEGATIVE`` with a Negative score >= 0.6 ->
    ``"high"``; other ``NEGATIVE`` or ``MIXED`` -> ``"medium"``; ``NEUTRAL``
    and ``POSITIVE`` -> ``"low"``.

    Args:
        sentiment: ``"POSITIVE"``, ``"NEGATIVE"``, ``"NEUTRAL"`` or ``"MIXED"``.
        scores: Comprehend-style ``SentimentScore`` ``{"Negative": p, ...}``.

    Returns:
        ``"high"``, ``"medium"`` or ``"low"``.
    """
    s = (sentiment or "").upper()
    neg = float((scores or {}).get("Negative", 1.0 if s == "NEGATIVE" else 0.0))
    if s == "NEGATIVE":
        return "high" if neg >= HIGH_URGENCY_NEGATIVE else "medium"
    if s == "MIXED":
        return "medium"
    return "low"


@dataclass
class QueryAnalysis:
    """What the classic-ML side found for one query.

    Attributes:
        query: the text.
        category: top-1 label; confidence: its probability in [0, 1].
        top_k: ``[(label, probability), ...]`` best first.
        sentiment: ``"POSITIVE"|"NEGATIVE"|"NEUTRAL"|"MIXED"``.
        sentiment_score: ``{"Positive", "Negative", "Neutral", "Mixed"}`` -> [0, 1].
        language_code: e.g. ``"en"``, ``"ja"``.
        urgency: ``"high"|"medium"|"low"`` (:func:`urgency_from_sentiment`), or
            ``"unknown"`` when the sentiment could not be measured.
        notes: what the user should know (e.g. sentiment unavailable for this language).
    """

    query: str
    category: str
    confidence: float
    top_k: list[tuple[str, float]]
    sentiment: str
    sentiment_score: dict[str, float]
    language_code: str
    urgency: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``top_k`` as ``[{"label", "probability"}]``)."""
        d = asdict(self)
        d["top_k"] = [{"label": lab, "probability": float(p)} for lab, p in self.top_k]
        return d


def analyze_query(query: str, classifier: Any, *, k: int = 3, sentiment_backend: str = "local",
                  language: str = "auto",
                  sentiment_fn: Callable[[str], Any] | None = None) -> QueryAnalysis:
    """Classify a query and measure its sentiment.

    Args:
        query: customer text (non-blank).
        classifier: fitted object with ``predict_top_k(text, k) -> [(label, p)]``
            (:class:`core.arena.classifier.IntentClassifier`).
        k: number of labels to keep (>= 1).
        sentiment_backend / language: passed to :func:`core.sentiment.analyze`.
        sentiment_fn: alternative ``text -> result`` with ``.sentiment``,
            ``.sentiment_score``, ``.language_code``.

    Returns:
        :class:`QueryAnalysis`.

    Raises:
        ConfigError: blank query or bad ``k``.
        DataError / ProviderError: from the classifier or sentiment backend.
    """
    if not isinstance(query, str) or not query.strip():
        raise ConfigError("the query is empty: type a customer message.")
    if not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be a whole number >= 1, got {k!r}.")
    top = [(str(lab), float(p)) for lab, p in classifier.predict_top_k(query, k=k)]
    if sentiment_fn is None:
        from core.sentiment import analyze

        def sentiment_fn(text):
            return analyze(text, language=language, backend=sentiment_backend)
    try:
        sres = sentiment_fn(query)
    except DataError as exc:  # e.g. a language the sentiment backend does not support
        return QueryAnalysis(query=query, category=top[0][0], confidence=top[0][1], top_k=top,
                             sentiment="UNKNOWN", sentiment_score={}, language_code="unknown",
                             urgency="unknown", notes=[f"Sentiment not available: {exc}"])
    scores = {str(kk): float(v) for kk, v in dict(sres.sentiment_score).items()}
    return QueryAnalysis(query=query, category=top[0][0], confidence=top[0][1], top_k=top,
                         sentiment=str(sres.sentiment), sentiment_score=scores,
                         language_code=str(sres.language_code),
                         urgency=urgency_from_sentiment(sres.sentiment, scores),
                         notes=list(getattr(sres, "notices", []) or []))


def build_prompts(analysis: QueryAnalysis, *, raw_template: PromptTemplate = RAW_TEMPLATE,
                  contextualised_template: PromptTemplate = CONTEXTUALISED_TEMPLATE,
                  guidance: Mapping[str, str] | None = None, include_alternatives: bool = True,
                  include_guidance: bool = True, few_shot: bool = False,
                  extra: Mapping[str, Any] | None = None) -> dict[str, RenderedPrompt]:
    """Render both prompts for one analysed query.

    Args:
        few_shot: put worked examples, rendered with the same template, before
            the query as earlier turns (:func:`core.arena.prompts.few_shot_messages`);
            used for base models (``provider.is_base_model``).

    Returns:
        ``{"raw": RenderedPrompt, "contextualised": RenderedPrompt}``.

    Raises:
        ConfigError: a template uses a variable with no value, or is malformed.
    """
    values = context_values(query=analysis.query, category=analysis.category,
                            confidence=analysis.confidence, top_k=analysis.top_k,
                            sentiment=analysis.sentiment, urgency=analysis.urgency,
                            guidance=guidance, include_alternatives=include_alternatives,
                            include_guidance=include_guidance,
                            extra={"language": analysis.language_code, **(extra or {})})
    if few_shot:
        opts = dict(guidance=guidance, include_alternatives=include_alternatives,
                    include_guidance=include_guidance)
        return {"raw": few_shot_messages(raw_template, values, **opts),
                "contextualised": few_shot_messages(contextualised_template, values, **opts)}
    return {"raw": raw_template.render(values),
            "contextualised": contextualised_template.render(values)}


@dataclass
class ArmResult:
    """One prompt's answer.

    Attributes:
        name: ``"raw"`` or ``"contextualised"``.
        prompt: what was sent.
        response: the answer (tokens, latency in ms, stop reason, model ID).
        cost_usd: price of the call in USD (``None`` if the model has no price);
            for a cached answer it is the original call's price.
        charged_usd: what this run cost: ``0.0`` when served from the cache.
        sent: the prompt exactly as the provider sent it (for a base model,
            the few-shot completion prompt), for display.
    """

    name: str
    prompt: RenderedPrompt
    response: LLMResponse
    cost_usd: float | None
    charged_usd: float | None
    sent: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "prompt": self.prompt.to_dict(), "sent": self.sent,
                "response": self.response.to_dict(), "cost_usd": self.cost_usd,
                "charged_usd": self.charged_usd}


def _key(provider: LLMProvider, prompt: RenderedPrompt, max_tokens: int, temperature: float | None) -> str:
    return cache_key(provider.cache_identity(), prompt.system, prompt.messages,
                     {"max_tokens": max_tokens, "temperature": provider.effective_temperature(temperature)})


def _cost(provider: LLMProvider, response: LLMResponse, prices: PriceTable) -> float | None:
    return prices.cost_usd(provider.name, response.model_id, response.input_tokens,
                           response.output_tokens, local=provider.is_local())


def _arm(name: str, provider: LLMProvider, prompt: RenderedPrompt, response: LLMResponse,
         prices: PriceTable) -> ArmResult:
    cost = _cost(provider, response, prices)
    return ArmResult(name, prompt, response, cost, 0.0 if response.cached else cost,
                     provider.prompt_as_sent(prompt.system, prompt.messages))


def run_prompt(provider: LLMProvider, prompt: RenderedPrompt, *, max_tokens: int = 256,
               temperature: float | None = None, cache: ResponseCache | None = None,
               prices: PriceTable | None = None) -> ArmResult:
    """Send one rendered prompt (or take it from the cache).

    Args:
        provider: any :class:`LLMProvider`.
        prompt: from :func:`build_prompts`.
        max_tokens: output token limit.
        temperature: ``None`` = model default.
        cache: optional response cache.
        prices: price table (default :func:`load_prices`).

    Returns:
        :class:`ArmResult`.

    Raises:
        ProviderError, ConfigError: from the provider.
    """
    prices = prices or load_prices()
    key = _key(provider, prompt, max_tokens, temperature)
    response = cache.get(key) if cache is not None else None
    if response is None:
        response = provider.generate(prompt.system, prompt.messages, max_tokens, temperature)
        if cache is not None:
            cache.put(key, response)
    return _arm(prompt.name, provider, prompt, response, prices)


class ArmStream:
    """Text chunks of one prompt's answer as they arrive, then :attr:`result`.

    Iterate it (e.g. ``st.write_stream(arm_stream)``); afterwards
    :attr:`result` is the :class:`ArmResult`. A cache hit yields the whole
    text at once. The answer is stored in the cache when the stream ends.
    """

    def __init__(self, provider: LLMProvider, prompt: RenderedPrompt, *, max_tokens: int,
                 temperature: float | None, cache: ResponseCache | None, prices: PriceTable):
        self.provider, self.prompt, self.prices, self.cache = provider, prompt, prices, cache
        self._key = _key(provider, prompt, max_tokens, temperature)
        hit = cache.get(self._key) if cache is not None else None
        self._stream: ResponseStream = (ResponseStream.from_response(hit) if hit is not None else
                                        provider.stream(prompt.system, prompt.messages, max_tokens,
                                                        temperature))
        self._from_cache = hit is not None
        self.result: ArmResult | None = None

    def __iter__(self) -> Iterator[str]:
        yield from self._stream
        response = self._stream.response
        if self.cache is not None and not self._from_cache:
            self.cache.put(self._key, response)
        self.result = _arm(self.prompt.name, self.provider, self.prompt, response, self.prices)

    def consume(self) -> ArmResult:
        """Read to the end and return :attr:`result`."""
        for _ in self:
            pass
        assert self.result is not None
        return self.result


def stream_prompt(provider: LLMProvider, prompt: RenderedPrompt, *, max_tokens: int = 256,
                  temperature: float | None = None, cache: ResponseCache | None = None,
                  prices: PriceTable | None = None) -> ArmStream:
    """Streaming version of :func:`run_prompt`: returns an :class:`ArmStream`."""
    return ArmStream(provider, prompt, max_tokens=max_tokens, temperature=temperature,
                     cache=cache, prices=prices or load_prices())


@dataclass
class ArenaResult:
    """Both answers for one query.

    Attributes:
        analysis: :class:`QueryAnalysis`.
        arms: ``{"raw": ArmResult, "contextualised": ArmResult}``.
        provider: provider name; model_id: model requested.
    """

    analysis: QueryAnalysis
    arms: dict[str, ArmResult]
    provider: str
    model_id: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict ``{"provider", "model_id", "analysis", "raw", "contextualised"}``."""
        return {"provider": self.provider, "model_id": self.model_id,
                "analysis": self.analysis.to_dict(),
                **{name: arm.to_dict() for name, arm in self.arms.items()}}


def respond(query: str, classifier: Any, provider: LLMProvider, *, k: int = 3,
            max_tokens: int = 256, temperature: float | None = None,
            cache: ResponseCache | None = None, prices: PriceTable | None = None,
            raw_template: PromptTemplate = RAW_TEMPLATE,
            contextualised_template: PromptTemplate = CONTEXTUALISED_TEMPLATE,
            guidance: Mapping[str, str] | None = None, include_alternatives: bool = True,
            include_guidance: bool = True, sentiment_backend: str = "local",
            sentiment_fn: Callable[[str], Any] | None = None) -> ArenaResult:
    """Analyse one query and get the raw and the contextualised answers (not streamed).

    Returns:
        :class:`ArenaResult`.

    Raises:
        ConfigError, DataError, ProviderError: see :func:`analyze_query`,
        :func:`build_prompts`, :func:`run_prompt`.
    """
    analysis = analyze_query(query, classifier, k=k, sentiment_backend=sentiment_backend,
                             sentiment_fn=sentiment_fn)
    prompts = build_prompts(analysis, raw_template=raw_template,
                            contextualised_template=contextualised_template, guidance=guidance,
                            include_alternatives=include_alternatives,
                            include_guidance=include_guidance, few_shot=provider.is_base_model)
    prices = prices or load_prices()
    arms = {name: run_prompt(provider, prompts[name], max_tokens=max_tokens, temperature=temperature,
                             cache=cache, prices=prices) for name in ARMS}
    return ArenaResult(analysis, arms, provider.name, provider.model_id)


#: Columns of :func:`run_batch`'s table, in order.
BATCH_COLUMNS = (
    ["query", "category", "confidence", "top_k", "sentiment", "urgency", "language", "notes"]
    + [f"{arm}_{col}" for arm in ARMS for col in
       ("response", "input_tokens", "output_tokens", "latency_ms", "cost_usd", "stop_reason",
        "cached", "prompt")]
    + ["error"]
)


def result_row(result: ArenaResult) -> dict[str, Any]:
    """One :data:`BATCH_COLUMNS` row from an :class:`ArenaResult`."""
    a = result.analysis
    row: dict[str, Any] = {
        "query": a.query, "category": a.category, "confidence": round(a.confidence, 4),
        "top_k": "; ".join(f"{lab} {p:.2f}" for lab, p in a.top_k),
        "sentiment": a.sentiment, "urgency": a.urgency, "language": a.language_code,
        "notes": " ".join(a.notes), "error": "",
    }
    for name, arm in result.arms.items():
        r = arm.response
        row.update({f"{name}_response": r.text, f"{name}_input_tokens": r.input_tokens,
                    f"{name}_output_tokens": r.output_tokens, f"{name}_latency_ms": r.latency_ms,
                    f"{name}_cost_usd": arm.cost_usd, f"{name}_stop_reason": r.stop_reason,
                    f"{name}_cached": r.cached, f"{name}_prompt": arm.sent or arm.prompt.as_text()})
    return row


def run_batch(queries: Iterable[str], classifier: Any, provider: LLMProvider, *,
              progress: Callable[[int, int, dict[str, Any]], None] | None = None,
              **options: Any) -> pd.DataFrame:
    """Run :func:`respond` on many queries and tabulate the results.

    Args:
        queries: customer texts (blank ones are skipped).
        classifier: fitted intent classifier.
        provider: LLM provider.
        progress: called after each query as ``progress(done, total, row)``.
        options: passed to :func:`respond` (``k``, ``max_tokens``,
            ``temperature``, ``cache``, ``prices``, templates, ``guidance``...).

    Returns:
        ``DataFrame`` with :data:`BATCH_COLUMNS`, one row per query. A query
        that failed has its message in ``error``. A transient provider error
        (``retryable``) moves on to the next query; a setup error (access
        denied, bad model...) stops the batch, and ``df.attrs["stopped_early"]``
        holds its message (the rows done so far are kept).

    Raises:
        ConfigError: no non-blank query.
    """
    items = [q for q in (str(x) for x in queries if x is not None) if q.strip()]
    if not items:
        raise ConfigError("no query to run: the selected column has no text.")
    options.setdefault("prices", load_prices())
    rows: list[dict[str, Any]] = []
    stopped = ""
    for i, q in enumerate(items, start=1):
        try:
            row = result_row(respond(q, classifier, provider, **options))
        except CrossroadsError as exc:
            row = {c: None for c in BATCH_COLUMNS}
            row.update(query=q, error=str(exc))
            if not (isinstance(exc, DataError)
                    or (isinstance(exc, ProviderError) and exc.retryable)):
                stopped = str(exc)
        rows.append(row)
        if progress is not None:
            progress(i, len(items), row)
        if stopped:
            break
    df = pd.DataFrame(rows, columns=list(BATCH_COLUMNS))
    if stopped:
        df.attrs["stopped_early"] = stopped
    return df


def batch_summary(df: pd.DataFrame) -> dict[str, Any]:
    """Totals of a :func:`run_batch` table per arm.

    Returns:
        ``{"n_queries", "n_errors", "raw": {...}, "contextualised": {...}}`` where
        each arm has ``input_tokens``, ``output_tokens`` (sums),
        ``mean_latency_ms``, ``cost_usd`` (sum, ``None`` if any price is unknown).
    """
    out: dict[str, Any] = {"n_queries": int(len(df)),
                           "n_errors": int((df["error"].fillna("") != "").sum())}
    ok = df[df["error"].fillna("") == ""]
    for arm in ARMS:
        costs = ok[f"{arm}_cost_usd"]
        out[arm] = {
            "input_tokens": int(pd.to_numeric(ok[f"{arm}_input_tokens"]).fillna(0).sum()),
            "output_tokens": int(pd.to_numeric(ok[f"{arm}_output_tokens"]).fillna(0).sum()),
            "mean_latency_ms": float(pd.to_numeric(ok[f"{arm}_latency_ms"]).mean()) if len(ok) else None,
            "cost_usd": None if costs.isna().any() else float(costs.sum()),
        }
    return out
