"""Sentiment page: AppTest for the logic of the page, and one real-browser run with Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import pandas as pd
import pytest
import streamlit as st
from botocore.stub import Stubber
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

import core.sentiment as cs

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "sentiment.py")
EXAMPLES = ROOT / "data" / "sentiment_examples.csv"


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
                "AWS_DEFAULT_REGION", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first dataframe on the page that has all ``columns``."""
    for d in at.dataframe:
        if set(columns) <= set(d.value.columns):
            return d.value
    raise AssertionError(f"no dataframe with columns {columns}")


def page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def test_offline_single_text_en_and_ja(no_aws):
    at = page()
    assert any("Amazon Comprehend is not available" in i.value and "no AWS credentials" in i.value for i in at.info)
    assert at.multiselect(key="sent_backends").value == ["local"]
    at.button(key="sent_go").click().run()  # default text: the English complaint example
    assert [m.value for m in at.metric] == ["NEGATIVE"]
    assert any("Local (offline)" in c.value and "language **en**" in c.value for c in at.caption)
    at.text_area(key="sent_text").set_value("迅速に対応していただき、本当に助かりました。素晴らしいサービスです。").run()
    at.button(key="sent_go").click().run()
    assert [m.value for m in at.metric] == ["POSITIVE"]
    assert any("language **ja**" in c.value for c in at.caption)
    at.text_area(key="sent_text").set_value("Hola amigos, el servicio fue excelente hoy.").run()
    at.button(key="sent_go").click().run()
    assert not at.exception and not at.error  # auto-detected Spanish: analysed as English, said so
    assert any("Detected Spanish (es)" in i.value and "analysed as English" in i.value for i in at.info)
    at.selectbox(key="sent_lang").set_value("ko").run()
    at.button(key="sent_go").click().run()
    assert not at.exception
    assert any("English and Japanese only" in e.value for e in at.error)  # a message, not a traceback
    for text in ("最悪の対応でした", "Terrible support."):
        at.selectbox(key="sent_lang").set_value("auto").run()
        at.text_area(key="sent_text").set_value(text).run()
        at.button(key="sent_go").click().run()
        assert [m.value for m in at.metric] == ["NEGATIVE"], text


def test_batch_shows_failing_rows_with_reasons_and_whole_file_by_default(no_aws, monkeypatch):
    import core.io

    real_load = core.io.load_table

    def load_with_bad_rows(source, **kw):  # the 400-row sample with a Korean row and a blank row
        table = real_load(source, **kw)
        table.frame.loc[2, "text"] = "배송이 너무 늦어요. 정말 최악이에요."
        table.frame.loc[5, "text"] = "   "
        return table

    monkeypatch.setattr(core.io, "load_table", load_with_bad_rows)
    at = page()
    at.selectbox(key="sentiment_sample").set_value("Support queries (EN/JA, 400 rows, no sentiment labels)").run()
    assert at.number_input(key="sent_nrows").value == 400  # whole file (<= 10,000 rows) by default
    at.button(key="sent_batch_go").click().run()
    assert not at.exception
    assert any("398 of 400 rows" in md.value and "2 row errors" in md.value for md in at.markdown)
    (exp,) = [e for e in at.expander if "rows failed" in e.label]
    assert exp.label.startswith("Local (offline): 2 rows failed")
    errors = exp.dataframe[0].value
    assert list(errors.columns) == ["row", "text", "reason"] and errors["row"].tolist() == [3, 6]
    assert "Korean (ko)" in errors["reason"].iloc[0] and "empty" in errors["reason"].iloc[1]


def test_batch_wrong_label_column_is_explained(no_aws):
    at = page()
    at.selectbox(key="sentiment_sample").set_value("Support queries (EN/JA, 400 rows, no sentiment labels)").run()
    assert at.selectbox(key="sent_labelcol").value == "(none)"
    at.selectbox(key="sent_labelcol").set_value("label").run()
    assert any("not sentiments" in e.value for e in at.error)
    assert at.button(key="sent_batch_go").disabled


@pytest.fixture
def with_stubbed_comprehend(no_aws, monkeypatch):
    client = boto3.client("comprehend", region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    backend = cs.ComprehendBackend(client=client, region="us-east-1")
    real_get = cs.get_backend
    monkeypatch.setattr(cs, "available_backends", lambda **kw: {"local": (True, "offline"),
                                                                "comprehend": (True, "stubbed client")})
    monkeypatch.setattr(cs, "get_backend", lambda name, **kw: backend if name == "comprehend" else real_get(name))
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def test_both_backends_side_by_side_with_disagreements(with_stubbed_comprehend):
    stub = with_stubbed_comprehend
    at = page()
    assert any("Amazon Comprehend is available" in s.value for s in at.success)
    assert at.multiselect(key="sent_backends").value == ["local", "comprehend"]
    text = at.text_area(key="sent_text").value
    stub.add_response("detect_sentiment", {"Sentiment": "MIXED", "SentimentScore": {
        "Positive": 0.1, "Negative": 0.3, "Neutral": 0.1, "Mixed": 0.5}}, {"Text": text, "LanguageCode": "en"})
    at.selectbox(key="sent_lang").set_value("en").run()
    at.button(key="sent_go").click().run()
    assert [m.value for m in at.metric] == ["NEGATIVE", "MIXED"]
    assert any("disagree" in w.value for w in at.warning)

    # batch: the 16 English rows, both backends, Comprehend says NEGATIVE for every row
    df = pd.read_csv(EXAMPLES).head(16)
    stub.add_response("batch_detect_sentiment", {"ResultList": [
        {"Index": i, "Sentiment": "NEGATIVE", "SentimentScore": {"Positive": 0.0, "Negative": 1.0, "Neutral": 0.0,
                                                                 "Mixed": 0.0}} for i in range(16)], "ErrorList": []},
        {"TextList": df["text"].tolist(), "LanguageCode": "en"})
    at.number_input(key="sent_nrows").set_value(16).run()
    at.selectbox(key="sent_batch_lang").set_value("en").run()
    at.multiselect(key="sent_batch_backends").set_value(["local", "comprehend"]).run()
    assert any("Estimated Amazon Comprehend cost: 16 documents" in i.value for i in at.info)
    at.button(key="sent_batch_go").click().run()
    assert not at.exception
    local = [r.sentiment for r in cs.analyze_batch(df["text"].tolist(), language="en").results]
    n_disagree = sum(lab != "NEGATIVE" for lab in local)
    assert any(f"{n_disagree:,} rows where they disagree" in md.value for md in at.markdown)
    dis = frame_with(at, "local", "comprehend")
    assert len(dis) == n_disagree and set(dis["comprehend"]) == {"NEGATIVE"}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Agreement"] == f"{(16 - n_disagree) / 16:.1%}"
    table = frame_with(at, "local_Sentiment")
    assert {"local_Sentiment", "comprehend_Sentiment"} <= set(table.columns) and len(table) == 16


@pytest.mark.browser
def test_browser_single_and_5000_row_batch(app_url, page, artifacts, tmp_path):
    page.goto(app_url)  # a fresh server shows the legacy pages/ list on a first deep link: open the app first
    page.get_by_role("heading", name="Crossroads").wait_for()
    page.goto(f"{app_url}/sentiment")
    page.get_by_role("heading", name=re.compile("Sentiment")).first.wait_for()
    assert page.get_by_role("link", name="Data & Models").count() == 1  # the app's navigation, not pages/
    page.get_by_role("radio", name="JA · 苦情").click()
    expect(page.get_by_role("textbox", name="Text to analyse")).to_have_value("対応が遅くて本当に最悪だ。不愉快な思いをした。")
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.get_by_text(re.compile(r"language ja")).first.wait_for()
    expect(page.get_by_text("NEGATIVE", exact=True)).to_be_visible()
    page.locator("[data-testid=stPlotlyChart]").first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "sentiment_single.png"))

    df = pd.read_csv(EXAMPLES)
    big = pd.concat([df] * (5000 // len(df) + 1), ignore_index=True).head(5000)
    big.insert(0, "id", range(len(big)))
    upload = tmp_path / "reviews_5000.csv"
    big.to_csv(upload, index=False)
    page.get_by_role("tab", name=re.compile("Batch")).click()
    page.get_by_text("Upload a file").click()
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text(re.compile(r"reviews_5000\.csv: 5,000 rows")).wait_for()
    page.get_by_role("button", name=re.compile(r"Analyse 5,000 rows")).click()
    page.get_by_text(re.compile(r"Local \(offline\): [\d,]+/5,000 texts")).first.wait_for(timeout=60_000)
    page.screenshot(path=str(artifacts / "sentiment_batch_progress.png"))
    page.get_by_text(re.compile(r"5,000 of 5,000 rows")).wait_for(timeout=180_000)
    page.get_by_text("Macro F1").first.wait_for()
    page.get_by_role("button", name="Download CSV").first.wait_for()
    page.get_by_text("Label distribution").first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "sentiment_batch_distribution.png"))
    page.get_by_text("Macro F1").first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "sentiment_batch_metrics.png"))
    page.get_by_role("button", name="Download CSV").first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "sentiment_batch_results.png"))


def test_comprehend_throttled_batch_keeps_local_results(with_stubbed_comprehend):
    stub = with_stubbed_comprehend
    stub.add_client_error("batch_detect_sentiment", service_error_code="ThrottlingException", http_status_code=400)
    at = page()
    at.number_input(key="sent_nrows").set_value(16).run()
    at.selectbox(key="sent_batch_lang").set_value("en").run()
    at.multiselect(key="sent_batch_backends").set_value(["local", "comprehend"]).run()
    at.button(key="sent_batch_go").click().run()
    assert not at.exception
    assert any("stopped early" in e.value and "throttling" in e.value for e in at.error)
    table = frame_with(at, "local_Sentiment", "comprehend_Sentiment")
    assert table["local_Sentiment"].notna().sum() == 16 and table["comprehend_Sentiment"].isna().all()
    assert table["comprehend_Error"].str.contains("not run").all()
