"""Local (offline) language detection for the sentiment backends.

Method, chosen by cost (see ``benchmarks/sentiment_accuracy.py``):

1. **Script counts** (Unicode ranges, microseconds, no data): any kana means
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
import re
from dataclasses import dataclass, field

#: Below this many characters, statistical detection is not attempted (Comprehend's own minimum too).
MIN_DETECT_CHARS = 20

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")


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
        has_kana = bool(_KANA.search(t))
        if has_kana or _HAN.search(t):
            cjk += 1
            kana += has_kana
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
    kana = len(_KANA.findall(text))
    han = len(_HAN.findall(text))
    counts = {
        "ko": len(_HANGUL.findall(text)),
        "ar": len(_ARABIC.findall(text)),
        "hi": len(_DEVANAGARI.findall(text)),
        "latin": len(_LATIN.findall(text)),
        "cjk": kana + han,
    }
    letters = sum(counts.values())
    if letters == 0:
        return LanguageGuess("und", 0.0, "script", ["No letters found: cannot tell the language."])
    if kana:  # script first: kana exist only in Japanese, whatever Latin names the text also holds
        return LanguageGuess("ja", counts["cjk"] / letters, "script")
    top = max(counts, key=counts.get)
    share = counts[top] / letters
    if top == "cjk":
        if han >= MIN_DETECT_CHARS and prior == "ja":
            return LanguageGuess("ja", share * 0.5, "prior",
                                 ["Han characters without kana, in a batch that is mostly Japanese: "
                                  "analysed as Japanese."])
        if han >= MIN_DETECT_CHARS:
            return LanguageGuess("zh", share, "script",
                                 ["Han characters without kana: detected as Chinese. "
                                  "Choose Japanese explicitly if this is Japanese."])
        return LanguageGuess("ja", share * 0.5, "script",
                             ["Short text in Han characters only: assumed Japanese. "
                              "Choose the language explicitly if this is Chinese."])
    if top != "latin":
        return LanguageGuess(top, share, "script")
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
