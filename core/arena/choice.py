"""Choosing one label from a set with an LLM: label names, answer parsing, caching.

* :func:`humanise_label` turns a raw key (``"card_arrival"``) into words a
  model and a person read easily (``"Card arrival"``).
* :func:`parse_choice` maps a model's answer back to a raw key, or ``None``
  for an invalid output (counted as wrong and reported by the caller).
* :func:`choose_cached` calls :meth:`LLMProvider.choose` through the same
  :class:`~core.arena.cache.ResponseCache` as the Prompt Arena, keyed by
  :func:`choice_cache_key`, so a rerun or a resumed run pays nothing twice.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Sequence

from .cache import ResponseCache, cache_key
from .providers.base import LLMProvider, LLMResponse, label_json_schema, validate_labels, validate_messages

__all__ = ["humanise_label", "parse_choice", "choice_cache_key", "choose_cached", "label_json_schema"]

_SEP_RE = re.compile(r"[_\-\s]+")
_SLASH_RE = re.compile(r"\s*/\s*")
_JSON_RE = re.compile(r"\{.*?\}", re.DOTALL)
#: Characters stripped around an answer before matching (quotes, brackets, a final full stop...).
_TRIM = " \t\r\n\"'`“”‘’「」『』()[]<>*.。,、:;!?！？"


def humanise_label(key: str) -> str:
    """A raw label key written as words.

    Underscores and hyphens become spaces, a slash gets a space on each side,
    and the first letter is capitalised when the first word is all lower case
    (acronyms and non-Latin scripts are kept as they are).

    Examples:
        ``"card_arrival"`` -> ``"Card arrival"``; ``"lost-or-stolen"`` ->
        ``"Lost or stolen"``; ``"weather/find"`` -> ``"Weather / find"``;
        ``"ATM_support"`` -> ``"ATM support"``; ``"配送_遅延"`` -> ``"配送 遅延"``.

    Args:
        key: the label as stored in the data.

    Returns:
        The humanised label (the key itself if it has no separators).
    """
    text = _SEP_RE.sub(" ", str(key)).strip()
    text = _SLASH_RE.sub(" / ", text)
    if not text:
        return str(key)
    first = text.split(" ", 1)[0]
    if first[:1].isalpha() and first.islower():
        text = text[0].upper() + text[1:]
    return text


def _norm(text: str) -> str:
    """Comparison form: NFKC, case-folded, separators as one space, slashes unspaced, trimmed."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().strip(_TRIM)
    text = _SEP_RE.sub(" ", text)
    return _SLASH_RE.sub("/", text).strip()


def parse_choice(text: str | None, labels: Sequence[str]) -> str | None:
    """The raw label key a model's answer names, or ``None`` (invalid output).

    Tried in order:

    1. the answer (trimmed of spaces, quotes, brackets and final punctuation)
       is exactly a key;
    2. it equals a key or the key's :func:`humanise_label` form ignoring case,
       full/half width, and ``_``/``-``/space differences (``"Card Arrival"``,
       ``"card-arrival"``, ``"Weather / find"``); a form shared by two keys
       is ambiguous and gives ``None``;
    3. it holds a JSON object ``{"label": ...}`` whose value matches by 1-2.

    Args:
        text: the model's answer.
        labels: the allowed raw keys.

    Returns:
        One of ``labels``, or ``None`` when the answer names none of them (or
        is ambiguous).
    """
    if not isinstance(text, str) or not text.strip():
        return None
    keys = list(dict.fromkeys(labels))
    found = _match(text, keys)
    if found is not None:
        return found
    for blob in _JSON_RE.findall(text):
        try:
            obj = json.loads(blob)
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("label"), str):
            return _match(obj["label"], keys)
    return None


def _match(text: str, keys: list[str]) -> str | None:
    trimmed = text.strip().strip(_TRIM)
    for candidate in (text.strip(), trimmed):
        if candidate in keys:
            return candidate
    want = _norm(text)
    if not want:
        return None
    hits = {k for k in keys if want in (_norm(k), _norm(humanise_label(k)))}
    return hits.pop() if len(hits) == 1 else None


def choice_cache_key(provider: LLMProvider, system: str, messages: Sequence[dict], labels: Sequence[str],
                     max_tokens: int, temperature: float | None) -> str:
    """Response-cache key of one :meth:`LLMProvider.choose` call.

    Like the Prompt Arena's key (provider identity, prompt, max tokens and
    the temperature actually sent), plus ``{"mode": "choose", "labels": [...]}``
    so a choice never collides with a free answer to the same prompt.
    Credentials are never part of it.

    Returns:
        Hex SHA-256 string.
    """
    params = {"mode": "choose", "labels": list(labels), "max_tokens": int(max_tokens),
              "temperature": provider.effective_temperature(temperature)}
    return cache_key(provider.choice_cache_identity(), system, messages, params)


def choose_cached(provider: LLMProvider, system: str, messages: Sequence[dict], labels: Sequence[str], *,
                  cache: ResponseCache | None = None, max_tokens: int = 48,
                  temperature: float | None = 0.0) -> LLMResponse:
    """:meth:`LLMProvider.choose` through the response cache.

    Args:
        provider / system / messages / labels / max_tokens / temperature: as
            for :meth:`LLMProvider.choose`.
        cache: a :class:`~core.arena.cache.ResponseCache`; ``None`` = no cache.

    Returns:
        The cached :class:`LLMResponse` (``cached=True``, the original call's
        tokens and latency), or a fresh one, which is then stored.

    Raises:
        ConfigError / ProviderError: as for :meth:`LLMProvider.choose`
        (failures are never cached).
    """
    labels = validate_labels(labels)
    messages = validate_messages(messages)
    if cache is None:
        return provider.choose(system, messages, labels, max_tokens=max_tokens, temperature=temperature)
    key = choice_cache_key(provider, system, messages, labels, max_tokens, temperature)
    hit = cache.get(key)
    if hit is not None:
        return hit
    response = provider.choose(system, messages, labels, max_tokens=max_tokens, temperature=temperature)
    cache.put(key, response)
    return response
