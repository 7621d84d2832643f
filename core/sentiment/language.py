"""Local (offline) language detection for the sentiment backends.

Method, chosen by cost (see ``benchmarks/sentiment_accuracy.py``):

1. **Script counts** (:func:`core.text.script.script_language`: Unicode ranges,
   microseconds, no data): any kana means
   Japanese, checked first, even when Latin letters outnumber the Japanese ones
   (chABSA: 「当連結会計年度における…Sony Financial Holdings…」 was sent to lingua and
   came out Spanish/French); otherwise the most frequent script decides: Hangul means Korean; Arabic and Devanagari scripts mean Arabic and
   Hindi. Han characters without kana mean Chinese when there are at least 20
   of them; shorter Han-only text (``最悪``, ``返品希望``) is far more often
   Japanese in this app, so it is taken as ``ja`` and a notice says so.
2. **Latin-script text** of at least 20 characters is told apart between
   English, Spanish, French, German, Italian and Portuguese with
   ``lingua-language-detector`` restricted to those six languages and loaded
   lazily (only their models are read, once per process). Shorter Latin text is
   taken as English with a notice: n-gram detectors are unreliable there
   (lingua calls "Hello" Italian), and Comprehend's own detector needs 20 characters.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from core.text.script import has_han, has_kana, script_language

#: Below this many characters, statistical detection is not attempted (Comprehend's own minimum too).
MIN_DETECT_CHARS = 20


@dataclass
class LanguageGuess:
    """A detected language.

    Attributes:
        code: ISO 639-1 code (``"en"``, ``"ja"``...) or ``"und"`` when nothing could be detected.
        score: confidence in [0, 1] (script share, or lingua's confidence).
        method: ``"script"``, ``"lingua"``, ``"prior"`` (the batch's language) or ``"default"``.
        notices: explanations for the user (short text, assumption made).
    """

    code: str
    score: float
    method: str
    notices: list[str] = field(default_factory=list)


@functools.lru_cache(maxsize=1)
def _latin_detector():
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.ENGLISH, Language.SPANISH, Language.FRENCH, Language.GERMAN,
        Language.ITALIAN, Language.PORTUGUESE,
    ).build()


_LINGUA_CODES = {"ENGLISH": "en", "SPANISH": "es", "FRENCH": "fr", "GERMAN": "de",
                 "ITALIAN": "it", "PORTUGUESE": "pt"}


def language_prior(texts) -> str | None:
    """The language a batch is written in, to settle rows that script alone cannot.

    Returns ``"ja"`` when at least half of the texts that contain Han characters or kana
    also contain kana (so the batch is Japanese and its kanji-only rows, such as
    （注）正味損害率＝（正味支払保険金＋損害調査費）÷正味収入保険料, are Japanese too); else ``None``.

    Args:
        texts: the batch's texts (``None``/non-strings are skipped).
    """
    cjk = kana = 0
    for t in texts:
        if not isinstance(t, str):
            continue
        kana_here = has_kana(t)
        if kana_here or has_han(t):
            cjk += 1
            kana += kana_here
    return "ja" if cjk and kana * 2 >= cjk else None


def detect_language(text: str, prior: str | None = None) -> LanguageGuess:
    """Guess the language of ``text`` offline.

    Args:
        text: any string.
        prior: the batch's language from :func:`language_prior` (``"ja"`` or ``None``): a
            Han-only text of 20+ characters is then Japanese, with a notice, not Chinese.

    Returns:
        A :class:`LanguageGuess`; ``code`` is ``"und"`` when the text has no letters.
    """
    guess = script_language(text, prior)
    share = guess.share
    if guess.code is not None:
        return LanguageGuess(guess.code, share, "prior" if guess.from_prior else "script",
                             [guess.notice] if guess.notice else [])
    if len(text.strip()) < MIN_DETECT_CHARS:
        return LanguageGuess("en", share * 0.5, "default",
                             [f"Text shorter than {MIN_DETECT_CHARS} characters: assumed English. "
                              "Choose the language explicitly if it is not English."])
    try:
        values = _latin_detector().compute_language_confidence_values(text)
    except ImportError:  # lingua not installed: English by default, said so
        return LanguageGuess("en", share * 0.5, "default",
                             ["Latin-script text assumed English (lingua-language-detector is not installed)."])
    best = values[0]
    return LanguageGuess(_LINGUA_CODES.get(best.language.name, "en"), float(best.value), "lingua")
