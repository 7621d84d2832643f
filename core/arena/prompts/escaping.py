"""Escaping and delimiting: the only way user text enters a prompt.

:func:`delimit_query` wraps the user's text in ``<query>…</query>``;
:func:`escape_tags` makes any value safe inside those tags and inside the
completion format: NFKC first, then every ``<query>``/``</query>`` tag escaped
(any case or spacing, with attributes, with invisible characters inside, or
unclosed), ``###`` runs made full-width, and a line starting ``Answer:`` or
``Request:`` given a full-width colon.
"""

from __future__ import annotations

import re

QUERY_TAG = "query"


_QUERY_BODY_RE = re.compile(r"^.*?<query>(.*?)</query>.*$", re.DOTALL)
# Characters that render as nothing: soft hyphen, zero-width space/joiners, word joiner, bidi controls, BOM...
_INVISIBLE = "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e" \
             "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
_GAP = f"(?:\\s|{_INVISIBLE})*"
# <, optional /, the tag name with invisible characters allowed between its letters, then anything up to '>'
# (attributes) or the end of the text; not a longer name such as <querystring>.
_TAG_RE = re.compile("<" + _GAP + "(/?)" + _GAP + f"{_INVISIBLE}*".join(QUERY_TAG) + f"{_INVISIBLE}*"
                     + r"(?![\w-])([^<>]*)(>?)", re.IGNORECASE)
_MARKER_HASHES = re.compile(r"#{3,}")
_MARKER_LABEL = re.compile(r"(?im)^(\s*(?:answer|request))\s*:")


def _escaped_tag(m: re.Match) -> str:
    rest = re.sub(_INVISIBLE, "", m.group(2)).rstrip()
    return f"&lt;{m.group(1)}{QUERY_TAG}{rest}" + ("&gt;" if m.group(3) else "")


def escape_tags(text: str) -> str:
    """Make ``text`` safe to put inside the ``<query>`` delimiters and the completion format.

    NFKC-normalises the text, escapes every ``<query>``/``</query>`` tag (any
    case or spacing, with attributes, with invisible characters inside, or
    unclosed) and neutralises the completion markers (``###``, a line starting
    ``Answer:``/``Request:``). See the module docstring.

    Args:
        text: any string (user text, a label...).

    Returns:
        The text with those tags written as ``&lt;query&gt;`` / ``&lt;/query…&gt;``,
        ``###`` as ``＃＃＃`` and those labels' colons full-width; everything else as
        normalised.
    """
    import unicodedata

    out = unicodedata.normalize("NFKC", str(text))
    out = _TAG_RE.sub(_escaped_tag, out)
    out = _MARKER_HASHES.sub(lambda m: "\uff03" * len(m.group(0)), out)
    return _MARKER_LABEL.sub(lambda m: m.group(1) + "\uff1a", out)


def delimit_query(text: str) -> str:
    """``<query>{escaped text}</query>``: the only way user text enters a prompt."""
    return f"<{QUERY_TAG}>{escape_tags(text)}</{QUERY_TAG}>"
