"""Pages under hostile inputs and faults (AppTest): an Excel bomb is an error and the app keeps running; a
Comprehend batch broken by a connection error keeps and shows its finished rows; row numbers agree; LLM answers
are text, not Markdown; no password from a URL reaches the page."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.local_servers import comprehend_server, openai_server
from tests.io.test_hostile_inputs import bomb

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "pages"


def app(page: str, timeout: int = 300) -> AppTest:
    at = AppTest.from_file(str(PAGES / page), default_timeout=timeout)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def all_text(at: AppTest) -> str:
    """Every text the page shows (messages, markdown, captions, labels, code, dataframes)."""
    parts = []
    for kind in ("markdown", "caption", "text", "code", "success", "info", "warning", "error", "title", "header",
                 "subheader"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(e.label) for e in at.expander] + [d.value.to_csv() for d in at.dataframe]
    return "\n".join(parts)


@pytest.fixture
def clean_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
                "AWS_DEFAULT_REGION", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_uploaded_excel_bomb_shows_an_error_and_the_app_keeps_running(tmp_path, clean_caches):
    data = bomb(tmp_path / "bomb.xlsx", 600).read_bytes()
    at = app("data_models.py")
    at.radio(key="dm_source").set_value("Upload a file").run()
    at.file_uploader(key="dm_upload").set_value(
        ("bomb.xlsx", data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")).run()
    assert not at.exception
    (err,) = [e.value for e in at.error]
    assert "xl/media/image1.bin" in err and "expands to 600 MB" in err and "CROSSROADS_MAX_ZIP_MEMBER_MB" in err
    # the app is still alive: back to a sample, the comparison page works
    at.radio(key="dm_source").set_value("Use a sample").run()
    assert not at.exception and not at.error
    assert any("Task: classification" in i.value for i in at.info)


def test_uploaded_workbook_that_crashes_the_reader_is_an_error_not_a_dead_app(tmp_path, clean_caches):
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"], wb.active["A2"], wb.active["XFD1048576"] = "x", 1, "far"
    path = tmp_path / "far.xlsx"
    wb.save(path)
    nodim = tmp_path / "nodim.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(nodim, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename.startswith("xl/worksheets/"):
                body = re.sub(rb"<dimension[^>]*/>", b"", body)
            zout.writestr(info, body)
    at = app("data_models.py")
    at.radio(key="dm_source").set_value("Upload a file").run()
    at.file_uploader(key="dm_upload").set_value(("nodim.xlsx", nodim.read_bytes(), "application/octet-stream")).run()
    assert not at.exception
    assert any("memory limit" in e.value and "CROSSROADS_EXCEL_MEMORY_MB" in e.value for e in at.error)


def test_comprehend_connection_error_keeps_and_shows_the_finished_rows(monkeypatch, tmp_path, clean_caches):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    texts = [f"Order {i} arrived broken and two weeks late." for i in range(30)]
    upload = pd.DataFrame({"text": texts}).to_csv(index=False).encode()
    with comprehend_server(ok_calls=1, then="drop") as (url, server):
        monkeypatch.setenv("AWS_ENDPOINT_URL_COMPREHEND", url)
        at = app("sentiment.py")
        assert any("Amazon Comprehend is available" in s.value for s in at.success)
        at.radio(key="sentiment_source").set_value("Upload a file").run()
        at.file_uploader(key="sentiment_upload").set_value(("orders.csv", upload, "text/csv")).run()
        at.selectbox(key="sent_batch_lang").set_value("en").run()
        at.multiselect(key="sent_batch_backends").set_value(["comprehend"]).run()
        at.button(key="sent_batch_go").click().run()
    assert not at.exception
    assert any("25 of 30 rows" in md.value for md in at.markdown)
    (err,) = [e.value for e in at.error]
    assert "stopped early; the rows done are kept below" in err and "ConnectionClosedError" in err
    table = next(d.value for d in at.dataframe if "Sentiment" in d.value.columns and "Error" in d.value.columns)
    assert len(table) == 30 and table["Sentiment"].iloc[:25].eq("NEGATIVE").all()
    assert table["Sentiment"].iloc[25:].isna().all() and table["Error"].iloc[25:].str.startswith("not run").all()


def test_row_numbers_of_results_and_failed_rows_agree(no_aws, monkeypatch, clean_caches):
    texts = ["Great help, thank you!", "   ", "Terrible, the parcel is lost.", "배송이 너무 늦어요.", "Fine."]
    upload = pd.DataFrame({"id": range(5), "text": texts}).to_csv(index=False).encode()
    at = app("sentiment.py")
    at.radio(key="sentiment_source").set_value("Upload a file").run()
    at.file_uploader(key="sentiment_upload").set_value(("five.csv", upload, "text/csv")).run()
    at.button(key="sent_batch_go").click().run()
    assert not at.exception
    (exp,) = [e for e in at.expander if "rows failed" in e.label]
    failed = exp.dataframe[0].value
    table = next(d.value for d in at.dataframe if "Error" in d.value.columns)
    assert failed["row"].tolist() == [2, 4]
    assert table.index.tolist() == [1, 2, 3, 4, 5]  # numbered from 1, like the failed rows
    assert table.index[table["Error"].fillna("") != ""].tolist() == failed["row"].tolist()
    assert pd.isna(table.loc[2, "text"]) and table.loc[4, "text"] == "배송이 너무 늦어요."


def test_llm_answers_are_shown_as_text_not_markdown(no_aws, monkeypatch, clean_caches):
    answer = "![pixel](http://127.0.0.1:9/pixel.png?leak=1) **Sorry** about the [delay](http://127.0.0.1:9/x)."
    with openai_server(answer) as (url, server):
        monkeypatch.setenv("CROSSROADS_OPENAI_BASE_URL", url + "/v1")
        at = app("prompt_arena.py")
        assert at.selectbox(key="arena_provider").value == "openai"
        at.text_area(key="arena_query").input("Where is my parcel? It is two weeks late.").run()
        at.button(key="arena_go").click().run()
        assert not at.exception
        shown = [t.value for t in at.text]
        assert shown.count(answer) == 2  # both arms, verbatim, as plain text
        assert not any("![pixel]" in m.value for m in at.markdown)
        at.run()  # a rerun shows the kept answers the same way
        assert [t.value for t in at.text].count(answer) == 2
    assert not [r for r in server.requests if "pixel" in r[1]]


@pytest.mark.parametrize("url", ["http://user:probepass@127.0.0.1:9/v1", "ftp://user:probepass@127.0.0.1:9/v1"])
def test_provider_status_never_shows_a_password(no_aws, monkeypatch, clean_caches, url):
    monkeypatch.setenv("CROSSROADS_OPENAI_BASE_URL", url)
    at = app("prompt_arena.py")
    text = all_text(at)
    assert "probepass" not in text and "127.0.0.1:9" in text
    at.text_input(key="arena_base_url").input("http://admin:probepass@127.0.0.1:9/v1").run()
    assert "probepass" not in all_text(at)
