"""The LLM provider registry: each provider is declared once, here.

A :class:`ProviderSpec` says everything the rest of Crossroads needs to know
about a provider: its name (``"bedrock"``), its label for people, how to build
it (``factory``), how to tell whether it works here (``probe``), whether
anything leaves this machine (``local``), what it can do (``capabilities``)
and which settings its factory and probe take.

:data:`PROVIDERS` holds the specs in order of preference; the pages' provider
pickers, the CLI's ``--provider`` choices, :func:`core.arena.providers.make_provider`,
:func:`~core.arena.providers.available_providers`,
:func:`~core.arena.providers.auto_provider` and pricing all read it. Adding a
provider is one :func:`register_provider` call::

    register_provider(ProviderSpec(
        name="acme", label="ACME LLM", factory=make_acme, probe=acme_status,
        local=False, capabilities=frozenset({"constrained_choice"}), settings=("endpoint",)))

Probing contacts AWS only when credentials exist, and only the configured or
default local server URL, with short timeouts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable

from core.errors import ConfigError, ProviderError

from .base import LLMProvider, ProviderStatus
from .deployment import check_gguf_path
from .bedrock import BUILTIN_MODEL_IDS, DEFAULT_MODEL_ID, BedrockProvider
from .embedded import DEFAULT_MODEL_NAME, EmbeddedProvider, default_gguf_path, llama_cpp_installed
from .openai_compat import OLLAMA_BASE_URL, PROBE_TIMEOUT_S, OpenAICompatProvider, list_server_models

__all__ = ["CAPABILITIES", "PROVIDERS", "ProviderSpec", "provider_spec", "register_provider",
           "unregister_provider", "bedrock_status", "openai_status", "local_status"]

#: What a provider may declare it can do:
#: ``stream`` (answers arrive in chunks), ``temperature`` (sampling temperature is
#: honoured, for Bedrock only by the models :func:`~.bedrock.accepts_temperature` lists),
#: ``constrained_choice`` (:meth:`LLMProvider.choose` constrains the output to the
#: label set instead of parsing free text), ``batch_inference`` (an asynchronous batch
#: API at a discount, e.g. Bedrock batch inference at 50 % of on-demand).
CAPABILITIES = frozenset({"stream", "temperature", "constrained_choice", "batch_inference"})

_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")

BEDROCK_LABEL = "Amazon Bedrock"
OPENAI_LABEL = "OpenAI-compatible server"
LOCAL_LABEL = "Embedded model (offline)"


@dataclass(frozen=True)
class ProviderSpec:
    """Everything Crossroads needs to know about one LLM provider.

    Attributes:
        name: short key used by the CLI (``--provider NAME``), the cache and
            prices, e.g. ``"bedrock"``; lower case, ``[a-z0-9_-]``, not ``"auto"``.
        label: name for people, e.g. ``"Amazon Bedrock"``.
        factory: ``factory(model: str | None, **settings) -> LLMProvider``;
            ``model`` is a model ID the probe listed (or ``None`` = the default).
        probe: ``probe(**settings) -> ProviderStatus``; must not raise and must
            be quick (short timeouts).
        local: ``True`` when nothing leaves this machine: its calls cost 0 (a
            provider that may be local or remote, such as an OpenAI-compatible
            server, says ``False`` here and answers per instance with
            :meth:`LLMProvider.is_local`).
        capabilities: a subset of :data:`CAPABILITIES`.
        settings: names of the keyword settings ``factory`` and ``probe`` take,
            e.g. ``("region", "profile")``.
    """

    name: str
    label: str
    factory: Callable[..., LLMProvider]
    probe: Callable[..., ProviderStatus]
    local: bool
    capabilities: frozenset[str]
    settings: tuple[str, ...] = ()

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME_RE.fullmatch(self.name) or self.name == "auto":
            raise ConfigError(f"provider name {self.name!r} is not valid: use 1-32 lower-case letters, "
                              "digits, '-' or '_', starting with a letter (and not 'auto').")
        if not self.label:
            raise ConfigError(f"provider {self.name!r} needs a label.")
        if not callable(self.factory) or not callable(self.probe):
            raise ConfigError(f"provider {self.name!r}: factory and probe must be callables.")
        caps = frozenset(self.capabilities)
        unknown = caps - CAPABILITIES
        if unknown:
            raise ConfigError(f"provider {self.name!r}: unknown capabilities {sorted(unknown)}; "
                              f"use some of {sorted(CAPABILITIES)}.")
        object.__setattr__(self, "capabilities", caps)
        object.__setattr__(self, "settings", tuple(self.settings))

    def supports(self, capability: str) -> bool:
        """``True`` if ``capability`` is in :attr:`capabilities`."""
        return capability in self.capabilities


#: The registered providers in order of preference (``auto`` picks the first available).
PROVIDERS: dict[str, ProviderSpec] = {}


def register_provider(spec: ProviderSpec) -> ProviderSpec:
    """Add ``spec`` to :data:`PROVIDERS` (last in preference order).

    Registering a name that already exists replaces that spec in place (same
    position), so a deployment can swap a factory without reordering.

    Returns:
        ``spec``.

    Raises:
        ConfigError: ``spec`` is not a :class:`ProviderSpec`.
    """
    if not isinstance(spec, ProviderSpec):
        raise ConfigError(f"register_provider needs a ProviderSpec, got {type(spec).__name__}.")
    PROVIDERS[spec.name] = spec
    return spec


def unregister_provider(name: str) -> ProviderSpec:
    """Remove a provider from :data:`PROVIDERS` and return its spec.

    Raises:
        ConfigError: no provider has that name.
    """
    spec = provider_spec(name)
    del PROVIDERS[name]
    return spec


def provider_spec(name: str) -> ProviderSpec:
    """The :class:`ProviderSpec` registered as ``name``.

    Raises:
        ConfigError: unknown name (the message lists the registered ones).
    """
    try:
        return PROVIDERS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown provider {name!r}: use one of auto, {', '.join(PROVIDERS)}.") from None


# ----------------------------------------------------------------------------- Amazon Bedrock
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
        invoke a given model is only known at the first call. The default model
        (:data:`~.bedrock.DEFAULT_MODEL_ID`) comes first when it is listed.
    """
    base_label = BEDROCK_LABEL
    try:
        prov = provider or BedrockProvider(region=region, profile=profile)
        has = prov.has_credentials()
    except ProviderError as exc:
        return ProviderStatus("bedrock", False, str(exc), [], base_label)
    except Exception as exc:  # broken AWS config file, etc.
        return ProviderStatus("bedrock", False, f"AWS configuration could not be read: {exc}",
                              [], base_label)
    label = f"{base_label} ({prov.region})"
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
    if DEFAULT_MODEL_ID in models:
        models = [DEFAULT_MODEL_ID] + [m for m in models if m != DEFAULT_MODEL_ID]
    reason = (f"AWS credentials found; {len(models)} Claude models listed in {prov.region}."
              if remote else
              "AWS credentials found; listing models is not permitted, so a built-in list of "
              "Claude inference profiles is offered.")
    return ProviderStatus("bedrock", True, reason, models, label, {"region": prov.region})


def _make_bedrock(model: str | None = None, *, region: str | None = None,
                  profile: str | None = None, **options: Any) -> BedrockProvider:
    return BedrockProvider(model or DEFAULT_MODEL_ID, region=region, profile=profile, **options)


# ----------------------------------------------------------------------------- OpenAI-compatible
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
    base_label = OPENAI_LABEL
    from core.settings import settings

    try:
        url = base_url or settings.openai_base_url or OLLAMA_BASE_URL
    except ConfigError as exc:  # an invalid CROSSROADS_OPENAI_BASE_URL: say so (its password is never echoed)
        return ProviderStatus("openai", False, str(exc), [], base_label)
    try:
        prov = OpenAICompatProvider(url, api_key=api_key)
    except ConfigError as exc:
        return ProviderStatus("openai", False, str(exc), [], base_label)
    from .openai_compat import redact_url
    shown = redact_url(prov.base_url)
    label = f"{base_label} ({shown})"
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


def _probe_openai(*, base_url: str | None = None, api_key: str | None = None) -> ProviderStatus:
    return openai_status(base_url, api_key=api_key)


def _make_openai(model: str | None = None, *, base_url: str | None = None,
                 api_key: str | None = None, **options: Any) -> OpenAICompatProvider:
    return OpenAICompatProvider(base_url, model, api_key=api_key, **options)


# ----------------------------------------------------------------------------- embedded llama.cpp
def local_status(model_path: str | None = None) -> ProviderStatus:
    """Whether the embedded model can run: llama-cpp-python importable and a GGUF present.

    Assembles the default Gemma weights on first call (a file copy and a
    SHA-256 check, about a second); does not load the model.
    """
    label = LOCAL_LABEL
    if not llama_cpp_installed():
        return ProviderStatus("local", False, "llama-cpp-python is not installed: "
                              "pip install 'llama-cpp-python[server]'.", [], label)
    try:
        path = str(check_gguf_path(model_path)) if model_path else str(default_gguf_path())
    except (ProviderError, ConfigError) as exc:  # ConfigError: not on CROSSROADS_ALLOWED_GGUF_PATHS
        return ProviderStatus("local", False, str(exc), [], label)
    if not os.path.isfile(path):
        return ProviderStatus("local", False, f"GGUF file not found: {path}.", [], label)
    name = os.path.basename(path)
    return ProviderStatus("local", True, f"{name} runs on this CPU with llama.cpp (tiny base model).",
                          [name], label, {"path": path})


def _probe_local(*, model_path: str | None = None, n_ctx: int | None = None) -> ProviderStatus:
    return local_status(model_path)


def _make_local(model: str | None = None, *, model_path: str | None = None,
                n_ctx: int | None = None, **options: Any) -> EmbeddedProvider:
    """The embedded provider. ``model`` is a GGUF path, or the file name the probe listed.

    ``model_path`` wins over ``model``; the default model's file name
    (:data:`~.embedded.DEFAULT_MODEL_NAME`) means the default weights.
    ``n_ctx`` is the context window in tokens (``None`` = 2048).
    """
    path = model_path or (None if model in (None, "", DEFAULT_MODEL_NAME) else model)
    if n_ctx is not None:
        options["n_ctx"] = n_ctx
    return EmbeddedProvider(path, **options)


register_provider(ProviderSpec(
    name="bedrock", label=BEDROCK_LABEL, factory=_make_bedrock, probe=bedrock_status, local=False,
    capabilities=frozenset({"stream", "temperature", "constrained_choice", "batch_inference"}),
    settings=("region", "profile")))
register_provider(ProviderSpec(
    name="openai", label=OPENAI_LABEL, factory=_make_openai, probe=_probe_openai,
    local=False, capabilities=frozenset({"stream", "temperature", "constrained_choice"}),
    settings=("base_url", "api_key")))
register_provider(ProviderSpec(
    name="local", label=LOCAL_LABEL, factory=_make_local, probe=_probe_local, local=True,
    capabilities=frozenset({"stream", "temperature", "constrained_choice"}),
    settings=("model_path", "n_ctx")))
