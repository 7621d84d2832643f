"""Prompt Arena: an intent classifier and sentiment in front of an LLM.

Raw vs classifier-contextualised answers, side by side, with tokens, latency
and cost. This package is UI-free; ``pages/prompt_arena.py`` renders it.

Importing ``core.arena`` is cheap: the names below are loaded on first use.

Providers (``core.arena.providers``)
------------------------------------
``available_providers(region=None, profile=None, base_url=None, api_key=None, model_path=None)
-> list[ProviderStatus]``
    One status per provider, in preference order ``bedrock``, ``openai``,
    ``local``: ``ProviderStatus(name, available, reason, models, label, detail)``.
    ``reason`` says what was found or how to fix what is missing.
``auto_provider(statuses=None, ...) -> LLMProvider``
    Bedrock if credentials exist, else an OpenAI-compatible server (Ollama
    auto-detected at http://localhost:11434/v1), else the embedded GGUF.
``make_provider(name, model=None, *, region, profile, base_url, api_key, model_path, **options)``
    Build ``"bedrock"`` (:class:`BedrockProvider`), ``"openai"``
    (:class:`OpenAICompatProvider`), ``"local"`` (:class:`EmbeddedProvider`,
    ``n_ctx=`` sets its context) or any other registered provider.
``PROVIDERS`` / ``register_provider(ProviderSpec(...))`` / ``provider_spec(name)``
    The registry (``core.arena.providers.registry``): one spec per provider with
    its label, factory, probe, ``local`` flag, capabilities and settings; the
    CLI choices, the pages' pickers and pricing read it.

Every provider has ``.name``, ``.model_id``, ``.description`` (one paragraph
for the UI; the embedded one says plainly it is a tiny base model),
``.is_base_model``, ``.list_models()`` and::

    generate(system: str, messages: list[{"role","content"}], max_tokens: int,
             temperature: float | None) -> LLMResponse
    stream(...same...) -> ResponseStream   # iterate str chunks; then .response

    choose(system, messages, labels, *, max_tokens=48, temperature=0.0) -> LLMResponse
        # one label of `labels`, constrained where the provider can (token mask or
        # GBNF grammar, JSON-schema response_format, Converse tool with an enum)

``LLMResponse(text, input_tokens, output_tokens, latency_ms, stop_reason,
model_id, provider, cached)``. Failures raise ``core.errors.ProviderError``
(``.retryable``: transient and already retried; ``.code``: e.g.
``"ThrottlingException"``).

Prompts (``core.arena.prompts``)
--------------------------------
``RAW_TEMPLATE`` and ``CONTEXTUALISED_TEMPLATE`` are :class:`PromptTemplate`
(``name``, ``system``, ``user``) with ``{named}`` variables;
``tpl.variables`` lists them, ``tpl.with_text(system=..., user=...)`` makes an
edited copy (validated), ``tpl.render(values) -> RenderedPrompt(name, system,
messages)`` with ``.as_text()`` for display. ``{query}`` is always rendered
as ``<query>…</query>`` with any closing tag in user text escaped. A missing
variable raises ``ConfigError``. ``context_values(query=, category=,
confidence=, top_k=, sentiment=, urgency=, guidance=, include_alternatives=,
include_guidance=)`` builds the values; ``DEFAULT_GUIDANCE`` holds one line
per category (editable dict).

Pipeline (``core.arena.hybrid``)
--------------------------------
``analyze_query(query, classifier, k=3, mask_pii=False, pii_detector=None,
urgent_categories=None) -> QueryAnalysis`` (category, confidence, top_k,
sentiment, sentiment_score, language_code, urgency, urgency_reason, pii);
``example_pool(texts, labels, classifier) -> ExamplePool`` (worked examples for
base models from the user's own rows);
``build_prompts(analysis, raw_template=, contextualised_template=, guidance=,
include_alternatives=, include_guidance=, few_shot=False, examples=None) -> {"raw", "contextualised"}``
(pass ``few_shot=provider.is_base_model``: a base model then sees three worked
examples rendered with the same template before the query; ``respond`` and
``run_batch`` do this themselves); ``ArmResult.copy`` flags an answer that
copies one (``core.arena.prompts.find_copy``);
``stream_prompt(provider, prompt, max_tokens=, temperature=, cache=, prices=)
-> ArmStream`` (iterate with ``st.write_stream``; then ``.result`` is an
``ArmResult(name, prompt, response, cost_usd, charged_usd)``);
``run_prompt(...) -> ArmResult`` (not streamed);
``respond(query, classifier, provider, ...) -> ArenaResult`` (both arms, ``.to_dict()``);
``run_batch(queries, classifier, provider, progress=callable(done, total, row), **options)
-> DataFrame`` with ``BATCH_COLUMNS`` (``df.attrs["stopped_early"]`` on a setup error);
``batch_summary(df)`` totals per arm.

Urgency (``core.arena.urgency``): ``assess_urgency(text, sentiment, scores, category=)
-> Urgency(level, points, reasons)``: sentiment + EN/JA urgency cues + what is at stake.

Evaluation (``core.arena.evaluation``)
--------------------------------------
``held_out_rows(texts, labels, n=30, test=None, holdout=0.2) -> HeldOut`` (training
rows and held-out rows, never the same); ``evaluate_prompts(texts, labels, classifier,
provider, repeats=3, temperature=0.7, ...) -> EvaluationRun`` (``.rows``: one row per
query x prompt x repeat); ``summarise(run) -> dict`` (kind
``"crossroads.arena.context_evaluation"``, version 1: topic adherence with CI and n,
consistency, copy rate, tokens, latency, cost per prompt, paired differences, verdict,
Claude cost projection): the input of the Decide report's "Does context help?".

Cost and cache
--------------
``core.arena.pricing.load_prices(path=None) -> PriceTable`` reads
``core/arena/llm_prices.json`` (USD per 1M tokens from
https://aws.amazon.com/bedrock/pricing/, with its retrieval date in
``.source``/``.retrieved``); ``table.cost_usd(provider, model_id, in_tok,
out_tok)``; local models cost 0. ``core.arena.cache.ResponseCache(directory)``
(``None`` = memory, ``"default"`` = ``~/.cache/crossroads/llm``) is keyed on
provider, model, prompt and parameters, never on credentials.

Label choice (``core.arena.choice``)
------------------------------------
``humanise_label("card_arrival") -> "Card arrival"``; ``parse_choice(text, labels)
-> key | None`` (exact, humanised or ``{"label": ...}``; ``None`` = invalid output);
``choose_cached(provider, system, messages, labels, cache=, max_tokens=48,
temperature=0.0) -> LLMResponse`` (through the response cache, key
``choice_cache_key(...)``).

CLI: ``python -m core respond --train PATH --text-column C --label-column L
--query "..." [--provider auto|bedrock|openai|local] [--model ID] [--json]``.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "available_providers": "core.arena.providers",
    "auto_provider": "core.arena.providers",
    "make_provider": "core.arena.providers",
    "ProviderStatus": "core.arena.providers",
    "LLMResponse": "core.arena.providers",
    "LLMProvider": "core.arena.providers",
    "RAW_TEMPLATE": "core.arena.prompts",
    "CONTEXTUALISED_TEMPLATE": "core.arena.prompts",
    "PromptTemplate": "core.arena.prompts",
    "context_values": "core.arena.prompts",
    "analyze_query": "core.arena.hybrid",
    "build_prompts": "core.arena.hybrid",
    "respond": "core.arena.hybrid",
    "run_prompt": "core.arena.hybrid",
    "stream_prompt": "core.arena.hybrid",
    "run_batch": "core.arena.hybrid",
    "batch_summary": "core.arena.hybrid",
    "load_prices": "core.arena.pricing",
    "ResponseCache": "core.arena.cache",
    "PROVIDERS": "core.arena.providers",
    "ProviderSpec": "core.arena.providers",
    "provider_spec": "core.arena.providers",
    "register_provider": "core.arena.providers",
    "humanise_label": "core.arena.choice",
    "example_pool": "core.arena.hybrid",
    "assess_urgency": "core.arena.urgency",
    "held_out_rows": "core.arena.evaluation",
    "evaluate_prompts": "core.arena.evaluation",
    "summarise": "core.arena.evaluation",
    "parse_choice": "core.arena.choice",
    "choose_cached": "core.arena.choice",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'core.arena' has no attribute {name!r}")
