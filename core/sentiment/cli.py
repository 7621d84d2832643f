"""``python -m core sentiment``: sentiment of one text or of a column of a table.

Examples::

    python -m core sentiment --text "The delivery was late again" [--lang auto] [--backend local] [--json]
    python -m core sentiment --data reviews.csv --text-column text [--label-column label] [--limit 500] \\
        [--json results.json] [--csv results.csv]

Bad input ends with exit status 2 and one ``error: ...`` line (see :mod:`core.cli`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from core.errors import DataError


def register(subparsers) -> None:
    """Add the ``sentiment`` sub-command to ``subparsers`` (an argparse sub-parsers action).

    The ``--backend`` choices are the registered backends (:mod:`core.sentiment.registry`).
    """
    from core.sentiment.registry import BACKENDS

    default = next((n for n, s in BACKENDS.items() if s.local), next(iter(BACKENDS)))
    p = subparsers.add_parser(
        "sentiment", help="sentiment of a text or a table column (local or Amazon Comprehend)",
        description="Sentiment in Amazon Comprehend's schema (POSITIVE, NEGATIVE, NEUTRAL, MIXED + four scores). "
                    "The local backend works offline for English and Japanese.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="one text to analyse")
    src.add_argument("--data", metavar="PATH", help="a table (CSV/TSV/Excel/Parquet/JSON Lines)")
    p.add_argument("--text-column", metavar="COL", help="column holding the texts (with --data)")
    p.add_argument("--label-column", metavar="COL", help="column of reference labels: prints accuracy, macro F1 "
                   "and a confusion matrix (with --data)")
    p.add_argument("--limit", type=int, metavar="N", help="analyse only the first N rows (with --data)")
    p.add_argument("--lang", default="auto", help="auto (default), en, ja, or another Comprehend code")
    p.add_argument("--backend", default=default, choices=list(BACKENDS),
                   help=f"default: {default} ({BACKENDS[default].label}); "
                        + "; ".join(f"{n}: {s.label}" for n, s in BACKENDS.items() if n != default))
    p.add_argument("--profile", help="AWS profile for Comprehend (default: boto3's default chain)")
    p.add_argument("--region", help="AWS region for Comprehend (default: from the profile or AWS_REGION)")
    p.add_argument("--json", nargs="?", const="-", metavar="OUT",
                   help="with --text: print JSON; with --data: write results and metrics as JSON to OUT")
    p.add_argument("--csv", metavar="OUT", help="with --data: write the per-row results as CSV to OUT")
    p.set_defaults(func=run)


def _backend(args):
    from core.errors import ProviderError
    from core.sentiment import get_backend
    from core.sentiment.registry import backend_spec

    spec = backend_spec(args.backend)
    settings = spec.settings_from({"profile": args.profile, "region": args.region})
    ok, reason = spec.probe(**settings)  # e.g. Comprehend: credentials first, then region
    if not ok:
        raise ProviderError(f"{spec.label} cannot be used: {reason}")
    return get_backend(args.backend, **settings)


def run(args: argparse.Namespace) -> int:
    """Handler of ``python -m core sentiment``; returns the exit status."""
    if args.text is not None:
        return _run_text(args)
    return _run_data(args)


def _run_text(args) -> int:
    from core.sentiment import analyze

    if args.text_column or args.label_column or args.limit is not None or args.csv:
        raise DataError("--text-column, --label-column, --limit and --csv go with --data, not --text.")
    r = analyze(args.text, language=args.lang, backend=_backend(args))
    if args.json is not None:
        if args.json != "-":
            raise DataError("with --text, --json takes no file name (it prints JSON).")
        print(json.dumps({**r.to_dict(), "Notices": r.notices, "Seconds": round(r.seconds, 4)},
                         ensure_ascii=False, indent=2))
    else:
        print(f"{r.sentiment}  (language {r.language_code}, backend {r.backend}, {r.seconds * 1000:.1f} ms)")
        for k, v in r.sentiment_score.items():
            print(f"  {k:<8} {v:.3f}")
        for n in r.notices:
            print(f"note: {n}")
    return 0


def _run_data(args) -> int:
    import pandas as pd

    from core.export import check_outputs, to_csv_bytes, to_json_bytes, write_atomic
    from core.io import load_table
    from core.sentiment import analyze_batch
    from core.sentiment.evaluate import evaluate, normalize_labels

    if not args.text_column:
        raise DataError("--data needs --text-column COL (the column holding the texts).")
    if args.json == "-":
        raise DataError("with --data, --json needs an output file name: --json results.json.")
    if args.limit is not None and args.limit <= 0:
        raise DataError("--limit must be a positive number of rows.")
    check_outputs({"--csv": args.csv, "--json": args.json}, {"--data": args.data})
    table = load_table(args.data)
    print(table.summary())
    for note in table.notes:  # what reading the file detected or changed (cut texts, NUL bytes, encodings...)
        print(f"  note: {note}")
    df = table.frame
    for col, opt in ((args.text_column, "--text-column"), (args.label_column, "--label-column")):
        if col and col not in df.columns:
            raise DataError(f"{opt} {col!r} is not a column of {table.name}; columns: "
                            + ", ".join(map(str, df.columns[:20])) + ".")
    if args.limit:
        df = df.head(args.limit)
    texts = df[args.text_column].tolist()
    if args.label_column:
        normalize_labels(df[args.label_column].tolist())  # fail before any work (or AWS charge) is done
    from core.sentiment.registry import backend_spec

    spec = backend_spec(args.backend)
    if spec.supports("cost_estimate"):
        print(spec.estimate(texts, language=args.lang).describe(), file=sys.stderr)
    last = [-1]
    show = sys.stderr.isatty()  # progress on a terminal only; pipes and logs get the summary

    def progress(done: int, total: int) -> None:
        if not show:
            return
        pct = done * 100 // max(total, 1)
        if pct // 10 != last[0] // 10 or done == total:
            last[0] = pct
            print(f"\r{done:,}/{total:,} texts ({pct}%)", end="" if done < total else "\n", file=sys.stderr)

    batch = analyze_batch(texts, language=args.lang, backend=_backend(args), progress=progress)
    out = pd.DataFrame(batch.to_rows())
    out.insert(0, args.text_column, df[args.text_column].values)
    if args.label_column:
        out.insert(1, args.label_column, df[args.label_column].values)
    dist = Counter(r.sentiment for r in batch.results if r is not None)
    rate = batch.n_done / batch.seconds if batch.seconds > 0 else float("inf")
    print(f"analysed {batch.n_done:,} of {len(texts):,} texts with the {args.backend} backend in "
          f"{batch.seconds:.2f} s ({rate:,.0f} texts/s); {len(batch.errors):,} row errors")
    print("labels: " + ", ".join(f"{k} {dist.get(k, 0):,}" for k in ("POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED")))
    for i, msg in list(batch.errors.items())[:5]:
        print(f"row {i + 1}: {msg}")  # data rows counted from 1, as on the Sentiment page
    metrics = None
    if args.label_column:
        ev = evaluate(df[args.label_column].tolist(), [r.sentiment if r else None for r in batch.results])
        metrics = ev.to_dict()
        print(f"against {args.label_column!r} ({ev.n:,} rows): accuracy {ev.accuracy:.3f}, macro F1 {ev.macro_f1:.3f}")
        print("confusion matrix (rows = reference, columns = predicted):")
        print(ev.confusion.to_string())
    if args.csv:  # written even when the batch stopped early: the finished rows are kept
        write_atomic(args.csv, to_csv_bytes(out))
    if args.json:
        payload = {"file": table.name, "text_column": args.text_column, "backend": args.backend,
                   "language": args.lang, "n_texts": len(texts), "n_done": batch.n_done,
                   "seconds": batch.seconds, "label_counts": dict(dist), "metrics": metrics,
                   "error": batch.error, "rows": out}
        payload["rows"] = json.loads(to_json_bytes(out))
        write_atomic(args.json, to_json_bytes(payload))
    if batch.error:
        print(f"error: {batch.error}", file=sys.stderr)
        return 2
    return 0
