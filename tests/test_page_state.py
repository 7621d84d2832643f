"""pages/_state.py: widget values survive a page change (AppTest on a two-page app built in a temp folder)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]

APP = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from pages._state import sync_kept
page = st.navigation([st.Page("a.py", default=True), st.Page("b.py")])
sync_kept()
page.run()
"""

PAGE_A = """
import streamlit as st
from pages._state import keep
cols = st.session_state.get("columns", ["x", "y", "z"])
st.selectbox("Target", cols, key=keep("a_target", default=cols[-1], options=cols))
st.multiselect("Models", ["lr", "rf", "gb"], key=keep("a_models", default=["lr", "rf"]))
st.number_input("Folds", min_value=2, max_value=10, key=keep("a_folds", default=5))
st.text_input("Query", key=keep("a_query", default=""))
st.slider("Plain", 0, 10, key="a_plain")  # not kept: resets on a page change
"""

PAGE_B = """
import streamlit as st
st.write("page b")
"""


@pytest.fixture
def app(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent(APP.format(root=str(ROOT))))
    (tmp_path / "a.py").write_text(textwrap.dedent(PAGE_A))
    (tmp_path / "b.py").write_text(textwrap.dedent(PAGE_B))
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=30)
    at.run()
    return at


def test_defaults_come_from_keep_without_a_warning(app):
    assert app.selectbox(key="a_target").value == "z"
    assert app.multiselect(key="a_models").value == ["lr", "rf"]
    assert app.number_input(key="a_folds").value == 5
    assert not app.warning and not app.exception


def test_values_survive_a_page_change(app):
    app.selectbox(key="a_target").select("x")
    app.multiselect(key="a_models").select("gb")
    app.number_input(key="a_folds").set_value(3)
    app.text_input(key="a_query").input("charged twice")
    app.slider(key="a_plain").set_value(7)
    app.run()
    app.switch_page("b.py").run()
    assert app.markdown[0].value == "page b"
    assert "a_target" not in app.session_state  # Streamlit dropped the widget...
    app.switch_page("a.py").run()
    # ...and keep() put every kept value back
    assert app.selectbox(key="a_target").value == "x"
    assert app.multiselect(key="a_models").value == ["lr", "rf", "gb"]
    assert app.number_input(key="a_folds").value == 3
    assert app.text_input(key="a_query").value == "charged twice"
    assert app.slider(key="a_plain").value == 0  # the control: not kept, so reset
    assert not app.exception


def test_change_made_just_before_switching_is_kept(app):
    # the widget change and the page switch arrive in the same rerun: sync_kept() catches it
    app.number_input(key="a_folds").set_value(8)
    app.switch_page("b.py").run()
    app.switch_page("a.py").run()
    assert app.number_input(key="a_folds").value == 8


def test_kept_value_not_among_new_options_falls_back_to_default(app):
    app.selectbox(key="a_target").select("y")
    app.run()
    app.switch_page("b.py").run()
    app.session_state["columns"] = ["p", "q"]  # another file was loaded
    app.switch_page("a.py").run()
    assert app.selectbox(key="a_target").value == "q"
    assert not app.exception
