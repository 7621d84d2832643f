"""Real browser (Playwright + Debian Chromium): an LLM answer holding a Markdown image is shown as text, and the
browser never fetches the image's URL (it points at the local fake server, which records every request)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import running_app
from tests.local_servers import openai_server

pytestmark = [pytest.mark.browser]

ANSWER = [""]  # set once the fake server's port is known: the image URL points back at it


def test_injected_image_in_an_answer_is_not_fetched(browser, tmp_path, artifacts, monkeypatch):
    with openai_server(lambda body: ANSWER[0]) as (llm_url, llm):
        ANSWER[0] = f"![pixel]({llm_url}/pixel.png?leak=secret) Sorry, **your parcel** is on its way."
        monkeypatch.setenv("CROSSROADS_OPENAI_BASE_URL", llm_url + "/v1")
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
            monkeypatch.delenv(var, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
        with running_app(tmp_path) as app_url:
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            page.set_default_timeout(120_000)
            page.goto(app_url)
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Prompt Arena").wait_for()
            page.goto(f"{app_url}/prompt_arena")
            page.get_by_text("CV macro F1").wait_for(timeout=180_000)
            page.get_by_role("radio", name="EN · late parcel (angry)").click()
            page.get_by_role("button", name=re.compile("Ask both prompts")).click()
            page.locator('[data-testid="stMetricLabel"]', has_text="Output tokens").nth(1).wait_for()
            page.wait_for_timeout(2000)
            shown = page.get_by_text("![pixel](", exact=False)
            assert shown.count() == 2  # both answers, verbatim
            assert page.locator("img[src*='pixel.png']").count() == 0
            shown.first.scroll_into_view_if_needed()
            page.screenshot(path=str(artifacts / "arena_answer_as_text.png"))
            ctx.close()
    fetched = [r for r in llm.requests if "pixel" in r[1]]
    assert fetched == [] and any(r[1].endswith("/chat/completions") for r in llm.requests)

