"""Sentiment page: one text or a column of a file, offline or with Amazon Comprehend.

Thin page: every computation is in :mod:`core.sentiment`; this file only renders.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

import core.sentiment as cs
from core.errors import CrossroadsError
from core.io import LoadedTable, load_table
from core.sentiment.evaluate import agreement, evaluate, guess_columns, normalize_labels
from core.sentiment.registry import BACKENDS as SPECS
from pages._aws import render_comprehend_job
from pages._shared import download_buttons, ensure_navigation, show_error, table_input
from pages._state import forget, keep, persist

ensure_navigation()
persist("sent_single", "sent_batch", "sent_table_id")  # results: kept across pages and in saved workspaces

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {
    "EN · complaint": "My package is two weeks late and nobody answers my emails. This is terrible.",
    "EN · praise": "Thank you so much, the support team solved my problem in minutes. Excellent service!",
    "EN · mixed": "The camera is great but the battery life is terrible.",
    "EN · question": "Can you tell me how to change my billing address?",
    "JA · 苦情": "対応が遅くて本当に最悪だ。不愉快な思いをした。",
    "JA · 感謝": "迅速に対応していただき、本当に助かりました。素晴らしいサービスです。",
    "JA · 賛否": "料理は美味しかったが、店員の態度は悪かった。",
    "JA · 質問": "契約を途中で解約すると違約金はかかりますか？",
}
LANG_OPTIONS = ["auto", *cs.SUPPORTED_LANGUAGES]
COLORS = {"POSITIVE": "#2e7d32", "NEGATIVE": "#c62828", "NEUTRAL": "#78909c", "MIXED": "#f9a825"}
#: Whole files up to this many rows are analysed by default; larger ones default to DEFAULT_BATCH_ROWS.
WHOLE_FILE_MAX_ROWS = 10_000
DEFAULT_BATCH_ROWS = 5_000


def backend_label(name: str) -> str:
    """The registered backend's label (:mod:`core.sentiment.registry`)."""
    return SPECS[name].label if name in SPECS else name


def lang_label(code: str) -> str:
    return "auto-detect" if code == "auto" else f"{code} · {cs.SUPPORTED_LANGUAGES.get(code, code)}"


@st.cache_data(ttl=60, show_spinner=False)
def backend_status(profile: str, region: str) -> dict[str, tuple[bool, str]]:
    return cs.available_backends(profile=profile or None, region=region or None)


@st.cache_resource(show_spinner="Loading the offline analyzers (first time only)...")
def warm_local() -> bool:
    cs.analyze("warm up the English analyzer and language detector", language="auto")
    cs.analyze("日本語の解析器を準備します。", language="ja")
    return True


def sample_tables() -> dict:
    samples = {"Sentiment examples (EN/JA, 32 rows, labelled)":
               lambda: load_table(ROOT / "data" / "sentiment_examples.csv"),
               "Support queries (EN/JA, 400 rows, no sentiment labels)":
               lambda: load_table(ROOT / "data" / "support_queries.csv")}
    chabsa = ROOT.parent / "shared" / "data" / "ja_chabsa_sentiment" / "chabsa_sentences.csv"
    if chabsa.exists():
        samples["chABSA (JA finance reports, 6,119 rows, labelled)"] = lambda: load_table(chabsa)
    return samples


def get_backend(name: str):
    return cs.get_backend(name, profile=st.session_state.get("aws_profile") or None,
                          region=st.session_state.get("aws_region") or None)


def score_chart(result: cs.SentimentResult, key: str) -> None:
    keys = list(cs.SCORE_KEYS)
    vals = [result.sentiment_score.get(k, 0.0) for k in keys]
    fig = go.Figure(go.Bar(x=vals, y=keys, orientation="h", text=[f"{v:.2f}" for v in vals], textposition="auto",
                           marker_color=[COLORS[k.upper()] for k in keys]))
    fig.update_layout(height=200, margin=dict(l=10, r=10, t=10, b=10), xaxis=dict(range=[0, 1], title="score"),
                      yaxis=dict(autorange="reversed"))
    st.plotly_chart(fig, key=key)


def show_result(result: cs.SentimentResult, key: str) -> None:
    st.metric("Sentiment", result.sentiment)
    score_chart(result, key)
    st.caption(f"Backend **{backend_label(result.backend)}** · language "
               f"**{result.language_code}** · {result.seconds * 1000:,.1f} ms")
    for note in result.notices:
        st.info(note, icon=":material/info:")


# ----------------------------------------------------------------------------- page

st.title(":material/sentiment_satisfied: Sentiment")
st.markdown(
    "In the DPR201 hybrid design, sentiment tells the system **how urgent** a query is. "
    "Every backend returns Amazon Comprehend's `DetectSentiment` schema: a `Sentiment` "
    "(POSITIVE, NEGATIVE, NEUTRAL, MIXED) and a `SentimentScore` for each of the four."
)

with st.expander("Backends and AWS settings", icon=":material/settings:"):
    c1, c2 = st.columns(2)
    c1.text_input("AWS profile (empty: default credential chain)", key=keep("aws_profile", default=""),
                  help="A profile from ~/.aws/config. Credentials are read by boto3 and never shown or stored.")
    c2.text_input("AWS region (empty: from the profile or AWS_REGION)", key=keep("aws_region", default=""),
                  placeholder="us-east-1")
    st.markdown("\n".join(f"- **{spec.label}**: {spec.description}" for spec in SPECS.values()))

status = backend_status(st.session_state.get("aws_profile", ""), st.session_state.get("aws_region", ""))
for spec in SPECS.values():
    ok, reason = status.get(spec.name, (False, "not checked"))
    if ok and not spec.local:
        st.success(f"{spec.label} is available: {reason}", icon=":material/cloud_done:")
    elif not ok:
        st.info(f"{spec.label} is not available, so it is not offered below. Why: {reason}",
                icon=":material/cloud_off:")
available = [name for name in cs.BACKENDS if status.get(name, (False, ""))[0]]
default_batch = [next((n for n in available if SPECS[n].local), available[0])] if available else []

try:
    warm_local()
except Exception as exc:  # noqa: BLE001 - shown, page still renders
    show_error(exc, what="Loading the offline analyzers")

tab_single, tab_batch = st.tabs([":material/chat: Single text", ":material/table_rows: Batch (a column of a file)"])

# ----------------------------------------------------------------------------- single text
with tab_single:

    def _use_example() -> None:
        choice = st.session_state.get("sent_example")
        if choice in EXAMPLES:
            st.session_state["sent_text"] = EXAMPLES[choice]

    st.pills("Examples", list(EXAMPLES), key=keep("sent_example", default=None, options=list(EXAMPLES)),
             on_change=_use_example)
    st.text_area("Text to analyse", key=keep("sent_text", default=EXAMPLES["EN · complaint"]), height=110,
                 max_chars=20000,
                 help="Comprehend reads at most 5,000 UTF-8 bytes; longer text is cut with a notice.")
    c1, c2, c3 = st.columns([2, 2, 1])
    lang = c1.selectbox("Language", LANG_OPTIONS, format_func=lang_label,
                        key=keep("sent_lang", default="auto", options=LANG_OPTIONS))
    single_backends = c2.multiselect(
        "Backends", available, format_func=backend_label,
        key=keep("sent_backends", default=available, options=available),
        help="With several selected, their results are shown side by side.")
    c3.write("")
    go_single = c3.button("Analyse", type="primary", icon=":material/play_arrow:", key="sent_go")
    if go_single:
        if not single_backends:
            st.warning("Choose at least one backend.", icon=":material/warning:")
        else:
            results = {}
            for name in single_backends:
                try:
                    results[name] = cs.analyze(st.session_state["sent_text"], language=lang, backend=get_backend(name))
                except Exception as exc:  # noqa: BLE001 - shown below with show_error
                    results[name] = exc
            st.session_state["sent_single"] = results
    results = st.session_state.get("sent_single")
    if results:
        cols = st.columns(len(results))
        for col, (name, res) in zip(cols, results.items()):
            with col:
                st.subheader(backend_label(name))
                if isinstance(res, Exception):
                    show_error(res, what=f"{backend_label(name)} analysis")
                else:
                    show_result(res, key=f"single_{name}")
        ok = {n: r for n, r in results.items() if not isinstance(r, Exception)}
        if len(ok) >= 2:
            labels = {r.sentiment for r in ok.values()}
            if len(labels) == 1:
                st.success(f"The backends agree: {labels.pop()}.", icon=":material/check_circle:")
            else:
                st.warning("The backends disagree: " + ", ".join(f"{backend_label(n)} says {r.sentiment}"
                                                                 for n, r in ok.items()) + ".",
                           icon=":material/compare_arrows:")
        with st.expander("Raw result (Comprehend schema)"):
            st.json({n: r.to_dict() for n, r in ok.items()})
    else:
        st.caption("Pick an example or type a text, then press **Analyse**.")

# ----------------------------------------------------------------------------- batch
with tab_batch:
    table: LoadedTable | None = table_input("sentiment", samples=sample_tables())
    if table is not None:
        df = table.frame
        table_id = (table.name, table.n_bytes, table.sheet, df.shape)
        if st.session_state.get("sent_table_id") != table_id:  # a new file: forget the old file's choices
            forget("sent_textcol", "sent_labelcol", "sent_nrows")
            st.session_state["sent_table_id"] = table_id
        guess = guess_columns(df)
        text_cols = guess.text_columns
        if not text_cols:
            st.error("This table has no text column. Pick a file with a column of messages or reviews.",
                     icon=":material/error:")
        else:
            default_text = guess.text
            c1, c2, c3 = st.columns(3)
            text_col = c1.selectbox("Text column", text_cols,
                                    key=keep("sent_textcol", default=default_text, options=text_cols))
            label_opts = ["(none)", *[c for c in df.columns if c != text_col]]
            default_label = guess.label if guess.label is not None and guess.label != text_col else "(none)"
            label_col = c2.selectbox("Label column (optional, for accuracy)", label_opts,
                                     key=keep("sent_labelcol", default=default_label, options=label_opts),
                                     help="Values such as positive/negative/neutral/mixed (none = neutral).")
            n_rows = int(c3.number_input(
                "Rows to analyse", min_value=1, max_value=len(df), step=100,
                key=keep("sent_nrows", default=len(df) if len(df) <= WHOLE_FILE_MAX_ROWS else DEFAULT_BATCH_ROWS,
                         options=range(1, len(df) + 1))))
            c4, c5 = st.columns(2)
            batch_lang = c4.selectbox("Language", LANG_OPTIONS, format_func=lang_label,
                                      key=keep("sent_batch_lang", default="auto", options=LANG_OPTIONS))
            batch_backends = c5.multiselect("Backends", available, format_func=backend_label,
                                            key=keep("sent_batch_backends", default=default_batch, options=available),
                                            help="Choose two to compare them row by row.")
            texts = df[text_col].head(n_rows).tolist()
            label_error = None
            if label_col != "(none)":
                try:
                    normalize_labels(df[label_col].head(n_rows).tolist())
                except CrossroadsError as exc:
                    label_error = exc
                    show_error(exc)
            for name in batch_backends:
                if SPECS[name].supports("cost_estimate"):
                    try:
                        st.info(SPECS[name].estimate(texts, language=batch_lang).describe(),
                                icon=":material/payments:")
                    except CrossroadsError as exc:
                        show_error(exc)
            sig = hashlib.sha256(repr((table.name, table.n_bytes, text_col, n_rows, batch_lang,
                                       tuple(batch_backends))).encode()).hexdigest()
            run = st.button(f"Analyse {n_rows:,} rows", type="primary", icon=":material/play_arrow:",
                            key="sent_batch_go", disabled=not batch_backends or label_error is not None)
            if run:
                runs = {}
                for name in batch_backends:
                    bar = st.progress(0.0, text=f"{backend_label(name)}: starting...")
                    step = max(1, n_rows // 100)

                    def progress(done: int, total: int, bar=bar, name=name, step=step) -> None:
                        if done % step == 0 or done == total:
                            bar.progress(done / total, text=f"{backend_label(name)}: {done:,}/{total:,} texts")

                    try:
                        runs[name] = cs.analyze_batch(texts, language=batch_lang, backend=get_backend(name),
                                                      progress=progress)
                    except Exception as exc:  # noqa: BLE001
                        show_error(exc, what=f"{backend_label(name)} batch")
                        continue
                    bar.progress(1.0, text=f"{backend_label(name)}: {runs[name].n_done:,} of {n_rows:,} texts in "
                                           f"{runs[name].seconds:.1f} s")
                st.session_state["sent_batch"] = {"sig": sig, "runs": runs, "text_col": text_col,
                                                  "label_col": label_col, "n_rows": n_rows}
            state = st.session_state.get("sent_batch")
            if state and state["sig"] == sig and state["runs"]:
                runs = state["runs"]
                base = df.head(state["n_rows"])[[text_col] + ([label_col] if label_col != "(none)" else [])]
                base = base.reset_index(drop=True)
                frames = {}
                for name, batch in runs.items():
                    rate = batch.n_done / batch.seconds if batch.seconds else float("nan")
                    st.markdown(f"**{backend_label(name)}**: {batch.n_done:,} of {len(batch.results):,} rows in "
                                f"{batch.seconds:.2f} s ({rate:,.0f} texts/s), {len(batch.errors):,} row errors.")
                    if batch.error:
                        st.error(f"The batch stopped early; the rows done are kept below. {batch.error}",
                                 icon=":material/error:")
                    if batch.errors:
                        with st.expander(f"{backend_label(name)}: {len(batch.errors):,} rows failed — show them "
                                         "and why", icon=":material/error:"):
                            idx = sorted(batch.errors)
                            st.dataframe(pd.DataFrame({"row": [i + 1 for i in idx],
                                                       text_col: [base.at[i, text_col] for i in idx],
                                                       "reason": [batch.errors[i] for i in idx]}),
                                         hide_index=True, key=f"sent_errors_{name}")
                            st.caption("Row numbers count data rows from 1. The other rows' results are below.")
                    frames[name] = pd.DataFrame(batch.to_rows())
                counts = pd.DataFrame([{"backend": backend_label(n), "Sentiment": lab, "rows": c}
                                       for n, b in runs.items()
                                       for lab, c in Counter(r.sentiment for r in b.results if r).items()])
                if not counts.empty:
                    fig = px.bar(counts, x="Sentiment", y="rows", color="Sentiment", facet_col="backend",
                                 color_discrete_map=COLORS, category_orders={"Sentiment": list(cs.LABELS)},
                                 text="rows", title="Label distribution")
                    fig.update_layout(height=320, showlegend=False, margin=dict(t=60, b=10))
                    fig.for_each_annotation(lambda a: a.update(text=a.text.split("=", 1)[-1]))  # not "backend=..."
                    st.plotly_chart(fig, key="sent_dist")
                if label_col != "(none)":
                    mcols = st.columns(len(runs))
                    for col, (name, batch) in zip(mcols, runs.items()):
                        with col:
                            try:
                                ev = evaluate(base[label_col].tolist(),
                                              [r.sentiment if r else None for r in batch.results])
                            except CrossroadsError as exc:
                                show_error(exc)
                                continue
                            st.subheader(f"{backend_label(name)} vs '{label_col}'")
                            m1, m2, m3 = st.columns(3)
                            lo, hi = ev.accuracy_ci
                            m1.metric("Accuracy", f"{ev.accuracy:.3f}",
                                      help=f"95% Wilson interval {lo:.3f}-{hi:.3f} over {ev.n:,} rows.")
                            m2.metric("Macro F1", f"{ev.macro_f1:.3f}")
                            m3.metric("Rows compared", f"{ev.n:,}")
                            cm = ev.confusion
                            heat = px.imshow(cm.values, x=list(cm.columns), y=list(cm.index), text_auto=True,
                                             color_continuous_scale="Blues", aspect="auto",
                                             labels=dict(x="predicted", y="reference", color="rows"))
                            heat.update_layout(height=330, margin=dict(t=30, b=10), title="Confusion matrix")
                            st.plotly_chart(heat, key=f"sent_cm_{name}")
                            st.dataframe(ev.per_label.round(3), key=f"sent_pl_{name}")
                if len(frames) >= 2:
                    first, second = list(frames)[:2]
                    agree = agreement(frames[first]["Sentiment"].tolist(), frames[second]["Sentiment"].tolist())
                    st.subheader(f"{backend_label(first)} vs {backend_label(second)}")
                    lo, hi = agree.ci
                    st.metric("Agreement", f"{agree.rate:.1%}",
                              help=f"Share of the {agree.n:,} rows analysed by both where the labels are the same "
                                   f"(95% Wilson interval {lo:.1%}-{hi:.1%}).")
                    dis = base.iloc[agree.disagree].assign(
                        **{first: frames[first]["Sentiment"].iloc[agree.disagree].values,
                           second: frames[second]["Sentiment"].iloc[agree.disagree].values})
                    st.markdown(f"**{len(dis):,} rows where they disagree**")
                    # data rows numbered from 1, as in the error list
                    st.dataframe(dis.set_axis(pd.Index([i + 1 for i in agree.disagree], name="row")),
                                 key="sent_disagree")
                if len(frames) == 1:
                    (name, fr), = frames.items()
                    out = pd.concat([base, fr], axis=1)
                else:
                    out = pd.concat([base] + [fr.add_prefix(f"{name}_") for name, fr in frames.items()], axis=1)
                st.subheader("Results")
                # rows numbered from 1, like the failed-rows list above and the CLI
                st.dataframe(out.set_axis(pd.RangeIndex(1, len(out) + 1, name="row")), key="sent_table")
                download_buttons(out, "sentiment_results", key="sent_dl")
            elif not run:
                st.caption("Choose the columns, then press **Analyse**. Results stay here while you explore them.")
            # large files: an asynchronous Amazon Comprehend job (pages/_aws.py)
            render_comprehend_job(df, text_col, None if label_col == "(none)" else label_col, language=batch_lang,
                                  profile=st.session_state.get("aws_profile") or None,
                                  region=st.session_state.get("aws_region") or None)
