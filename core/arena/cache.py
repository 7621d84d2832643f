"""Response cache so that re-running the same prompt does not pay twice.

The key is a SHA-256 of the provider's identity (name, model, and for
servers the base URL without any user:password part; never credentials or
API keys), the exact prompt (system + messages) and the generation
parameters (max tokens, temperature). Values are :class:`LLMResponse` as
JSON. Storage is in memory, or on disk as one JSON file per entry under a
user cache folder (default ``$XDG_CACHE_HOME/crossroads/llm`` or
``~/.cache/crossroads/llm``), written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from .providers.base import LLMResponse


def default_cache_dir() -> Path:
    """Folder of the on-disk response cache.

    Returns:
        ``$CROSSROADS_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/crossroads/llm``
        or ``~/.cache/crossroads/llm``.
    """
    from core.settings import settings

    if settings.cache_dir:
        return settings.cache_dir
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "crossroads" / "llm"


def cache_key(identity: Mapping[str, Any], system: str, messages: Sequence[Mapping[str, str]],
              params: Mapping[str, Any]) -> str:
    """Hex SHA-256 of provider identity, prompt and parameters (canonical JSON)."""
    payload = {"id": dict(identity), "system": system,
               "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
               "params": dict(params)}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _response_from(data: Any) -> LLMResponse | None:
    """An :class:`LLMResponse` from a cache entry, or ``None`` when the entry has another shape."""
    if not isinstance(data, dict):
        return None
    number = (int, float)
    checks = (("text", str, False), ("latency_ms", number, False), ("model_id", str, False),
              ("input_tokens", int, True), ("output_tokens", int, True), ("stop_reason", str, True),
              ("provider", str, True), ("cached", bool, True))
    for name, kind, optional in checks:
        if name not in data:
            if optional:
                continue
            return None
        value = data[name]
        if value is None and optional:
            continue
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            return None
    try:
        return LLMResponse.from_dict(data)
    except (TypeError, ValueError):
        return None


class ResponseCache:
    """Cache of :class:`LLMResponse` keyed by :func:`cache_key`.

    Args:
        directory: folder for JSON files; ``None`` keeps entries in memory
            only; ``"default"`` uses :func:`default_cache_dir`.

    Attributes:
        hits / misses: counters since creation.
    """

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = (default_cache_dir() if directory == "default"
                          else Path(directory) if directory is not None else None)
        self._memory: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _file(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> LLMResponse | None:
        """The cached response (with ``cached=True``) or ``None``.

        An entry that is not a response (unreadable, not JSON, or JSON of another
        shape: ``{}``, ``[]``, wrong types) counts as a miss and is deleted, so
        the caller asks the provider again and stores a good entry.
        """
        with self._lock:
            data = self._memory.get(key)
        if data is None and self.directory is not None:
            try:
                data = json.loads(self._file(key).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = None
            if data is not None:
                with self._lock:
                    self._memory[key] = data
        response = _response_from(data) if data is not None else None
        if response is None:
            if data is not None or (self.directory is not None and self._file(key).exists()):
                self._forget(key)
            self.misses += 1
            return None
        self.hits += 1
        return replace(response, cached=True)

    def _forget(self, key: str) -> None:
        with self._lock:
            self._memory.pop(key, None)
        if self.directory is not None:
            try:
                self._file(key).unlink()
            except OSError:
                pass

    def __contains__(self, key: object) -> bool:
        """``True`` when ``key`` has an entry (memory or disk); does not count as a hit or a miss."""
        if not isinstance(key, str):
            return False
        with self._lock:
            if key in self._memory:
                return True
        return self.directory is not None and self._file(key).is_file()

    def put(self, key: str, response: LLMResponse) -> None:
        """Store ``response`` (disk write errors are ignored: the cache is optional)."""
        data = replace(response, cached=False).to_dict()
        with self._lock:
            self._memory[key] = data
        if self.directory is None:
            return
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False)
            os.replace(tmp, target)
        except OSError:
            pass

    def clear(self) -> None:
        """Forget every entry (memory and this cache's folder files)."""
        with self._lock:
            self._memory.clear()
        if self.directory is not None and self.directory.exists():
            for f in self.directory.glob("*/*.json"):
                try:
                    f.unlink()
                except OSError:
                    pass

    def __len__(self) -> int:
        if self.directory is not None and self.directory.exists():
            return sum(1 for _ in self.directory.glob("*/*.json"))
        return len(self._memory)
