"""Word tokens of English and Japanese text for the intent classifier's TF-IDF.

Japanese is written without spaces, so a regular-expression word tokenizer sees a
whole clause as one "word". :class:`MixedScriptTokenizer` splits the non-Japanese
parts on ``\\w+`` and hands each run of kana and kanji
(:func:`core.text.script.japanese_runs`) to a dictionary tokenizer: ``janome``
(default), SudachiPy (the process's shared tokenizer, :mod:`core.text.japanese`,
mode A) or ``fugashi`` with unidic-lite; or drops them (``None``), leaving Japanese to
the character n-grams. The choice of janome unigrams + character 1-3-grams was
measured with ``benchmarks/ja_tokenizer.py`` (figures in ``benchmarks/NOTES.md`` and
the README). The dictionary tokenizer is loaded once per process and only called on
Japanese runs, so English corpora pay nothing for it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any

from core.errors import DataError
from core.text import japanese
from core.text.script import has_japanese_script, japanese_runs

__all__ = ["JAPANESE_TOKENIZERS", "DEFAULT_JAPANESE_TOKENIZER", "MixedScriptTokenizer", "normalize_text",
           "contains_japanese"]

#: Dictionary tokenizers for Japanese that can be chosen, and the PyPI packages they need.
JAPANESE_TOKENIZERS = {
    "janome": "janome",
    "sudachi": "sudachipy + sudachidict-core",
    "fugashi": "fugashi + unidic-lite",
}
#: Default Japanese tokenizer, chosen by measurement (``benchmarks/ja_tokenizer.py``).
DEFAULT_JAPANESE_TOKENIZER: str | None = "janome"

_WORD = re.compile(r"\w+")


def normalize_text(text: str) -> str:
    """NFKC-normalise and lower-case ``text`` (full-width ASCII and half-width kana unified).

    Args:
        text: any string.

    Returns:
        The normalised string (same meaning; ``"ＡＢＣ？"`` -> ``"abc?"``).
    """
    return unicodedata.normalize("NFKC", text).lower()


def contains_japanese(text: str) -> bool:
    """Return ``True`` when ``text`` has at least one kana or kanji character
    (:func:`core.text.script.has_japanese_script`)."""
    return has_japanese_script(text)


class MixedScriptTokenizer:
    """Word tokenizer for English/Japanese text; a picklable callable ``str -> list[str]``.

    Non-Japanese parts are split on ``\\w+``. Runs of Japanese characters are
    split by a dictionary tokenizer (``janome``, ``sudachi`` in mode A, or
    ``fugashi`` with unidic-lite), or, with ``backend=None``, dropped from the
    word features (the character n-grams then carry Japanese alone). Word
    bigrams are added when ``ngram_range`` is ``(1, 2)``.

    Args:
        backend: ``"janome"``, ``"sudachi"``, ``"fugashi"`` or ``None``.
        ngram_range: ``(min_n, max_n)`` of word n-grams to emit.

    Raises:
        DataError: unknown backend, or its package is not installed.
    """

    def __init__(self, backend: str | None = DEFAULT_JAPANESE_TOKENIZER, ngram_range: tuple[int, int] = (1, 2)):
        if backend is not None and backend not in JAPANESE_TOKENIZERS:
            raise DataError(
                f"unknown Japanese tokenizer {backend!r}; choose one of {sorted(JAPANESE_TOKENIZERS)} or None."
            )
        self.backend = backend
        self.ngram_range = tuple(ngram_range)
        self._impl = None

    # -- pickling: the native tokenizers are rebuilt lazily after unpickling --
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_impl"] = None
        return state

    def _split_japanese(self, run: str) -> list[str]:
        if self.backend is None:
            return []
        if self._impl is None:
            self._impl = _backend(self.backend)
        return self._impl(run)

    def tokens(self, text: str) -> list[str]:
        """Return the word tokens (unigrams only) of an already normalised ``text``."""
        out: list[str] = []
        pos = 0
        for m in japanese_runs(text):
            out.extend(_WORD.findall(text[pos:m.start()]))
            out.extend(self._split_japanese(m.group()))
            pos = m.end()
        out.extend(_WORD.findall(text[pos:]))
        return out

    def __call__(self, text: str) -> list[str]:
        toks = self.tokens(normalize_text(text))
        lo, hi = self.ngram_range
        grams: list[str] = []
        for n in range(lo, hi + 1):
            grams.extend(" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1))
        return grams

    def __repr__(self) -> str:
        return f"MixedScriptTokenizer(backend={self.backend!r}, ngram_range={self.ngram_range})"


_BACKENDS: dict[str, Any] = {}
_BACKENDS_LOCK = threading.Lock()


def _backend(name: str):
    """The process-wide splitter for ``name`` (dictionaries are loaded once, not per fold)."""
    with _BACKENDS_LOCK:
        if name not in _BACKENDS:
            _BACKENDS[name] = _make_backend(name)
        return _BACKENDS[name]


def _make_backend(name: str):
    """Build a ``str -> list[str]`` surface-form splitter for Japanese (lazy import)."""
    try:
        if name == "janome":
            from janome.tokenizer import Tokenizer

            tok = Tokenizer(wakati=True)
            return lambda s: [t for t in tok.tokenize(s) if t.strip()]
        if name == "sudachi":
            japanese.tokenize("", "A")  # ImportError here when SudachiPy is missing
            return lambda s: [m.surface for m in japanese.tokenize(s, "A") if m.surface.strip()]
        if name == "fugashi":
            import fugashi

            tagger = fugashi.Tagger()  # finds unidic-lite's bundled dictionary
            return lambda s: [w.surface for w in tagger(s) if w.surface.strip()]
    except ImportError as exc:
        raise DataError(
            f"the Japanese tokenizer {name!r} needs the package(s) {JAPANESE_TOKENIZERS[name]}: "
            f"pip install them, or choose japanese_tokenizer=None ({exc})."
        ) from exc
    raise DataError(f"unknown Japanese tokenizer {name!r}.")
