"""Planning a bake-off: the arms, the settings, the fitted classifier, every LLM call, and the estimate.

:func:`plan_bakeoff` fits the classifier, times its per-query predictions and
builds every prompt (:mod:`core.decide.prompts`), without calling any LLM, so
:meth:`BakeoffPlan.estimate` can show calls, cached calls, tokens, USD and
time before anything is sent to a paid provider. :func:`core.decide.run.run_plan`
then makes the calls.

The hybrid arm's calls are ordered by increasing classifier confidence, so a
stopped run still gives an exact cascade curve up to the confidence of the
first row not answered.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from core.errors import ConfigError

from .cost import batch_per_1k, estimate_tokens
from .data import BakeoffData
from .prompts import ExampleIndex, candidate_system, label_system, messages_for

#: Arm identifiers, in display order.
ARMS = ("classifier", "zero_shot", "few_shot", "hybrid")
LLM_ARMS = ("zero_shot", "few_shot", "hybrid")
ARM_NAMES = {"classifier": "Trained classifier", "zero_shot": "Zero-shot LLM", "few_shot": "Few-shot LLM",
             "hybrid": "Hybrid cascade"}
#: Column prefix of each LLM arm's per-row answers (the hybrid's is the LLM's choice among the top-k).
CALL_PREFIX = {"zero_shot": "zero_shot", "few_shot": "few_shot", "hybrid": "hybrid_llm"}

#: Rough per-call seconds for the time estimate before a run (replaced by measured latency during it):
#: Bedrock Claude Haiku answers a short constrained choice in about a second; a local server is faster.
PRIOR_SECONDS = {"bedrock": 1.2, "openai": 0.8}
#: Embedded llama.cpp model: seconds per prompt token not already in its prefix cache, plus per call
#: (Gemma 3 270M on an idle 2-core machine, fitted to the three LLM arms of benchmarks/bakeoff.py on
#: banking77: 0.12, 0.34 and 0.14 s a call; a busy machine takes up to about 3x longer).
LOCAL_SECONDS_PER_TOKEN = 0.0025
LOCAL_SECONDS_PER_CALL = 0.1
#: Input tokens Bedrock adds for a forced tool call (tool-use system prompt), for estimates only.
TOOL_OVERHEAD_TOKENS = 350


def parse_arms(arms: str | Any) -> tuple[str, ...]:
    """``"classifier,zero-shot"`` (or a sequence) -> ``("classifier", "zero_shot")`` in display order.

    Raises:
        ConfigError: an unknown arm or none at all.
    """
    items = arms.split(",") if isinstance(arms, str) else list(arms)
    out = []
    for a in items:
        key = str(a).strip().lower().replace("-", "_")
        if not key:
            continue
        if key not in ARMS:
            raise ConfigError(f"unknown arm {a!r}: choose from classifier, zero-shot, few-shot, hybrid.")
        out.append(key)
    if not out:
        raise ConfigError("no arm chosen: give at least one of classifier, zero-shot, few-shot, hybrid.")
    return tuple(a for a in ARMS if a in out)


@dataclass
class BakeoffConfig:
    """Settings of a bake-off.

    Attributes:
        arms: arm identifiers (:data:`ARMS`); the classifier is always trained
            (the few-shot and hybrid arms need it) but only reported when listed.
        k_examples: worked examples per query in the few-shot arm (>= 1).
        top_k: classifier candidates the hybrid's LLM chooses among (>= 2).
        hybrid_examples: show the LLM the most similar training example of each candidate.
        max_tokens: output token limit per call (room for a JSON or tool answer).
        temperature: 0 for greedy, reproducible answers (``None`` = model default).
        seed: seed of the bootstrap and the learning-curve subsets.
        bootstrap: bootstrap resamples for every CI.
        learning_curve: fractions of the training rows for the classifier's learning curve.
        max_consecutive_failures: failed calls in a row after which the provider is taken as down.
    """

    arms: tuple[str, ...] = ARMS
    k_examples: int = 4
    top_k: int = 3
    hybrid_examples: bool = False
    max_tokens: int = 64
    temperature: float | None = 0.0
    seed: int = 0
    bootstrap: int = 2000
    learning_curve: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)
    max_consecutive_failures: int = 5

    def validate(self) -> "BakeoffConfig":
        """Check the settings; returns ``self``. Raises :class:`ConfigError` with the fix."""
        self.arms = parse_arms(self.arms)
        if int(self.k_examples) < 1:
            raise ConfigError(f"k_examples must be at least 1, got {self.k_examples}.")
        if int(self.top_k) < 2:
            raise ConfigError(f"the hybrid needs at least 2 candidates (top_k >= 2), got {self.top_k}.")
        if int(self.max_tokens) < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {self.max_tokens}.")
        if int(self.bootstrap) < 100:
            raise ConfigError(f"use at least 100 bootstrap resamples, got {self.bootstrap}.")
        fr = tuple(float(f) for f in self.learning_curve)
        if any(not 0 < f <= 1 for f in fr):
            raise ConfigError(f"learning-curve fractions must be in (0, 1], got {fr}.")
        self.learning_curve = tuple(sorted(set(fr)))
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LLMCall:
    """One planned :meth:`choose` call: arm, test row, prompt and allowed labels."""

    arm: str
    row: int
    system: str
    messages: list[dict[str, str]]
    labels: list[str]


@dataclass
class RunEstimate:
    """Cost and time of a run, before it starts.

    Attributes:
        provider / model_id: who would answer; local: nothing leaves this machine.
        calls / cached: planned calls and those already in the response cache, per arm.
        input_tokens / output_tokens: estimated tokens of the calls still to make (all arms).
        cost_usd: estimated on-demand USD of those calls (``0.0`` local, ``None`` unpriced).
        batch_cost_usd: the same with Bedrock batch inference (Bedrock only).
        seconds: rough wall time of the calls still to make, plus the learning curve.
        prices_retrieved: date of the price file.
    """

    provider: str
    model_id: str
    local: bool
    calls: dict[str, int]
    cached: dict[str, int]
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    batch_cost_usd: float | None
    seconds: float
    prices_retrieved: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def paid(self) -> bool:
        """``True`` when the run may cost money (a remote provider with calls still to make)."""
        return not self.local and self.input_tokens > 0

    def to_dict(self) -> dict:
        return {**asdict(self), "paid": self.paid}

    def describe(self) -> str:
        """One or two sentences: calls, cache, tokens, cost and time."""
        total, hit = sum(self.calls.values()), sum(self.cached.values())
        parts = [f"{total} LLM calls to {self.model_id} ({self.provider})"]
        if hit:
            parts.append(f"{hit} already in the response cache (free)")
        text = ", ".join(parts) + f"; about {self.input_tokens:,} input and {self.output_tokens:,} output tokens"
        if self.local:
            text += ", cost 0 (runs on this machine)"
        elif self.cost_usd is None:
            text += ", cost unknown (the model is not in the price file)"
        else:
            text += f", about ${self.cost_usd:,.2f} on demand"
            if self.batch_cost_usd is not None:
                text += f" (${self.batch_cost_usd:,.2f} with batch inference)"
        return text + f"; roughly {_duration(self.seconds)}."


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _is_local(provider) -> bool:
    try:
        return bool(provider.is_local())
    except Exception:  # noqa: BLE001 - providers without the method: the embedded one is local
        return getattr(provider, "name", "") == "local"


class BakeoffPlan:
    """A fitted classifier and every planned LLM call; build with :func:`plan_bakeoff`.

    Attributes:
        data / config / provider / cache / prices: as given.
        classifier: the fitted :class:`~core.arena.classifier.IntentClassifier`.
        fit_seconds: its training time (s).
        proba: ``(n_test, n_classes)`` probabilities; classes: their labels.
        clf_latency_ms: per-query prediction time of each test row (ms, one query at a time).
        calls: ``{arm: [LLMCall]}`` for the LLM arms chosen (hybrid calls by rising confidence).
    """

    def __init__(self, data: BakeoffData, provider, config: BakeoffConfig, *, cache=None, prices=None):
        from core.arena.classifier import IntentClassifier
        from core.arena.pricing import load_prices

        self.data, self.provider, self.config, self.cache = data, provider, config.validate(), cache
        self.prices = prices or load_prices()
        llm_arms = [a for a in config.arms if a in LLM_ARMS]
        if llm_arms and provider is None:
            raise ConfigError("the LLM arms need a provider: choose one, or run the classifier arm only.")
        self.classifier = IntentClassifier(random_state=config.seed)
        t0 = time.perf_counter()
        self.classifier.fit(data.train_texts, data.train_labels)
        self.fit_seconds = time.perf_counter() - t0
        self.classes = self.classifier.classes_
        self.proba = self.classifier.predict_proba(data.test_texts)
        self.clf_latency_ms = self._time_single_predictions()
        self.calls: dict[str, list[LLMCall]] = {}
        index = ExampleIndex(self.classifier, data.train_texts, data.train_labels) if (
            "few_shot" in llm_arms or ("hybrid" in llm_arms and config.hybrid_examples)) else None
        labels = list(data.labels)
        system = label_system(labels)
        for arm in llm_arms:
            calls = []
            if arm == "zero_shot":
                calls = [LLMCall(arm, i, system, messages_for(q), labels) for i, q in enumerate(data.test_texts)]
            elif arm == "few_shot":
                calls = [LLMCall(arm, i, system, messages_for(q, index.nearest(q, config.k_examples)), labels)
                         for i, q in enumerate(data.test_texts)]
            else:
                k = min(int(config.top_k), len(self.classes))
                for i in np.argsort(self.proba.max(axis=1), kind="stable"):
                    i = int(i)
                    cands = [self.classes[j] for j in np.argsort(-self.proba[i], kind="stable")[:k]]
                    q = data.test_texts[i]
                    ex = index.nearest_per_label(q, cands) if config.hybrid_examples else []
                    calls.append(LLMCall(arm, i, candidate_system(cands), messages_for(q, ex), cands))
            self.calls[arm] = calls
        self.notes: list[str] = []
        self._fit_local_context()

    def _fit_local_context(self) -> None:
        """Give the embedded model a context window that holds the longest planned prompt.

        With 77 or 150 labels the label list alone is 1,000-2,000 tokens. The
        prompts are tokenised with the model's own tokenizer; when the longest
        plus the answer does not fit ``n_ctx``, the provider is rebuilt with
        the next multiple of 1,024 tokens (a note says so).
        """
        from core.arena.providers.embedded import EmbeddedProvider

        prov = self.provider
        if not isinstance(prov, EmbeddedProvider) or not self.calls:
            return
        llm = prov.llama()
        longest = 0
        for calls in self.calls.values():
            for c in calls:
                text = prov.choice_prompt(c.system, c.messages)
                longest = max(longest, len(llm.tokenize(text.encode("utf-8"), add_bos=True)))
        need = longest + int(self.config.max_tokens) + 16
        if need <= prov.n_ctx:
            return
        n_ctx = -(-need // 1024) * 1024
        self.provider = EmbeddedProvider(prov.model_path, n_ctx=n_ctx, n_threads=prov.n_threads,
                                         few_shot=prov.few_shot, choice_method=prov.choice_method)
        self.notes.append(f"The embedded model's context window was raised from {prov.n_ctx} to {n_ctx} tokens "
                          f"to hold the longest prompt ({longest} tokens with {len(self.data.labels)} labels).")

    def _time_single_predictions(self) -> list[float]:
        """Prediction time of each test query sent alone (ms), as a router would see it."""
        out = []
        for q in self.data.test_texts:
            t0 = time.perf_counter()
            self.classifier.predict_proba([q])
            out.append((time.perf_counter() - t0) * 1000.0)
        return out

    @property
    def local(self) -> bool:
        return self.provider is None or _is_local(self.provider)

    def cache_key(self, call: LLMCall) -> str:
        """Response-cache key of ``call`` (:func:`core.arena.choice.choice_cache_key`)."""
        from core.arena.choice import choice_cache_key

        return choice_cache_key(self.provider, call.system, call.messages, call.labels,
                                int(self.config.max_tokens), self.config.temperature)

    def is_cached(self, call: LLMCall) -> bool:
        """``True`` when ``call``'s answer is already in the cache (does not count as a hit)."""
        return self.cache is not None and self.cache_key(call) in self.cache

    def estimate(self) -> RunEstimate:
        """Calls, cache hits, tokens, USD and seconds of the run, without calling the provider.

        Token counts use :func:`core.decide.cost.estimate_tokens` (plus Bedrock's
        tool-use overhead); seconds use :data:`PRIOR_SECONDS` or, for the
        embedded model, the prompt tokens outside the shared label-list prefix.
        """
        name = getattr(self.provider, "name", "") if self.provider is not None else ""
        model = getattr(self.provider, "model_id", "") if self.provider is not None else ""
        local = self.local
        calls, cached = {}, {}
        tin = tout = 0
        seconds = 0.0
        for arm, items in self.calls.items():
            calls[arm] = len(items)
            cached[arm] = 0
            prev_system = None
            for c in items:
                if self.is_cached(c):
                    cached[arm] += 1
                    continue
                n_sys = estimate_tokens(c.system)
                n_msg = sum(estimate_tokens(m["content"]) + 4 for m in c.messages)
                extra = (TOOL_OVERHEAD_TOKENS + 3 * len(c.labels)) if name == "bedrock" else 0
                tin += n_sys + n_msg + extra
                tout += max(max(1, estimate_tokens(lab)) for lab in c.labels) + (15 if not local else 0)
                if local:
                    fresh = n_msg + (n_sys if c.system != prev_system else 0)
                    seconds += LOCAL_SECONDS_PER_CALL + LOCAL_SECONDS_PER_TOKEN * fresh
                    prev_system = c.system
                else:
                    seconds += PRIOR_SECONDS.get(name, 1.0)
        seconds += self.fit_seconds * sum(f for f in self.config.learning_curve if f < 1)
        cost: float | None = 0.0
        if not local:
            cost = None
            if model:
                cost = self.prices.cost_usd(name, model, tin, tout, local=False)
        batch = None if cost is None else batch_per_1k(cost * 1000.0, provider=name, local=local)
        notes = list(self.notes) + ["Token counts are estimated from the text length (about 4 characters per token in English, "
                 "1 per character in Japanese); the report uses the counts the provider returns."]
        return RunEstimate(provider=name, model_id=model, local=local, calls=calls, cached=cached,
                           input_tokens=int(tin), output_tokens=int(tout), cost_usd=cost,
                           batch_cost_usd=None if batch is None else batch / 1000.0, seconds=float(seconds),
                           prices_retrieved=self.prices.retrieved, notes=notes)


def plan_bakeoff(data: BakeoffData, provider=None, config: BakeoffConfig | None = None, *, cache=None,
                 prices=None) -> BakeoffPlan:
    """Fit the classifier and plan every LLM call (no call is made).

    Args:
        data: from :func:`core.decide.data.load_bakeoff_data`.
        provider: an :class:`~core.arena.providers.base.LLMProvider` with
            ``choose`` (``None``: classifier arm only).
        config: :class:`BakeoffConfig` (defaults if ``None``).
        cache: a :class:`~core.arena.cache.ResponseCache` (``None`` = no cache).
        prices: a :class:`~core.arena.pricing.PriceTable` (default: the price file).

    Returns:
        :class:`BakeoffPlan`.

    Raises:
        ConfigError: bad settings, or LLM arms without a provider.
        DataError: from the classifier.
    """
    return BakeoffPlan(data, provider, config or BakeoffConfig(), cache=cache, prices=prices)
