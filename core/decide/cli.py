"""``python -m core bakeoff``: trained classifier vs LLM vs hybrid on a labelled table, with a verdict.

Usage::

    python -m core bakeoff --data PATH [--test-data PATH] --text-column C --label-column L
        [--provider auto|bedrock|openai|local] [--model ID] [--test-size 0.2 | --n-test N]
        [--arms classifier,zero-shot,few-shot,hybrid]
        [--volume N --latency-ms N --min-accuracy X --budget-usd N] [--explainable] [--languages en,ja]
        [--json OUT] [--report OUT.html] [--report-md OUT.md] [--rows-csv OUT.csv]
        [--split-column S [--train-value train --test-value test]] [--drop-rare] [--seed 0] [--hybrid-examples]
        [--yes] [--no-cache] [--context SUMMARY.json] [provider settings]

Prints the estimate (calls, tokens, USD, time) before any call; a paid
provider (a remote model with calls to make) needs ``--yes``, or a "y" at the
prompt when run in a terminal. Then a progress line per arm, the arms table
(accuracy and macro F1 with 95% CIs and n, p95 latency, cost per 1,000
queries) and the recommendation with its reasons. Ctrl-C stops the run and
keeps what finished (the report says so). Bad input: one ``error: ...`` line,
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import threading
from pathlib import Path

from core.errors import ConfigError


def register(subparsers) -> None:
    """Add the ``bakeoff`` sub-command to ``python -m core``."""
    from core.arena.providers.registry import PROVIDERS

    p = subparsers.add_parser(
        "bakeoff", help="measure a trained classifier vs an LLM vs the hybrid on labelled data, with a verdict",
        description="Split a labelled table once, train the intent classifier, ask an LLM to choose each test "
                    "query's category (zero-shot, few-shot, and below a confidence threshold in the hybrid), "
                    "and recommend one with reasons that cite the measured numbers.")
    d = p.add_argument_group("data")
    d.add_argument("--data", required=True, metavar="PATH", help="labelled queries (CSV, Excel, Parquet, JSONL)")
    d.add_argument("--test-data", metavar="PATH", help="a separate test table (then --data only trains)")
    d.add_argument("--text-column", required=True, metavar="C", help="column with the query text")
    d.add_argument("--label-column", required=True, metavar="L", help="column with the category")
    size = d.add_mutually_exclusive_group()
    size.add_argument("--test-size", type=float, metavar="F", help="share of --data held out for testing (default 0.2)")
    size.add_argument("--n-test", type=int, metavar="N", help="number of test rows (held out, or drawn stratified "
                                                               "from --test-data / the test split)")
    d.add_argument("--split-column", metavar="S", help="column saying which rows train and which test")
    d.add_argument("--train-value", default="train", help="value of --split-column for training rows (default train)")
    d.add_argument("--test-value", default="test", help="value of --split-column for test rows (default test)")
    d.add_argument("--drop-rare", action="store_true", help="leave out categories with fewer than 3 rows")
    d.add_argument("--seed", type=int, default=0, help="random seed of the split and the bootstrap (default 0)")
    m = p.add_argument_group("arms and provider")
    m.add_argument("--arms", default="classifier,zero-shot,few-shot,hybrid",
                   help="comma-separated arms (default all four)")
    m.add_argument("--provider", default="auto", choices=["auto", *PROVIDERS],
                   help="LLM provider (auto: the first available of "
                        + ", ".join(s.label for s in PROVIDERS.values()) + ")")
    m.add_argument("--model", metavar="ID", help="model ID (Bedrock modelId, server model name, or GGUF path)")
    m.add_argument("--k-examples", type=int, default=4, help="worked examples per query, few-shot arm (default 4)")
    m.add_argument("--top-k", type=int, default=3, help="classifier candidates the hybrid's LLM chooses among (3)")
    m.add_argument("--hybrid-examples", action="store_true",
                   help="show the hybrid's LLM the most similar training example of each candidate (off by default: "
                        "it made Gemma 270M less accurate and slower, see benchmarks/bakeoff.py "
                        "--hybrid-examples-check)")
    m.add_argument("--region", help="AWS region for Bedrock")
    m.add_argument("--profile", help="AWS profile for Bedrock")
    m.add_argument("--base-url", help="OpenAI-compatible base URL (default Ollama's)")
    m.add_argument("--gguf", metavar="PATH", help="GGUF file for the embedded model")
    m.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    m.add_argument("--yes", action="store_true", help="run a paid provider without asking")
    c = p.add_argument_group("constraints (for the recommendation)")
    c.add_argument("--volume", type=float, metavar="N", help="queries per month")
    c.add_argument("--latency-ms", type=float, metavar="N", help="p95 latency budget per query, ms")
    c.add_argument("--min-accuracy", type=float, metavar="X", help="minimum acceptable accuracy, e.g. 0.85")
    c.add_argument("--budget-usd", type=float, metavar="N", help="monthly budget, USD")
    c.add_argument("--explainable", action="store_true", help="each decision must be explainable / auditable")
    c.add_argument("--languages", metavar="CODES", help="languages served, ISO 639-1, e.g. en,ja")
    o = p.add_argument_group("output")
    o.add_argument("--json", metavar="OUT", help="write the result and analysis as JSON")
    o.add_argument("--report", metavar="OUT.html", help="write the self-contained HTML report (and the .md beside it)")
    o.add_argument("--report-md", metavar="OUT.md", help="write the Markdown report here")
    o.add_argument("--rows-csv", metavar="OUT.csv", help="write every test row's answers as CSV")
    o.add_argument("--workspace", metavar="OUT.zip",
                   help="write the split, the answers and the analysis as a workspace the app opens "
                        "('Open workspace'); the classifier is rebuilt from it")
    o.add_argument("--context", metavar="SUMMARY.json",
                   help="add 'Does context help on your data?' from a Prompt Arena evaluation summary")
    p.set_defaults(func=run)


def _provider(args):
    from core.arena.providers import auto_provider, make_provider

    if args.provider == "auto":
        if args.model:
            raise ConfigError("--model needs an explicit --provider (" + ", ".join(_names()) + ").")
        return auto_provider(region=args.region, profile=args.profile, base_url=args.base_url, model_path=args.gguf)
    return make_provider(args.provider, args.model, region=args.region, profile=args.profile,
                         base_url=args.base_url, model_path=args.gguf)


def _names():
    from core.arena.providers.registry import PROVIDERS

    return list(PROVIDERS)


def _check_outputs(args) -> None:
    for flag in ("json", "report", "report_md", "rows_csv", "workspace"):
        path = getattr(args, flag)
        if path is None:
            continue
        parent = Path(path).expanduser().resolve().parent
        if not parent.is_dir():
            raise ConfigError(f"--{flag.replace('_', '-')}: the folder {parent} does not exist.")
        for src in (args.data, args.test_data):
            if src and Path(src).expanduser().resolve() == Path(path).expanduser().resolve():
                raise ConfigError(f"--{flag.replace('_', '-')} would overwrite your data file {src}; choose "
                                  "another name.")


def _confirm(estimate, args, err) -> None:
    if not estimate.paid or args.yes:
        return
    if sys.stdin.isatty():
        err.write("This run sends queries to a paid provider. Proceed? [y/N] ")
        err.flush()
        if sys.stdin.readline().strip().lower() in ("y", "yes"):
            return
        raise ConfigError("cancelled: nothing was sent.")
    raise ConfigError("this run sends queries to a paid provider (estimate above); add --yes to proceed, or use "
                      "--provider local.")


def run(args: argparse.Namespace) -> int:
    """Handler of ``bakeoff``; returns the exit status."""
    from core.arena.cache import ResponseCache

    from .analysis import analyse
    from .data import load_bakeoff_data
    from .recommend import Constraints
    from .report import check_context, write_reports
    from .plan import BakeoffConfig, LLM_ARMS, parse_arms, plan_bakeoff

    out, err = sys.stdout, sys.stderr
    arms = parse_arms(args.arms)
    constraints = Constraints(volume_per_month=args.volume, p95_latency_ms=args.latency_ms,
                              min_accuracy=args.min_accuracy, budget_usd_per_month=args.budget_usd,
                              explainable=args.explainable,
                              languages=tuple((args.languages or "").split(","))).validate()
    context = None
    if args.context:
        try:
            context = check_context(json.loads(Path(args.context).read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ConfigError(f"--context: {args.context} is not JSON ({exc}).") from None
    _check_outputs(args)
    data = load_bakeoff_data(args.data, args.text_column, args.label_column, test_source=args.test_data,
                             test_size=args.test_size, n_test=args.n_test, seed=args.seed,
                             split_column=args.split_column, train_value=args.train_value,
                             test_value=args.test_value, drop_rare=args.drop_rare)
    err.write(f"data: {data.split.describe()} {len(data.labels)} categories.\n")
    for note in data.notes:
        err.write(f"note: {note}\n")
    provider = _provider(args) if any(a in LLM_ARMS for a in arms) else None
    config = BakeoffConfig(arms=arms, k_examples=args.k_examples, top_k=args.top_k,
                           hybrid_examples=args.hybrid_examples, seed=args.seed)
    cache = None if args.no_cache else ResponseCache("default")
    err.write("training the classifier and building the prompts...\n")
    plan = plan_bakeoff(data, provider, config, cache=cache)
    est = plan.estimate()
    if provider is not None:
        err.write(f"estimate: {est.describe()}\n")
        for note in plan.notes:
            err.write(f"note: {note}\n")
    _confirm(est, args, err)

    stop = threading.Event()
    result = _run_stoppable(plan, _progress_printer(err), stop, err)
    err.write("\n")
    analysis = analyse(result, constraints, prices=plan.prices)
    _print_summary(result, analysis, out)
    command = "python -m core bakeoff " + " ".join(shlex.quote(a) for a in (sys.argv[2:] if len(sys.argv) > 2 else []))
    if args.json:
        payload = {"result": result.to_dict(), "analysis": analysis.to_dict(), "estimate": est.to_dict()}
        from core.export import to_json_bytes

        Path(args.json).write_bytes(to_json_bytes(payload))
        err.write(f"wrote {args.json}\n")
    md = args.report_md or (str(Path(args.report).with_suffix(".md")) if args.report else None)
    if args.report or md:
        for path in write_reports(result, analysis, args.report, md, context=context, command=command):
            err.write(f"wrote {path}\n")
    if args.rows_csv:
        from core.export import to_csv_bytes

        Path(args.rows_csv).write_bytes(to_csv_bytes(result.rows_frame()))
        err.write(f"wrote {args.rows_csv}\n")
    if args.workspace:
        from core.workspace import Workspace, save_workspace
        from core.workspace.sections import add_bakeoff

        ws = Workspace()
        add_bakeoff(ws, data, result, analysis, constraints=constraints, config=config,
                    source={"data": str(args.data), "test_data": args.test_data, "text_column": args.text_column,
                            "label_column": args.label_column, "command": command})
        size = save_workspace(ws, args.workspace)
        err.write(f"wrote {args.workspace} ({size / 2**20:,.2f} MB workspace)\n")
    return 0


def _progress_printer(err):
    """A progress callback: one self-overwriting line in a terminal, else a line per phase and per 10%."""
    tty = err.isatty()
    last = {"phase": None, "decile": -1}

    def progress(p):
        eta = f", about {p.eta_seconds / 60:.1f} min left" if p.eta_seconds else ""
        line = f"{p.message} [{p.done}/{p.total} calls{eta}]" if p.total else p.message
        if tty:
            if p.phase != last["phase"] and last["phase"] is not None:
                err.write("\n")
            err.write("\r" + line + " " * 8)
        else:
            decile = int(10 * p.fraction)
            if p.phase != last["phase"] or decile != last["decile"]:
                err.write(line + "\n")
            last["decile"] = decile
        last["phase"] = p.phase
        err.flush()

    return progress


def _run_stoppable(plan, progress, stop, err):
    """Run the plan; a first Ctrl-C sets ``stop`` (the run ends after the current call and keeps what
    finished), a second one interrupts at once."""
    import signal

    from .run import run_plan

    def on_sigint(signum, frame):  # pragma: no cover - interactive
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        err.write("\nstopping after the current call (Ctrl-C again to abort)...\n")

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread
        previous = None
    try:
        return run_plan(plan, progress=progress, stop=stop)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _print_summary(result, analysis, out) -> None:
    from .report import _ms, _pct, _usd

    out.write(f"{'arm':<34} {'accuracy [95% CI]':<22} {'n':>5} {'p95 ms':>9} {'USD/1k':>9} {'batch/1k':>9}\n")
    for a in analysis.arms.values():
        name = a["name"] + (f" (τ={a['tau']:.2f}, {a['llm_share']:.0%} LLM)" if a.get("tau") is not None else "")
        out.write(f"{name:<34} {_pct(a['accuracy']):<22} {a['n']:>5} {_ms(a['latency_ms']['p95']):>9} "
                  f"{_usd(a['cost_per_1k']):>9} {_usd(a.get('batch_per_1k')):>9}\n")
    rec = analysis.recommendation
    out.write(f"\nrecommendation: {rec.headline}\n")
    for r in rec.reasons:
        out.write(f"  - {r}\n")
    if rec.resolve:
        out.write("what would settle it:\n" if rec.verdict == "not_enough_evidence" else "next steps:\n")
        for r in rec.resolve:
            out.write(f"  - {r}\n")
    if result.stopped or result.aborted:
        out.write(f"note: {'the run was stopped early' if result.stopped else result.aborted}\n")
