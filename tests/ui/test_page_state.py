"""pages/_state.py: widget values survive a page change (AppTest on a two-page app built in a temp folder)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]

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


PAGE_C = """
import streamlit as st
from pages._state import keep, put, restore_values
if st.session_state.pop("do_restore", False):
    restore_values({"c_rows": 40, "c_name": "restored"})
if st.session_state.pop("do_put", False):
    put("c_name", "put from code")
n = st.session_state.get("n", 100)
st.number_input("Rows", min_value=1, max_value=n, key=keep("c_rows", default=min(n, 50), options=range(1, n + 1)))
st.text_input("Name", key=keep("c_name", default=""))
"""


@pytest.fixture
def app_c(tmp_path):
    (tmp_path / "app.py").write_text(textwrap.dedent(APP.format(root=str(ROOT))).replace(
        'st.Page("b.py")', 'st.Page("b.py"), st.Page("c.py")'))
    (tmp_path / "a.py").write_text(textwrap.dedent(PAGE_A))
    (tmp_path / "b.py").write_text(textwrap.dedent(PAGE_B))
    (tmp_path / "c.py").write_text(textwrap.dedent(PAGE_C))
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=30)
    at.run()
    at.switch_page("c.py").run()
    return at


def test_a_range_of_options_keeps_a_valid_number_and_drops_an_out_of_range_one(app_c):
    at = app_c
    at.number_input(key="c_rows").set_value(80).run()
    at.switch_page("b.py").run()
    at.switch_page("c.py").run()
    assert at.number_input(key="c_rows").value == 80
    at.switch_page("b.py").run()
    at.session_state["n"] = 60  # a smaller table: 80 is no longer allowed
    at.switch_page("c.py").run()
    assert at.number_input(key="c_rows").value == 50 and not at.exception


def test_restore_values_wins_over_live_widget_values(app_c):
    at = app_c
    at.text_input(key="c_name").input("typed").run()
    at.session_state["do_restore"] = True  # opening a workspace before the widgets are drawn
    at.run()
    assert at.text_input(key="c_name").value == "restored" and at.number_input(key="c_rows").value == 40


def test_put_sets_a_kept_value_that_survives_a_page_change(app_c):
    at = app_c
    at.session_state["do_put"] = True
    at.run()
    assert at.text_input(key="c_name").value == "put from code"
    at.switch_page("b.py").run()
    at.switch_page("c.py").run()
    assert at.text_input(key="c_name").value == "put from code"
