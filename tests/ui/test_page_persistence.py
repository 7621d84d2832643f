"""Work that lasts (AppTest on the whole app): choices and results survive page changes, uploads are offered on
other pages, and a saved workspace reopens every page in a fresh session."""

from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")
DM, SENT, ARENA, HOME = "pages/data_models.py", "pages/sentiment.py", "pages/prompt_arena.py", "pages/home.py"
HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None


def app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ok(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def board(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Model" in getattr(d.value, "columns", []))


def small_csv() -> bytes:
    rng = np.random.default_rng(4)
    x = rng.normal(size=160)
    df = pd.DataFrame({"x": x, "noise": rng.normal(size=160), "colour": rng.choice(["red", "blue"], 160),
                       "label": np.where(x > 0, "up", "down")})
    return df.to_csv(index=False).encode()


def run_comparison(at: AppTest, models: list[str], folds: int = 3) -> AppTest:
    key = next(w.key for w in at.multiselect if w.key.startswith("dm_models_"))
    at.multiselect(key=key).set_value(models)
    at.number_input(key="dm_folds").set_value(folds)
    at.button(key="dm_run").click()
    return ok(at)


# ------------------------------------------------------------------ Data & Models

@pytest.mark.shared
def test_data_models_c01_walk_keeps_upload_choices_and_results(shared_data):
    """The issue's first walk: upload c01.csv, leave the leaking columns out, run, open Sentiment, come back."""
    at = go(app(), DM)
    at.radio(key="dm_source").set_value("Upload a file")
    ok(at)
    at.file_uploader(key="dm_upload").set_value(("c01.csv", (shared_data / "ja_estat_population_sjis" /
                                                             "c01.csv").read_bytes(), "text/csv"))
    ok(at)
    assert at.selectbox(key="dm_target").value == "人口（女）"
    run_comparison(at, ["linear", "dummy"])  # as the issue found it: a leaked R² 1.000 and a warning
    assert any("'人口（総数）' is almost the target itself" in w.value and "untick 'use'" in w.value
               for w in at.warning)
    assert board(at)["R² ↑"][0].startswith("1.000")
    names = list(at.data_editor[0].value["name"])
    at.session_state["dm_use_0"] = {"edited_rows": {names.index("人口（総数）"): {"use": False},
                                                    names.index("人口（男）"): {"use": False}},
                                    "added_rows": [], "deleted_rows": []}
    ok(at)
    assert at.session_state["dm_exclude"] == ["人口（総数）", "人口（男）"]
    table = at.data_editor[0].value.set_index("name")
    assert table.loc["人口（総数）", "action"] == "dropped" and table.loc["人口（総数）", "use"] == False  # noqa: E712
    run_comparison(at, ["linear", "dummy"])
    assert not any("almost the target" in w.value for w in at.warning)  # the leak is gone...
    r2 = float(board(at)["R² ↑"][0].split(" ± ")[0])
    assert r2 < 0.999  # ...and so is the leaked R² 1.000
    result = next(iter(at.session_state["dm_results"].values()))

    go(at, SENT)
    go(at, DM)
    assert any(c.value.startswith("Using **c01.csv** (uploaded earlier") for c in at.caption)
    assert at.selectbox(key="dm_target").value == "人口（女）"
    assert at.session_state["dm_exclude"] == ["人口（総数）", "人口（男）"]
    assert at.number_input(key="dm_max_rows").value == 980  # every row, not the 569 of the sample shown first
    assert not any("random sample" in w.value for w in at.warning)
    assert at.multiselect(key="dm_models_regression").value == ["linear", "dummy"]
    assert at.number_input(key="dm_folds").value == 3
    assert not any("settings changed" in i.value for i in at.info)
    assert at.success and "Best model" in at.success[0].value
    assert next(iter(at.session_state["dm_results"].values())) is result  # kept, not re-trained
    assert float(board(at)["R² ↑"][0].split(" ± ")[0]) == r2


def test_data_models_sample_hyperparameters_and_results_survive_home_and_back():
    at = go(app(), DM)
    at.selectbox(key="dm_sample").set_value("Wine cultivars (3 classes, 178 rows, scikit-learn)")
    ok(at)
    at.number_input(key="dm_hp_classification_linear_C").set_value(0.5)
    at.number_input(key="dm_max_rows").set_value(150)
    run_comparison(at, ["linear", "dummy"], folds=4)
    before = board(at)
    go(at, HOME)
    assert any("**Data & Models**: 2 models compared to predict 'target'" in m.value for m in at.markdown)
    go(at, DM)
    assert at.selectbox(key="dm_sample").value.startswith("Wine cultivars")
    assert at.number_input(key="dm_hp_classification_linear_C").value == 0.5
    assert at.number_input(key="dm_max_rows").value == 150 and at.number_input(key="dm_folds").value == 4
    pd.testing.assert_frame_equal(board(at), before)
    assert not any("settings changed" in i.value for i in at.info)


def test_rows_to_use_starts_from_the_new_table_not_the_previous_one():
    """A kept 'Rows to use at most' belongs to its table: after the 569-row sample, an 800-row upload uses 800."""
    at = go(app(), DM)
    assert at.number_input(key="dm_max_rows").value == 569  # breast cancer sample
    rng = np.random.default_rng(5)
    big = pd.DataFrame({"x": rng.normal(size=800), "y": rng.choice(["a", "b"], 800)})
    at.radio(key="dm_source").set_value("Upload a file")
    ok(at)
    at.file_uploader(key="dm_upload").set_value(("big.csv", big.to_csv(index=False).encode(), "text/csv"))
    ok(at)
    assert at.number_input(key="dm_max_rows").value == 800
    at.number_input(key="dm_max_rows").set_value(700)
    ok(at)
    go(at, HOME)
    go(at, DM)
    assert at.number_input(key="dm_max_rows").value == 700  # the user's own choice for this table is kept


# ------------------------------------------------------------------ Sentiment

def test_sentiment_single_and_batch_survive_a_page_change():
    at = go(app(), SENT)
    at.text_area(key="sent_text").input("The delivery was fast but the box was crushed.")
    at.selectbox(key="sent_lang").set_value("en")
    at.button(key="sent_go").click()
    ok(at)
    single = at.session_state["sent_single"]["local"].sentiment
    at.number_input(key="sent_nrows").set_value(16)
    at.selectbox(key="sent_batch_lang").set_value("en")
    at.button(key="sent_batch_go").click()
    ok(at)
    rows = next(d.value for d in at.dataframe if "Sentiment" in d.value.columns and len(d.value) == 16)

    go(at, HOME)
    assert any("**Sentiment**: 16 rows of 'text' analysed (local)" in m.value for m in at.markdown)
    go(at, SENT)
    assert at.text_area(key="sent_text").value == "The delivery was fast but the box was crushed."
    assert at.selectbox(key="sent_lang").value == "en"
    assert at.metric[0].label == "Sentiment" and at.metric[0].value == single
    assert at.number_input(key="sent_nrows").value == 16 and at.selectbox(key="sent_batch_lang").value == "en"
    again = next(d.value for d in at.dataframe if "Sentiment" in d.value.columns and len(d.value) == 16)
    pd.testing.assert_frame_equal(again, rows)
    assert not any("Choose the columns, then press" in c.value for c in at.caption)


# ------------------------------------------------------------------ a file uploaded on one page, used on another

def test_a_file_uploaded_in_the_arena_is_offered_in_sentiment_batch_and_kept_there():
    at = go(app(), ARENA)
    at.radio(key="arena_train_source").set_value("Upload a file")
    ok(at)
    queries = (ROOT / "data" / "support_queries.csv").read_bytes()
    at.file_uploader(key="arena_train_upload").set_value(("queries.csv", queries, "text/csv"))
    ok(at)
    assert {m.label: m.value for m in at.metric}["Training rows"] == "400"
    go(at, SENT)
    at.radio(key="sentiment_source").set_value("Upload a file")
    ok(at)
    offered = at.selectbox(key="sentiment_file")
    fid = next(o for o in offered.options if "queries.csv" in o)
    assert "Prompt Arena" in fid  # shown as "queries.csv · 46 KB · Prompt Arena"
    offered.set_value(at.session_state["arena_train_file"])
    ok(at)
    assert any(c.value.startswith("queries.csv: 400 rows") for c in at.caption)
    assert at.button(key="sent_batch_go").label == "Analyse 400 rows"
    go(at, ARENA)  # the Arena still trains on it, without a new upload
    assert {m.label: m.value for m in at.metric}["Training rows"] == "400"
    assert any(c.value.startswith("Using **queries.csv** (uploaded earlier") for c in at.caption)


@pytest.mark.shared
@pytest.mark.slow
def test_arena_banking77_classifier_survives_a_page_change(shared_data):
    at = go(app(), ARENA)
    at.radio(key="arena_train_source").set_value("Upload a file")
    ok(at)
    at.file_uploader(key="arena_train_upload").set_value(
        ("train.csv", (shared_data / "banking77" / "train.csv").read_bytes(), "text/csv"))
    ok(at)
    assert {m.label: m.value for m in at.metric}["Categories"] == "77"
    go(at, HOME)
    go(at, ARENA)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Categories"] == "77" and metrics["Training rows"] == "10,003"  # not the 8-category sample


def test_arena_query_survives_a_page_change():
    at = go(app(), ARENA)
    at.text_area(key="arena_query").input("I was charged twice for my order.")
    ok(at)
    go(at, HOME)
    go(at, ARENA)
    assert at.text_area(key="arena_query").value == "I was charged twice for my order."


def test_arena_provider_settings_survive_a_page_change():
    """Region, server URL, output length, temperature and the cache switch (they reset before keep())."""
    at = go(app(), ARENA)
    at.text_input(key="arena_region").input("eu-west-3")
    at.text_input(key="arena_base_url").input("http://127.0.0.1:9/v1")
    ok(at)
    at.number_input(key="arena_max_tokens").set_value(96)
    at.number_input(key="arena_temperature").set_value(0.7)
    at.toggle(key="arena_use_cache").set_value(False)
    ok(at)
    go(at, HOME)
    go(at, ARENA)
    assert at.text_input(key="arena_region").value == "eu-west-3"
    assert at.text_input(key="arena_base_url").value == "http://127.0.0.1:9/v1"
    assert at.number_input(key="arena_max_tokens").value == 96
    assert at.number_input(key="arena_temperature").value == pytest.approx(0.7)
    assert at.toggle(key="arena_use_cache").value is False


# ------------------------------------------------------------------ workspaces

def saved_workspace(at: AppTest) -> bytes:
    from pages._workspace import snapshot, workspace_bytes

    return workspace_bytes(snapshot(at.session_state))


def with_sidebar(at: AppTest) -> AppTest:
    """Run the main script (navigation, the workspace sidebar, then Home).

    With a ``pages/`` folder beside the main script, AppTest runs a switched-to page on its own (Streamlit's
    old multipage mode), without ``streamlit_app.py``; a real server always runs ``streamlit_app.py`` first.
    Asking for no page runs the main script again.
    """
    at._page_hash = at._finished_page_script_hash = ""
    return ok(at)


def open_in(at: AppTest, data: bytes, name: str = "work.zip") -> AppTest:
    """Upload ``data`` to the sidebar's "Open workspace" (inside its popover) and rerun."""
    with_sidebar(at)
    uploader = next(u for u in at.sidebar.get("file_uploader") if u.key.startswith("ws_open_"))
    uploader.set_value((name, data, "application/zip"))
    return with_sidebar(at)


def test_workspace_reopens_every_page_in_a_fresh_session():
    at = go(app(), DM)
    at.radio(key="dm_source").set_value("Upload a file")
    ok(at)
    at.file_uploader(key="dm_upload").set_value(("small.csv", small_csv(), "text/csv"))
    ok(at)
    at.session_state["dm_use_0"] = {"edited_rows": {1: {"use": False}}, "added_rows": [], "deleted_rows": []}
    ok(at)
    run_comparison(at, ["linear", "tree", "dummy"])
    before = board(at)
    go(at, SENT)
    at.text_area(key="sent_text").input("料理は美味しかったが、店員の態度は悪かった。")
    at.button(key="sent_go").click()
    ok(at)
    sentiment = at.session_state["sent_single"]["local"]
    data = saved_workspace(at)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "manifest.json" in names and any(n.endswith(".parquet") for n in names)

    fresh = app()  # a new browser session: nothing there
    assert "dm_results" not in fresh.session_state
    open_in(fresh, data)
    assert any("Opened **work.zip**" in s.value and "the comparison's 3 models rebuilt" in s.value
               and "hold-out results match the saved ones" in s.value for s in fresh.sidebar.success)
    go(fresh, DM)
    assert any(c.value.startswith("Using **small.csv** (uploaded earlier · from work.zip)")
               for c in fresh.caption)
    assert fresh.session_state["dm_exclude"] == ["noise"]
    assert fresh.multiselect(key="dm_models_classification").value == ["linear", "tree", "dummy"]
    after = board(fresh)
    pd.testing.assert_frame_equal(after, before)
    assert fresh.success and "Best model" in fresh.success[0].value
    assert not any("settings changed" in i.value for i in fresh.info)
    go(fresh, SENT)
    assert fresh.text_area(key="sent_text").value == "料理は美味しかったが、店員の態度は悪かった。"
    assert fresh.session_state["sent_single"]["local"] == sentiment
    assert fresh.metric[0].value == sentiment.sentiment


def test_a_bad_workspace_is_refused_and_the_current_work_is_kept(tmp_path):
    at = go(app(), DM)
    at.selectbox(key="dm_sample").set_value("Wine cultivars (3 classes, 178 rows, scikit-learn)")
    ok(at)
    run_comparison(at, ["linear", "dummy"])
    before = board(at)
    for name, data, message in [
        ("notes.zip", b"just text", "is not a workspace file"),
        ("bomb.zip", _bomb(), "zip bomb"),
        ("future.zip", _future(saved_workspace(at)), "newer Crossroads"),
    ]:
        open_in(at, data, name)
        errors = [e.value for e in at.sidebar.error]
        assert any(message in e and "Your current work is kept" in e and f"'{name}'" in e for e in errors), errors
        assert not at.exception
        go(at, DM)
        pd.testing.assert_frame_equal(board(at), before)
        assert "Best model" in at.success[0].value


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", b"{}")
        zf.writestr("results/0.json", b"0" * (32 << 20))
    return buf.getvalue()


def _future(data: bytes) -> bytes:
    import json

    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for info in src.infolist():
            blob = src.read(info)
            if info.filename == "manifest.json":
                m = json.loads(blob)
                m["format_version"] += 1
                blob = json.dumps(m).encode()
            zf.writestr(info.filename, blob)
    return buf.getvalue()


def test_a_cli_workspace_opens_on_the_data_models_page(tmp_path, capsys):
    from core.cli import main

    csv = tmp_path / "small.csv"
    csv.write_bytes(small_csv())
    ws = tmp_path / "cli.zip"
    assert main(["compare", "--data", str(csv), "--target", "label", "--folds", "3", "--models", "linear", "dummy",
                 "--exclude", "colour", "--no-shap", "--workspace", str(ws)]) == 0
    capsys.readouterr()
    at = open_in(app(), ws.read_bytes(), "cli.zip")
    assert any("the comparison's 2 models rebuilt" in s.value for s in at.sidebar.success)
    go(at, DM)
    assert at.radio(key="dm_source").value == "Upload a file"
    assert at.selectbox(key="dm_target").value == "label"
    assert at.multiselect(key="dm_models_classification").value == ["linear", "dummy"]
    assert at.session_state["dm_exclude"] == ["colour"]
    assert at.success and "Best model: **Linear (logistic / ridge)**" in at.success[0].value
    assert list(board(at)["Model"]) == ["Linear (logistic / ridge)", "Baseline (dummy)"]


def test_a_file_that_is_not_a_table_is_not_offered_again_nor_listed_as_work():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    at = go(app(), DM)
    at.radio(key="dm_source").set_value("Upload a file")
    ok(at)
    at.file_uploader(key="dm_upload").set_value(("screenshot.csv", png, "text/csv"))
    ok(at)
    assert any("is an image, not a table" in e.value for e in at.error)
    go(at, SENT)
    at.radio(key="sentiment_source").set_value("Upload a file")
    ok(at)
    offered = [o for s in at.selectbox if s.key == "sentiment_file" for o in s.options]
    assert not any("screenshot.csv" in o for o in offered), offered
    go(at, HOME)
    assert not any("screenshot.csv" in m.value for m in at.markdown)


def test_home_lists_a_finished_bake_off_and_the_arena_query_as_typed():
    from core.decide import BakeoffConfig, load_bakeoff_data, plan_bakeoff, run_plan
    from tests.decide_fakes import ScriptedChooser

    data = load_bakeoff_data(str(ROOT / "data" / "support_queries.csv"), "text", "label", n_test=40, seed=0)
    result = run_plan(plan_bakeoff(data, ScriptedChooser(lambda q, labels, s, m: labels[0]),
                                   BakeoffConfig(bootstrap=100, learning_curve=(1.0,))))
    at = app()
    at.session_state["decide_result"] = result
    at.session_state["arena_result"] = {"key": "k", "arms": {"raw": object()}}
    at.session_state["arena_query"] = "I was charged twice."
    go(at, HOME)
    text = " ".join(m.value for m in at.markdown)
    assert "**Decide**: a bake-off (Trained classifier, Zero-shot LLM, Few-shot LLM, hybrid) on 40 test rows" in text
    assert "both prompts answered for “I was charged twice.”" in text
