"""Real browser: a kept widget that a run skipped (st.stop above it) comes back with its value.

The browser forgets a widget that a run did not draw. When the widget is drawn again, it must get its value
from the server (pages/_state.keep writes it through the Session State API on every run); otherwise the
browser shows the widget's empty default and reports it back as the user's choice on the next interaction.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import free_port, wait_http

pytestmark = [pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]

APP = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from pages._state import keep, sync_kept
sync_kept()
if st.checkbox("Hide the models", key="hide"):
    st.stop()
models = st.multiselect("Models", ["lr", "rf", "gb"], key=keep("models", default=["lr", "rf"]))
st.number_input("Folds", min_value=2, max_value=10, key=keep("folds", default=5))
st.write("chosen: " + ",".join(models))
"""


@pytest.fixture
def tiny_app(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent(APP.format(root=str(ROOT))))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(tmp_path / "app.py"),
                             "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_kept_multiselect_survives_a_run_that_skipped_it(page, tiny_app):
    page.goto(tiny_app)
    page.get_by_text("chosen: lr,rf").wait_for()
    hide = page.get_by_text("Hide the models")
    hide.click()
    page.get_by_text("chosen:").wait_for(state="detached")
    hide.click()  # drawn again: the browser has forgotten it
    page.get_by_text("chosen: lr,rf").wait_for()
    box = page.locator('[data-testid="stNumberInput"] input')
    box.fill("3")
    box.press("Enter")  # the next run carries the browser's idea of every widget's value
    page.wait_for_timeout(1500)
    assert page.locator('[data-testid="stNumberInput"] input').input_value() == "3"
    page.get_by_text("chosen: lr,rf").wait_for()
