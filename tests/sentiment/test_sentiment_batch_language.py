"""Issue 9, defects 6 and 7: a kanji-only row of a Japanese batch is Japanese (local and Comprehend),
rows are counted from 1, and `sentiment --backend comprehend` names missing credentials first."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from core.cli import main
from core.sentiment import ComprehendBackend, analyze_batch
from core.sentiment.language import detect_language, language_prior

KANJI_ROW = "（注）正味損害率＝（正味支払保険金＋損害調査費）÷正味収入保険料"  # chABSA, kanji and symbols only
JA_BATCH = ["当期の業績は好調に推移しました。", KANJI_ROW, "売上高は前年を下回りました。"]


def test_prior_from_the_batch():
    assert language_prior(JA_BATCH) == "ja"
    assert language_prior(["这是中文的句子而且没有假名所以是中文", "另一个中文句子"]) is None
    assert language_prior(["English only", None, 3.0]) is None
    assert detect_language(KANJI_ROW).code == "zh"  # alone, 20+ Han characters read as Chinese
    guess = detect_language(KANJI_ROW, prior="ja")
    assert (guess.code, guess.method) == ("ja", "prior") and "mostly Japanese" in guess.notices[0]


def test_local_batch_analyses_the_kanji_row_as_japanese():
    b = analyze_batch(JA_BATCH, language="auto", backend="local")
    assert b.errors == {} and b.error is None
    assert [r.language_code for r in b.results] == ["ja", "ja", "ja"]
    assert "mostly Japanese" in b.results[1].notices[0]


def test_a_chinese_batch_is_still_chinese():
    b = analyze_batch(["这是中文的句子而且没有假名所以是中文的句子", "今天天气很好"], language="auto", backend="local")
    assert "not Chinese" in b.errors[0] or "Chinese" in b.errors[0]


def test_comprehend_batch_overrides_chinese_for_a_kanji_row():
    client = boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    texts = ["当期の業績は好調に推移しましたが、来期は慎重に見ています。", KANJI_ROW,
             "売上高は前年を下回りましたが、利益は増えております。"]
    score = {"Positive": 0.1, "Negative": 0.1, "Neutral": 0.8, "Mixed": 0.0}
    with Stubber(client) as stub:
        stub.add_response("batch_detect_dominant_language", {"ResultList": [
            {"Index": 0, "Languages": [{"LanguageCode": "ja", "Score": 0.99}]},
            {"Index": 1, "Languages": [{"LanguageCode": "zh", "Score": 0.80}]},
            {"Index": 2, "Languages": [{"LanguageCode": "ja", "Score": 0.99}]}], "ErrorList": []},
            {"TextList": texts})
        stub.add_response("batch_detect_sentiment", {"ResultList": [
            {"Index": i, "Sentiment": "NEUTRAL", "SentimentScore": score} for i in range(3)], "ErrorList": []},
            {"TextList": texts, "LanguageCode": "ja"})
        b = ComprehendBackend(client=client, region="us-east-1").detect_batch(texts, "auto")
        stub.assert_no_pending_responses()
    assert [r.language_code for r in b.results] == ["ja", "ja", "ja"]
    assert any("mostly Japanese" in n for n in b.results[1].notices)


def test_cli_counts_rows_from_one(tmp_path, capsys):
    f = tmp_path / "t.csv"
    f.write_text("id,text\n1,Great service thanks\n2,\n3,The parcel is late\n", encoding="utf-8")
    assert main(["sentiment", "--data", str(f), "--text-column", "text"]) == 0
    out = capsys.readouterr().out
    assert "row 2: the text is empty" in out  # the blank second data row


def test_cli_comprehend_names_missing_credentials_before_the_region(monkeypatch, tmp_path, capsys):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
                "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["sentiment", "--text", "hello there, my parcel is late", "--backend", "comprehend"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no AWS credentials" in err and "region" not in err
