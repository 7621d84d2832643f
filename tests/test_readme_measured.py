"""The README's Data & Models figures are the benchmark's output, and its best models still hold.

``benchmarks/tabular_compare.py --update-readme`` writes the rows between the README's
``<!-- tabular:begin -->`` / ``<!-- tabular:end -->`` markers from ``benchmarks/results/tabular.json``.
The first test fails when someone edits one without the other; the second recomputes the
deterministic figures (best model and its cross-validated primary metric, 5 folds, seed 0).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "tabular.json"


def _bench():
    spec = importlib.util.spec_from_file_location("tabular_compare_bench", ROOT / "benchmarks" / "tabular_compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads(RESULTS.read_text(encoding="utf-8"))


def test_readme_rows_are_the_benchmark_output(results):
    bench = _bench()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = bench.BEGIN + text.split(bench.BEGIN, 1)[1].split(bench.END, 1)[0] + bench.END
    assert block == bench.readme_block(results), (
        "README.md's Data & Models rows differ from benchmarks/results/tabular.json: "
        "run `python benchmarks/tabular_compare.py --readme-only` (or the benchmark with --update-readme)")
    for key in ("titanic", "telco", "housing"):
        assert key in results["quality"]
    for key in ("telco", "housing"):
        assert results["cv"][key]["pairs"] >= 3  # medians, not one run


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("name", ["titanic", "telco", "housing"])
def test_best_model_in_the_readme_still_wins(shared_data, results, name):
    from core.io import load_table
    from core.tabular.compare import compare_models

    q = results["quality"][name]
    rel = {"titanic": "titanic/train.csv", "telco": "telco_churn/Telco-Customer-Churn.csv",
           "housing": "california_housing/housing.csv"}[name]
    res = compare_models(load_table(shared_data / rel).frame, q["target"], folds=5)
    assert res.best.key == q["best_key"] and res.primary_metric == q["metric"]
    assert res.best.primary["mean"] == pytest.approx(q["mean"], abs=1e-3)
    assert res.best.primary["std"] == pytest.approx(q["std"], abs=1e-3)
    if q.get("baseline") is not None:
        base = next(r for r in res.results if r.baseline)
        assert base.primary["mean"] == pytest.approx(q["baseline"], abs=1e-3)
