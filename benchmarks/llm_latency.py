"""LLM latency and token cost of the Prompt Arena: raw vs contextualised prompts.

Measures, on this machine, with the embedded model (and an OpenAI-compatible
server if ``--base-url`` is given):

* model load time (seconds);
* for N sample queries, both prompts: input/output tokens, latency (ms),
  output tokens per second, and time to first streamed chunk (ms);
* ratios contextualised / raw (input tokens, latency);
* what the same token counts would cost on Bedrock per 1,000 queries, with
  the prices in core/arena/llm_prices.json (source URL and date printed).

Run:  python benchmarks/llm_latency.py [--n 5] [--max-tokens 32] [--base-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.arena.hybrid import build_prompts, QueryAnalysis  # noqa: E402
from core.arena.pricing import load_prices  # noqa: E402
from core.arena.providers import EmbeddedProvider, OpenAICompatProvider  # noqa: E402
from core.arena.providers.embedded import default_gguf_path, default_n_threads, load_llama  # noqa: E402

QUERIES = [
    ("I was charged twice for my order, please fix it now!", "billing", "NEGATIVE"),
    ("How do I change the email address on my account?", "account", "NEUTRAL"),
    ("My parcel has not arrived after two weeks.", "shipping", "NEGATIVE"),
    ("注文をキャンセルしたいのですが、手数料はかかりますか？", "cancellation", "NEUTRAL"),
    ("アプリが起動直後に落ちます。すぐ直してください。", "technical", "NEGATIVE"),
    ("Does the blue model work with the old charger?", "product_info", "NEUTRAL"),
]


def _analysis(q, cat, sent):
    return QueryAnalysis(q, cat, 0.8, [(cat, 0.8), ("refund", 0.12), ("complaint", 0.05)], sent,
                         {"Negative": 0.8 if sent == "NEGATIVE" else 0.1}, "en", "high" if sent == "NEGATIVE" else "low")


def _queries(n):
    return (QUERIES * ((n // len(QUERIES)) + 1))[:n]


def bench(provider, n: int, max_tokens: int) -> dict[str, list[float]]:
    stats: dict[str, list[float]] = {}
    for q, cat, sent in _queries(n):
        prompts = build_prompts(_analysis(q, cat, sent), few_shot=provider.is_base_model)
        for arm, p in prompts.items():
            t0 = time.perf_counter()
            stream = provider.stream(p.system, p.messages, max_tokens, 0.0)
            first = None
            for _ in stream:
                if first is None:
                    first = (time.perf_counter() - t0) * 1000
            r = stream.response
            stats.setdefault(f"{arm}_in", []).append(r.input_tokens or 0)
            stats.setdefault(f"{arm}_out", []).append(r.output_tokens or 0)
            stats.setdefault(f"{arm}_ms", []).append(r.latency_ms)
            stats.setdefault(f"{arm}_ttft", []).append(first if first is not None else r.latency_ms)
            if r.output_tokens:
                stats.setdefault(f"{arm}_tps", []).append(r.output_tokens / (r.latency_ms / 1000))
    return stats


def report(name: str, stats: dict[str, list[float]]) -> None:
    med = {k: statistics.median(v) for k, v in stats.items()}
    print(f"\n== {name} (median over {len(stats['raw_ms'])} queries)")
    print(f"{'':16}{'raw':>12}{'contextualised':>16}")
    for label, key in (("input tokens", "in"), ("output tokens", "out"), ("latency ms", "ms"),
                       ("first chunk ms", "ttft"), ("output tok/s", "tps")):
        if f"raw_{key}" in med and f"contextualised_{key}" in med:
            print(f"{label:16}{med['raw_' + key]:>12.1f}{med['contextualised_' + key]:>16.1f}")
    print(f"ratio contextualised/raw: input tokens x{med['contextualised_in'] / med['raw_in']:.2f}, "
          f"latency x{med['contextualised_ms'] / med['raw_ms']:.2f}")
    return med


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--base-url", default=None, help="also measure this OpenAI-compatible server")
    args = ap.parse_args()

    path = default_gguf_path()
    t0 = time.perf_counter()
    llm = load_llama(path)
    print(f"embedded model: {path.name}, {path.stat().st_size / 1e6:.0f} MB, "
          f"load {time.perf_counter() - t0:.2f} s (n_ctx 2048, {default_n_threads() or 'the library default'} thread(s))")
    report("embedded (llama-cpp-python, few-shot completion)",
                 bench(EmbeddedProvider(), args.n, args.max_tokens))
    if args.base_url:
        report(f"OpenAI-compatible server {args.base_url}",
               bench(OpenAICompatProvider(args.base_url), args.n, args.max_tokens))

    # A chat model gets no worked examples: count the chat prompts' tokens (Gemma tokenizer
    # as a proxy for Claude's, so the cost is an estimate) and assume max_tokens of output.
    med = {}
    for arm in ("raw", "contextualised"):
        counts = []
        for q, cat, sent in _queries(args.n):
            p = build_prompts(_analysis(q, cat, sent))[arm]
            counts.append(len(llm.tokenize((p.system + "\n" + p.user_text).encode("utf-8"), add_bos=False)))
        med[f"{arm}_in"] = statistics.median(counts)
    prices = load_prices()
    print(f"\nChat prompt (no examples): raw {med['raw_in']:.0f} tokens, contextualised "
          f"{med['contextualised_in']:.0f} tokens (x{med['contextualised_in'] / med['raw_in']:.2f}).")
    print(f"Bedrock cost per 1,000 queries with {args.max_tokens} output tokens each "
          f"(prices: {prices.source}, retrieved {prices.retrieved}; token counts from the Gemma "
          "tokenizer, so an estimate):")
    for model in ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "global.anthropic.claude-sonnet-4-6",
                  "global.anthropic.claude-opus-4-7"):
        raw = prices.cost_usd("bedrock", model, med["raw_in"], args.max_tokens) * 1000
        ctx = prices.cost_usd("bedrock", model, med["contextualised_in"], args.max_tokens) * 1000
        print(f"  {model:50} raw ${raw:.3f}  contextualised ${ctx:.3f}  (x{ctx / raw:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
