"""``python -m core respond`` and ``python -m core arena-eval``: the Prompt Arena from the command line.

Usage::

    python -m core respond --train PATH --text-column C --label-column L --query "..."
        [--provider auto|bedrock|openai|local] [--model ID] [--json]
        [--k 3] [--max-tokens 128] [--temperature T] [--region R] [--profile P]
        [--base-url URL] [--gguf PATH] [--no-cache] [--mask-pii | --no-mask-pii] [--comprehend-pii]

    python -m core arena-eval --train PATH --text-column C --label-column L
        [--test PATH | --holdout 0.2] [--n 30] [--repeats 3] [--temperature 0.7] [--judge]
        [--answer-column A] [--csv OUT] [--json OUT] (+ the provider options above)

``respond`` prints the category, its confidence, the sentiment, the urgency and why, what
was masked, then for ``raw`` and ``contextualised``: the prompt, the response, input and
output tokens, latency in ms (none for a cached answer) and cost in USD. ``--json`` prints
the same as one JSON object.

``arena-eval`` answers held-out rows with both prompts ``--repeats`` times and prints, per
prompt, topic adherence with its 95 % interval and n, consistency, copy rate, tokens,
latency p50/p95 and cost (plus what the tokens would cost on each Claude model of the price
file when the model is local); ``--csv`` writes one row per query x prompt x repeat,
``--json`` the summary (:func:`core.arena.evaluation.summarise`, its fields at the top level, so the
file can be given to the Decide report) with those rows under ``"rows"``.

The provider is checked before the classifier is trained, so a missing credential is
reported at once. Personal data is masked before a query is sent by default for Bedrock.
Bad input or a provider failure: one ``error: ...`` line, exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys

from core.errors import ConfigError, ProviderError


def _provider_options(p: argparse.ArgumentParser) -> None:
    from .providers.registry import PROVIDERS

    p.add_argument("--provider", default="auto", choices=["auto", *PROVIDERS],
                   help="LLM provider (auto: the first available of "
                        + ", ".join(spec.label for spec in PROVIDERS.values()) + ")")
    p.add_argument("--model", default=None, metavar="ID",
                   help="model ID (Bedrock modelId / inference profile, server model name, or GGUF path)")
    p.add_argument("--k", type=int, default=3, help="top-k categories shown to the LLM (default 3)")
    p.add_argument("--region", default=None, help="AWS region for Bedrock (and Comprehend PII detection)")
    p.add_argument("--profile", default=None, help="AWS profile for Bedrock")
    p.add_argument("--base-url", default=None, help="OpenAI-compatible base URL (default Ollama's)")
    p.add_argument("--gguf", default=None, metavar="PATH", help="GGUF file for the embedded model")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the response cache")
    mask = p.add_mutually_exclusive_group()
    mask.add_argument("--mask-pii", dest="mask_pii", action="store_true", default=None,
                      help="mask emails, phones, cards, IBANs, My Numbers, JP postal codes before sending "
                           "(default: on when the query leaves this machine, as the page does: Bedrock or a remote "
                           "server; off for the embedded model and servers on localhost)")
    mask.add_argument("--no-mask-pii", dest="mask_pii", action="store_false", help="send the query as typed")
    p.add_argument("--comprehend-pii", action="store_true",
                   help="also mask what Amazon Comprehend DetectPiiEntities finds (English and Spanish; needs AWS)")


def register(subparsers) -> None:
    """Add the ``respond`` and ``arena-eval`` sub-commands to ``python -m core``."""
    p = subparsers.add_parser(
        "respond", help="answer a query with the raw and the classifier-contextualised prompt",
        description="Train the intent classifier on a labelled table, classify the query, measure "
                    "its sentiment and urgency, then ask the LLM with the raw and the contextualised prompt.")
    p.add_argument("--train", required=True, metavar="PATH", help="labelled queries (CSV, Excel, Parquet, JSONL)")
    p.add_argument("--text-column", required=True, metavar="C", help="column with the query text")
    p.add_argument("--label-column", required=True, metavar="L", help="column with the category")
    p.add_argument("--query", required=True, help="the customer message to answer")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--max-tokens", type=int, default=128, help="output token limit per answer (default 128)")
    p.add_argument("--temperature", type=float, default=None, help="sampling temperature (default: model's)")
    _provider_options(p)
    p.set_defaults(func=run)

    e = subparsers.add_parser(
        "arena-eval", help="does the classifier's context help? raw vs contextualised on held-out rows",
        description="Answer held-out labelled queries with the raw and the contextualised prompt several times and "
                    "measure topic adherence (the intent classifier run on each answer), consistency, copies of "
                    "worked examples, tokens, latency and cost.")
    e.add_argument("--train", required=True, metavar="PATH", help="labelled queries the classifier learns from")
    e.add_argument("--text-column", required=True, metavar="C", help="column with the query text")
    e.add_argument("--label-column", required=True, metavar="L", help="column with the category")
    src = e.add_mutually_exclusive_group()
    src.add_argument("--test", metavar="PATH", help="a second labelled file (same columns) to evaluate on")
    src.add_argument("--holdout", type=float, default=0.2, metavar="SHARE",
                     help="without --test: share of --train held out, stratified (default 0.2)")
    e.add_argument("--n", type=int, default=30, help="held-out queries to answer (default 30)")
    e.add_argument("--repeats", type=int, default=3, help="answers per query and prompt (default 3)")
    e.add_argument("--temperature", type=float, default=0.7, help="sampling temperature, > 0 with repeats (0.7)")
    e.add_argument("--max-tokens", type=int, default=96, help="output token limit per answer (default 96)")
    e.add_argument("--seed", type=int, default=0, help="seed of the split and the sample (default 0)")
    e.add_argument("--answer-column", default=None, metavar="A",
                   help="column of --train with answers, used as worked examples for a base model")
    e.add_argument("--judge", action="store_true",
                   help="also ask the same model to rate each answer 1-5 (labelled as an LLM judge)")
    e.add_argument("--csv", metavar="OUT", help="write one row per query x prompt x repeat as CSV")
    e.add_argument("--json", metavar="OUT", help="write the summary (for the Decide report) and the rows as JSON")
    _provider_options(e)
    e.set_defaults(func=run_eval)


def _check_provider(args):
    """The provider, checked before any training: a missing credential or model is reported first."""
    from . import providers as P
    from .providers.registry import PROVIDERS, provider_spec

    if args.provider == "auto" and args.model:
        raise ConfigError(f"--model needs an explicit --provider ({', '.join(PROVIDERS)}).")
    if args.provider == "auto":
        return P.auto_provider(region=args.region, profile=args.profile, base_url=args.base_url,
                               model_path=args.gguf)
    spec = provider_spec(args.provider)
    given = {"region": args.region, "profile": args.profile, "base_url": args.base_url, "model_path": args.gguf}
    status = spec.probe(**{k: given[k] for k in spec.settings if given.get(k) is not None})
    if not status.available:
        raise ProviderError(f"{status.label or spec.label}: {status.reason}", code="Unavailable")
    return P.make_provider(args.provider, args.model, region=args.region, profile=args.profile,
                           base_url=args.base_url, model_path=args.gguf)


def _pii_options(args, provider) -> dict:
    mask = args.mask_pii if args.mask_pii is not None else not provider.is_local()  # mask what leaves the machine
    detector = None
    if args.comprehend_pii:
        if not mask:
            raise ConfigError("--comprehend-pii needs masking on: drop --no-mask-pii.")
        from core.privacy import ComprehendPiiDetector
        from core.sentiment.comprehend import comprehend_status

        ok, reason = comprehend_status(args.profile, args.region)
        if not ok:
            raise ProviderError(f"Amazon Comprehend PII detection cannot be used: {reason}")
        detector = ComprehendPiiDetector(args.profile, args.region)
    return {"mask_pii": mask, "pii_detector": detector}


def _fmt_cost(cost) -> str:
    return "unknown (model not in llm_prices.json)" if cost is None else f"${cost:.6f}"


def run(args: argparse.Namespace) -> int:
    """Handler of ``respond``; returns the exit status."""
    from .cache import ResponseCache
    from .classifier import IntentClassifier, load_labelled_queries
    from .hybrid import ARMS, example_pool, respond

    if not args.query.strip():
        raise ConfigError("--query is empty: give the customer message to answer.")
    if args.k < 1:
        raise ConfigError("--k must be at least 1.")
    if args.max_tokens < 1:
        raise ConfigError("--max-tokens must be at least 1.")
    provider = _check_provider(args)
    pii = _pii_options(args, provider)
    data = load_labelled_queries(args.train, args.text_column, args.label_column)
    for note in data.notes:  # what reading the training table detected or changed (cut texts, NUL bytes...)
        print(f"note: {note}", file=sys.stderr if args.json else sys.stdout)
    clf = IntentClassifier().fit(data.texts, data.labels)
    pool = example_pool(data.texts, data.labels, clf, k=args.k) if provider.is_base_model else None
    cache = None if args.no_cache else ResponseCache("default")
    result = respond(args.query, clf, provider, k=args.k, max_tokens=args.max_tokens,
                     temperature=args.temperature, cache=cache, examples=pool, **pii)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    a = result.analysis
    out = sys.stdout
    if a.pii is not None:
        out.write(f"personal data: {a.pii.summary()}\n")
    out.write(f"category: {a.category}\nconfidence: {a.confidence:.3f}\n")
    out.write("top-k: " + ", ".join(f"{lab} ({p:.3f})" for lab, p in a.top_k) + "\n")
    score = a.sentiment_score.get(a.sentiment.capitalize(), float("nan"))
    out.write(f"sentiment: {a.sentiment} ({score:.3f})\nurgency: {a.urgency_reason or a.urgency}\n"
              f"language: {a.language_code}\n")
    for note in a.notes:
        out.write(f"note: {note}\n")
    out.write(f"provider: {result.provider}\nmodel: {result.model_id}\n")
    for name in ARMS:
        arm = result.arms[name]
        r = arm.response
        out.write(f"\n=== {name} ===\n")
        out.write("prompt:\n" + _indent(arm.sent or arm.prompt.as_text()) + "\n")
        out.write("response:\n" + _indent(r.text or "(empty)") + "\n")
        if arm.copy is not None:
            out.write(f"copied: {arm.copy.describe()}\n")
        out.write(f"input tokens: {r.input_tokens}\noutput tokens: {r.output_tokens}\n")
        if r.cached:
            out.write(f"latency ms: none (cached answer; the original call took {r.latency_ms:.0f} ms)\n")
        else:
            out.write(f"latency ms: {r.latency_ms:.0f}\n")
        out.write(f"cost usd: {_fmt_cost(arm.cost_usd)}{' (cached: nothing charged)' if r.cached else ''}\n")
    return 0


def _pct(x) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def run_eval(args: argparse.Namespace) -> int:
    """Handler of ``arena-eval``; returns the exit status."""
    from core.export import to_csv_bytes, to_json_bytes

    from .cache import ResponseCache
    from .classifier import IntentClassifier, load_labelled_queries
    from .evaluation import evaluate_prompts, held_out_rows, summarise
    from .hybrid import ARMS, example_pool

    for opt, val, lo in (("--n", args.n, 1), ("--repeats", args.repeats, 1), ("--k", args.k, 1),
                         ("--max-tokens", args.max_tokens, 1)):
        if val < lo:
            raise ConfigError(f"{opt} must be at least {lo}.")
    if args.repeats >= 2 and args.temperature <= 0:
        raise ConfigError("--repeats 2 or more needs --temperature above 0 (at 0 every repeat is the same answer).")
    provider = _check_provider(args)
    pii = _pii_options(args, provider)
    data = load_labelled_queries(args.train, args.text_column, args.label_column)
    test = None
    if args.test:
        t = load_labelled_queries(args.test, args.text_column, args.label_column)
        test = (t.texts, t.labels)
    rows = held_out_rows(data.texts, data.labels, n=args.n, test=test,
                         test_name=args.test or "", holdout=args.holdout, random_state=args.seed)
    answers = None
    if args.answer_column:
        from core.io import load_table

        frame = load_table(args.train).frame
        if args.answer_column not in frame.columns:
            raise ConfigError(f"--answer-column {args.answer_column!r} is not a column of {args.train}.")
        by_text = dict(zip(frame[args.text_column].astype(str), frame[args.answer_column]))
        answers = [by_text.get(t, "") for t in rows.train_texts]
    clf = IntentClassifier().fit(rows.train_texts, rows.train_labels)
    pool = (example_pool(rows.train_texts, rows.train_labels, clf, answers=answers, k=args.k)
            if provider.is_base_model else None)
    cache = None if args.no_cache else ResponseCache("default")
    show = sys.stderr.isatty()

    def progress(done: int, total: int, row: dict) -> None:
        if show:
            print(f"\r{done}/{total} answers", end="" if done < total else "\n", file=sys.stderr)

    run = evaluate_prompts(rows.texts, rows.labels, clf, provider, repeats=args.repeats,
                           temperature=args.temperature, max_tokens=args.max_tokens, k=args.k, cache=cache,
                           examples=pool, judge=args.judge, source=rows.source, progress=progress, **pii)
    s = summarise(run)
    out = sys.stdout
    out.write(f"held-out rows: {s['n_queries']} from {rows.source}\n")
    for note in rows.notes:
        out.write(f"note: {note}\n")
    out.write(f"provider: {s['provider']}  model: {s['model_id']}  temperature: {s['temperature']}  "
              f"repeats: {s['repeats']}\n")
    ca = s["classifier_accuracy"]
    out.write(f"classifier correct: {_pct(ca['rate'])} (95% CI {_pct(ca['ci_low'])}-{_pct(ca['ci_high'])}, "
              f"n={ca['n_queries']})\n")
    for arm in ARMS:
        m = s["arms"][arm]
        ta, cp, tok, lat, cost = m["topic_adherence"], m["copy_rate"], m["tokens"], m["latency_ms"], m["cost_usd"]
        out.write(f"\n=== {arm} ===\n")
        out.write(f"topic adherence: {_pct(ta['rate'])} (95% CI {_pct(ta['ci_low'])}-{_pct(ta['ci_high'])}; "
                  f"{ta['n_answers']} answers to {ta['n_queries']} queries)\n")
        if m["consistency"]:
            c = m["consistency"]
            out.write(f"consistency: mean TF-IDF cosine {c['mean_cosine']:.3f} (95% CI {c['ci_low']:.3f}-"
                      f"{c['ci_high']:.3f}); length spread {c['length_sd_chars']:.1f} characters (sd)\n")
        out.write(f"copies a worked example: {_pct(cp['rate'])} (95% CI {_pct(cp['ci_low'])}-{_pct(cp['ci_high'])})\n")
        out.write(f"tokens per answer: {tok['input_mean']:.0f} in, {tok['output_mean']:.1f} out\n"
                  if tok["input_mean"] is not None else "tokens per answer: n/a\n")
        out.write(f"latency ms: p50 {lat['p50']:.0f}, p95 {lat['p95']:.0f} ({lat['n_measured']} calls)\n"
                  if lat["p50"] is not None else "latency ms: none measured (all answers cached)\n")
        out.write(f"cost usd: {_fmt_cost(cost['total'])}\n")
        if m["judge"]:
            out.write(f"{m['judge']['label']}: mean {m['judge']['mean']:.2f} over {m['judge']['n']}\n")
    out.write("\n" + s["verdict"] + "\n")
    for key in ("consistency", "copy_rate"):
        if s["difference"].get(key):
            out.write(s["difference"][key]["verdict"] + "\n")
    proj = s["cost_projection"]
    if proj:
        out.write(f"\nthe same tokens on Claude (prices from {proj['source']}, retrieved {proj['retrieved']}); "
                  f"USD per 1,000 answers:\n")
        for row_r, row_c in zip(proj["arms"]["raw"], proj["arms"]["contextualised"]):
            out.write(f"  {row_r['model']:<32} raw {row_r['usd_per_1000_queries']:.4f}  "
                      f"contextualised {row_c['usd_per_1000_queries']:.4f}\n")
        out.write(f"  ({proj['note']})\n")
    if args.csv:
        with open(args.csv, "wb") as fh:
            fh.write(to_csv_bytes(run.rows))
    if args.json:
        with open(args.json, "wb") as fh:
            # the summary's fields at the top (what `python -m core bakeoff --context` reads), the rows beside them
            fh.write(to_json_bytes({**s, "rows": json.loads(run.rows.to_json(orient="records", force_ascii=False))}))
    if run.stopped_early:  # the rows done so far are printed and written above
        print("error: stopped early: " + " ".join(run.stopped_early.split()), file=sys.stderr)
        return 2
    return 0


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
