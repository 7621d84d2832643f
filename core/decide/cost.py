"""Cost per 1,000 queries, on demand and with Bedrock batch inference, and the Claude projection.

Prices come from the price file of :mod:`core.arena.pricing` (USD per million
tokens, with its source URL and retrieval date). Formulas::

    cost of one call   = input_tokens * input_price / 1e6 + output_tokens * output_price / 1e6
    cost per 1k        = 1000 * (sum of the calls' costs) / (queries scored)
    batch cost per 1k  = cost per 1k * (1 - BATCH_DISCOUNT)

``BATCH_DISCOUNT`` is 0.5: Amazon Bedrock batch inference is priced at 50% of
on-demand for the supported Claude models (https://aws.amazon.com/bedrock/pricing/,
"Batch"). Batch answers arrive asynchronously (hours), so it only suits
traffic that can wait. Local providers cost 0 and have no batch price.

**Projection.** A local arm's measured token counts (from the local model's
tokenizer) are priced on every Claude model of the price file, so a PM
working offline still sees a cloud bill. Claude's tokenizer counts the same
text differently, and Bedrock's constrained choice adds a tool definition to
each request, so the projection is an order of magnitude, not a quote.
"""

from __future__ import annotations

from typing import Sequence

from core.arena.pricing import PriceTable

#: Share taken off the on-demand price by Amazon Bedrock batch inference (source in the module docstring).
BATCH_DISCOUNT = 0.5


def call_cost(prices: PriceTable, provider: str, model_id: str, input_tokens: int | None,
              output_tokens: int | None, *, local: bool) -> float | None:
    """USD of one call (``0.0`` for a local provider; ``None`` when unpriced or tokens unknown)."""
    if local:
        return 0.0
    return prices.cost_usd(provider, model_id, input_tokens, output_tokens, local=False)


def per_1k(costs: Sequence[float | None], n_queries: int) -> float | None:
    """USD per 1,000 queries from the costs of the calls made for ``n_queries`` queries.

    Returns:
        ``None`` when ``n_queries`` is 0 or any call's cost is unknown.
    """
    if n_queries <= 0 or any(c is None for c in costs):
        return None
    return 1000.0 * float(sum(costs)) / n_queries


def supports_batch(provider: str) -> bool:
    """``True`` when the provider's registry entry declares ``batch_inference`` (Bedrock)."""
    from core.arena.providers.registry import PROVIDERS

    spec = PROVIDERS.get(provider)
    return bool(spec and spec.supports("batch_inference"))


def batch_per_1k(on_demand: float | None, *, provider: str, local: bool) -> float | None:
    """Batch-inference price per 1k queries (``None`` unless the provider offers batch inference)."""
    if on_demand is None or local or not supports_batch(provider):
        return None
    return on_demand * (1.0 - BATCH_DISCOUNT)


def claude_models(prices: PriceTable) -> list[str]:
    """Model keys of the price file that are Claude models (``anthropic.claude-*``), in file order."""
    return [k for k in prices.models if "claude" in k]


def project(prices: PriceTable, mean_input_tokens: float, mean_output_tokens: float) -> list[dict]:
    """Cost per 1k queries of a measured token profile on every Claude model of the price file.

    Args:
        prices: the price table.
        mean_input_tokens / mean_output_tokens: tokens per query (means over the
            queries scored; an arm that calls the LLM for only some queries
            passes its per-query mean, zeros included).

    Returns:
        ``[{"model", "tier", "input_price", "output_price", "per_1k", "batch_per_1k"}]``
        where ``tier`` is ``"global"`` when the model has a global-endpoint price
        (then used: it is the lower one), else ``"regional"``; prices are USD per
        million tokens.
    """
    out = []
    for key in claude_models(prices):
        tiers = prices.models[key]
        tier = "global" if "global" in tiers else "regional"
        price = tiers[tier]
        cost = 1000.0 * (mean_input_tokens * price.input + mean_output_tokens * price.output) / prices.unit_tokens
        out.append({"model": key, "tier": tier, "input_price": price.input, "output_price": price.output,
                    "per_1k": cost, "batch_per_1k": cost * (1.0 - BATCH_DISCOUNT)})
    return out


def monthly(per_1k_usd: float | None, volume: int | float | None) -> float | None:
    """USD per month for ``volume`` queries a month at ``per_1k_usd``."""
    if per_1k_usd is None or volume is None:
        return None
    return per_1k_usd * float(volume) / 1000.0


def estimate_tokens(text: str) -> int:
    """Rough token count of ``text`` for estimates before any call (no tokenizer needed).

    About 4 characters per token for ASCII text and 1 token per character
    otherwise (Japanese, emoji). It is close for English and errs high for
    Japanese with a large-vocabulary tokenizer such as Gemma's, which suits an
    estimate made before spending. Measured counts replace it once calls are made.
    """
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return int(round(ascii_chars / 4 + (len(text) - ascii_chars)))
