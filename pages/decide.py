"""Decide page: a measured bake-off of a trained classifier vs an LLM vs the hybrid, and a verdict.

Thin page: loading, splitting, the arms, the metrics, the verdict and the
report are :mod:`core.decide`; this file renders them. The run happens in a
background thread (:class:`core.decide.run.BackgroundRun`), so the progress
bar updates, Stop works, and the run and its results survive a visit to
another page (they live in ``st.session_state``).
"""

from __future__ import annotations

import json
import os

import pandas as pd
import streamlit as st

from core.arena.classifier import sample_queries_path
from core.arena.providers import PROVIDERS
from core.decide import (ARM_NAMES, ARMS, BackgroundRun, BakeoffConfig, Constraints, analyse, load_bakeoff_data,
                         plan_bakeoff, report_html, report_markdown)
from core.decide import charts
from core.decide.recommend import MIN_LANGUAGE_ROWS
from core.decide.report import LANGUAGE_NAMES, check_context
from core.errors import CrossroadsError
from core.export import to_csv_bytes, to_json_bytes
from core.io import LoadedTable, load_table
from pages._aws import render_bedrock_batch
from pages._providers import get_provider, provider_statuses, response_cache
from pages._shared import deployment_inputs, ensure_navigation, show_error, table_input
from pages._state import keep

ensure_navigation()

TEXT_GUESSES = ("text", "query", "utterance", "message", "text_ja", "sentence")
LABEL_GUESSES = ("label", "category", "intent", "topic", "class", "target")
SPLITS = {"share": "Hold out a share of the rows", "rows": "Hold out a number of rows",
          "file": "A separate test file", "column": "A split column in the table"}
JOB, RESULT, PLAN = "decide_job", "decide_result", "decide_plan"


# ----------------------------------------------------------------------------- cached work
@st.cache_data(show_spinner=False)
def load_sample() -> LoadedTable:
    return load_table(sample_queries_path())


@st.cache_data(show_spinner="Checking and splitting the data...", max_entries=6)
def prepare_data(frame: pd.DataFrame, name: str, text_col: str, label_col: str, test_frame: pd.DataFrame | None,
                 test_name: str, how: str, test_share: float, n_test: int, split_col: str, train_value: str,
                 test_value: str, drop_rare: bool, seed: int):
    source = LoadedTable(frame=frame, name=name, file_format="table")
    kwargs: dict = dict(seed=seed, drop_rare=drop_rare)
    if how == "share":
        kwargs["test_size"] = test_share
    elif how == "rows":
        kwargs["n_test"] = n_test
    elif how == "file":
        kwargs["test_source"] = LoadedTable(frame=test_frame, name=test_name, file_format="table")
        kwargs["n_test"] = n_test or None
    else:
        kwargs.update(split_column=split_col, train_value=train_value, test_value=test_value, n_test=n_test or None)
    return load_bakeoff_data(source, text_col, label_col, **kwargs)


def guess(columns: list[str], names: tuple[str, ...], fallback: int) -> str:
    lower = [c.lower() for c in columns]
    for n in names:
        if n in lower:
            return columns[lower.index(n)]
    return columns[min(fallback, len(columns) - 1)]


def usd(x) -> str:
    if x is None:
        return "–"
    return "$0" if x == 0 else (f"${x:,.2f}" if x >= 0.1 else f"${x:,.4f}")


def num(x, decimals: int) -> str:
    """A count for the arms table, or "–" when the arm has none (the classifier sends no tokens)."""
    return "–" if x is None or x != x else f"{x:,.{decimals}f}"


def ci(est: dict) -> str:
    return f"{est['value']:.1%} [{est['low']:.1%}, {est['high']:.1%}]"


# ----------------------------------------------------------------------------- page
st.title("Decide", anchor=False)
st.markdown(
    "**Which should handle your traffic: a trained classifier, an LLM, or the hybrid of the two?** "
    "Crossroads splits your labelled queries once, trains the classifier on one part, and scores every option on "
    "the same held-out rows: accuracy with confidence intervals, latency, cost per 1,000 queries. Then it gives "
    "a verdict that follows written rules and cites the numbers, or says there is not enough evidence.")

job: BackgroundRun | None = st.session_state.get(JOB)
if job is not None and job.done:  # a finished background run: keep its result (or its error) and forget the job
    if job.error is not None:
        st.session_state["decide_error"] = job.error
    else:
        st.session_state[RESULT] = job.result
    del st.session_state[JOB]
    job = None
running = job is not None
restored = st.session_state.pop("decide_restored", None)  # a bake-off from an opened workspace (pages/_workspace.py)
if restored is not None and not running:
    st.session_state[RESULT] = restored["result"]
    cons = (restored.get("record") or {}).get("constraints") or {}
    for key, field, scale in (("decide_volume", "volume_per_month", 1), ("decide_latency", "p95_latency_ms", 1),
                              ("decide_min_acc", "min_accuracy", 100), ("decide_budget", "budget_usd_per_month", 1)):
        if field in cons:
            st.session_state[key] = (cons[field] or 0) * scale
    if "explainable" in cons:
        st.session_state["decide_explainable"] = bool(cons["explainable"])
    check = restored.get("check")
    st.session_state["decide_restored_note"] = (
        f"Opened from a workspace: a bake-off on {restored['result'].n_test:,} test rows; the classifier was rebuilt "
        "from the saved training rows" + (" and predicts the same." if check is None or check.matches else
                                          ": " + "; ".join(check.differences)))

# --- 1. data -----------------------------------------------------------------------------
st.header("1 · Your labelled data", anchor=False)
table = table_input("decide_data", samples={"Support queries (EN/JA, 400 rows, 8 categories)": load_sample},
                    upload_help="A table with one query per row and its category: CSV, TSV, Excel, Parquet or "
                                "JSON Lines. Your file is only read, never changed.")
if table is None:
    st.stop()
cols = [str(c) for c in table.frame.columns]
if len(cols) < 2:
    st.error("The table needs at least two columns: the query text and its category.", icon=":material/error:")
    st.stop()
c1, c2 = st.columns(2)
text_col = c1.selectbox("Text column (the query)", cols,
                        key=keep("decide_text_col", default=guess(cols, TEXT_GUESSES, 0), options=cols))
label_col = c2.selectbox("Label column (the category)", cols,
                         key=keep("decide_label_col", default=guess(cols, LABEL_GUESSES, 1), options=cols))
c1, c2, c3 = st.columns([2, 2, 1])
how = c1.radio("Test rows", list(SPLITS), format_func=SPLITS.get, key=keep("decide_split", default="share"),
               help="Every option is scored on the same test rows; the classifier never trains on them.")
test_share, n_test, split_col, train_value, test_value = 0.2, 0, "", "train", "test"
test_frame, test_name = None, ""
if how == "share":
    test_share = c2.slider("Share held out for testing", 0.05, 0.5, step=0.05,
                           key=keep("decide_test_share", default=0.2), format="%.2f")
elif how == "rows":
    n_test = int(c2.number_input("Test rows", min_value=2, step=10, key=keep("decide_n_test", default=100)))
elif how == "file":
    n_test = int(c2.number_input("Test rows to draw (0 = all)", min_value=0, step=50,
                                 key=keep("decide_file_n_test", default=300),
                                 help="Drawn stratified by category, with the seed below."))
    with st.container(border=True):
        st.caption("The test file (same text and label columns)")
        test_table = table_input("decide_test")
    if test_table is None:
        st.stop()
    test_frame, test_name = test_table.frame, test_table.name
else:
    split_col = c2.selectbox("Split column", cols, key=keep("decide_split_col", default=guess(cols, ("split",), 2),
                                                            options=cols))
    values = sorted(table.frame[split_col].dropna().astype(str).unique().tolist())[:50]
    s1, s2 = c2.columns(2)
    train_value = s1.selectbox("Train rows", values, key=keep("decide_train_value", default=guess(values, ("train",), 0),
                                                              options=values))
    test_value = s2.selectbox("Test rows", values, key=keep("decide_test_value", default=guess(values, ("test",), 1),
                                                            options=values))
    n_test = int(c2.number_input("Test rows to draw (0 = all)", min_value=0, step=50,
                                 key=keep("decide_col_n_test", default=300)))
seed = int(c3.number_input("Seed", min_value=0, step=1, key=keep("decide_seed", default=0),
                           help="Seed of the split, the draws and the bootstrap: the same seed gives the same run."))
drop_rare = c3.checkbox("Drop rare labels", key=keep("decide_drop_rare", default=False),
                        help="Categories with fewer than 3 rows cannot be split into train and test rows.")
try:
    data = prepare_data(table.frame, table.name, text_col, label_col, test_frame, test_name, how, float(test_share),
                        int(n_test), split_col, train_value, test_value, bool(drop_rare), seed)
except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
    show_error(exc, what="Preparing the data")
    st.stop()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Training rows", f"{data.n_train:,}")
m2.metric("Test rows", f"{data.n_test:,}")
m3.metric("Categories", len(data.labels))
m4.metric("Languages (test rows)", ", ".join(f"{k} {v}" for k, v in data.languages().items()) or "–")
st.caption(data.split.describe() + (" " + " ".join(data.notes) if data.notes else ""))

# --- 2. provider ---------------------------------------------------------------------------
st.header("2 · Arms, provider and model", anchor=False)
arms = st.multiselect("Arms to compare", list(ARMS), format_func=ARM_NAMES.get,
                      key=keep("decide_arms", default=list(ARMS), options=list(ARMS)))
if not arms:
    st.info("Choose at least one arm.", icon=":material/info:")
    st.stop()
need_llm = any(a != "classifier" for a in arms)
provider, status = None, None
with st.expander("Provider settings", icon=":material/settings:"):
    p1, p2, p3 = st.columns(3)
    region = p1.text_input("AWS region for Bedrock", key=keep("decide_region", default=os.environ.get("AWS_REGION", "")),
                           placeholder="default from your AWS config",
                           help="Credentials come only from boto3's default chain; they are never shown or stored.")
    base_url, model_path = deployment_inputs(p2, p3, key="decide")  # CROSSROADS_ALLOWED_* on a shared deployment
    if st.button("Check providers again", icon=":material/refresh:", key="decide_recheck"):
        provider_statuses.clear()
if need_llm:
    statuses = provider_statuses(region, base_url, model_path, tuple(PROVIDERS))
    available = [s for s in statuses if s.available]
    if not available:
        st.error("No LLM provider is available: " + " ".join(f"{PROVIDERS[s.name].label}: {s.reason}" for s in statuses)
                 + " You can still run the classifier arm alone.", icon=":material/error:")
        st.stop()
    names = [s.name for s in available]
    q1, q2 = st.columns([1, 2])
    prov_name = q1.selectbox("Provider", names, format_func=lambda n: PROVIDERS[n].label,
                             key=keep("decide_provider", default=names[0], options=names))
    status = next(s for s in available if s.name == prov_name)
    models = status.models or [""]
    model = q2.selectbox("Model", models, key=keep(f"decide_model_{prov_name}", default=models[0], options=models))
    try:
        provider = get_provider(prov_name, model, region, base_url, model_path)
    except Exception as exc:  # noqa: BLE001
        show_error(exc, what="Preparing the provider")
        st.stop()
    if getattr(provider, "is_base_model", False):
        st.info(f"**A tiny base model.** {provider.description} Expect it to score low: that is a measurement, "
                "not a bug.", icon=":material/info:")
with st.expander("Arm settings", icon=":material/tune:"):
    a1, a2, a3, a4 = st.columns(4)
    k_examples = int(a1.number_input("Few-shot examples per query", 1, 10, key=keep("decide_k", default=4),
                                     help="The most similar training queries, by the classifier's own TF-IDF."))
    top_k = int(a2.number_input("Hybrid: classifier candidates", 2, 10, key=keep("decide_top_k", default=3),
                                help="Below the threshold, the LLM chooses among this many of the classifier's "
                                     "most likely categories."))
    hybrid_examples = a3.checkbox("Hybrid: one example per candidate", key=keep("decide_hyb_ex", default=False),
                                  help="The most similar training query of each candidate, as a worked example. "
                                       "Off by default: it made the small embedded model less accurate and slower.")
    use_cache = a4.checkbox("Reuse cached answers", key=keep("decide_use_cache", default=True),
                            help="A rerun, or a run resumed after Stop, pays nothing twice.")

# --- 3. constraints ------------------------------------------------------------------------
st.header("3 · Your constraints", anchor=False)
langs_in_data = list(data.languages())
# default: the languages with enough test rows to be judged (a stray misdetected row is not a language you serve)
served_default = [x for x, n in data.languages().items() if x != "und" and n >= MIN_LANGUAGE_ROWS] or \
    [x for x in langs_in_data[:1] if x != "und"]
k1, k2, k3, k4 = st.columns(4)
volume = k1.number_input("Queries per month", min_value=0, step=10_000, key=keep("decide_volume", default=100_000))
latency = k2.number_input("p95 latency budget (ms)", min_value=0, step=100, key=keep("decide_latency", default=1000),
                          help="0 = no limit.")
min_acc = k3.number_input("Minimum accuracy (%)", min_value=0.0, max_value=100.0, step=1.0,
                          key=keep("decide_min_acc", default=80.0), help="0 = no minimum: the most accurate wins.")
budget = k4.number_input("Monthly budget (USD)", min_value=0.0, step=50.0, key=keep("decide_budget", default=500.0),
                         help="0 = no limit.")
e1, e2 = st.columns([1, 3])
explainable = e1.checkbox("Decisions must be auditable", key=keep("decide_explainable", default=False),
                          help="Each decision must be explainable to an auditor. This rules out the LLM alone (its "
                               "choice cannot be traced to the input); the hybrid stays, with the share of decisions "
                               "its LLM makes stated.")
lang_options = sorted(set(langs_in_data) | set(LANGUAGE_NAMES) - {"und"})
languages = e2.multiselect("Languages you serve", lang_options, format_func=lambda c: LANGUAGE_NAMES.get(c, c),
                           key=keep("decide_languages", default=served_default, options=lang_options),
                           help=f"Each language you serve needs at least {MIN_LANGUAGE_ROWS} test rows for a verdict. "
                                "Detected in the test rows: " + ", ".join(f"{k} {v}" for k, v in data.languages().items()))
constraints = Constraints(volume_per_month=float(volume) or None, p95_latency_ms=float(latency) or None,
                          min_accuracy=(float(min_acc) / 100.0) or None, budget_usd_per_month=float(budget) or None,
                          explainable=bool(explainable), languages=tuple(languages))

# --- 4. run ----------------------------------------------------------------------------------
st.header("4 · Run the bake-off", anchor=False)
config = BakeoffConfig(arms=tuple(arms), k_examples=k_examples, top_k=top_k, hybrid_examples=bool(hybrid_examples),
                       seed=seed)
plan_key = json.dumps([data.summary()["split"], data.name, data.test_texts[:3], len(data.test_texts),
                       getattr(provider, "name", ""), getattr(provider, "model_id", ""), config.to_dict(),
                       bool(use_cache)], default=str, sort_keys=True)
stored = st.session_state.get(PLAN)
plan = stored[1] if stored and stored[0] == plan_key else None


def batch_panel(plan, plan_key: str, provider) -> None:
    """'Run the LLM arms as a Bedrock batch job': the plan's own prompts as batch records (half price)."""
    from core.aws.bedrock_batch import DEFAULT_MODEL_ID
    from core.decide.batch import batch_records, use_batch_answers

    model_id = provider.model_id if getattr(provider, "name", "") == "bedrock" else DEFAULT_MODEL_ID
    built = st.session_state.get("decide_batch_records")
    if not built or built[0] != (plan_key, model_id):
        try:
            built = ((plan_key, model_id), *batch_records(plan, model_id))
        except Exception as exc:  # noqa: BLE001 - e.g. a model without tool use
            show_error(exc, what="Building the Bedrock batch records")
            return
        st.session_state["decide_batch_records"] = built
    _, records, rows = built

    def use_answers(res) -> None:
        """A fetched job's answers become this plan's cached calls: 'Run the bake-off' then sends nothing."""
        job_model = res.record.meta.get("model_id", "") or res.summary.get("model_id", "")
        if st.button("Use these answers in the bake-off", icon=":material/input:", key="decide_batch_use",
                     help="Each answer is stored as the call it was built from; then 'Run the bake-off' computes "
                          "the same metrics and report with no call sent (records without an answer are asked "
                          "on demand)."):
            try:
                n = use_batch_answers(plan, res.table, job_model)
                st.success(f"{n['stored']:,} answers stored for this bake-off"
                           + (f"; {n['missing']:,} records had none and will be asked on demand" if n["missing"] else "")
                           + ". Press 'Run the bake-off'.", icon=":material/check_circle:")
            except Exception as exc:  # noqa: BLE001
                show_error(exc, what="Using the batch answers")

    render_bedrock_batch(records, rows=rows, labels=list(plan.data.labels), model_id=model_id, key="decide_batch",
                         title=f"Or run the LLM arms as a Bedrock batch job ({len(records):,} records, half price)",
                         on_result=use_answers)


@st.fragment(run_every=1.0)
def show_progress() -> None:
    j: BackgroundRun | None = st.session_state.get(JOB)
    if j is None:
        return
    if j.done:
        st.rerun()  # the page keeps the result and draws it
    p = j.progress
    frac = p.fraction if p else 0.0
    eta = f" · about {p.eta_seconds / 60:.1f} min left" if p and p.eta_seconds else ""
    text = (p.message if p else "Starting...") + (f" · {p.done}/{p.total} LLM calls" if p and p.total else "") + eta
    st.progress(frac, text=("Stopping after the current call... " if j.stopping else "") + text)
    if p and (p.cached or p.failed):
        st.caption(f"{p.cached} answers from the cache (free) · {p.failed} failed call(s), recorded on their rows")
    st.button("Stop", icon=":material/stop_circle:", key="decide_stop", disabled=j.stopping, on_click=j.stop,
              help="End after the current call and keep everything that finished.")


if running:
    st.info("The bake-off is running. You can visit other pages: it goes on, and the results wait here.",
            icon=":material/hourglass_top:")
    show_progress()
else:
    if st.session_state.get("decide_error") is not None:
        show_error(st.session_state.pop("decide_error"), what="The bake-off")
    if plan is None:
        st.caption("First the classifier is trained and every prompt is built, so the number of calls, tokens, cost "
                   "and time are known before anything is sent to a provider.")
        if st.button("Estimate cost and time", type="primary", icon=":material/calculate:", key="decide_prepare"):
            try:
                with st.spinner("Training the classifier and building the prompts..."):
                    plan = plan_bakeoff(data, provider, config, cache=response_cache() if use_cache else None)
                st.session_state[PLAN] = (plan_key, plan)
            except Exception as exc:  # noqa: BLE001
                show_error(exc, what="Preparing the bake-off")
    if plan is not None:
        est = plan.estimate()
        if need_llm:
            (st.warning if est.paid else st.info)(
                ("**This run sends queries to a paid service.** " if est.paid else "") + est.describe(),
                icon=":material/payments:" if est.paid else ":material/info:")
            for note in plan.notes:
                st.caption(note)
        else:
            st.info(f"Classifier only: trained on {data.n_train:,} rows in {plan.fit_seconds:.1f} s; no LLM call.",
                    icon=":material/info:")
        agree = True
        if est.paid:
            agree = st.checkbox(f"I accept the estimated cost ({usd(est.cost_usd)}) of sending {sum(est.calls.values()) - sum(est.cached.values()):,} "
                                f"queries to {PROVIDERS[est.provider].label if est.provider in PROVIDERS else est.provider}.",
                                key="decide_accept")
        if st.button("Run the bake-off", type="primary", icon=":material/play_arrow:", key="decide_run",
                     disabled=not agree):
            st.session_state[JOB] = BackgroundRun(plan)
            st.session_state.pop("decide_restored_note", None)
            st.session_state.pop(PLAN, None)  # a plan runs once; a rerun re-plans (the cache makes it free)
            st.rerun()
        if plan.calls:
            batch_panel(plan, plan_key, provider)

# --- 5. results ------------------------------------------------------------------------------
result = st.session_state.get(RESULT)
if result is None:
    if not running:
        st.caption("Results appear here after a run, and stay when you visit other pages.")
    st.stop()
st.header("5 · Results", anchor=False)
if st.session_state.get("decide_restored_note"):
    st.info(st.session_state["decide_restored_note"], icon=":material/folder_open:")
try:
    analysis = analyse(result, constraints)
except Exception as exc:  # noqa: BLE001
    show_error(exc, what="Analysing the results")
    st.stop()
rec = analysis.recommendation
if result.stopped or result.aborted:
    st.warning("This run " + ("was stopped early" if result.stopped else f"ended early: {result.aborted}") +
               "; each arm is scored on the rows it answered (n below).", icon=":material/warning:")
box = st.success if rec.verdict != "not_enough_evidence" else st.warning
box(f"### Recommendation: {rec.headline}\n" + "\n".join(f"- {r}" for r in rec.reasons),
    icon=":material/verified:" if rec.verdict != "not_enough_evidence" else ":material/help:")
if rec.resolve:
    st.markdown(("**What would settle it**" if rec.verdict == "not_enough_evidence" else "**Next steps**") + "\n"
                + "\n".join(f"{i + 1}. {r}" for i, r in enumerate(rec.resolve)))
st.caption(f"Data: {result.data['name']} · {result.data['split_description']} · provider: "
           f"{result.provider.get('label') or 'none'} {result.provider.get('model_id') or ''} · "
           f"run {result.created} in {result.wall_seconds:,.0f} s. Change the constraints above: the verdict updates "
           "without calling any model again.")

rows = []
for a in analysis.arms.values():
    rows.append({"arm": a["name"] + (f" (τ = {a['tau']:.2f})" if a.get("tau") is not None else ""),
                 "accuracy [95% CI]": ci(a["accuracy"]), "macro F1 [95% CI]": ci(a["macro_f1"]), "n": a["n"],
                 "p50 ms": a["latency_ms"]["p50"], "p95 ms": a["latency_ms"]["p95"],
                 "tokens in": num(a["input_tokens_mean"], 0), "tokens out": num(a["output_tokens_mean"], 1),
                 "USD / 1k (batch)": usd(a["cost_per_1k"]) + (f" ({usd(a['batch_per_1k'])})"
                                                              if a.get("batch_per_1k") is not None else ""),
                 "to LLM": "–" if a.get("llm_share") is None else f"{a['llm_share']:.0%}",
                 "invalid output": a["invalid"], "failed": a.get("failed", 0)})
arms_table = pd.DataFrame(rows)
if not arms_table["failed"].any():  # a column of zeros only widens the table
    arms_table = arms_table.drop(columns=["failed"])
st.dataframe(arms_table, hide_index=True, width="stretch",
             column_config={"p50 ms": st.column_config.NumberColumn(format="%.0f"),
                            "p95 ms": st.column_config.NumberColumn(format="%.0f"),
                            "n": st.column_config.NumberColumn(width="small"),
                            "failed": st.column_config.NumberColumn(width="small")})
st.caption("USD per 1,000 queries on demand, and in brackets with Bedrock batch inference (50% off) where the "
           "provider offers it.")
t1, t2, t3, t4, t5 = st.tabs(["Accuracy", "Hybrid cascade", "Learning curve", "Latency", "Details"])
with t1:
    st.plotly_chart(charts.arms_chart(analysis), width="stretch", key="decide_chart_arms")
with t2:
    if analysis.cascade.get("points"):
        g1, g2 = st.columns(2)
        g1.plotly_chart(charts.cascade_chart(analysis, x="share_llm"), width="stretch", key="decide_chart_share")
        g2.plotly_chart(charts.cascade_chart(analysis, x="cost_per_1k"), width="stretch", key="decide_chart_cost")
        ch = analysis.cascade.get("chosen")
        if ch:
            st.caption(f"Marked: τ = {ch['tau']:.2f}, {ch['share_llm']:.0%} of queries to the LLM, accuracy "
                       f"{ch['accuracy']:.1%}, {usd(ch['cost_per_1k'])} per 1,000 queries. " + analysis.caveats[0])
    else:
        st.info("The hybrid arm was not run.", icon=":material/info:")
with t3:
    st.plotly_chart(charts.learning_chart(result), width="stretch", key="decide_chart_learning")
    st.caption("The same test rows, the classifier trained on 10%, 25%, 50% and 100% of the training rows: if the "
               "curve still rises at the right, more labelled data should help.")
with t4:
    st.plotly_chart(charts.latency_chart(analysis), width="stretch", key="decide_chart_latency")
with t5:
    if analysis.comparisons:
        st.markdown("**Paired comparisons** (A − B on the same rows, percentage points, paired bootstrap 95% CI; "
                    "McNemar's exact test)")
        st.dataframe(pd.DataFrame([{
            "A": ARM_NAMES[c["a"]], "B": ARM_NAMES[c["b"]], "n": c["n"],
            "accuracy diff": f"{c['accuracy_diff']['value'] * 100:+.1f} [{c['accuracy_diff']['low'] * 100:+.1f}, "
                             f"{c['accuracy_diff']['high'] * 100:+.1f}]",
            "McNemar p": f"{c['mcnemar']['p_value']:.3g}" if c["mcnemar"] else "–"} for c in analysis.comparisons]),
            hide_index=True, width="stretch")
        st.caption("McNemar's test is run for the trained classifier against each other arm (the question the "
                   "verdict asks); the other pairs show the paired interval only (–).")
    proj = {ARM_NAMES[a]: m["projection"] for a, m in analysis.arms.items() if m.get("projection")}
    if proj:
        st.markdown("**What the LLM arms would cost on Claude** (this run's token counts, prices from "
                    f"{result.prices['source']} retrieved {result.prices['retrieved']}; an order of magnitude)")
        first = next(iter(proj.values()))
        st.dataframe(pd.DataFrame([{"model": p["model"], **{f"{name} USD / 1k": usd(v[i]["per_1k"])
                                                           for name, v in proj.items()}}
                                   for i, p in enumerate(first)]), hide_index=True, width="stretch")
    for a in analysis.arms.values():
        with st.expander(f"{a['name']}: weakest categories, confusions and invalid outputs"):
            st.dataframe(pd.DataFrame(a["per_class"][:10]), hide_index=True, width="stretch")
            if a["confused"]:
                st.dataframe(pd.DataFrame(a["confused"]), hide_index=True, width="stretch")
            if a.get("invalid_examples"):
                st.dataframe(pd.DataFrame(a["invalid_examples"]), hide_index=True, width="stretch")
    if rec.caveats:
        st.markdown("**What these numbers do not cover**\n" + "\n".join(f"- {c}" for c in rec.caveats))

st.subheader("Report", anchor=False)
context = None
arena_eval = st.session_state.get("arena_eval") or {}
if arena_eval.get("summary"):
    s = arena_eval["summary"]
    if st.checkbox(f"Include “Does context help on your data?”: the Prompt Arena's evaluation of this session "
                   f"({s.get('n_queries', '?')} queries, {s.get('model_id') or s.get('provider') or 'LLM'})",
                   key=keep("decide_use_arena_eval", default=True)):
        context = s
else:
    with st.expander("Add “Does context help on your data?” from a Prompt Arena evaluation (optional)"):
        st.caption("Run the batch evaluation on the Prompt Arena page in this session, or upload the JSON it "
                   "downloads.")
        up = st.file_uploader("Evaluation summary (JSON, from the Prompt Arena's batch evaluation)", type=["json"],
                              key="decide_context_upload")
        if up is not None:
            try:
                context = check_context(json.loads(up.getvalue().decode("utf-8")))
                st.caption("The report will include it.")
            except (ValueError, CrossroadsError) as exc:
                show_error(exc, what="Reading the summary")
base = f"bakeoff_{os.path.splitext(result.data['name'])[0] or 'data'}"
d1, d2, d3, d4 = st.columns(4)
d1.download_button("HTML report", lambda: report_html(result, analysis, context=context).encode("utf-8"),
                   f"{base}.html", "text/html", key="decide_dl_html", icon=":material/download:", on_click="ignore",
                   help="Self-contained: opens offline, charts included.")
d2.download_button("Markdown report", lambda: report_markdown(result, analysis, context=context).encode("utf-8"),
                   f"{base}.md", "text/markdown", key="decide_dl_md", icon=":material/download:", on_click="ignore")
d3.download_button("JSON", lambda: to_json_bytes({"result": result.to_dict(), "analysis": analysis.to_dict()}),
                   f"{base}.json", "application/json", key="decide_dl_json", icon=":material/download:",
                   on_click="ignore")
d4.download_button("Per-row CSV", lambda: to_csv_bytes(result.rows_frame()), f"{base}_rows.csv", "text/csv",
                   key="decide_dl_csv", icon=":material/download:", on_click="ignore")
