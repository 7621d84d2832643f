"""English support-talk words added to VADER's lexicon in the local backend.

``HELD_OUT`` was written for this test before the English lexicon
(``core/sentiment/en_support_lexicon.tsv``) existed; none of its sentences was used to
choose the words or valences. VADER alone (whole text): 10 of 15 correct, and the
brief's late-order example NEUTRAL. With the lexicon and VADER sentence by sentence:
13 of 15, the example NEGATIVE. The two misses are strict xfails: their complaint is in
a phrase ("still nothing", "the fourth time ... the same issue") that a one-word VADER
lexicon cannot hold without also hitting calm questions.
"""

from __future__ import annotations

import pytest

from core.errors import DataError
from core.sentiment.local import LocalBackend, english_evidence, load_en_support_lexicon, vader

BRIEF_EXAMPLE = ("My order was supposed to arrive last Monday and it's still not here. Nobody answers my emails. "
                 "I need it by Friday!")

HELD_OUT = [
    # complaints
    pytest.param("I have been waiting three weeks for my refund and still nothing.", "NEGATIVE",
                 marks=pytest.mark.xfail(strict=True, reason="phrase-level complaint; documented miss")),
    pytest.param("This is the fourth time I am contacting you about the same issue.", "NEGATIVE",
                 marks=pytest.mark.xfail(strict=True, reason="phrase-level complaint; documented miss")),
    ("Your agent hung up on me twice. Unbelievable.", "NEGATIVE"),
    ("The parcel is overdue and the tracking page has not updated in days.", "NEGATIVE"),
    ("Nobody has replied to my ticket since last week.", "NEGATIVE"),
    ("I was overcharged again this month and no one will explain why.", "NEGATIVE"),
    ("Still no response. This is ridiculous.", "NEGATIVE"),
    # thanks
    ("Thanks for sorting this out so quickly, really appreciated.", "POSITIVE"),
    ("The agent was very helpful and fixed my account in minutes.", "POSITIVE"),
    ("Refund received today, thank you for the fast service!", "POSITIVE"),
    # calm questions
    ("How long does standard shipping usually take?", "NEUTRAL"),
    ("Can I change the email address on my account?", "NEUTRAL"),
    ("Do you ship to Canada?", "NEUTRAL"),
    ("What is the warranty period for this blender?", "NEUTRAL"),
    ("Where can I find my invoice for order 5521?", "NEUTRAL"),
]


@pytest.mark.parametrize("text,label", HELD_OUT)
def test_held_out_support_sentences(text, label):
    r = LocalBackend().detect(text, "en")
    assert r.sentiment == label, r.sentiment_score


def test_held_out_accuracy_and_vader_alone_baseline():
    pairs = [p.values if hasattr(p, "values") else p for p in HELD_OUT]
    gold = [g for _, g in pairs]
    on = [LocalBackend().detect(t, "en").sentiment for t, _ in pairs]
    off = [LocalBackend(support_lexicon=False).detect(t, "en").sentiment for t, _ in pairs]
    n_on, n_off = sum(p == g for p, g in zip(on, gold)), sum(p == g for p, g in zip(off, gold))
    assert n_on >= 13 and n_off >= 10 and n_on > n_off  # floors (13 and 10 when written): improvements pass
    assert [p for p, g in zip(on, gold) if g == "NEUTRAL"] == ["NEUTRAL"] * 5


def test_brief_example_is_negative_only_with_the_support_lexicon():
    assert LocalBackend(support_lexicon=False).detect(BRIEF_EXAMPLE, "en").sentiment == "NEUTRAL"
    r = LocalBackend().detect(BRIEF_EXAMPLE, "en")
    assert r.sentiment == "NEGATIVE" and r.sentiment_score["Negative"] > 0.5
    assert set(r.to_dict()) == {"Sentiment", "SentimentScore", "LanguageCode", "Backend"}


def test_lexicon_update_is_on_a_separate_vader_and_sentences_are_scored_apart():
    lex = load_en_support_lexicon()
    assert lex["nobody"] == -1.5 and lex["unbelievable"] == -1.5
    assert vader(True).lexicon["unbelievable"] == -1.5
    assert vader().lexicon["unbelievable"] == 0.8  # VADER's own value is untouched
    assert "nobody" not in vader().lexicon
    # whole text: "not" flips the next sentence's "nobody"; by sentence it stays negative
    pos, neg = english_evidence("It is not here. Nobody answers.", support_lexicon=True)
    assert pos == 0 and neg > 0.3


def test_bad_english_lexicon_is_a_clear_error(tmp_path):
    bad = tmp_path / "en.tsv"
    bad.write_text("word\tvalence\tcomment\nlate\t-9\tx\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 2: valence '-9'"):
        load_en_support_lexicon(str(bad))
    with pytest.raises(DataError, match="cannot read"):
        load_en_support_lexicon(str(tmp_path / "absent.tsv"))


def test_support_is_a_topic_not_praise():
    # New-user trial: "Terrible support." was MIXED 0.79 because VADER scores "support" +1.7, so
    # the shares were pos 0.47 / neg 0.53 (balanced -> MIXED). Not the sentence split: one sentence.
    assert vader().lexicon["support"] == 1.7 and load_en_support_lexicon()["support"] == 0.0
    assert english_evidence("Terrible support.", support_lexicon=False)[0] > 0.4
    r = LocalBackend().detect("Terrible support.", "en")
    assert r.sentiment == "NEGATIVE" and r.sentiment_score["Negative"] > 0.8
    assert r.sentiment_score["Positive"] == 0 and r.sentiment_score["Mixed"] == 0
    assert LocalBackend().detect("Terrible support.").sentiment == "NEGATIVE"  # language auto (short -> en)
    assert LocalBackend().detect("Great support, thank you!", "en").sentiment == "POSITIVE"
    # VADER alone called this POSITIVE (pos 0.40 from "support"); now nothing evaluative is left
    assert LocalBackend().detect("Your support team never answers.", "en").sentiment == "NEUTRAL"
