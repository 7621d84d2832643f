"""Removing secrets from text before it is shown, logged or used as a cache key.

A URL may carry a user name and password (``http://user:pass@host/``) or a
token in its query string. :func:`redact_url` removes both from one URL, with
or without a scheme; :func:`redact_urls` does it for every URL inside a
message. Every place that quotes a URL (errors, provider status, labels, cache
keys) goes through these.
"""

from __future__ import annotations

import re

# scheme://  userinfo@  host...   (the userinfo may itself contain '@' or ':', so take up to the LAST '@'
# before the first '/', '?' or '#').
_WITH_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<auth>[^/?#\s'\"<>]*)")
_NO_SCHEME = re.compile(r"^(?P<auth>[^/?#\s'\"<>]*@[^/?#\s'\"<>]*)")


def _strip_userinfo(authority: str) -> str:
    return authority.rpartition("@")[2] if "@" in authority else authority


def redact_url(url: str) -> str:
    """``url`` without ``user:password@``, query string or fragment.

    Works on malformed input too (no scheme, unknown scheme), since it is used
    to quote URLs that failed validation.

    Args:
        url: any text meant as a URL.

    Returns:
        e.g. ``"ftp://user:pw@127.0.0.1:9/v1?key=x"`` -> ``"ftp://127.0.0.1:9/v1"``;
        ``"user:pw@host:9/v1"`` -> ``"host:9/v1"``.
    """
    text = str(url).strip()
    m = _WITH_SCHEME.match(text)
    if m:
        rest = text[m.end():]
    else:
        m = _NO_SCHEME.match(text)
        rest = text[m.end():] if m else text
    rest = re.split(r"[?#]", rest, maxsplit=1)[0]
    if not m:
        return rest
    scheme = m.groupdict().get("scheme") or ""
    return scheme + _strip_userinfo(m.group("auth")) + rest


_ANY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")


def redact_urls(text: str) -> str:
    """``text`` with every ``scheme://...`` URL inside passed through :func:`redact_url`."""
    return _ANY_URL.sub(lambda m: redact_url(m.group(0)), str(text))
