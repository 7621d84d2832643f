"""Real browser (Playwright + Debian Chromium): work survives navigation, a reload, and comes back with
"Open workspace"; a telco model is downloaded and scores a 100-row file."""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.shared, pytest.mark.slow]


def _nav(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()


def _main_upload(page, path) -> None:
    page.get_by_test_id("stMain").locator('input[type="file"]').first.set_input_files(str(path))


def _set_number(page, label: str, value: str) -> None:
    box = page.locator('[data-testid="stNumberInput"]').filter(has_text=label).locator("input")
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(1000)


def _body(page) -> str:
    return page.locator("body").inner_text()


def test_c01_walk_survives_navigation_reload_and_open_workspace(page, app_url, shared_data, artifacts, tmp_path):
    page.goto(app_url)
    page.get_by_role("heading", name="Crossroads").wait_for()
    _nav(page, "Data & Models")
    page.get_by_role("heading", name=re.compile("Data & Models")).first.wait_for()
    page.get_by_text("Upload a file", exact=True).click()
    _main_upload(page, shared_data / "ja_estat_population_sjis" / "c01.csv")
    page.get_by_text("c01.csv: 980 rows x 9 columns").wait_for()
    _set_number(page, "Folds (K)", "3")
    page.get_by_role("button", name=re.compile("Run comparison")).click()
    page.get_by_text("Best model:").wait_for(timeout=240_000)
    best = page.get_by_text("Best model:").inner_text()

    # sidebar to Sentiment, sidebar to Home, then Home's page link back to Data & Models
    _nav(page, "Sentiment")
    page.get_by_role("heading", name=re.compile("Sentiment")).first.wait_for()
    _nav(page, "Home")
    page.get_by_text("Your work").wait_for()
    page.get_by_text(re.compile("5 models compared to predict")).wait_for()
    page.get_by_role("link", name="Open Data & Models").click()
    page.get_by_text("Best model:").wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"Using c01\.csv \(uploaded earlier")).wait_for()
    assert page.get_by_text("Best model:").inner_text() == best
    body = _body(page)
    assert "settings changed since the last run" not in body and "Breast cancer" not in body
    assert page.locator('[data-testid="stNumberInput"]').filter(has_text="Folds (K)").locator("input") \
        .input_value() == "3"
    page.get_by_text("Leaderboard", exact=True).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "persistence_c01_back_on_data_models.png"))

    with page.expect_download() as dl:
        page.get_by_role("button", name="Save workspace").click()
    saved = tmp_path / "workspace.zip"
    dl.value.save_as(saved)
    from core.workspace import open_workspace

    ws = open_workspace(saved)
    assert ws.sections["data_models"]["table"] == "data_models.table" and len(ws.tables["data_models.table"]) == 980

    page.reload()  # a new session: the work is gone...
    page.get_by_role("heading", name=re.compile("Data & Models")).first.wait_for()
    page.get_by_text("Press Run comparison").or_(page.get_by_text("Press **Run comparison**")).first.wait_for()
    assert "Best model:" not in _body(page)
    # ...and "Open workspace" brings it back
    page.get_by_role("button", name=re.compile("Open workspace")).click()
    page.locator('[data-testid="stPopoverBody"] input[type="file"]').set_input_files(str(saved))
    page.get_by_text(re.compile(r"Opened workspace\.zip")).wait_for(timeout=180_000)
    page.keyboard.press("Escape")
    page.get_by_text("Best model:").wait_for(timeout=60_000)
    assert page.get_by_text("Best model:").inner_text() == best
    page.get_by_text(re.compile(r"Using c01\.csv \(uploaded earlier · from workspace\.zip\)")).wait_for()
    assert "hold-out results match the saved ones" in _body(page)
    page.screenshot(path=str(artifacts / "persistence_c01_workspace_reopened.png"), full_page=True)
    assert "Traceback" not in _body(page)


def test_telco_model_download_and_scoring_a_100_row_file(page, app_url, shared_data, artifacts, tmp_path):
    telco = pd.read_csv(shared_data / "telco_churn" / "Telco-Customer-Churn.csv")
    new = telco.sample(100, random_state=7).drop(columns=["Churn"])
    new.iloc[0, new.columns.get_loc("customerID")] = "=HYPERLINK(\"http://example.invalid\",\"x\")"
    new.to_csv(tmp_path / "new_customers.csv", index=False)

    page.goto(app_url)
    _nav(page, "Data & Models")
    page.get_by_text("Upload a file", exact=True).click()
    _main_upload(page, shared_data / "telco_churn" / "Telco-Customer-Churn.csv")
    page.get_by_text("Telco-Customer-Churn.csv: 7,043 rows").wait_for()
    _set_number(page, "Folds (K)", "3")
    page.get_by_role("button", name=re.compile("Run comparison")).click()
    page.get_by_text("Best model:").wait_for(timeout=300_000)
    use = page.locator('[data-testid="stExpander"]').filter(has_text="Use a model: download it")
    use.locator("summary").first.click()
    with page.expect_download() as dl:
        use.get_by_role("button", name=re.compile("Download model")).click()
    model_path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(model_path)
    assert model_path.suffix == ".skops"
    from core.tabular.scoring import load_model, score_table

    model = load_model(model_path)
    assert model.target == "Churn" and model.classes == ["No", "Yes"]

    use.locator('input[type="file"]').set_input_files(str(tmp_path / "new_customers.csv"))
    use.get_by_text(re.compile("100 rows scored with")).wait_for(timeout=120_000)
    page.wait_for_timeout(1000)
    use.get_by_text("100 rows scored with").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "persistence_telco_scored.png"))
    with page.expect_download() as dl:
        use.get_by_role("button", name="Download CSV").click()
    text = dl.value.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert len(body) == 100 and header[-3:] == ["predicted_Churn", "probability_No", "probability_Yes"]
    assert body[0][header.index("customerID")].startswith("'=HYPERLINK")  # escaped, not a live formula
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    expected = score_table(model, pd.read_csv(tmp_path / "new_customers.csv"))  # the downloaded model agrees
    assert [r[header.index("predicted_Churn")] for r in body] == expected.frame["predicted_Churn"].tolist()


def test_banking77_classifier_survives_navigation(page, app_url, shared_data, artifacts):
    page.goto(app_url)
    _nav(page, "Prompt Arena")
    page.get_by_text("CV macro F1").wait_for(timeout=180_000)
    page.get_by_text("Upload a file", exact=True).click()
    _main_upload(page, shared_data / "banking77" / "train.csv")
    page.get_by_text("train.csv: 10,003 rows x 2 columns").wait_for()
    page.get_by_text(re.compile(r"Categories\s*77")).or_(page.locator('[data-testid="stMetric"]',
                                                                       has_text="77")).first.wait_for(timeout=300_000)
    _nav(page, "Home")
    page.get_by_text("Your work").wait_for()
    page.get_by_role("link", name="Open Prompt Arena").click()
    page.get_by_text("CV macro F1").wait_for(timeout=180_000)
    page.get_by_text(re.compile(r"Using train\.csv \(uploaded earlier")).wait_for()
    body = _body(page)
    assert re.search(r"Categories\s+77", body) and re.search(r"Training rows\s+10,003", body)
    page.get_by_text("Training rows").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "persistence_banking77_back_in_arena.png"))
