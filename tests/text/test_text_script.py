"""core.text.script: the one helper for writing scripts and languages, on zh, ja, ko and mixed text."""

from __future__ import annotations

import pytest

from core.arena.prompts import reply_language
from core.aws.pricing import estimate_tokens
from core.sentiment.language import detect_language
from core.text.script import (count_cjk, has_cjk, has_han, has_hangul, has_japanese_script, has_kana,
                              japanese_runs, language_name, script_counts, script_language)

ZH_SHORT = "我的订单还没到"  # 7 han, no kana
ZH_LONG = "我上周在你们网站买的手机到现在还没有收到请尽快帮我查一下物流情况谢谢"  # > 20 han
JA = "注文した商品がまだ届きません。"
JA_KATAKANA_ONLY = "パスワード"
JA_HALFWIDTH = "ﾊﾟｽﾜｰﾄﾞ"
KO = "주문한 상품이 아직 도착하지 않았어요"
MIXED_EN_JA = "My order 注文番号 12345 hasn't arrived, まだ届いていません"
MIXED_EN_ZH = "Order 订单 12345 not arrived"


def test_scripts_of_each_language():
    assert has_kana(JA) and has_han(JA) and not has_hangul(JA)
    assert has_kana(JA_KATAKANA_ONLY) and not has_han(JA_KATAKANA_ONLY)
    assert has_kana(JA_HALFWIDTH)  # half-width katakana count as kana
    assert has_han(ZH_SHORT) and not has_kana(ZH_SHORT)
    assert has_hangul(KO) and not has_kana(KO) and not has_han(KO)
    assert not has_cjk("plain English, café") and has_cjk(KO) and has_cjk(ZH_SHORT) and has_cjk(JA)
    assert has_japanese_script(ZH_SHORT) and not has_japanese_script(KO)
    assert has_han("々") and has_han("〆")  # iteration and closing marks are ideographic


def test_counts_and_runs():
    c = script_counts(MIXED_EN_JA)
    assert c.latin == len("Myorderhasntarrived") and c.kana >= 6 and c.han >= 5 and c.hangul == 0
    assert count_cjk(KO) == len(KO.replace(" ", ""))
    assert count_cjk("") == 0 and count_cjk("abc") == 0
    assert [m.group() for m in japanese_runs(MIXED_EN_JA)] == ["注文番号", "まだ届いていません"]
    # token estimate: one token per CJK character, one per 4 others
    assert estimate_tokens(KO) == count_cjk(KO) + -(-(len(KO) - count_cjk(KO)) // 4)


@pytest.mark.parametrize("text, prior, code", [
    (JA, None, "ja"), (JA_KATAKANA_ONLY, None, "ja"), (MIXED_EN_JA, None, "ja"),  # kana win over Latin
    (ZH_SHORT, None, "ja"),  # short han-only text is assumed Japanese (with a notice)
    (ZH_LONG, None, "zh"), (ZH_LONG, "ja", "ja"),  # long han-only: Chinese, unless the batch is Japanese
    (KO, None, "ko"), ("The parcel is late", None, None), ("12345 !!", None, "und"),
])
def test_script_language(text, prior, code):
    guess = script_language(text, prior)
    assert guess.code == code
    assert (guess.notice is not None) == (code in ("und",) or (code in ("ja", "zh") and not has_kana(text)))
    assert guess.from_prior == (prior == "ja" and text == ZH_LONG)
    assert detect_language(text, prior).code == (code or "en")


@pytest.mark.parametrize("text, code, name", [
    (ZH_SHORT, "zh", "Chinese"),  # the bug: a Chinese query with language_code="zh" got "Reply in Japanese"
    (ZH_SHORT, "zh-TW", "Chinese"), (ZH_LONG, "", "Chinese"), (ZH_SHORT, "", "Japanese"),
    (JA, "", "Japanese"), (JA, "zh", "Japanese"),  # kana are only Japanese, whatever a detector said
    (JA_HALFWIDTH, "en", "Japanese"),
    (KO, "", "Korean"), (KO, "ko", "Korean"),
    (MIXED_EN_JA, "en", "Japanese"), (MIXED_EN_ZH, "en", "English"), (MIXED_EN_ZH, "zh", "Chinese"),
    ("Where is my parcel?", "", "English"), ("où est mon colis ?", "", "the customer's language"),
    ("où est mon colis ?", "fr", "French"),
])
def test_reply_language(text, code, name):
    assert language_name(code, text) == name
    assert reply_language(text, code) == name
