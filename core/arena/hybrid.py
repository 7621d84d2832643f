"""The hybrid pipeline of DPR201: classifier + sentiment in front of an LLM.

For one customer query:

1. the intent classifier gives the category and the top-k alternatives with
   probabilities (:meth:`IntentClassifier.predict_top_k`);
2. :func:`core.sentiment.analyze` gives the sentiment (AWS Comprehend's
   ``Sentiment``/``SentimentScore`` schema) and :func:`core.arena.urgency.assess_urgency`
   turns it, the text's urgency cues and the category into an urgency with reasons;
   optionally, personal data is masked first (:mod:`core.privacy`), so the prompts carry
   the masks;
3. two prompts are rendered: *raw* (the query alone) and *contextualised*
   (query + category, confidence, sentiment, urgency, alternatives, guidance);
4. both are sent to the same provider; each answer comes with input/output
   tokens, latency (ms) and cost (USD, from :mod:`core.arena.pricing`).

Answers are cached (:class:`core.arena.cache.ResponseCache`) when a cache is
given, so a rerun does not pay twice. :func:`run_batch` does the same for N
queries with a progress callback and returns a ``pandas.DataFrame``. For a base
model the worked examples come from the user's own table (:func:`example_pool`),
and an answer that copies one is flagged (:attr:`ArmResult.copy`). The batch
*evaluation* on held-out rows is :mod:`core.arena.evaluation`.

This module sends the prompts and measures the answers (steps 4 and the batch); steps 1-3
(:class:`QueryAnalysis`, :func:`analyze_query`, :func:`example_pool`, :func:`build_prompts`)
live in :mod:`core.arena.analysis` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

import pandas as pd

from core.errors import ConfigError, CrossroadsError, DataError, ProviderError

from .analysis import QueryAnalysis, analyze_query, build_prompts, example_pool  # noqa: F401 - re-exported
from .cache import ResponseCache, cache_key
from .pricing import PriceTable, load_prices
from .prompts import (
    CONTEXTUALISED_TEMPLATE,
    RAW_TEMPLATE,
    CopyMatch,
    ExamplePool,
    PromptTemplate,
    RenderedPrompt,
    find_copy,
)
from .providers.base import LLMProvider, LLMResponse, ResponseStream
from .urgency import HIGH_URGENCY_NEGATIVE, assess_urgency, urgency_from_sentiment  # noqa: F401 - re-exported

ARMS = ("raw", "contextualised")


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
        copy: the worked example the answer copies (:func:`core.arena.prompts.find_copy`),
            or ``None``.
    """

    name: str
    prompt: RenderedPrompt
    response: LLMResponse
    cost_usd: float | None
    charged_usd: float | None
    sent: str = ""
    copy: CopyMatch | None = None

    @property
    def measured_latency_ms(self) -> float | None:
        """Latency of this call in ms, or ``None`` for a cached answer (no call was made;
        ``response.latency_ms`` is then the original call's)."""
        return None if self.response.cached else float(self.response.latency_ms)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "prompt": self.prompt.to_dict(), "sent": self.sent,
                "response": self.response.to_dict(), "cost_usd": self.cost_usd,
                "charged_usd": self.charged_usd, "measured_latency_ms": self.measured_latency_ms,
                "copy": asdict(self.copy) if self.copy else None}


def _key(provider: LLMProvider, prompt: RenderedPrompt, max_tokens: int, temperature: float | None,
         repeat: int = 0) -> str:
    params: dict[str, Any] = {"max_tokens": max_tokens, "temperature": provider.effective_temperature(temperature)}
    if repeat:  # the r-th sample of the same prompt is its own cache entry (repeat 0 = the usual key)
        params["repeat"] = int(repeat)
    return cache_key(provider.cache_identity(), prompt.system, prompt.messages, params)


def _cost(provider: LLMProvider, response: LLMResponse, prices: PriceTable) -> float | None:
    return prices.cost_usd(provider.name, response.model_id, response.input_tokens,
                           response.output_tokens, local=provider.is_local())


def _arm(name: str, provider: LLMProvider, prompt: RenderedPrompt, response: LLMResponse,
         prices: PriceTable) -> ArmResult:
    cost = _cost(provider, response, prices)
    return ArmResult(name, prompt, response, cost, 0.0 if response.cached else cost,
                     provider.prompt_as_sent(prompt.system, prompt.messages), find_copy(response.text, prompt))


def run_prompt(provider: LLMProvider, prompt: RenderedPrompt, *, max_tokens: int = 256,
               temperature: float | None = None, cache: ResponseCache | None = None,
               prices: PriceTable | None = None, repeat: int = 0) -> ArmResult:
    """Send one rendered prompt (or take it from the cache).

    Args:
        provider: any :class:`LLMProvider`.
        prompt: from :func:`build_prompts`.
        max_tokens: output token limit.
        temperature: ``None`` = model default.
        cache: optional response cache.
        prices: price table (default :func:`load_prices`).
        repeat: sample number when the same prompt is asked several times (0, 1, 2...):
            each sample is cached on its own, so repeats are not served the first answer.

    Returns:
        :class:`ArmResult`.

    Raises:
        ProviderError, ConfigError: from the provider.
    """
    prices = prices or load_prices()
    key = _key(provider, prompt, max_tokens, temperature, repeat)
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
                 temperature: float | None, cache: ResponseCache | None, prices: PriceTable, repeat: int = 0):
        self.provider, self.prompt, self.prices, self.cache = provider, prompt, prices, cache
        self._key = _key(provider, prompt, max_tokens, temperature, repeat)
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
                  prices: PriceTable | None = None, repeat: int = 0) -> ArmStream:
    """Streaming version of :func:`run_prompt`: returns an :class:`ArmStream`."""
    return ArmStream(provider, prompt, max_tokens=max_tokens, temperature=temperature,
                     cache=cache, prices=prices or load_prices(), repeat=repeat)


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
            sentiment_fn: Callable[[str], Any] | None = None, examples: ExamplePool | None = None,
            mask_pii: bool = False, pii_detector: Any = None,
            urgent_categories: Iterable[str] | None = None) -> ArenaResult:
    """Analyse one query and get the raw and the contextualised answers (not streamed).

    Args:
        examples: worked examples for a base model from the user's table (:func:`example_pool`).
        mask_pii / pii_detector / urgent_categories: see :func:`analyze_query`.
        (others): see :func:`analyze_query`, :func:`build_prompts` and :func:`run_prompt`.

    Returns:
        :class:`ArenaResult`.

    Raises:
        ConfigError, DataError, ProviderError: see :func:`analyze_query`,
        :func:`build_prompts`, :func:`run_prompt`.
    """
    analysis = analyze_query(query, classifier, k=k, sentiment_backend=sentiment_backend,
                             sentiment_fn=sentiment_fn, mask_pii=mask_pii, pii_detector=pii_detector,
                             urgent_categories=urgent_categories)
    prompts = build_prompts(analysis, raw_template=raw_template,
                            contextualised_template=contextualised_template, guidance=guidance,
                            include_alternatives=include_alternatives,
                            include_guidance=include_guidance, few_shot=provider.is_base_model,
                            examples=examples)
    prices = prices or load_prices()
    arms = {name: run_prompt(provider, prompts[name], max_tokens=max_tokens, temperature=temperature,
                             cache=cache, prices=prices) for name in ARMS}
    return ArenaResult(analysis, arms, provider.name, provider.model_id)


#: Columns of :func:`run_batch`'s table, in order.
BATCH_COLUMNS = (
    ["query", "category", "confidence", "top_k", "sentiment", "urgency", "urgency_reason", "pii_masked",
     "language", "notes"]
    + [f"{arm}_{col}" for arm in ARMS for col in
       ("response", "input_tokens", "output_tokens", "latency_ms", "cost_usd", "stop_reason",
        "cached", "copied", "prompt")]
    + ["error"]
)


def result_row(result: ArenaResult) -> dict[str, Any]:
    """One :data:`BATCH_COLUMNS` row from an :class:`ArenaResult`."""
    a = result.analysis
    row: dict[str, Any] = {
        "query": a.query, "category": a.category, "confidence": round(a.confidence, 4),
        "top_k": "; ".join(f"{lab} {p:.2f}" for lab, p in a.top_k),
        "sentiment": a.sentiment, "urgency": a.urgency, "urgency_reason": a.urgency_reason,
        "pii_masked": a.pii.summary() if a.pii is not None else "", "language": a.language_code,
        "notes": " ".join(a.notes), "error": "",
    }
    for name, arm in result.arms.items():
        r = arm.response
        row.update({f"{name}_response": r.text, f"{name}_input_tokens": r.input_tokens,
                    f"{name}_output_tokens": r.output_tokens, f"{name}_latency_ms": arm.measured_latency_ms,
                    f"{name}_cost_usd": arm.cost_usd, f"{name}_stop_reason": r.stop_reason,
                    f"{name}_cached": r.cached, f"{name}_copied": arm.copy.describe() if arm.copy else "",
                    f"{name}_prompt": arm.sent or arm.prompt.as_text()})
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
        except Exception as exc:  # noqa: BLE001 - an unexpected failure stops the batch; the rows done are kept
            row = {c: None for c in BATCH_COLUMNS}
            stopped = f"unexpected {type(exc).__name__}: {exc}"
            row.update(query=q, error=stopped)
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
        ``mean_latency_ms`` (calls actually made; cached answers have no latency, ``None``
        when every answer was cached), ``cost_usd`` (sum, ``None`` if any price is unknown)
        and ``copied`` (answers that copy a worked example).
    """
    out: dict[str, Any] = {"n_queries": int(len(df)),
                           "n_errors": int((df["error"].fillna("") != "").sum())}
    ok = df[df["error"].fillna("") == ""]
    for arm in ARMS:
        costs = ok[f"{arm}_cost_usd"]
        out[arm] = {
            "input_tokens": int(pd.to_numeric(ok[f"{arm}_input_tokens"]).fillna(0).sum()),
            "output_tokens": int(pd.to_numeric(ok[f"{arm}_output_tokens"]).fillna(0).sum()),
            "mean_latency_ms": (float(lat.mean()) if len(lat := pd.to_numeric(ok[f"{arm}_latency_ms"]).dropna())
                                else None),
            "cost_usd": None if costs.isna().any() else float(costs.sum()),
            "copied": int((ok[f"{arm}_copied"].fillna("") != "").sum()),
        }
    return out
