"""AppTest of pages/data_models.py on scikit-learn's bundled samples (no download, no browser)."""

import json

import pytest
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

PAGE = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "pages" / "data_models.py")


def _app():
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.run()
    assert not at.exception
    return at


def _run(at, models, folds=3):
    at.multiselect(key=next(k for k in _keys(at) if k.startswith("dm_models_"))).set_value(models)
    at.number_input(key="dm_folds").set_value(folds)
    at.button(key="dm_run").click().run()
    assert not at.exception, at.exception
    return at


def _keys(at):
    return [w.key for w in at.multiselect]


def _open(at, tab):
    """Switch the results tab (only the open tab's content runs)."""
    at.session_state["dm_tab"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


DOWNLOADS: dict[str, object] = {}  # file name -> data (or the function that writes it on click)


@pytest.fixture(scope="module")
def cancer_app():
    """The breast-cancer comparison, recording every download button's file name and data."""
    original = DeltaGenerator.download_button

    def recording(self, label, data, file_name=None, *args, **kwargs):
        DOWNLOADS[file_name] = data
        return original(self, label, data, file_name, *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(DeltaGenerator, "download_button", recording)
    try:
        yield _open(_run(_app(), ["linear", "tree", "dummy"]), "SHAP: why")
    finally:
        mp.undo()


def test_column_types_and_task_shown_before_running():
    at = _app()
    assert "Task: classification" in at.info[0].value and "569 of 569 rows used" in at.info[0].value
    types = at.dataframe[1].value  # preview, then the column table
    assert list(types["name"][:2]) == ["mean radius", "mean texture"]
    assert set(types["action"]) == {"used", "target"}
    assert all(types["reason"].str.len() > 10)
    assert any("Press **Run comparison**" in i.value for i in at.info)


def test_comparison_leaderboard_charts_and_shap(cancer_app):
    at = cancer_app
    assert "Best model: **Linear (logistic / ridge)**" in at.success[0].value
    board = next(d.value for d in at.dataframe if "Model" in getattr(d.value, "columns", []))
    assert list(board["Model"]) == ["Linear (logistic / ridge)", "Decision tree", "Baseline (dummy)"]
    acc = float(board["Accuracy ↑"][0].split(" ± ")[0])
    base = float(board["Accuracy ↑"][2].split(" ± ")[0])
    assert acc > 0.93 and base < 0.65
    # the SHAP tab (opened by the fixture)
    assert any("SHAP values in log-odds of class 'malignant'" in i.value for i in at.info)
    assert at.toggle(key="dm_shap_group").value is True  # grouped by source column unless the user unticks it
    assert any("grouped by source column" in i.value for i in at.info)
    assert len(at.get("image")) == 3  # SHAP bar, beeswarm, waterfall (matplotlib)
    assert not at.get("plotly_chart")  # the other tabs' charts are not drawn while SHAP is open
    # leaderboard CSV/JSON, the model (.skops), SHAP top features CSV/JSON
    assert [b.key for b in at.get("download_button")] == ["dm_dl_csv", "dm_dl_json", "dm_model_dl", "dm_shap_dl_csv",
                                                          "dm_shap_dl_json"]
    assert any(c.value.startswith("Download the leaderboard") for c in at.caption)
    assert any(c.value.startswith("Download the SHAP top features") for c in at.caption)
    _open(at, "Scores and times")
    assert len(at.get("plotly_chart")) == 2 and not at.get("image")  # metric bars, times
    _open(at, "Test-split charts")
    assert len(at.get("plotly_chart")) == 3  # confusion matrix, ROC, PR
    _open(at, "SHAP: why")
    assert len(at.get("image")) == 3


def test_downloads_are_named_after_the_dataset_and_the_json_carries_shap(cancer_app):
    at = cancer_app
    names = set(DOWNLOADS)
    assert {"breast_cancer_leaderboard.csv", "breast_cancer_leaderboard.json",
            "breast_cancer_shap_top_features_linear.csv", "breast_cancer_shap_top_features_linear.json"} <= names
    data = DOWNLOADS["breast_cancer_leaderboard.json"]
    assert callable(data)  # written when clicked, not on every rerun
    out = json.loads(data())
    shap = out["shap"]
    assert shap["model"] == "Linear (logistic / ridge)" and shap["model_key"] == "linear"
    assert len(shap["top_features"]) == 10 and shap["top_features"][0]["mean_abs_shap"] > 0
    assert shap["n_explained"] == 190 and shap["complete"] and shap["grouped"]  # fold 1 of 3 (569 rows), all explained
    # the same features, in the same order, as the SHAP top-features download of the model shown
    import io

    import pandas as pd

    top = pd.read_csv(io.BytesIO(DOWNLOADS["breast_cancer_shap_top_features_linear.csv"]()))
    assert [f["feature"] for f in shap["top_features"]] == list(top["feature"][:10])
    assert at.session_state["dm_shap_shown"]["key"] == "linear"


def test_chart_option_does_not_retrain(cancer_app):
    at = cancer_app
    before = at.session_state["dm_results"]
    (result,) = before.values()
    _open(at, "Scores and times")
    at.selectbox(key="dm_metric").set_value("log_loss").run()
    _open(at, "Test-split charts")
    at.toggle(key="dm_cm_norm").set_value(True).run()
    assert not at.exception
    (after,) = at.session_state["dm_results"].values()
    assert after is result  # same fitted object: nothing was re-trained
    assert not any("Press **Run comparison**" in i.value for i in at.info)


def test_regression_sample_and_task_error():
    at = _app()
    at.selectbox(key="dm_sample").set_value("Diabetes progression (regression, 442 rows, scikit-learn)").run()
    assert "Task: regression" in at.info[0].value
    _run(at, ["linear", "dummy"])
    board = next(d.value for d in at.dataframe if "Model" in getattr(d.value, "columns", []))
    assert "R² ↑" in board.columns and float(board["R² ↑"][0].split(" ± ")[0]) > 0.35
    # forcing regression on a text target is refused with a clear message, no traceback
    at.selectbox(key="dm_sample").set_value("Breast cancer (classification, 569 rows, scikit-learn)").run()
    at.segmented_control(key="dm_task").set_value("regression").run()
    assert not at.exception
    assert any("not numeric" in e.value for e in at.error)


def test_changed_settings_ask_for_a_new_run(cancer_app):
    at = cancer_app
    at.number_input(key="dm_folds").set_value(4).run()
    assert not at.exception
    assert any("settings changed since the last run" in i.value for i in at.info)
    assert not at.success  # stale results are not shown as current
    at.number_input(key="dm_folds").set_value(3).run()  # back to the compared settings: results again
    assert "Best model:" in at.success[0].value


def test_multiclass_sample_has_a_class_picker_for_shap():
    at = _app()
    at.selectbox(key="dm_sample").set_value("Wine cultivars (3 classes, 178 rows, scikit-learn)").run()
    _open(_run(at, ["linear", "dummy"]), "SHAP: why")
    assert any("SHAP values in log-odds per class (3 classes)" in i.value for i in at.info)
    # "all classes": the beeswarm says which class it shows
    assert any("Global: beeswarm of class 'class_0'" in m.value for m in at.markdown)
    assert any("one class at a time" in c.value for c in at.caption)
    assert any("SHAP top features of Linear (logistic / ridge) (all classes" in c.value for c in at.caption)
    # row detail: whole numbers read 1065, not 1065.0, and every feature row is there
    detail = next(d.value for d in at.dataframe if list(getattr(d.value, "columns", [])) == ["column", "value"])
    assert len(detail) == 13 and "proline" in set(detail["column"])
    assert not any(v.endswith(".0") for v in detail["value"])
    assert str(int(float(detail.set_index("column").loc["proline", "value"]))) == detail.set_index("column").loc["proline", "value"]
    at.selectbox(key="dm_shap_class").set_value(2).run()
    assert not at.exception
    assert any("SHAP values in log-odds of class 'class_2'" in i.value for i in at.info)
    assert any(m.value == "**Global: beeswarm**" for m in at.markdown)  # a chosen class: no extra note
    assert len(at.get("image")) == 3
