"""Real browser (Playwright + Debian Chromium): upload titanic, run the comparison, see the leaderboard and SHAP."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.shared, pytest.mark.slow]


def test_upload_titanic_compare_and_explain(page, app_url, shared_data, artifacts):
    # open the app first: a deep link as the very first request to a fresh server is served before
    # streamlit_app.py has declared st.navigation, and Streamlit then lists pages/ as legacy pages
    page.goto(app_url)
    page.get_by_text("Open Data & Models").wait_for()
    page.goto(f"{app_url}/data_models")
    page.get_by_text("Upload a file", exact=True).click()
    page.locator('input[type="file"]').set_input_files(str(shared_data / "titanic" / "train.csv"))
    page.get_by_text("train.csv: 891 rows x 12 columns").wait_for()
    # the suggested target (suggest_target), not the last column (Embarked)
    # (Embarked would say "Classes: C, Q, S")
    page.get_by_text(re.compile(r"Task: classification.*891 of 891 rows used.*Classes: 0, 1\.")).wait_for()
    page.get_by_text("a distinct whole number on every row").first.wait_for(state="attached")  # PassengerId dropped, with reason
    folds = page.locator('[data-testid="stNumberInput"]').filter(has_text="Folds (K)").locator("input")
    folds.fill("3")
    folds.press("Enter")
    page.wait_for_timeout(1000)
    page.get_by_role("button", name=re.compile("Run comparison")).click()
    page.get_by_text("Best model:").wait_for(timeout=240_000)
    page.get_by_text(re.compile(r"Compared 5 models in [\d.]+ s")).wait_for()
    # the leaderboard grid (cells are in the DOM for accessibility, drawn on a canvas)
    for model in ("Linear (logistic / ridge)", "Histogram gradient boosting", "Random forest", "Baseline (dummy)"):
        page.locator('[data-testid="stDataFrame"] td', has_text=model).first.wait_for(state="attached")
    page.get_by_text("Leaderboard", exact=True).scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "data_models_titanic_leaderboard.png"))
    page.get_by_role("tab", name="SHAP: why").click()
    page.get_by_text(re.compile("SHAP values in (log-odds|probability) of class '1'")).wait_for(timeout=180_000)
    imgs = page.locator('[data-testid="stImage"] img')
    imgs.nth(2).wait_for(timeout=60_000)  # bar, beeswarm, waterfall
    assert imgs.count() == 3
    page.get_by_text("Global: mean |SHAP value|").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "data_models_titanic_shap.png"), full_page=True)
    assert "Traceback" not in page.locator("body").inner_text()
