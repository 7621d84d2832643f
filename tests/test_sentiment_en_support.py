"""English support-talk words added to VADER's lexicon in the local backend.

``HELD_OUT`` was written for this test before the English lexicon
(``core/sentiment/en_support_lexicon.tsv``) existed; none of its sentences was used to
choose the words or valences.
"""

from __future__ import annotations

import pytest

from core.sentiment.local import LocalBackend

BRIEF_EXAMPLE = ("My order was supposed to arrive last Monday and it's still not here. Nobody answers my emails. "
                 "I need it by Friday!")

HELD_OUT = [
    # complaints
    ("I have been waiting three weeks for my refund and still nothing.", "NEGATIVE"),
    ("This is the fourth time I am contacting you about the same issue.", "NEGATIVE"),
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
