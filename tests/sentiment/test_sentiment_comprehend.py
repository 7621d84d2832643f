"""Comprehend backend against botocore's Stubber: real request/response validation, no network."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from core.errors import ConfigError, DataError, ProviderError
from core.sentiment import BatchResult, ComprehendBackend, analyze, analyze_batch, available_backends, estimate_cost
from core.sentiment.comprehend import load_pricing


def score(pos=0.0, neg=0.0, neu=0.0, mix=0.0):
    return {"Positive": pos, "Negative": neg, "Neutral": neu, "Mixed": mix}


@pytest.fixture
def stubbed():
    client = boto3.client("comprehend", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stub:
        yield ComprehendBackend(client=client, region="us-east-1"), stub
        stub.assert_no_pending_responses()


def test_single_detect_sentiment(stubbed):
    backend, stub = stubbed
    stub.add_response("detect_sentiment", {"Sentiment": "NEGATIVE", "SentimentScore": score(0.01, 0.95, 0.03, 0.01)},
                      {"Text": "My parcel arrived broken.", "LanguageCode": "en"})
    r = analyze("My parcel arrived broken.", language="en", backend=backend)
    assert r.sentiment == "NEGATIVE"
    assert r.sentiment_score["Negative"] == pytest.approx(0.95)
    assert r.to_dict() == {"Sentiment": "NEGATIVE", "SentimentScore": score(0.01, 0.95, 0.03, 0.01),
                           "LanguageCode": "en", "Backend": "comprehend"}
    assert r.notices == [] and r.seconds >= 0


def test_auto_language_uses_detect_dominant_language(stubbed):
    backend, stub = stubbed
    text = "配送が遅れていて、とても困っています。至急対応してください。"
    stub.add_response("detect_dominant_language", {"Languages": [{"LanguageCode": "en", "Score": 0.1},
                                                                 {"LanguageCode": "ja", "Score": 0.99}]},
                      {"Text": text})
    stub.add_response("detect_sentiment", {"Sentiment": "NEGATIVE", "SentimentScore": score(0.0, 0.9, 0.1, 0.0)},
                      {"Text": text, "LanguageCode": "ja"})
    r = backend.detect(text, "auto")
    assert (r.sentiment, r.language_code) == ("NEGATIVE", "ja")


def test_short_text_auto_explains_and_uses_local_detection(stubbed):
    backend, stub = stubbed
    stub.add_response("detect_sentiment", {"Sentiment": "POSITIVE", "SentimentScore": score(0.9, 0.0, 0.1, 0.0)},
                      {"Text": "最高でした！", "LanguageCode": "ja"})
    r = backend.detect("最高でした！", "auto")  # 6 characters: no DetectDominantLanguage call is stubbed
    assert r.language_code == "ja"
    assert any("at least 20 characters" in n for n in r.notices)


def test_batch_chunks_of_25_and_error_list(stubbed):
    backend, stub = stubbed
    texts = [f"Review number {i} says the product is fine." for i in range(30)]
    first = [{"Index": i, "Sentiment": "POSITIVE", "SentimentScore": score(0.8, 0.1, 0.1, 0.0)}
             for i in range(25) if i != 3]
    stub.add_response("batch_detect_sentiment",
                      {"ResultList": first,
                       "ErrorList": [{"Index": 3, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "boom"}]},
                      {"TextList": texts[:25], "LanguageCode": "en"})
    stub.add_response("batch_detect_sentiment",
                      {"ResultList": [{"Index": i, "Sentiment": "NEUTRAL", "SentimentScore": score(0.1, 0.1, 0.8, 0.0)}
                                      for i in range(5)], "ErrorList": []},
                      {"TextList": texts[25:], "LanguageCode": "en"})
    calls = []
    b = analyze_batch(texts, language="en", backend=backend, progress=lambda d, t: calls.append((d, t)))
    assert isinstance(b, BatchResult) and b.error is None
    assert calls == [(25, 30), (30, 30)]
    assert b.results[3] is None and b.errors == {3: "INTERNAL_SERVER_ERROR: boom"}
    assert b.n_done == 29
    assert [r.sentiment for r in b.results[25:]] == ["NEUTRAL"] * 5
    rows = b.to_rows()
    assert rows[3]["Error"] == "INTERNAL_SERVER_ERROR: boom" and rows[4]["Sentiment"] == "POSITIVE"


def test_batch_empty_texts_are_not_sent(stubbed):
    backend, stub = stubbed
    stub.add_response("batch_detect_sentiment",
                      {"ResultList": [{"Index": 0, "Sentiment": "POSITIVE", "SentimentScore": score(1, 0, 0, 0)},
                                      {"Index": 1, "Sentiment": "NEGATIVE", "SentimentScore": score(0, 1, 0, 0)}],
                       "ErrorList": []},
                      {"TextList": ["great", "awful"], "LanguageCode": "en"})
    b = backend.detect_batch(["great", "  ", "awful", None], "en")
    assert [r.sentiment if r else None for r in b.results] == ["POSITIVE", None, "NEGATIVE", None]
    assert set(b.errors) == {1, 3}


def test_throttling_single_call(stubbed):
    backend, stub = stubbed
    stub.add_client_error("detect_sentiment", service_error_code="ThrottlingException",
                          service_message="Rate exceeded", http_status_code=400)
    with pytest.raises(ProviderError) as err:
        backend.detect("The app keeps crashing on start.", "en")
    assert err.value.retryable is True and err.value.code == "ThrottlingException"
    assert "throttling" in str(err.value) and "Service Quotas" in str(err.value)


def test_throttling_mid_batch_keeps_finished_chunks(stubbed):
    backend, stub = stubbed
    texts = [f"text {i} is about a late delivery" for i in range(60)]
    stub.add_response("batch_detect_sentiment",
                      {"ResultList": [{"Index": i, "Sentiment": "NEGATIVE", "SentimentScore": score(0, 0.9, 0.1, 0)}
                                      for i in range(25)], "ErrorList": []},
                      {"TextList": texts[:25], "LanguageCode": "en"})
    stub.add_client_error("batch_detect_sentiment", service_error_code="ThrottlingException", http_status_code=400)
    b = backend.detect_batch(texts, "en")
    assert b.n_done == 25 and all(r is not None for r in b.results[:25]) and b.results[25] is None
    assert b.error.startswith("stopped after 25 of 60 documents") and "ThrottlingException" in b.error
    assert "not run" in b.to_rows()[40]["Error"]


def test_access_denied_message_has_fix_and_no_identity(stubbed):
    backend, stub = stubbed
    stub.add_client_error("detect_sentiment", service_error_code="AccessDeniedException",
                          service_message="User: arn:aws:iam::123456789012:user/alice is not authorized",
                          http_status_code=400)
    with pytest.raises(ProviderError) as err:
        backend.detect("Where is my refund?", "en")
    msg = str(err.value)
    assert "comprehend:DetectSentiment" in msg and "123456789012" not in msg and err.value.retryable is False


def test_unsupported_language_explicit_and_detected(stubbed):
    backend, stub = stubbed
    with pytest.raises(DataError, match="does not support language 'sv'"):
        backend.detect("Leveransen var sen och jag är arg.", "sv")
    with pytest.raises(DataError, match="'sv'"):
        backend.detect_batch(["Leveransen var sen"], "sv")
    text = "Leveransen var sen och jag är väldigt arg nu."
    stub.add_response("detect_dominant_language", {"Languages": [{"LanguageCode": "sv", "Score": 0.98}]},
                      {"Text": text})
    with pytest.raises(DataError, match="'sv'"):
        backend.detect(text, "auto")


def test_size_limit_truncates_japanese_on_character_boundary(stubbed):
    backend, stub = stubbed
    text = "遅" * 2000  # 6,000 UTF-8 bytes
    expected = "遅" * 1666  # 4,998 bytes: the largest whole-character prefix under 5,000
    stub.add_response("detect_sentiment", {"Sentiment": "NEGATIVE", "SentimentScore": score(0, 0.7, 0.3, 0)},
                      {"Text": expected, "LanguageCode": "ja"})
    r = backend.detect(text, "ja")
    assert len(r.notices) == 1 and "4,998 of 6,000" in r.notices[0] and "1,666 of 2,000" in r.notices[0]


def test_batch_size_limit_truncates_too(stubbed):
    backend, stub = stubbed
    stub.add_response("batch_detect_sentiment",
                      {"ResultList": [{"Index": 0, "Sentiment": "NEUTRAL", "SentimentScore": score(0, 0, 1, 0)}],
                       "ErrorList": []},
                      {"TextList": ["あ" * 1666], "LanguageCode": "ja"})
    b = backend.detect_batch(["あ" * 2000], "ja")
    assert b.results[0].notices and "5,000 bytes" in b.results[0].notices[0]


def test_batch_auto_language_groups_by_language(stubbed):
    backend, stub = stubbed
    texts = ["The delivery was late and I am upset.", "配送が遅れていて、とても困っています。本当にひどい対応です。", "Great!"]
    stub.add_response("batch_detect_dominant_language",
                      {"ResultList": [{"Index": 0, "Languages": [{"LanguageCode": "en", "Score": 0.99}]},
                                      {"Index": 1, "Languages": [{"LanguageCode": "ja", "Score": 0.99}]}],
                       "ErrorList": []},
                      {"TextList": texts[:2]})
    stub.add_response("batch_detect_sentiment",
                      {"ResultList": [{"Index": 0, "Sentiment": "NEGATIVE", "SentimentScore": score(0, 0.9, 0.1, 0)},
                                      {"Index": 1, "Sentiment": "POSITIVE", "SentimentScore": score(0.9, 0, 0.1, 0)}],
                       "ErrorList": []},
                      {"TextList": [texts[0], texts[2]], "LanguageCode": "en"})
    stub.add_response("batch_detect_sentiment",
                      {"ResultList": [{"Index": 0, "Sentiment": "NEGATIVE", "SentimentScore": score(0, 0.8, 0.2, 0)}],
                       "ErrorList": []},
                      {"TextList": [texts[1]], "LanguageCode": "ja"})
    b = backend.detect_batch(texts, "auto")
    assert [(r.sentiment, r.language_code) for r in b.results] == [("NEGATIVE", "en"), ("NEGATIVE", "ja"),
                                                                     ("POSITIVE", "en")]
    assert any("20 characters" in n for n in b.results[2].notices)


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_REGION",
                "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_missing_credentials_is_a_clear_provider_error(no_aws):
    backend = ComprehendBackend(region="us-east-1")
    with pytest.raises(ProviderError) as err:
        backend.detect("Where is my order?", "en")
    assert err.value.code == "NoCredentials" and "aws configure" in str(err.value)
    ok, reason = available_backends()["comprehend"]
    assert ok is False and "no AWS credentials" in reason
    assert available_backends()["local"][0] is True


def test_missing_credentials_in_batch_keeps_nothing_but_reports(no_aws):
    b = ComprehendBackend(region="us-east-1").detect_batch(["one text", "two texts"], "en")
    assert b.n_done == 0 and "no AWS credentials" in b.error


def test_unknown_profile_and_missing_region(no_aws, monkeypatch):
    with pytest.raises(ConfigError, match="profile not found"):
        ComprehendBackend(profile="nope").detect("hello there", "en")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    ok, reason = available_backends()["comprehend"]
    assert ok is False and "no region" in reason
    with pytest.raises(ConfigError, match="region"):
        ComprehendBackend().detect("hello there", "en")


def test_client_uses_standard_retry_mode_and_status_hides_keys(no_aws, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLESECRET1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "verysecretvalue")
    backend = ComprehendBackend(region="eu-west-1")
    retries = backend.client.meta.config.retries
    assert retries["mode"] == "standard" and retries["total_max_attempts"] == 5
    assert backend.client.meta.region_name == "eu-west-1"
    ok, reason = available_backends(region="eu-west-1")["comprehend"]
    assert ok is True and "env" in reason
    assert "AKIDEXAMPLESECRET1" not in reason and "verysecretvalue" not in reason


def test_cost_estimate_units_minimum_and_language_detection():
    pricing = load_pricing()
    assert pricing["source_url"].startswith("https://aws.amazon.com/comprehend/pricing")
    texts = ["short", "x" * 250, "y" * 1001, "", None]
    est = estimate_cost(texts, language="en")
    # 3 (minimum) + 3 (250 chars) + 11 (1,001 chars) units; blanks are not sent
    assert (est.n_documents, est.units) == (3, 17)
    assert est.usd == pytest.approx(17 * pricing["price_per_unit"]["DetectSentiment"])
    auto = estimate_cost(texts, language="auto")  # "short" is under 20 chars: no language-detection call
    assert auto.units == 17 + 3 + 11 and auto.includes_language_detection
    assert "USD" in est.describe()


def test_cost_estimate_counts_truncated_text_and_bad_pricing_file(tmp_path):
    est = estimate_cost(["遅" * 2000], language="ja")
    assert est.units == 17  # 1,666 characters kept after the 5,000-byte cut
    bad = tmp_path / "p.json"
    bad.write_text('{"unit_characters": 100}', encoding="utf-8")
    with pytest.raises(ConfigError, match="price file"):
        load_pricing(bad)
    custom = tmp_path / "c.json"
    custom.write_text('{"unit_characters": 100, "minimum_units_per_request": 1, '
                      '"price_per_unit": {"DetectSentiment": 0.5}}', encoding="utf-8")
    assert estimate_cost(["ab"], language="en", pricing=load_pricing(custom)).usd == pytest.approx(0.5)
