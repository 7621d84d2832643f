"""Real browser (Playwright + Debian Chromium): build a SageMaker Linear Learner dry run on Data & Models, no account."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_linear_learner_dry_run_shows_estimate_files_and_requests(page, app_url, artifacts):
    page.goto(app_url)
    page.get_by_text("Open Data & Models").wait_for()
    page.goto(f"{app_url}/data_models")
    page.get_by_text(re.compile(r"Task: classification")).wait_for()
    folds = page.locator('[data-testid="stNumberInput"]').filter(has_text="Folds (K)").locator("input")
    folds.fill("2")
    folds.press("Enter")
    page.wait_for_timeout(1000)
    page.get_by_role("button", name=re.compile("Run comparison")).click()
    page.get_by_text("Best model:").wait_for(timeout=240_000)
    page.get_by_text("Past one machine: Amazon SageMaker").scroll_into_view_if_needed()
    page.get_by_text("Train on SageMaker (Linear Learner)").click()
    page.get_by_role("button", name=re.compile("Build the job and show what would be sent")).click()
    page.get_by_text("Estimated cost (USD)").wait_for(timeout=120_000)
    page.get_by_text(re.compile(r"binary_classifier.*train, .*validation, .*test rows")).wait_for()
    page.get_by_text(re.compile(r"Dry run: the 3 file\(s\) and 1 request\(s\)")).click()
    page.get_by_text("CreateTrainingJob", exact=True).first.wait_for()
    page.get_by_role("button", name=re.compile("Download the dry run")).wait_for()
    submit = page.get_by_role("button", name=re.compile("Submit to Amazon SageMaker"))
    assert submit.is_disabled()  # no credentials on this machine: the reason is shown instead
    page.get_by_text(re.compile("To submit: ")).first.wait_for()
    page.get_by_text("Estimated cost (USD)").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "data_models_sagemaker_dry_run.png"))
    assert "Traceback" not in page.locator("body").inner_text()
