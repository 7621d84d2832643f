"""``python -m core respond``: one query through the classifier, sentiment and an LLM.

Usage::

    python -m core respond --train PATH --text-column C --label-column L --query "..."
        [--provider auto|bedrock|openai|local] [--model ID] [--json]
        [--k 3] [--max-tokens 128] [--temperature T] [--region R] [--profile P]
        [--base-url URL] [--gguf PATH] [--no-cache]

Prints the category, its confidence and the sentiment, then for ``raw`` and
``contextualised``: the prompt, the response, input tokens, output tokens,
latency in ms and cost in USD. ``--json`` prints the same as one JSON object.
Bad input or a provider failure: one ``error: ...`` line, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from core.errors import ConfigError


def register(subparsers) -> None:
    """Add the ``respond`` sub-command to ``python -m core``."""
    p = subparsers.add_parser(
        "respond", help="answer a query with the raw and the classifier-contextualised prompt",
        description="Train the intent classifier on a labelled table, classify the query, measure "
                    "its sentiment, then ask the LLM with the raw and the contextualised prompt.")
    p.add_argument("--train", required=True, metavar="PATH", help="labelled queries (CSV, Excel, Parquet, JSONL)")
    p.add_argument("--text-column", required=True, metavar="C", help="column with the query text")
    p.add_argument("--label-column", required=True, metavar="L", help="column with the category")
    p.add_argument("--query", required=True, help="the customer message to answer")
    from .providers.registry import PROVIDERS

    p.add_argument("--provider", default="auto", choices=["auto", *PROVIDERS],
                   help="LLM provider (auto: the first available of "
                        + ", ".join(spec.label for spec in PROVIDERS.values()) + ")")
    p.add_argument("--model", default=None, metavar="ID",
                   help="model ID (Bedrock modelId / inference profile, server model name, or GGUF path)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--k", type=int, default=3, help="top-k categories shown to the LLM (default 3)")
    p.add_argument("--max-tokens", type=int, default=128, help="output token limit per answer (default 128)")
    p.add_argument("--temperature", type=float, default=None, help="sampling temperature (default: model's)")
    p.add_argument("--region", default=None, help="AWS region for Bedrock")
    p.add_argument("--profile", default=None, help="AWS profile for Bedrock")
    p.add_argument("--base-url", default=None, help="OpenAI-compatible base URL (default Ollama's)")
    p.add_argument("--gguf", default=None, metavar="PATH", help="GGUF file for the embedded model")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    p.set_defaults(func=run)


def _provider(args):
    from .providers import auto_provider, make_provider

    if args.provider == "auto":
        return auto_provider(region=args.region, profile=args.profile, base_url=args.base_url,
                             model_path=args.gguf)
    return make_provider(args.provider, args.model, region=args.region, profile=args.profile,
                         base_url=args.base_url, model_path=args.gguf)


def _fmt_cost(cost) -> str:
    return "unknown (model not in llm_prices.json)" if cost is None else f"${cost:.6f}"


def run(args: argparse.Namespace) -> int:
    """Handler of ``respond``; returns the exit status."""
    from .cache import ResponseCache
    from .classifier import IntentClassifier, load_labelled_queries
    from .hybrid import ARMS, respond

    if not args.query.strip():
        raise ConfigError("--query is empty: give the customer message to answer.")
    if args.k < 1:
        raise ConfigError("--k must be at least 1.")
    if args.max_tokens < 1:
        raise ConfigError("--max-tokens must be at least 1.")
    if args.provider == "auto" and args.model:
        from .providers.registry import PROVIDERS
        raise ConfigError(f"--model needs an explicit --provider ({', '.join(PROVIDERS)}).")
    data = load_labelled_queries(args.train, args.text_column, args.label_column)
    clf = IntentClassifier().fit(data.texts, data.labels)
    provider = _provider(args)
    cache = None if args.no_cache else ResponseCache("default")
    result = respond(args.query, clf, provider, k=args.k, max_tokens=args.max_tokens,
                     temperature=args.temperature, cache=cache)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    a = result.analysis
    out = sys.stdout
    out.write(f"category: {a.category}\nconfidence: {a.confidence:.3f}\n")
    out.write("top-k: " + ", ".join(f"{lab} ({p:.3f})" for lab, p in a.top_k) + "\n")
    score = a.sentiment_score.get(a.sentiment.capitalize(), float("nan"))
    out.write(f"sentiment: {a.sentiment} ({score:.3f})\nurgency: {a.urgency}\nlanguage: {a.language_code}\n")
    out.write(f"provider: {result.provider}\nmodel: {result.model_id}\n")
    for name in ARMS:
        arm = result.arms[name]
        r = arm.response
        out.write(f"\n=== {name} ===\n")
        out.write("prompt:\n" + _indent(arm.sent or arm.prompt.as_text()) + "\n")
        out.write("response:\n" + _indent(r.text or "(empty)") + "\n")
        out.write(f"input tokens: {r.input_tokens}\noutput tokens: {r.output_tokens}\n")
        out.write(f"latency ms: {r.latency_ms:.0f}{' (cached answer)' if r.cached else ''}\n")
        out.write(f"cost usd: {_fmt_cost(arm.cost_usd)}\n")
    return 0


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
