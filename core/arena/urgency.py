"""How urgent a customer message is: sentiment, explicit urgency cues, and what is at stake.

DPR201 let Comprehend's sentiment alone flag urgent tickets. On calm but serious messages that
fails: 解約したのにまだ料金が引き落とされています。 ("I cancelled but you are still debiting me") is
NEUTRAL, so the LLM was told "urgency: low". The rule here adds two plain signals.

The rule (points; ``>= 2`` is ``high``, ``1`` is ``medium``, ``0`` is ``low``):

1. **Sentiment** (AWS Comprehend labels): ``NEGATIVE`` with a ``Negative`` score ``>= 0.6``
   gives 2 points; any other ``NEGATIVE``, or ``MIXED``, gives 1.
2. **Urgency cues** in the text, English and Japanese (:data:`URGENCY_CUES`): time pressure
   (immediately, ASAP, right away, today, 至急, すぐに, 今すぐ, 今日中...), a problem that
   persists (still not, still waiting, まだ…ない, いまだに, and まだ…ています outside a
   question), or a repeated contact (third time, 3回目, 何度も). 1 point per distinct cue, at most 2.
3. **What is at stake**: 1 point if money or security is at risk, seen either in the text
   (:data:`STAKE_CUES`: charged twice, unauthorised, stolen, hacked, 二重, 不正, 盗まれ,
   乗っ取, 解約したのに...) or in the predicted category: a category is *urgent* when its
   readable name contains one of :data:`URGENT_CATEGORY_WORDS` (``transaction_charged_twice``,
   ``compromised_card``, ``lost_or_stolen_card``...), or when the caller names it in
   ``urgent_categories``.

Sentiment that could not be measured (an unsupported language) gives 0 points and says so;
with no other signal the urgency is ``"unknown"``. Every point comes with a reason in words,
shown to the user next to the urgency.

Measured on ``data/urgency_labelled.csv`` (72 EN/JA rows written before this rule) by
``benchmarks/urgency_rule.py``; the figures are in that script's output and the README.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Mapping

__all__ = ["HIGH_URGENCY_NEGATIVE", "URGENCY_CUES", "STAKE_CUES", "URGENT_CATEGORY_WORDS", "Urgency",
           "urgency_from_sentiment", "assess_urgency", "is_urgent_category"]

#: Negative score at or above which a NEGATIVE sentiment counts 2 points (and was "high" in DPR201's rule).
HIGH_URGENCY_NEGATIVE = 0.6

#: ``(shown name, regular expression)`` of urgency cues, matched on NFKC-normalised lower-case text.
URGENCY_CUES: tuple[tuple[str, str], ...] = (
    ("immediately", r"\bimmediately\b|\bat once\b"),
    ("right away / right now", r"\bright (?:away|now)\b|\bneed\b[^.!?]{0,30}\bnow\b"),
    ("ASAP", r"\basap\b|\bas soon as possible\b"),
    ("urgent", r"\burgent(?:ly)?\b|\bemergency\b"),
    ("today", r"\b(?:by|before|within|end of) today\b|\btoday,? please\b|\b(?:need|want)\b[^.!?]{0,40}\btoday\b"),
    ("still not", r"\bstill (?:not|no|hasn't|haven't|hasnt|havent|isn't|isnt|can't|cannot|waiting|nothing)\b|"
                  r"\bstill (?:being |been )?(?:charg|debit|tak)"),
    ("repeated contact", r"\b(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th)) time\b|\bagain and again\b|"
                         r"\b(?:several|many|\d+) (?:emails|calls|times)\b"),
    ("至急", r"至急|大至急"),
    ("すぐに", r"すぐに|すぐ(?:対応|返金|止め|確認)"),
    ("今すぐ", r"今すぐ|いますぐ|直ちに|ただちに|早急に?|緊急"),
    ("今日中", r"今日中|本日中"),
    ("まだ…ない", r"まだ[^。！？!?\n]{0,20}?(?:ない|ません|ず)|いまだに"),
    ("まだ…ています", r"まだ[^。！？!?\n]{0,20}?(?:ています|ている|てる)(?![^。！？!?\n]*(?:か[。！？!?]|[？?]))"),
    ("何度も / n回目", r"何度も|何回も|[0-9二三四五何]+回目"),
)

#: ``(shown name, regular expression)``: money or security at risk, in the text.
STAKE_CUES: tuple[tuple[str, str], ...] = (
    ("charged twice", r"\bcharged (?:me )?(?:twice|two times|double|again)\b|\b(?:double|duplicate)[- ]?"
                      r"(?:charge|payment|billing)|\bbilled twice\b"),
    ("unauthorised use", r"\bunauthori[sz]ed\b|\bfraud(?:ulent)?\b|\bnever (?:made|authori[sz]ed)\b|"
                         r"\b(?:didn't|did not) (?:make|authori[sz]e)\b|\bnever heard of\b|"
                         r"\b(?:don't|do not) recogni[sz]e\b"),
    ("stolen / hacked", r"\bstolen\b|\bhacked\b|\bcompromised\b|\bscam(?:med)?\b|\bphish"),
    ("no access to money", r"\blocked out\b|\bmoney (?:is )?(?:stuck|frozen)\b|"
                           r"\bcan(?:'t|not) (?:access|get to|withdraw) my (?:money|funds|savings)\b"),
    ("money missing", r"\bmoney (?:is )?(?:missing|gone|disappeared)\b|\bdisappeared from my account\b|"
                      r"\b(?:instead of|rather than) [£$€]?\d"),
    ("charged after cancelling", r"\b(?:cancel+ed|closed|deleted)\b[^.!?]{0,60}\b(?:still|again)\b[^.!?]{0,30}"
                                 r"(?:charg|tak|debit|bill)|\bafter (?:i )?(?:cancel+ed|closed|deleted)"),
    ("二重請求", r"二重|二回請求|2回請求|二度請求|2度請求|二回[^。]{0,6}請求|2回[^。]{0,6}引き落"),
    ("不正利用", r"不正|身に覚えのない|覚えのない(?:買い物|請求|利用)|詐欺|勝手に"),
    ("盗難・乗っ取り", r"盗まれ|盗難|乗っ取|ハッキング|なりすまし"),
    ("解約後の請求", r"(?:解約|退会|キャンセル)した(?:のに|にもかかわらず)"),
    ("お金が消えた", r"お金が消え|残高が消え|(?:はず|筈)が[0-9,，]+円"),
)

#: Words that make a category urgent (compared with its readable, lower-case name).
URGENT_CATEGORY_WORDS: tuple[str, ...] = ("charged twice", "compromised", "stolen", "fraud", "unauthori",
                                          "not recognised", "not recognized", "swallowed", "hacked")

#: ``(shown name, regular expression)``: a problem is described (makes a message at least ``medium``).
PROBLEM_CUES: tuple[tuple[str, str], ...] = (
    ("something does not work", r"\b(?:does ?n[o']?t|do ?n[o']?t|did ?n[o']?t|won'?t|is ?n'?t|not) (?:work|working|"
                                r"load|open|arrive|arrived|come|accept)|\bcan(?:'t|not)\b|\bcouldn'?t\b|\bunable to\b"),
    ("failure or defect", r"\bfail(?:ed|s|ing)?\b|\bbroken\b|\bcrash|\berror\b|\bdefect|\bfault|\bcrackl|"
                          r"\bdeclin(?:ed|es|ing)\b|\bdamaged\b|\bno update\b|\bhaven'?t (?:received|seen|got)\b"),
    ("wrong item or amount", r"\bwrong (?:size|item|colou?r|amount|address|product|order|fee|charge)\b|"
                             r"\b(?:don'?t|do not) understand\b"),
    ("うまくいかない", r"できな|できません|使えな|使えません|届かな|届きません|失敗|壊れ|故障|不具合|エラー|"
                     r"音が出|違う(?:商品|サイズ|色)|と違う|切れて|切れま|変わりません|確認できません|見覚えのない"),
    ("期限", r"までに必要|に間に合|\bby (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|"
            r"\bin time\b"),
)

_URGENCY_RE = [(name, re.compile(rx)) for name, rx in URGENCY_CUES]
_PROBLEM_RE = [(name, re.compile(rx)) for name, rx in PROBLEM_CUES]
_STAKE_RE = [(name, re.compile(rx)) for name, rx in STAKE_CUES]


@dataclass(frozen=True)
class Urgency:
    """Urgency of one message and why.

    Attributes:
        level: ``"high"``, ``"medium"``, ``"low"`` or ``"unknown"`` (no sentiment and no cue).
        points: the rule's total (see the module docstring).
        reasons: one phrase per point source, e.g. ``"urgency cue: 至急"``.
        cues: the urgency cues found (shown names).
        stakes: what is at stake (shown names, and ``category: ...`` when the category counted).
    """

    level: str
    points: int
    reasons: list[str] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)
    stakes: list[str] = field(default_factory=list)

    def reason_text(self) -> str:
        """One line for the UI, e.g. ``"high: negative sentiment (0.82) + urgency cue 至急"``."""
        return f"{self.level}: " + (" + ".join(self.reasons) if self.reasons else "no sign of urgency")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text or "")).lower()


def _readable(label: str) -> str:
    from .choice import humanise_label

    return humanise_label(label)


def is_urgent_category(category: str, urgent_categories: Iterable[str] | None = None) -> bool:
    """``True`` if ``category`` is in ``urgent_categories`` (exact label) or its readable name has
    one of :data:`URGENT_CATEGORY_WORDS` (``"transaction_charged_twice"`` -> ``"Transaction charged twice"``,
    compared in lower case).

    Args:
        category: a label of the user's classifier.
        urgent_categories: labels the user marked urgent; ``None`` = use the word list only.
    """
    if urgent_categories is not None and str(category) in {str(c) for c in urgent_categories}:
        return True
    name = _readable(category).lower()
    return any(w in name for w in URGENT_CATEGORY_WORDS)


def urgency_from_sentiment(sentiment: str, scores: Mapping[str, float] | None = None) -> str:
    """DPR201's rule, sentiment alone (kept for comparison in ``benchmarks/urgency_rule.py``).

    ``NEGATIVE`` with Negative >= 0.6 -> ``"high"``; other ``NEGATIVE`` or ``MIXED`` ->
    ``"medium"``; ``NEUTRAL`` and ``POSITIVE`` -> ``"low"``.

    Args:
        sentiment: ``"POSITIVE"``, ``"NEGATIVE"``, ``"NEUTRAL"`` or ``"MIXED"``.
        scores: Comprehend-style ``SentimentScore`` ``{"Negative": p, ...}``.

    Returns:
        ``"high"``, ``"medium"`` or ``"low"``.
    """
    s = (sentiment or "").upper()
    neg = float((scores or {}).get("Negative", 1.0 if s == "NEGATIVE" else 0.0))
    if s == "NEGATIVE":
        return "high" if neg >= HIGH_URGENCY_NEGATIVE else "medium"
    if s == "MIXED":
        return "medium"
    return "low"


def find_cues(text: str) -> tuple[list[str], list[str]]:
    """``(urgency cues, stake cues)`` found in ``text`` (shown names, in :data:`URGENCY_CUES` order)."""
    t = _norm(text)
    return ([name for name, rx in _URGENCY_RE if rx.search(t)],
            [name for name, rx in _STAKE_RE if rx.search(t)])


def assess_urgency(text: str, sentiment: str, scores: Mapping[str, float] | None = None, *,
                   category: str = "", urgent_categories: Iterable[str] | None = None) -> Urgency:
    """Urgency of a message from its sentiment, its urgency cues and what is at stake.

    Args:
        text: the customer's message (English, Japanese or mixed).
        sentiment: ``"POSITIVE"|"NEGATIVE"|"NEUTRAL"|"MIXED"``, or ``"UNKNOWN"``/empty when it
            could not be measured.
        scores: Comprehend-style ``SentimentScore`` (``{"Negative": p, ...}``, p in [0, 1]).
        category: the predicted category (a label of the user's classifier), or empty.
        urgent_categories: labels the user marked urgent (in addition to :data:`URGENT_CATEGORY_WORDS`).

    Returns:
        :class:`Urgency` with its level, points and reasons.
    """
    s = (sentiment or "").upper()
    reasons: list[str] = []
    points = 0
    neg = float((scores or {}).get("Negative", 1.0 if s == "NEGATIVE" else 0.0))
    if s == "NEGATIVE":
        strong = neg >= HIGH_URGENCY_NEGATIVE
        points += 2 if strong else 1
        reasons.append(f"{'strongly ' if strong else ''}negative sentiment (Negative {neg:.2f})")
    elif s == "MIXED":
        points += 1
        reasons.append("mixed sentiment")
    elif s not in ("POSITIVE", "NEUTRAL"):
        reasons.append("sentiment not available")
    cues, stakes = find_cues(text)
    if cues:
        points += min(2, len(cues))
        reasons.append("urgency cue" + ("s " if len(cues) > 1 else " ") + ", ".join(cues))
    if category and is_urgent_category(category, urgent_categories):
        stakes = stakes + [f"category: {_readable(category)}"]
    if stakes:
        points += 2
        reasons.append("at stake: " + ", ".join(stakes))
    if points == 0:
        problems = [name for name, rx in _PROBLEM_RE if rx.search(_norm(text))]
        if problems:
            points = 1
            reasons.append("a problem is described (" + ", ".join(problems) + ")")
    if s not in ("POSITIVE", "NEUTRAL", "NEGATIVE", "MIXED") and points == 0:
        return Urgency("unknown", 0, reasons, cues, stakes)
    level = "high" if points >= 2 else "medium" if points == 1 else "low"
    return Urgency(level, points, reasons, cues, stakes)
