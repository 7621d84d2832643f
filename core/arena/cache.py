"""Response cache so that re-running the same prompt does not pay twice.

The key is a SHA-256 of the provider's identity (name, model, and for
servers the base URL without any user:password part; never credentials or
API keys), the exact prompt (system + messages) and the generation
parameters (max tokens, temperature). Values are :class:`LLMResponse` as
JSON. Storage is in memory, or on disk in a ``diskcache.Cache`` (SQLite index,
safe across threads and processes, values stored as JSON with ``JSONDisk`` so
nothing is ever unpickled) under a user cache folder (``platformdirs``'
``user_cache_path("crossroads") / "llm"``: ``$XDG_CACHE_HOME/crossroads/llm`` or
``~/.cache/crossroads/llm`` on Linux). The disk cache is capped at
``CROSSROADS_CACHE_MB`` (default 256 MB); past it the least recently used entries are
evicted.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from .providers.base import LLMResponse


def default_cache_dir() -> Path:
    """Folder of the on-disk response cache.

    Returns:
        ``$CROSSROADS_CACHE_DIR`` when set, else ``platformdirs.user_cache_path("crossroads") / "llm"``
        (``$XDG_CACHE_HOME/crossroads/llm`` or ``~/.cache/crossroads/llm`` on Linux).
    """
    from core.settings import settings

    if settings.cache_dir:
        return settings.cache_dir
    import platformdirs

    return platformdirs.user_cache_path("crossroads") / "llm"


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
        directory: folder of the ``diskcache`` store; ``None`` keeps entries in memory
            only; ``"default"`` uses :func:`default_cache_dir`.
        size_limit_mb: cap of the disk store in MB (default ``CROSSROADS_CACHE_MB``);
            the least recently used entries are evicted past it.

    Attributes:
        hits / misses: counters since creation.
    """

    def __init__(self, directory: str | os.PathLike | None = None, *, size_limit_mb: float | None = None):
        self.directory = (default_cache_dir() if directory == "default"
                          else Path(directory) if directory is not None else None)
        self._memory: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._size_limit_mb = size_limit_mb
        self._disk_store = None
        self.hits = 0
        self.misses = 0

    @property
    def _disk(self):
        """The ``diskcache.Cache`` (opened on first use), or ``None`` in memory mode or when it cannot be opened."""
        if self.directory is None:
            return None
        if self._disk_store is None:
            import diskcache

            from core.settings import settings

            limit = self._size_limit_mb if self._size_limit_mb is not None else settings.cache_mb
            try:
                self._disk_store = diskcache.Cache(str(self.directory), disk=diskcache.JSONDisk,
                                                   size_limit=int(limit * 2**20),
                                                   eviction_policy="least-recently-used")
            except Exception as exc:  # noqa: BLE001 - OSError, sqlite3 errors: the cache is optional
                import logging

                logging.getLogger(__name__).warning("response cache at %s unavailable: %s", self.directory, exc)
                self.directory = None
                return None
        return self._disk_store

    def _read(self, key: str) -> Any:
        disk = self._disk
        if disk is None:
            with self._lock:
                return self._memory.get(key)
        try:
            return disk.get(key)
        except Exception:  # noqa: BLE001 - an unreadable value (not JSON) is a miss
            return {"unreadable": True}

    def get(self, key: str) -> LLMResponse | None:
        """The cached response (with ``cached=True``) or ``None``.

        An entry that is not a response (unreadable, not JSON, or JSON of another
        shape: ``{}``, ``[]``, wrong types) counts as a miss and is deleted, so
        the caller asks the provider again and stores a good entry.
        """
        data = self._read(key)
        response = _response_from(data) if data is not None else None
        if response is None:
            if data is not None:
                self._forget(key)
            self.misses += 1
            return None
        self.hits += 1
        return replace(response, cached=True)

    def _forget(self, key: str) -> None:
        disk = self._disk
        if disk is None:
            with self._lock:
                self._memory.pop(key, None)
            return
        try:
            disk.delete(key)
        except Exception:  # noqa: BLE001
            pass

    def __contains__(self, key: object) -> bool:
        """``True`` when ``key`` has an entry; does not count as a hit or a miss."""
        if not isinstance(key, str):
            return False
        disk = self._disk
        if disk is None:
            with self._lock:
                return key in self._memory
        return key in disk

    def put(self, key: str, response: LLMResponse) -> None:
        """Store ``response`` (disk write errors are ignored: the cache is optional)."""
        data = replace(response, cached=False).to_dict()
        disk = self._disk
        if disk is None:
            with self._lock:
                self._memory[key] = data
            return
        try:
            disk.set(key, data)
        except Exception:  # noqa: BLE001 - full disk, read-only folder...
            pass

    def clear(self) -> None:
        """Forget every entry (memory, or this cache's store)."""
        disk = self._disk
        if disk is None:
            with self._lock:
                self._memory.clear()
            return
        disk.clear()

    def __len__(self) -> int:
        disk = self._disk
        if disk is None:
            return len(self._memory)
        return len(disk)

    def close(self) -> None:
        """Close the disk store's files (it reopens on next use)."""
        if self._disk_store is not None:
            self._disk_store.close()
            self._disk_store = None
