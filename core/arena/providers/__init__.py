"""LLM providers of the Prompt Arena and how to pick one.

* :class:`BedrockProvider` (``"bedrock"``): Claude on Amazon Bedrock (Converse API).
* :class:`OpenAICompatProvider` (``"openai"``): any OpenAI-compatible server
  (Ollama at ``http://localhost:11434/v1`` is detected automatically).
* :class:`EmbeddedProvider` (``"local"``): a GGUF run in-process with
  llama-cpp-python; default Gemma 3 270M (a tiny base model).

:func:`available_providers` says which ones work here and why not;
:func:`auto_provider` picks Bedrock, then a local server, then the embedded
model. Probing only contacts AWS (when credentials exist) and the configured
or default local server URL, with short timeouts.
"""

from __future__ import annotations

import os
from typing import Any

from core.errors import ConfigError, ProviderError

from .base import LLMProvider, LLMResponse, ProviderStatus, ResponseStream
from .bedrock import BUILTIN_MODEL_IDS, DEFAULT_MODEL_ID, BedrockProvider, accepts_temperature
from .embedded import EmbeddedProvider, default_gguf_path, llama_cpp_installed
from .openai_compat import OLLAMA_BASE_URL, PROBE_TIMEOUT_S, OpenAICompatProvider, list_server_models

__all__ = [
    "LLMProvider", "LLMResponse", "ProviderStatus", "ResponseStream",
    "BedrockProvider", "OpenAICompatProvider", "EmbeddedProvider",
    "PROVIDER_NAMES", "available_providers", "auto_provider", "make_provider",
    "accepts_temperature", "BUILTIN_MODEL_IDS", "DEFAULT_MODEL_ID", "OLLAMA_BASE_URL",
]

#: Provider names in order of preference for :func:`auto_provider`.
PROVIDER_NAMES = ("bedrock", "openai", "local")
LABELS = {"bedrock": "Amazon Bedrock", "openai": "OpenAI-compatible server",
          "local": "Embedded model (offline)"}


def bedrock_status(*, region: str | None = None, profile: str | None = None,
                   list_models: bool = True, provider: BedrockProvider | None = None) -> ProviderStatus:
    """Whether Bedrock can be used: credentials found (no network), then models listed.

    Args:
        region / profile: as for :class:`BedrockProvider`.
        list_models: ask the ``bedrock`` control plane for models (one
            attempt, 2 s connect timeout); the built-in list is used if denied.
        provider: an existing :class:`BedrockProvider` to probe (else one is made).

    Returns:
        :class:`ProviderStatus`. Available means credentials were found and,
        if listing was tried, the endpoint answered. Whether your account may
        invoke a given model is only known at the first call.
    """
    try:
        prov = provider or BedrockProvider(region=region, profile=profile)
        has = prov.has_credentials()
    except ProviderError as exc:
        return ProviderStatus("bedrock", False, str(exc), [], LABELS["bedrock"])
    except Exception as exc:  # broken AWS config file, etc.
        return ProviderStatus("bedrock", False, f"AWS configuration could not be read: {exc}",
                              [], LABELS["bedrock"])
    label = f"{LABELS['bedrock']} ({prov.region})"
    if not has:
        return ProviderStatus(
            "bedrock", False,
            "No AWS credentials found in boto3's default chain (environment, ~/.aws, SSO, "
            "instance role). Run `aws configure` or `aws sso login`, or set AWS_PROFILE.",
            [], label, {"region": prov.region})
    if not list_models:
        return ProviderStatus("bedrock", True, "AWS credentials found (not yet tried).",
                              list(BUILTIN_MODEL_IDS), label, {"region": prov.region})
    try:
        remote = prov._list_remote()
    except Exception as exc:
        from botocore import exceptions as bex
        if isinstance(exc, (bex.EndpointConnectionError, bex.ConnectTimeoutError,
                            bex.ReadTimeoutError)):
            return ProviderStatus("bedrock", False,
                                  f"AWS credentials found but Bedrock in {prov.region} is unreachable "
                                  "from this machine.", [], label, {"region": prov.region})
        remote = []
    models = prov.rank_models(remote) if remote else list(BUILTIN_MODEL_IDS)
    reason = (f"AWS credentials found; {len(models)} Claude models listed in {prov.region}."
              if remote else
              "AWS credentials found; listing models is not permitted, so a built-in list of "
              "Claude inference profiles is offered.")
    return ProviderStatus("bedrock", True, reason, models, label, {"region": prov.region})


def openai_status(base_url: str | None = None, *, api_key: str | None = None,
                  timeout: float = PROBE_TIMEOUT_S) -> ProviderStatus:
    """Whether an OpenAI-compatible server answers ``GET {base_url}/models``.

    Args:
        base_url: server root; ``None`` = ``CROSSROADS_OPENAI_BASE_URL`` or Ollama's default.
        api_key: optional Bearer token.
        timeout: seconds (short: this is a probe).

    Returns:
        :class:`ProviderStatus` with the server's model list.
    """
    from core.settings import settings

    try:
        url = base_url or settings.openai_base_url or OLLAMA_BASE_URL
    except ConfigError as exc:  # an invalid CROSSROADS_OPENAI_BASE_URL: say so (its password is never echoed)
        return ProviderStatus("openai", False, str(exc), [], LABELS["openai"])
    try:
        prov = OpenAICompatProvider(url, api_key=api_key)
    except ConfigError as exc:
        return ProviderStatus("openai", False, str(exc), [], LABELS["openai"])
    from .openai_compat import redact_url
    shown = redact_url(prov.base_url)
    label = f"{LABELS['openai']} ({shown})"
    try:
        models = list_server_models(prov.base_url, api_key=api_key or prov._api_key, timeout=timeout)
    except ProviderError as exc:
        hint = (" Install and start Ollama (`ollama serve`), or give the URL of another server."
                if prov.base_url == OLLAMA_BASE_URL else "")
        return ProviderStatus("openai", False, f"No server answered at {shown}.{hint}"
                              if exc.code == "ConnectionError" else str(exc),
                              [], label, {"base_url": shown})
    if not models:
        return ProviderStatus("openai", False, f"The server at {shown} lists no model: load one.",
                              [], label, {"base_url": shown})
    return ProviderStatus("openai", True, f"Server at {shown} answered with {len(models)} model(s).",
                          models, label, {"base_url": shown})


def local_status(model_path: str | None = None) -> ProviderStatus:
    """Whether the embedded model can run: llama-cpp-python importable and a GGUF present.

    Assembles the default Gemma weights on first call (a file copy and a
    SHA-256 check, about a second); does not load the model.
    """
    label = LABELS["local"]
    if not llama_cpp_installed():
        return ProviderStatus("local", False, "llama-cpp-python is not installed: "
                              "pip install 'llama-cpp-python[server]'.", [], label)
    try:
        path = os.path.expanduser(model_path) if model_path else str(default_gguf_path())
    except ProviderError as exc:
        return ProviderStatus("local", False, str(exc), [], label)
    if not os.path.isfile(path):
        return ProviderStatus("local", False, f"GGUF file not found: {path}.", [], label)
    name = os.path.basename(path)
    return ProviderStatus("local", True, f"{name} runs on this CPU with llama.cpp (tiny base model).",
                          [name], label, {"path": path})


def available_providers(*, region: str | None = None, profile: str | None = None,
                        base_url: str | None = None, api_key: str | None = None,
                        model_path: str | None = None) -> list[ProviderStatus]:
    """Status of every provider, in preference order (Bedrock, server, embedded).

    Returns:
        ``[ProviderStatus(name, available, reason, models), ...]`` for
        ``"bedrock"``, ``"openai"`` and ``"local"``; ``reason`` says why one is
        not available and how to fix it.
    """
    return [bedrock_status(region=region, profile=profile),
            openai_status(base_url, api_key=api_key),
            local_status(model_path)]


def make_provider(name: str, model: str | None = None, *, region: str | None = None,
                  profile: str | None = None, base_url: str | None = None,
                  api_key: str | None = None, model_path: str | None = None,
                  **options: Any) -> LLMProvider:
    """Build a provider by name.

    Args:
        name: ``"bedrock"``, ``"openai"`` or ``"local"``.
        model: model ID (Bedrock ``modelId``, server model name, or for
            ``"local"`` a GGUF path when ``model_path`` is not given).
        region / profile: Bedrock settings.
        base_url / api_key: OpenAI-compatible settings.
        model_path: GGUF file for ``"local"``.
        options: passed to the provider's constructor.

    Raises:
        ConfigError: unknown name or invalid settings.
    """
    if name == "bedrock":
        return BedrockProvider(model or DEFAULT_MODEL_ID, region=region, profile=profile, **options)
    if name == "openai":
        return OpenAICompatProvider(base_url, model, api_key=api_key, **options)
    if name == "local":
        return EmbeddedProvider(model_path or model, **options)
    raise ConfigError(f"unknown provider {name!r}: use one of auto, {', '.join(PROVIDER_NAMES)}.")


def auto_provider(*, statuses: list[ProviderStatus] | None = None, region: str | None = None,
                  profile: str | None = None, base_url: str | None = None,
                  api_key: str | None = None, model_path: str | None = None) -> LLMProvider:
    """The best available provider: Bedrock, then a local server, then the embedded model.

    Args:
        statuses: result of :func:`available_providers` (probed if ``None``).
        other args: as for :func:`available_providers`.

    Returns:
        A ready :class:`LLMProvider` using the first model each status lists.

    Raises:
        ProviderError: none is available (the message gives each reason).
    """
    statuses = statuses if statuses is not None else available_providers(
        region=region, profile=profile, base_url=base_url, api_key=api_key, model_path=model_path)
    for st in statuses:
        if not st.available:
            continue
        if st.name == "bedrock":
            model = DEFAULT_MODEL_ID if DEFAULT_MODEL_ID in st.models or not st.models else st.models[0]
            return BedrockProvider(model, region=region, profile=profile)
        if st.name == "openai":
            return OpenAICompatProvider(base_url, st.models[0] if st.models else None, api_key=api_key)
        if st.name == "local":
            return EmbeddedProvider(model_path)
    reasons = "; ".join(f"{s.name}: {s.reason}" for s in statuses)
    raise ProviderError(f"No LLM provider is available. {reasons}", code="NoProvider")
