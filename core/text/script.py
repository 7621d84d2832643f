"""Which writing scripts a text uses, and what that says about its language: the one place for it.

Unicode blocks (https://www.unicode.org/charts/):

- **kana**: hiragana U+3040-309F, katakana U+30A0-30FF, katakana phonetic extensions
  U+31F0-31FF, half-width katakana U+FF66-FF9F. Kana are written only in Japanese.
- **han** (CJK ideographs, "kanji"/"hanzi"): U+3400-4DBF, U+4E00-9FFF, compatibility
  ideographs U+F900-FAFF, and the iteration/closing marks 々 〆 〇 (U+3005-3007). Han
  characters are shared by Chinese and Japanese (and, rarely today, Korean).
- **hangul**: syllables U+AC00-D7AF, jamo U+1100-11FF, compatibility jamo U+3130-318F.
- **arabic** U+0600-06FF and U+0750-077F; **devanagari** U+0900-097F; **latin**: ASCII
  letters and U+00C0-024F.

"CJK" below means kana, han or hangul: scripts written without spaces between words,
where word tokenizers fail and character n-grams work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

__all__ = ["KANA", "HAN", "HANGUL", "ScriptCounts", "script_counts", "has_kana", "has_han", "has_hangul",
           "has_japanese_script", "has_cjk", "count_cjk", "japanese_runs", "ScriptGuess", "script_language",
           "LANGUAGE_NAMES", "language_name", "MIN_HAN_FOR_CHINESE"]

#: Character-class bodies (without brackets), so callers can combine them.
KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
HAN = "\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HANGUL = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
ARABIC = "\u0600-\u06ff\u0750-\u077f"
DEVANAGARI = "\u0900-\u097f"
LATIN = "A-Za-z\u00c0-\u024f"

_KANA_RE = re.compile(f"[{KANA}]")
_HAN_RE = re.compile(f"[{HAN}]")
_HANGUL_RE = re.compile(f"[{HANGUL}]")
_ARABIC_RE = re.compile(f"[{ARABIC}]")
_DEVANAGARI_RE = re.compile(f"[{DEVANAGARI}]")
_LATIN_RE = re.compile(f"[{LATIN}]")
_JAPANESE_RE = re.compile(f"[{KANA}{HAN}]")
_JAPANESE_RUN_RE = re.compile(f"[{KANA}{HAN}]+")
_CJK_RE = re.compile(f"[{KANA}{HAN}{HANGUL}]")

#: Han-only text of at least this many Han characters is taken as Chinese by :func:`script_language`
#: (shorter Han-only text, such as 最悪 or 返品希望, is far more often Japanese in this app).
MIN_HAN_FOR_CHINESE = 20

#: ISO 639-1 code -> English name (for "Reply in <language>" and messages).
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "ja": "Japanese", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "zh": "Chinese", "ko": "Korean", "ar": "Arabic", "hi": "Hindi",
}


@dataclass(frozen=True)
class ScriptCounts:
    """How many characters of ``text`` are in each script (see the module docstring for the ranges)."""

    kana: int = 0
    han: int = 0
    hangul: int = 0
    arabic: int = 0
    devanagari: int = 0
    latin: int = 0

    @property
    def letters(self) -> int:
        """Characters in any of the six scripts."""
        return self.kana + self.han + self.hangul + self.arabic + self.devanagari + self.latin


def script_counts(text: str) -> ScriptCounts:
    """Count ``text``'s characters per script (:class:`ScriptCounts`); non-strings are read with ``str()``."""
    text = str(text)
    return ScriptCounts(len(_KANA_RE.findall(text)), len(_HAN_RE.findall(text)), len(_HANGUL_RE.findall(text)),
                        len(_ARABIC_RE.findall(text)), len(_DEVANAGARI_RE.findall(text)),
                        len(_LATIN_RE.findall(text)))


def has_kana(text: str) -> bool:
    """``True`` if ``text`` has a hiragana or katakana character (only Japanese uses them)."""
    return bool(_KANA_RE.search(str(text)))


def has_han(text: str) -> bool:
    """``True`` if ``text`` has a CJK ideograph (Chinese or Japanese)."""
    return bool(_HAN_RE.search(str(text)))


def has_hangul(text: str) -> bool:
    """``True`` if ``text`` has a Hangul character (Korean)."""
    return bool(_HANGUL_RE.search(str(text)))


def has_japanese_script(text: str) -> bool:
    """``True`` if ``text`` has kana or han: it may be Japanese (han alone may also be Chinese)."""
    return bool(_JAPANESE_RE.search(str(text)))


def has_cjk(text: str) -> bool:
    """``True`` if ``text`` has kana, han or hangul: a script written without spaces between words."""
    return bool(_CJK_RE.search(str(text)))


def count_cjk(text: str) -> int:
    """Number of kana, han and hangul characters in ``text`` (0 for empty text)."""
    return len(_CJK_RE.findall(str(text))) if text else 0


def japanese_runs(text: str) -> Iterator[re.Match]:
    """The maximal runs of kana and han in ``text``, as ``re.Match`` objects (``start()``, ``end()``, ``group()``)."""
    return _JAPANESE_RUN_RE.finditer(text)


@dataclass(frozen=True)
class ScriptGuess:
    """What :func:`script_language` concluded.

    Attributes:
        code: ISO 639-1 code; ``"und"`` when there are no letters; ``None`` for Latin
            script (a statistical detector must tell English from French...).
        share: the deciding script's share of the letters, in [0, 1] (halved when assumed).
        notice: a sentence for the user when an assumption was made, else ``None``.
        from_prior: the batch's language decided (han-only text in a Japanese batch).
    """

    code: str | None
    share: float
    notice: str | None = None
    from_prior: bool = False


def script_language(text: str, prior: str | None = None) -> ScriptGuess:
    """The language ``text``'s scripts say, without any statistical model.

    Rules, in order: no letters -> ``"und"``; any kana -> ``"ja"`` (kana are only
    Japanese, even when Latin names outnumber them); otherwise the most frequent
    script decides: hangul -> ``"ko"``, arabic -> ``"ar"``, devanagari -> ``"hi"``; han
    -> ``"zh"`` when there are at least :data:`MIN_HAN_FOR_CHINESE` han characters and
    the batch's ``prior`` is not ``"ja"``, else ``"ja"`` (with a notice); latin -> ``None``
    (a statistical detector must tell English from French...).

    Args:
        text: any string.
        prior: the language of the batch ``text`` belongs to (``"ja"`` or ``None``).

    Returns:
        A :class:`ScriptGuess`.
    """
    c = script_counts(text)
    letters = c.letters
    if letters == 0:
        return ScriptGuess("und", 0.0, "No letters found: cannot tell the language.")
    cjk = c.kana + c.han
    if c.kana:
        return ScriptGuess("ja", cjk / letters)
    by_script = {"ko": c.hangul, "ar": c.arabic, "hi": c.devanagari, "latin": c.latin, "cjk": cjk}
    top = max(by_script, key=by_script.get)
    share = by_script[top] / letters
    if top == "latin":
        return ScriptGuess(None, share)
    if top != "cjk":
        return ScriptGuess(top, share)
    if c.han >= MIN_HAN_FOR_CHINESE and prior == "ja":
        return ScriptGuess("ja", share * 0.5, "Han characters without kana, in a batch that is mostly Japanese: "
                                              "analysed as Japanese.", from_prior=True)
    if c.han >= MIN_HAN_FOR_CHINESE:
        return ScriptGuess("zh", share, "Han characters without kana: detected as Chinese. "
                                        "Choose Japanese explicitly if this is Japanese.")
    return ScriptGuess("ja", share * 0.5, "Short text in Han characters only: assumed Japanese. "
                                          "Choose the language explicitly if this is Chinese.")


def language_name(code: str | None, text: str = "") -> str:
    """The English name of the language ``text`` is written in, for "Reply in <language>".

    Kana decide first (only Japanese has them, whatever a detector said); then ``code``
    (ISO 639-1, e.g. ``"zh"``, ``"zh-TW"`` or ``"pt-BR"``: the first two letters count)
    when :data:`LANGUAGE_NAMES` knows it; then the script alone (:func:`script_language`:
    hangul -> Korean, long han-only text -> Chinese, short -> Japanese); then ``"English"``
    for ASCII-only text; else ``"the customer's language"``.

    Args:
        code: a detected or chosen language code; may be ``None`` or empty.
        text: the text itself.

    Returns:
        A language name such as ``"Chinese"``.
    """
    if has_kana(text):
        return "Japanese"
    short = str(code or "").strip().lower()[:2]
    if short in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[short]
    guessed = script_language(text).code
    if guessed in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[guessed]
    return "English" if str(text).isascii() else "the customer's language"
