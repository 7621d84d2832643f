"""LLM providers of the Prompt Arena and the Decide page, and how to pick one.

Built-in providers (declared once, in :mod:`core.arena.providers.registry`):

* :class:`BedrockProvider` (``"bedrock"``): Claude on Amazon Bedrock (Converse API).
* :class:`OpenAICompatProvider` (``"openai"``): any OpenAI-compatible server
  (Ollama at ``http://localhost:11434/v1`` is detected automatically).
* :class:`EmbeddedProvider` (``"local"``): a GGUF run in-process with
  llama-cpp-python; default Gemma 3 270M (a tiny base model).

:func:`available_providers` says which ones work here and why not;
:func:`auto_provider` picks the first available in :data:`PROVIDERS` order
(Bedrock, then a local server, then the embedded model); :func:`make_provider`
builds one by name. All three read :data:`PROVIDERS`, so a provider added with
:func:`register_provider` is offered everywhere (CLI, pages, pricing).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Iterator

from core.errors import ConfigError, ProviderError

from .base import LLMProvider, LLMResponse, ProviderStatus, ResponseStream
from .bedrock import BUILTIN_MODEL_IDS, DEFAULT_MODEL_ID, BedrockProvider, accepts_temperature
from .embedded import EmbeddedProvider
from .openai_compat import OLLAMA_BASE_URL, OpenAICompatProvider
from .registry import (CAPABILITIES, PROVIDERS, ProviderSpec, bedrock_status, local_status, openai_status,
                       provider_spec, register_provider, unregister_provider)

__all__ = [
    "LLMProvider", "LLMResponse", "ProviderStatus", "ResponseStream",
    "BedrockProvider", "OpenAICompatProvider", "EmbeddedProvider",
    "CAPABILITIES", "PROVIDERS", "ProviderSpec", "provider_spec", "register_provider", "unregister_provider",
    "LABELS", "PROVIDER_NAMES", "available_providers", "auto_provider", "make_provider",
    "bedrock_status", "openai_status", "local_status",
    "accepts_temperature", "BUILTIN_MODEL_IDS", "DEFAULT_MODEL_ID", "OLLAMA_BASE_URL",
]


class _Labels(Mapping):
    """``{name: label}`` of the registered providers, read live from :data:`PROVIDERS`."""

    def __getitem__(self, name: str) -> str:
        return PROVIDERS[name].label

    def __iter__(self) -> Iterator[str]:
        return iter(list(PROVIDERS))

    def __len__(self) -> int:
        return len(PROVIDERS)

    def __repr__(self) -> str:
        return repr(dict(self))


#: ``{name: label}`` (kept for compatibility; a live view of :data:`PROVIDERS`).
LABELS: Mapping[str, str] = _Labels()


def __getattr__(name: str):
    if name == "PROVIDER_NAMES":  # provider names in preference order, read live from the registry
        return tuple(PROVIDERS)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _settings_for(spec: ProviderSpec, settings: Mapping[str, Any]) -> dict[str, Any]:
    return {k: settings[k] for k in spec.settings if settings.get(k) is not None}


def available_providers(*, region: str | None = None, profile: str | None = None,
                        base_url: str | None = None, api_key: str | None = None,
                        model_path: str | None = None, **settings: Any) -> list[ProviderStatus]:
    """Status of every registered provider, in preference order.

    Args:
        region / profile: Bedrock settings; base_url / api_key: OpenAI-compatible
            settings; model_path: GGUF file of the embedded model.
        settings: settings of other registered providers (each probe gets the
            ones its :attr:`ProviderSpec.settings` names).

    Returns:
        One :class:`ProviderStatus` per entry of :data:`PROVIDERS`; ``reason``
        says why one is not available and how to fix it. A probe that raises
        is reported as unavailable with its error.
    """
    given = dict(region=region, profile=profile, base_url=base_url, api_key=api_key,
                 model_path=model_path, **settings)
    out = []
    for spec in list(PROVIDERS.values()):
        try:
            status = spec.probe(**_settings_for(spec, given))
        except Exception as exc:  # noqa: BLE001 - a broken probe must not hide the other providers
            status = ProviderStatus(spec.name, False, f"Could not check {spec.label}: {exc}", [], spec.label)
        out.append(status)
    return out


def make_provider(name: str, model: str | None = None, *, region: str | None = None,
                  profile: str | None = None, base_url: str | None = None,
                  api_key: str | None = None, model_path: str | None = None,
                  **options: Any) -> LLMProvider:
    """Build a registered provider by name.

    Args:
        name: a key of :data:`PROVIDERS` (``"bedrock"``, ``"openai"``, ``"local"``...).
        model: model ID (Bedrock ``modelId``, server model name, or for
            ``"local"`` a GGUF path when ``model_path`` is not given); ``None``
            = the provider's default.
        region / profile / base_url / api_key / model_path: settings; each
            provider gets only those its spec lists.
        options: passed to the provider's factory (e.g. ``n_ctx=4096`` for
            ``"local"``, ``max_attempts=2`` for ``"bedrock"``).

    Raises:
        ConfigError: unknown name, an option the provider does not take, or
            invalid settings.
    """
    spec = provider_spec(name)
    given = dict(region=region, profile=profile, base_url=base_url, api_key=api_key, model_path=model_path)
    kwargs = {**_settings_for(spec, given), **options}
    try:
        inspect.signature(spec.factory).bind(model, **kwargs)
    except TypeError as exc:
        raise ConfigError(f"provider {name!r} does not take these options ({exc}).") from None
    return spec.factory(model, **kwargs)


def auto_provider(*, statuses: list[ProviderStatus] | None = None, region: str | None = None,
                  profile: str | None = None, base_url: str | None = None,
                  api_key: str | None = None, model_path: str | None = None,
                  **settings: Any) -> LLMProvider:
    """The first available provider in :data:`PROVIDERS` order (Bedrock, a local server, the embedded model).

    Args:
        statuses: result of :func:`available_providers` (probed if ``None``).
        other args: as for :func:`available_providers`.

    Returns:
        A ready :class:`LLMProvider` using the first model its status lists
        (Bedrock lists its default model first).

    Raises:
        ProviderError: none is available (the message gives each reason).
    """
    given = dict(region=region, profile=profile, base_url=base_url, api_key=api_key,
                 model_path=model_path, **settings)
    statuses = statuses if statuses is not None else available_providers(**given)
    for st in statuses:
        spec = PROVIDERS.get(st.name)
        if not st.available or spec is None:
            continue
        return spec.factory(st.models[0] if st.models else None, **_settings_for(spec, given))
    reasons = "; ".join(f"{s.name}: {s.reason}" for s in statuses)
    raise ProviderError(f"No LLM provider is available. {reasons}", code="NoProvider")
