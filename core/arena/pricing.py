"""Cost of an LLM call in USD, from an editable price file.

Prices live in ``core/arena/llm_prices.json`` (or the file named by the
``CROSSROADS_LLM_PRICES`` environment variable, or a path you pass). They
are on-demand USD prices per 1,000,000 tokens transcribed from the AWS
Bedrock pricing page, https://aws.amazon.com/bedrock/pricing/ ; the file
states the retrieval date. Local providers cost 0: those whose registry
entry says ``local`` (the embedded model), and an OpenAI-compatible server
on this machine (``provider.is_local()``).

Formula::

    cost_usd = input_tokens * input_price / 1e6 + output_tokens * output_price / 1e6
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ConfigError

DEFAULT_PRICES_PATH = Path(__file__).with_name("llm_prices.json")


@dataclass(frozen=True)
class Price:
    """USD per ``unit_tokens`` tokens (normally one million)."""

    input: float
    output: float


@dataclass
class PriceTable:
    """Prices loaded from a price file.

    Attributes:
        models: ``{base model ID prefix: {"global"|"regional": Price}}``.
        source: where the prices come from (URL).
        retrieved: date the prices were copied (ISO format).
        unit_tokens: tokens per price unit (1,000,000).
        local_cost: cost per call of local providers (0.0).
        path: the file read.
    """

    models: dict[str, dict[str, Price]]
    source: str
    retrieved: str
    unit_tokens: int = 1_000_000
    local_cost: float = 0.0
    note: str = ""
    path: str = ""

    def price_for(self, model_id: str) -> Price | None:
        """Price of a Bedrock ``modelId`` (inference profile or ARN), or ``None`` if unknown.

        Strips the profile prefix, then takes the longest key that starts
        ``model_id``. ``global.*`` IDs use the ``global`` price (falling back
        to ``regional``); others use ``regional`` (falling back to ``global``).
        """
        from core.arena.providers.bedrock_models import base_model_id

        is_global = model_id.rsplit("/", 1)[-1].startswith("global.")
        mid = base_model_id(model_id)
        keys = [k for k in self.models if mid.startswith(k)]
        if not keys:
            return None
        tiers = self.models[max(keys, key=len)]
        order = ("global", "regional") if is_global else ("regional", "global")
        for tier in order:
            if tier in tiers:
                return tiers[tier]
        return None

    def cost_usd(self, provider: str, model_id: str, input_tokens: int | None,
                 output_tokens: int | None, *, local: bool | None = None) -> float | None:
        """Cost of one call in USD.

        Args:
            provider: a registered provider name (``"bedrock"``, ``"openai"``, ``"local"``...).
            model_id: the model that answered.
            input_tokens / output_tokens: counts reported by the provider.
            local: whether nothing left this machine (pass ``provider.is_local()``:
                it knows whether an OpenAI-compatible server is on localhost);
                ``None`` = the ``local`` flag of the provider's registry entry.
                Remote providers are priced only if the model ID is in the price file.

        Returns:
            USD (float, not rounded), ``0.0`` for local models, or ``None``
            when the model has no price or token counts are missing.
        """
        if local is None:
            from .providers.registry import PROVIDERS

            spec = PROVIDERS.get(provider)
            local = bool(spec and spec.local)
        if local:
            return self.local_cost
        price = self.price_for(model_id)
        if price is None or input_tokens is None or output_tokens is None:
            return None
        return (input_tokens * price.input + output_tokens * price.output) / self.unit_tokens


def _price(obj: Any, where: str) -> Price:
    try:
        inp, out = float(obj["input"]), float(obj["output"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{where}: needs numeric 'input' and 'output' prices.") from None
    if inp < 0 or out < 0:
        raise ConfigError(f"{where}: prices cannot be negative.")
    return Price(inp, out)


def load_prices(path: str | os.PathLike | None = None) -> PriceTable:
    """Read a price file.

    Args:
        path: JSON price file; ``None`` = ``$CROSSROADS_LLM_PRICES`` or the
            bundled ``llm_prices.json``.

    Returns:
        :class:`PriceTable`.

    Raises:
        ConfigError: the file is missing, not JSON, or has a bad entry (the
            message names the entry).
    """
    from core.settings import settings

    p = Path(path or settings.llm_prices or DEFAULT_PRICES_PATH).expanduser()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"price file not found: {p}.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"price file {p.name} is not valid JSON: {exc}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise ConfigError(f"price file {p.name} needs a 'models' object.")
    models: dict[str, dict[str, Price]] = {}
    for key, tiers in data["models"].items():
        if not isinstance(tiers, dict) or not tiers or not set(tiers) <= {"global", "regional"}:
            raise ConfigError(f"price file {p.name}, model {key!r}: give 'global' and/or 'regional' prices.")
        models[key] = {t: _price(v, f"price file {p.name}, model {key!r} ({t})") for t, v in tiers.items()}
    try:
        unit = int(data.get("unit_tokens", 1_000_000))
        local = float(data.get("local_providers_cost", 0.0))
    except (TypeError, ValueError):
        raise ConfigError(f"price file {p.name}: unit_tokens and local_providers_cost must be numbers.") from None
    if unit <= 0:
        raise ConfigError(f"price file {p.name}: unit_tokens must be positive.")
    return PriceTable(models=models, source=str(data.get("source", "")),
                      retrieved=str(data.get("retrieved", "")), unit_tokens=unit, local_cost=local,
                      note=str(data.get("note", "")), path=str(p))
