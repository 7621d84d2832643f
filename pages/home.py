"""Home page: what Crossroads is and what each page does, in plain words, and the work in progress."""

import streamlit as st

from pages._shared import ensure_navigation, uploaded_files

ensure_navigation()

st.title("Crossroads")
st.markdown(
    """
**Should this problem be solved with classic machine learning, with generative AI, or with both?**
Crossroads lets you answer that with your own data, measured rather than guessed.

The idea comes from the AWS re:Invent 2024 workshop *DPR201 – Finding the right approach:
bridging traditional ML with generative AI*: a small, fast classifier finds what a customer
query is about, a sentiment model judges how urgent it is, and both are handed to a large
language model, which then answers in a more controlled, consistent and predictable way.
"""
)

with st.container(border=True):
    st.subheader(":material/balance: Decide: classifier, LLM or hybrid?", anchor=False)
    st.markdown(
        "Bring a table of labelled queries (or use the sample). Decide trains a classifier, asks an LLM to pick each "
        "query's category with and without examples, tries the hybrid where the LLM only answers the queries the "
        "classifier is unsure about, and scores all of them on the same held-out rows: accuracy with confidence "
        "intervals, latency and cost per 1,000 queries. Given your volume, latency budget, minimum accuracy and "
        "budget, it recommends one, citing the numbers, or says there is not enough evidence yet. The report "
        "(HTML or Markdown) opens without Crossroads."
    )
    st.page_link("pages/decide.py", label="Open Decide", icon=":material/arrow_forward:")

c1, c2, c3 = st.columns(3)
with c1:
    st.subheader(":material/table_chart: Data & Models")
    st.markdown(
        "Upload a table (CSV, TSV, Excel, Parquet, JSON Lines), pick the column to predict, "
        "and compare linear, tree, random-forest and boosting models with cross-validation: "
        "scores, training and prediction times, and SHAP charts that show *why* each model "
        "predicts what it does."
    )
    st.page_link("pages/data_models.py", label="Open Data & Models", icon=":material/arrow_forward:")
with c2:
    st.subheader(":material/sentiment_satisfied: Sentiment")
    st.markdown(
        "Score the sentiment of a message or a whole column: Amazon Comprehend when you have "
        "AWS credentials, and an offline analyzer for English and Japanese that needs nothing. "
        "Both give the same result: POSITIVE, NEGATIVE, NEUTRAL or MIXED with four scores."
    )
    st.page_link("pages/sentiment.py", label="Open Sentiment", icon=":material/arrow_forward:")
with c3:
    st.subheader(":material/forum: Prompt Arena")
    st.markdown(
        "Put an intent classifier and sentiment in front of an LLM. See the raw prompt and the "
        "classifier-contextualised prompt answer side by side, with tokens, latency and cost, "
        "on Claude in Amazon Bedrock, a local server such as Ollama, or a small model built in."
    )
    st.page_link("pages/prompt_arena.py", label="Open Prompt Arena", icon=":material/arrow_forward:")



def your_work() -> list[str]:
    """One line per page that has work in this session (files, comparison, sentiment batch, Arena answers and
    evaluation, Decide's bake-off)."""
    lines = []
    files = {k: e for k, e in uploaded_files().items() if not e.get("failed")}
    if files:
        lines.append("**Files**: " + ", ".join(f"{e['name']} ({e['page']})" for e in files.values()))
    results = st.session_state.get("dm_results") or {}
    for r in results.values():
        lines.append(f"**Data & Models**: {len(r.results)} models compared to predict '{r.schema.target}'; best "
                     f"{r.best.label}")
    restored = st.session_state.get("dm_restored")
    if restored and not results:
        r = restored["result"]
        lines.append(f"**Data & Models**: a comparison of {len(r.results)} models predicting '{r.schema.target}' "
                     "was reopened from a workspace; open the page to see it")
    batch = st.session_state.get("sent_batch")
    if batch and batch.get("runs"):
        lines.append(f"**Sentiment**: {batch['n_rows']:,} rows of '{batch['text_col']}' analysed "
                     f"({', '.join(batch['runs'])})")
    arena = st.session_state.get("arena_result")
    if arena and arena.get("arms"):
        query = str(st.session_state.get("arena_query") or "").strip()
        shown = (query[:60] + "…") if len(query) > 60 else query
        lines.append("**Prompt Arena**: both prompts answered" + (f" for “{shown}”" if shown else ""))
    evaluation = st.session_state.get("arena_eval")
    if evaluation and evaluation.get("summary"):
        n = evaluation["summary"].get("n_queries")
        lines.append("**Prompt Arena**: a held-out evaluation of raw vs contextualised prompts"
                     + (f" on {n:,} queries" if isinstance(n, int) else ""))
    bakeoff = st.session_state.get("decide_result")
    if bakeoff is not None:
        from core.decide.plan import ARM_NAMES

        arms = ", ".join(ARM_NAMES.get(a, a) for a in bakeoff.arms) + (", hybrid" if bakeoff.hybrid_run else "")
        lines.append(f"**Decide**: a bake-off ({arms}) on {bakeoff.n_test:,} test rows of "
                     f"{bakeoff.data.get('name', 'your data')}; open the page for the verdict")
    return lines


work = your_work()
st.divider()
st.subheader(":material/work_history: Your work")
if work:
    st.markdown("\n".join(f"- {line}" for line in work))
    st.caption("It stays while you move between pages. To keep it for tomorrow, use **Save workspace** in the "
               "sidebar; **Open workspace** brings it back, on every page.")
else:
    st.caption("Nothing yet. Your choices and results stay while you move between pages; **Save workspace** in "
               "the sidebar keeps them in a file, and **Open workspace** brings them back.")

st.divider()
st.caption(
    "Everything runs on your machine by default. Nothing is sent anywhere unless you choose "
    "Amazon Comprehend, Amazon Bedrock or a local LLM server you configure yourself. "
    "Your uploaded files are read, never changed."
)
