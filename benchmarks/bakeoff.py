"""Decide bake-off on real public data: trained classifier vs LLM vs hybrid, with the embedded model.

What a user of the Decide page would otherwise do by hand: train a classifier,
prompt an LLM on the same test rows, and compare accuracy, latency and cost.
This script runs :mod:`core.decide` end to end, offline, and prints per arm:

* accuracy with its bootstrap 95% CI and n, macro F1;
* p50 / p95 latency per query (ms);
* cost per 1,000 queries (0 for the embedded model) and, for the LLM arms, the
  same measured tokens priced on Claude Haiku 4.5 (global endpoint, price file date printed);
* wall time of the whole run, and the recommendation;
* the README "Measured here" rows.

Datasets (``../shared/data``, see each SOURCE.md):

* ``banking77``: train on train.csv, test on ``--n-test`` (300) stratified rows of test.csv;
* ``clinc150``: ``split`` column, train on ``train``, test on ``--n-test`` stratified ``test`` rows;
* ``ja_xsid``: ``text_ja`` / ``intent``, one stratified split (``--n-test`` rows, default 120 of 400),
  the category with a single row left out (``--drop-rare``).

Run:  python benchmarks/bakeoff.py [--dataset banking77|clinc150|ja_xsid|all] [--n-test N]
                                   [--report OUT.html] [--keep-cache] [--hybrid-examples-check]

``--hybrid-examples-check`` measures the choice behind ``BakeoffConfig.hybrid_examples=False``:
on the 60 test rows where the classifier is least confident, the embedded model chooses among the
classifier's top 3 with and without one worked example per candidate (accuracy, time).

The response cache is a fresh temporary folder unless ``--keep-cache``, so the
times are those of real calls (the folder is kept and printed: ``CROSSROADS_CACHE_DIR=<it> python -m core
bakeoff ...`` then re-renders the same run without calling the model).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.settings import settings  # noqa: E402

SHARED = settings.shared_data  # CROSSROADS_SHARED_DATA, default ../shared/data

DATASETS = {
    "banking77": dict(source="banking77/train.csv", test_source="banking77/test.csv", text="text", label="category",
                      n_test=300),
    "clinc150": dict(source="clinc150/clinc150_full.csv", split_column="split", text="text", label="intent",
                     n_test=300),
    "ja_xsid": dict(source="ja_xsid_intents/xsid_ja_intents.csv", text="text_ja", label="intent", n_test=120,
                    drop_rare=True),
}


def run(name: str, n_test: int | None, report: str | None, min_accuracy: float, cache_dir: str | None) -> dict:
    from core.arena.cache import ResponseCache
    from core.arena.providers import make_provider
    from core.decide import (BakeoffConfig, Constraints, analyse, load_bakeoff_data, plan_bakeoff, run_plan,
                             write_reports)
    from core.decide.cost import project

    spec = DATASETS[name]
    t0, cpu0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()[0]
    data = load_bakeoff_data(SHARED / spec["source"], spec["text"], spec["label"],
                             test_source=SHARED / spec["test_source"] if spec.get("test_source") else None,
                             split_column=spec.get("split_column"), n_test=n_test or spec["n_test"],
                             drop_rare=spec.get("drop_rare", False))
    print(f"\n== {name}: {data.split.describe()} {len(data.labels)} categories; languages {data.languages()}")
    provider = make_provider("local")
    plan = plan_bakeoff(data, provider, BakeoffConfig(), cache=ResponseCache(cache_dir or "default"))
    print(f"plan ready in {time.perf_counter() - t0:.0f} s (classifier fit {plan.fit_seconds:.1f} s); "
          f"estimate: {plan.estimate().describe()}")
    for note in plan.notes:
        print(f"note: {note}")
    last = {"arm": None}

    def progress(p):
        if p.phase != last["arm"]:
            print(f"  [{time.perf_counter() - t0:6.0f} s] {p.message}", flush=True)
            last["arm"] = p.phase

    result = run_plan(plan, progress=progress)
    wall, cpu, load1 = time.perf_counter() - t0, time.process_time() - cpu0, os.getloadavg()[0]
    analysis = analyse(result, Constraints(min_accuracy=min_accuracy, volume_per_month=100_000),
                       prices=plan.prices)
    haiku = "anthropic.claude-haiku-4-5"
    print(f"\n{'arm':<38} {'accuracy [95% CI]':<22} {'n':>4} {'macro F1':>8} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'USD/1k':>7} {'Haiku 4.5 USD/1k':>16}")
    rows = {}
    for arm, m in analysis.arms.items():
        acc = m["accuracy"]
        proj = None
        if m.get("input_tokens_mean") is not None:
            proj = next(p for p in project(plan.prices, m["input_tokens_mean"], m["output_tokens_mean"] or 0)
                        if p["model"] == haiku)["per_1k"]
        label = m["name"] + (f" (τ={m['tau']:.2f}, {m['llm_share']:.0%} LLM)" if m.get("tau") is not None else "")
        print(f"{label:<38} {acc['value']:.3f} [{acc['low']:.3f}, {acc['high']:.3f}] {acc['n']:>4} "
              f"{m['macro_f1']['value']:>8.3f} {m['latency_ms']['p50']:>8.1f} {m['latency_ms']['p95']:>8.1f} "
              f"{m['cost_per_1k']:>7.2f} {'' if proj is None else f'{proj:.2f}':>16}")
        rows[arm] = (label, acc, m["latency_ms"]["p95"], m["cost_per_1k"], proj)
    rec = analysis.recommendation
    print(f"\nrecommendation (min accuracy {min_accuracy:.0%}): {rec.headline}")
    for r in rec.reasons[:4]:
        print(f"  - {r}")
    print(f"wall time {wall / 60:.1f} min, CPU time of this process {cpu / 60:.1f} min (load average "
          f"{load0:.1f} at start, {load1:.1f} at end, {os.cpu_count()} cores: other work shares the machine); "
          f"prices {plan.prices.source}, retrieved {plan.prices.retrieved}; the Haiku 4.5 column prices the local "
          "model's token counts")
    for arm in ("zero_shot", "few_shot", "hybrid_llm"):
        lat = [r.get(f"{arm}_latency_ms") for r in result.rows if r.get(f"{arm}_latency_ms") is not None]
        if lat:
            print(f"  {arm}: {len(lat)} calls, {sum(lat) / 1000 / 60:.1f} min of model time")
    top = max(analysis.cascade["points"], key=lambda p: p["share_llm"]) if analysis.cascade["points"] else None
    if top:
        print(f"  hybrid with every query sent to the LLM (its choice among the top {plan.config.top_k}): "
              f"accuracy {top['accuracy']:.3f}")
    if report:
        out = Path(report)
        if out.suffix != ".html":
            out = out / f"bakeoff_{name}.html"
        write_reports(result, analysis, out, out.with_suffix(".md"))
        from core.export import to_json_bytes

        out.with_suffix(".json").write_bytes(to_json_bytes({"result": result.to_dict(), "analysis": analysis.to_dict()}))
        print(f"report: {out} (and .md, .json)")
    return {"name": name, "rows": rows, "wall": wall, "cpu": cpu, "n_test": data.n_test, "verdict": rec.headline,
            "classes": len(data.labels)}


def hybrid_examples_check(name: str, n_rows: int = 60) -> None:
    """The hybrid's LLM step with and without one worked example per candidate, on the least confident rows."""
    import numpy as np

    from core.arena.choice import parse_choice
    from core.arena.providers import make_provider
    from core.decide import BakeoffConfig, load_bakeoff_data, plan_bakeoff
    from core.decide.prompts import ExampleIndex, candidate_system, messages_for

    spec = DATASETS[name]
    data = load_bakeoff_data(SHARED / spec["source"], spec["text"], spec["label"],
                             test_source=SHARED / spec["test_source"] if spec.get("test_source") else None,
                             split_column=spec.get("split_column"), n_test=spec["n_test"],
                             drop_rare=spec.get("drop_rare", False), detect_languages=False)
    plan = plan_bakeoff(data, None, BakeoffConfig(arms=("classifier",), learning_curve=(1.0,)))
    index = ExampleIndex(plan.classifier, data.train_texts, data.train_labels)
    provider = make_provider("local")
    rows = [int(i) for i in np.argsort(plan.proba.max(axis=1), kind="stable")[:n_rows]]
    y = [data.test_labels[i] for i in rows]
    top = {i: [plan.classes[j] for j in np.argsort(-plan.proba[i], kind="stable")[:3]] for i in rows}
    clf = np.mean([top[i][0] == t for i, t in zip(rows, y)])
    print(f"\n== hybrid examples check, {name}: the {n_rows} least confident test rows; classifier top-1 "
          f"{clf:.3f}, true label among the top 3 {np.mean([t in top[i] for i, t in zip(rows, y)]):.3f}")
    for label, with_examples in (("no examples (default)", False), ("one example per candidate", True)):
        t0, ok = time.perf_counter(), 0
        for i, truth in zip(rows, y):
            q = data.test_texts[i]
            ex = index.nearest_per_label(q, top[i]) if with_examples else []
            r = provider.choose(candidate_system(top[i]), messages_for(q, ex), top[i])
            ok += parse_choice(r.text, top[i]) == truth
        print(f"  {label}: LLM accuracy {ok / n_rows:.3f}, {time.perf_counter() - t0:.0f} s for {n_rows} calls")


def readme_rows(summary: dict) -> list[str]:
    """The README "Measured here" rows of one dataset."""
    out = []
    parts = []
    for arm, (label, acc, p95, cost, proj) in summary["rows"].items():
        name = label.split(" (")[0]
        parts.append(f"{name[:1].lower() + name[1:]} {acc['value']:.3f} [{acc['low']:.3f}, {acc['high']:.3f}], "
                     f"p95 {p95:,.0f} ms" + (f", ${proj:.2f}/1k on Haiku 4.5" if proj is not None else ""))
    out.append(f"| bake-off, {summary['name']} ({summary['classes']} intents, n={summary['n_test']} test rows, "
               f"embedded Gemma 3 270M) | " + "; ".join(parts) + f"; whole run {summary['wall'] / 60:.1f} min "
               f"({summary['cpu'] / 60:.1f} min CPU); verdict: {summary['verdict']} |")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="banking77", choices=[*DATASETS, "all"])
    ap.add_argument("--n-test", type=int, default=None, help="test rows (default per dataset)")
    ap.add_argument("--min-accuracy", type=float, default=0.8, help="target for the verdict (default 0.8)")
    ap.add_argument("--report", default=None, help="write the HTML + Markdown report (file, or folder for 'all')")
    ap.add_argument("--keep-cache", action="store_true", help="use the user's response cache (faster reruns)")
    ap.add_argument("--hybrid-examples-check", action="store_true",
                    help="only compare the hybrid prompt with and without worked examples")
    args = ap.parse_args()
    if not SHARED.is_dir():
        print(f"datasets not found at {SHARED} (set CROSSROADS_SHARED_DATA)", file=sys.stderr)
        return 2
    cache_dir = None
    if not args.keep_cache:
        cache_dir = tempfile.mkdtemp(prefix="bakeoff-cache-")
        print(f"response cache (fresh): {cache_dir}")
    names = list(DATASETS) if args.dataset == "all" else [args.dataset]
    if args.hybrid_examples_check:
        for n in names:
            hybrid_examples_check(n)
        return 0
    summaries = [run(n, args.n_test, args.report, args.min_accuracy, cache_dir) for n in names]
    print("\nREADME rows:")
    for s in summaries:
        print("\n".join(readme_rows(s)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
