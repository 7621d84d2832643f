"""``python -m core compare`` on synthetic tables and on the real datasets in ../shared/data."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from core.cli import main

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def small_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    df = pd.DataFrame({"x": x, "noise": rng.normal(size=120), "colour": rng.choice(["red", "blue"], 120),
                       "label": np.where(x > 0, "up", "down")})
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    return path


def test_cli_prints_leaderboard_and_writes_json(small_csv, tmp_path, capsys):
    out_json = tmp_path / "out.json"
    before = small_csv.read_bytes()
    code, out, err = _run(["compare", "--data", str(small_csv), "--target", "label", "--folds", "3",
                           "--models", "tree", "dummy", "--json", str(out_json)], capsys)
    assert code == 0, err
    assert "Decision tree" in out and "Baseline (dummy)" in out and "best model: Decision tree" in out
    d = json.loads(out_json.read_text())
    assert d["task"] == "classification" and d["target"] == "label" and d["n_rows"] == 120
    assert d["folds"] == 3 and d["best_model"] == "Decision tree"
    assert [lb["model"] for lb in d["leaderboard"]] == ["Decision tree", "Baseline (dummy)"]
    assert d["leaderboard"][0]["metrics"]["accuracy"]["mean"] > 0.9
    top = d["shap"]["top_features"]
    assert top and top[0]["feature"] == "x" and top[0]["mean_abs_shap"] > 0
    assert small_csv.read_bytes() == before  # the user's file is never changed


def test_cli_task_override_and_headerless(tmp_path, capsys):
    rng = np.random.default_rng(1)
    x = rng.normal(size=60)
    path = tmp_path / "nohead.csv"
    pd.DataFrame({"a": x, "b": np.round(x * 3)}).to_csv(path, index=False, header=False)
    code, out, err = _run(["compare", "--data", str(path), "--target", "b", "--no-header",
                           "--column-names", "a", "b", "--task", "regression", "--folds", "2",
                           "--models", "linear", "--no-shap"], capsys)
    assert code == 0, err
    assert "task: regression (chosen by the user)" in out


@pytest.mark.parametrize("args, message", [
    (["--target", "nope"], "unknown target column 'nope'"),
    (["--target", "label", "--folds", "1"], "--folds must be at least 2"),
])
def test_cli_bad_input_is_one_error_line(small_csv, args, message, capsys):
    code, out, err = _run(["compare", "--data", str(small_csv), *args], capsys)
    assert code == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


def test_cli_missing_file_in_a_real_process(tmp_path):
    p = subprocess.run([sys.executable, "-m", "core", "compare", "--data", str(tmp_path / "none.csv"),
                        "--target", "y"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.startswith("error: ") and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- real datasets

def _json_run(shared, rel, target, tmp_path, capsys, *extra):
    out_json = tmp_path / "r.json"
    code, out, err = _run(["compare", "--data", str(shared / rel), "--target", target, "--folds", "3",
                           "--json", str(out_json), *extra], capsys)
    assert code == 0, err
    return json.loads(out_json.read_text()), out


@pytest.mark.shared
def test_titanic_well_above_majority(shared_data, tmp_path, capsys):
    d, out = _json_run(shared_data, "titanic/train.csv", "Survived", tmp_path, capsys,
                       "--models", "linear", "hgb", "dummy", "--shap-rows", "100")
    lb = {e["key"]: e["metrics"] for e in d["leaderboard"]}
    assert lb["dummy"]["accuracy"]["mean"] == pytest.approx(549 / 891, abs=0.01)
    assert max(lb["linear"]["accuracy"]["mean"], lb["hgb"]["accuracy"]["mean"]) > 0.78
    cols = {c["name"]: c for c in d["columns"]}
    assert cols["PassengerId"]["action"] == "dropped" and cols["Sex"]["inferred_type"] == "boolean"
    assert cols["Name"]["inferred_type"] == "text" and cols["Age"]["inferred_type"] == "numeric"
    feats = [f["feature"] for f in d["shap"]["top_features"]]
    assert "Sex_male" in feats[:3]
    # scikit-learn's "<col>_infrequent_sklearn" is shown as "<col> = (other)"
    assert not any("infrequent_sklearn" in f for f in feats) and "infrequent_sklearn" not in out


@pytest.mark.shared
def test_telco_total_charges_numeric(shared_data, tmp_path, capsys):
    d, _ = _json_run(shared_data, "telco_churn/Telco-Customer-Churn.csv", "Churn", tmp_path, capsys,
                     "--models", "linear", "dummy", "--no-shap")
    cols = {c["name"]: c for c in d["columns"]}
    assert cols["TotalCharges"]["inferred_type"] == "numeric" and cols["TotalCharges"]["action"] == "used"
    assert cols["customerID"]["inferred_type"] == "id" and cols["customerID"]["action"] == "dropped"
    assert d["classes"] == ["No", "Yes"] and d["n_rows"] == 7043
    lb = {e["key"]: e["metrics"] for e in d["leaderboard"]}
    assert lb["linear"]["roc_auc"]["mean"] > 0.82 and lb["dummy"]["roc_auc"]["mean"] == pytest.approx(0.5)


@pytest.mark.shared
def test_california_r2_above_0_6(shared_data, tmp_path, capsys):
    d, _ = _json_run(shared_data, "california_housing/housing.csv", "median_house_value", tmp_path, capsys,
                     "--models", "linear", "hgb", "--no-shap")
    assert d["task"] == "regression" and d["best_model_key"] == "hgb"
    assert d["leaderboard"][0]["metrics"]["r2"]["mean"] > 0.75
    assert {c["name"]: c["inferred_type"] for c in d["columns"]}["ocean_proximity"] == "categorical"


@pytest.mark.shared
def test_wine_semicolon(shared_data, tmp_path, capsys):
    d, out = _json_run(shared_data, "wine_quality_red_semicolon/winequality-red.csv", "quality", tmp_path,
                       capsys, "--models", "linear", "dummy", "--no-shap")
    assert d["task"] == "classification" and d["classes"] == ["3", "4", "5", "6", "7", "8"]
    assert len(d["columns"]) == 12 and "fixed acidity" in {c["name"] for c in d["columns"]}
    lb = {e["key"]: e["metrics"] for e in d["leaderboard"]}
    assert lb["linear"]["accuracy"]["mean"] > lb["dummy"]["accuracy"]["mean"] + 0.1


@pytest.mark.shared
def test_ja_estat_shift_jis_headers(shared_data, tmp_path, capsys):
    d, out = _json_run(shared_data, "ja_estat_population_sjis/c01.csv", "人口（総数）", tmp_path, capsys,
                       "--models", "linear", "dummy", "--shap-rows", "50")
    names = [c["name"] for c in d["columns"]]
    assert names[:3] == ["都道府県コード", "都道府県名", "元号"] and "人口（男）" in names
    assert d["task"] == "regression" and d["n_dropped_missing_target"] == 1 and d["n_rows"] == 979
    assert d["leaderboard"][0]["metrics"]["r2"]["mean"] > 0.99  # men + women = total
    assert any("almost the target" in w for w in d["warnings"])
    assert "人口（総数）" in out


def test_cli_progress_and_one_number_format(tmp_path, capsys):
    """Each model's row is printed (stderr) as it finishes; MAE and RMSE use the same rules (no 7917.722 beside 278,531)."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    df = pd.DataFrame({"x": x, "z": rng.normal(size=200), "price": 250_000 + 60_000 * x + rng.normal(0, 8_000, 200)})
    path = tmp_path / "prices.csv"
    df.to_csv(path, index=False)
    code, out, err = _run(["compare", "--data", str(path), "--target", "price", "--folds", "3",
                           "--models", "linear", "dummy", "--no-shap"], capsys)
    assert code == 0, err
    progress = [line for line in err.splitlines() if "models, " in line]
    assert len(progress) == 2 and progress[0].lstrip().startswith("[1/2 models,") and "R² " in progress[0]
    assert "Baseline (dummy)" in progress[0]  # the cheapest model is cross-validated first
    row = next(line for line in out.splitlines() if line.startswith("Linear"))
    import re

    pairs = re.findall(r"(-?[\d,]+(?:\.\d+)?) ± ([\d,]+(?:\.\d+)?)", row)
    r2, rmse, mae = pairs
    assert re.fullmatch(r"0\.\d{3}", r2[0])
    for mean, std in (rmse, mae):  # thousands: whole numbers with separators, mean and std alike
        assert re.fullmatch(r"\d{1,3}(,\d{3})*", mean) and re.fullmatch(r"\d{1,3}(,\d{3})*", std), row


# ---------------------------------------------------------------- --exclude, --save-model, --workspace, predict

def test_cli_exclude_leaves_a_column_out(small_csv, tmp_path, capsys):
    out_json = tmp_path / "ex.json"
    code, out, err = _run(["compare", "--data", str(small_csv), "--target", "label", "--folds", "3", "--models",
                           "tree", "--exclude", "x", "--no-shap", "--json", str(out_json)], capsys)
    assert code == 0, err
    d = json.loads(out_json.read_text())
    cols = {c["name"]: c for c in d["columns"]}
    assert cols["x"]["action"] == "dropped" and cols["x"]["reason"].startswith("left out by you")
    assert d["settings"]["exclude"] == ["x"]
    assert d["leaderboard"][0]["metrics"]["accuracy"]["mean"] < 0.75  # x was the signal; noise is left
    assert "left out by you: x" in out


def test_cli_exclude_unknown_column_is_one_error_line(small_csv, capsys):
    code, out, err = _run(["compare", "--data", str(small_csv), "--target", "label", "--exclude", "nope"], capsys)
    assert code == 2 and "cannot leave out 'nope': no such column" in err and "x, noise, colour, label" in err


def test_cli_save_model_then_predict(small_csv, tmp_path, capsys):
    model = tmp_path / "m.skops"
    ws = tmp_path / "w.zip"
    code, out, err = _run(["compare", "--data", str(small_csv), "--target", "label", "--folds", "3", "--models",
                           "linear", "tree", "dummy", "--no-shap", "--save-model", str(model), "--model-key", "tree",
                           "--workspace", str(ws)], capsys)
    assert code == 0, err
    assert "model Decision tree (tree) written to" in out and "workspace written to" in out
    new = pd.read_csv(small_csv).drop(columns=["label"]).head(50)
    new.to_csv(tmp_path / "new.csv", index=False)
    code, out, err = _run(["predict", "--model", str(model), "--data", str(tmp_path / "new.csv"), "--out",
                           str(tmp_path / "p.csv")], capsys)
    assert code == 0, err
    pred = pd.read_csv(tmp_path / "p.csv", encoding="utf-8-sig")
    assert len(pred) == 50 and list(pred.columns[-3:]) == ["predicted_label", "probability_down", "probability_up"]
    truth = pd.read_csv(small_csv)["label"].head(50)
    assert (pred["predicted_label"] == truth).mean() > 0.85
    from core.workspace import open_workspace

    assert open_workspace(ws).sections["data_models"]["comparison"] == "data_models.comparison"


def test_cli_predict_missing_column_and_bad_model_are_one_error_line(small_csv, tmp_path, capsys):
    model = tmp_path / "m.skops"
    assert _run(["compare", "--data", str(small_csv), "--target", "label", "--folds", "2", "--models", "linear",
                 "--no-shap", "--save-model", str(model)], capsys)[0] == 0
    pd.read_csv(small_csv).drop(columns=["x", "label"]).to_csv(tmp_path / "nox.csv", index=False)
    code, out, err = _run(["predict", "--model", str(model), "--data", str(tmp_path / "nox.csv"), "--out",
                           str(tmp_path / "p.csv")], capsys)
    assert code == 2 and "lacks 1 column(s) the model needs: 'x'" in err and err.count("\n") == 1
    assert not (tmp_path / "p.csv").exists()
    code, out, err = _run(["predict", "--model", str(small_csv), "--data", str(small_csv), "--out",
                           str(tmp_path / "p.csv")], capsys)
    assert code == 2 and "not a model file saved by Crossroads" in err


def test_cli_model_key_must_be_compared(small_csv, tmp_path, capsys):
    code, out, err = _run(["compare", "--data", str(small_csv), "--target", "label", "--models", "linear",
                           "--model-key", "tree", "--save-model", str(tmp_path / "m.skops")], capsys)
    assert code == 2 and "--model-key tree is not among --models" in err


@pytest.mark.shared
def test_ja_estat_leak_can_be_excluded(shared_data, tmp_path, capsys):
    d, _ = _json_run(shared_data, "ja_estat_population_sjis/c01.csv", "人口（総数）", tmp_path, capsys,
                     "--models", "linear", "--no-shap", "--exclude", "人口（男）", "人口（女）")
    assert not any("almost the target" in w for w in d["warnings"])
    assert d["leaderboard"][0]["metrics"]["r2"]["mean"] < 0.9  # no longer the leaked 1.000
