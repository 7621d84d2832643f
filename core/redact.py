"""Removing secrets from text before it is shown, logged or used as a cache key.

A URL may carry a user name and password (``http://user:pass@host/``) or a
token in its query string. :func:`redact_url` removes both from one URL, with
or without a scheme; :func:`redact_urls` does it for every URL inside a
message. Every place that quotes a URL (errors, provider status, labels, cache
keys) goes through these.
"""

from __future__ import annotations

import re

def redact_url(url: str) -> str:
    """``url`` without ``user:password@``, query string or fragment.

    Works on malformed input too (no scheme, ``http//``, unknown scheme),
    since it is used to quote URLs that failed validation: in every
    ``/``-separated part holding an ``@``, only what follows the last ``@`` is kept.

    Args:
        url: any text meant as a URL.

    Returns:
        e.g. ``"ftp://user:pw@127.0.0.1:9/v1?key=x"`` -> ``"ftp://127.0.0.1:9/v1"``;
        ``"user:pw@host:9/v1"`` -> ``"host:9/v1"``.
    """
    text = re.split(r"[?#]", str(url).strip(), maxsplit=1)[0]
    return "/".join(part.rpartition("@")[2] if "@" in part else part for part in text.split("/"))


_ANY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def redact_urls(text: str) -> str:
    """``text`` with every ``scheme://...`` URL inside passed through :func:`redact_url`."""
    return _ANY_URL.sub(lambda m: redact_url(m.group(0)), str(text))
