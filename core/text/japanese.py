"""The process's one Japanese tokenizer: SudachiPy with ``sudachidict-core``, behind one lock.

The dictionary is read once (about 0.3 s and 70 MB) and each split mode's tokenizer is made
from it once. SudachiPy tokenizers must not be used by two threads at a time and Streamlit
runs each session in its own thread, so every call goes through :data:`_LOCK`.

Users: the offline sentiment backend (:mod:`core.sentiment.local`, mode C: polar words and
the support lexicon read the same morphemes, so a text is tokenised once), the support lexicon
(:mod:`core.sentiment.ja_support`) and the intent classifier's ``japanese_tokenizer="sudachi"``
(:mod:`core.arena.classifier`, mode A).
"""

from __future__ import annotations

import functools
import threading
from typing import NamedTuple

__all__ = ["Morpheme", "tokenize", "SPLIT_MODES"]

#: SudachiPy's split modes: A (shortest units), B (middle), C (named entities and compounds kept whole).
SPLIT_MODES = ("A", "B", "C")

_LOCK = threading.Lock()


class Morpheme(NamedTuple):
    """One SudachiPy morpheme.

    Attributes:
        surface: the text as written (``"遅く"``).
        dictionary_form: the base form of the word as written (``"遅い"``).
        normalized_form: the normalised base form that unifies spelling variants (``"繋がる"`` for つながる).
        pos: top-level part of speech (``"形容詞"``, ``"助動詞"``...).
    """

    surface: str
    dictionary_form: str
    normalized_form: str
    pos: str


@functools.lru_cache(maxsize=1)
def _dictionary():
    from sudachipy import Dictionary

    return Dictionary(dict="core")


@functools.lru_cache(maxsize=len(SPLIT_MODES))
def _tokenizer(mode: str):
    from sudachipy import SplitMode

    return _dictionary().create(getattr(SplitMode, mode))


def tokenize(text: str, mode: str = "C") -> list[Morpheme]:
    """Tokenise Japanese ``text`` with the shared SudachiPy tokenizer.

    Args:
        text: any string (non-Japanese parts come back as their own morphemes).
        mode: ``"A"``, ``"B"`` or ``"C"`` (:data:`SPLIT_MODES`).

    Returns:
        The :class:`Morpheme` list, in text order (surfaces concatenate to ``text``).

    Raises:
        ValueError: unknown mode.
        ImportError: SudachiPy or ``sudachidict-core`` is not installed.
    """
    if mode not in SPLIT_MODES:
        raise ValueError(f"unknown SudachiPy split mode {mode!r}: use one of {', '.join(SPLIT_MODES)}.")
    with _LOCK:
        ms = _tokenizer(mode).tokenize(text)
        return [Morpheme(m.surface(), m.dictionary_form(), m.normalized_form(), m.part_of_speech()[0]) for m in ms]
