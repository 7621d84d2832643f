"""Crossroads: the Streamlit entry point (``streamlit run streamlit_app.py``).

It only declares the pages; each page lives in ``pages/`` and calls ``core``.
"""

import streamlit as st

from pages._state import sync_kept
from pages._workspace import sidebar as workspace_sidebar

st.set_page_config(page_title="Crossroads", page_icon=":material/alt_route:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/decide.py", title="Decide", icon=":material/balance:"),
    st.Page("pages/data_models.py", title="Data & Models", icon=":material/table_chart:"),
    st.Page("pages/sentiment.py", title="Sentiment", icon=":material/sentiment_satisfied:"),
    st.Page("pages/prompt_arena.py", title="Prompt Arena", icon=":material/forum:"),
]

page = st.navigation(PAGES)
sync_kept()  # keep the last widget change made before a page switch (pages/_state.py)
workspace_sidebar()  # "Save workspace" / "Open workspace"; an opened workspace is applied before the page runs
page.run()
