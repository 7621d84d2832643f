"""A deep link that is a fresh server's very first request still gets the app's own navigation."""

import pytest

from conftest import running_app

pytestmark = pytest.mark.browser


def test_deep_link_first_request_uses_app_navigation(browser, tmp_path, artifacts):
    with running_app(tmp_path) as url:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = ctx.new_page()
        page.set_default_timeout(90_000)
        page.goto(f"{url}/sentiment")
        page.get_by_role("heading", name="Sentiment").first.wait_for()
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_text("Data & Models").wait_for()
        labels = nav.inner_text()
        page.screenshot(path=str(artifacts / "deep_link_sentiment.png"))
        ctx.close()
    # st.navigation's titles, not the file names Streamlit would list for a bare pages/ folder
    assert "Prompt Arena" in labels and "Home" in labels
    assert "shared" not in labels and "streamlit app" not in labels
