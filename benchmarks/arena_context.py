"""Does the classifier's context help? The Prompt Arena's batch evaluation on banking77, offline.

Data: ``../shared/data/banking77`` (PolyAI, CC BY 4.0): the intent classifier is trained on
``train.csv`` (10,003 rows, 77 intents); the evaluation rows are a seeded sample of
``test.csv`` without the texts that also appear in ``train.csv``.

Model: the embedded Gemma 3 270M (llama-cpp-python), a tiny base model, so both prompts get
three worked examples drawn from banking77's own training rows with neutral, format-only
answers (see ``core.arena.prompts.ExamplePool``).

Printed (``python -m core arena-eval``): classifier accuracy on the rows; per prompt, topic
adherence (the intent classifier run on each answer) with a 95 % interval and n, consistency
(mean pairwise TF-IDF cosine of the repeats, and the spread of their lengths), the share of
answers that copy a worked example, tokens, latency p50/p95 and cost; the paired
differences with their verdicts; and what the measured tokens would cost on each Claude model
of ``core/arena/llm_prices.json`` (with its retrieval date).

Usage: ``python benchmarks/arena_context.py [--n 30] [--repeats 3] [--max-tokens 48] [--csv OUT]``.
Answers are cached (``~/.cache/crossroads/llm`` or ``CROSSROADS_CACHE_DIR``): a rerun prints
the same figures at once, with no latency (cached answers are not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.cli import main as cli_main  # noqa: E402
from core.settings import settings  # noqa: E402

SHARED = settings.shared_data  # CROSSROADS_SHARED_DATA


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("--csv", default=None, help="also write one row per query x prompt x repeat")
    args = ap.parse_args()
    b77 = SHARED / "banking77"
    if not (b77 / "train.csv").exists():
        print(f"banking77 not found at {b77} (set CROSSROADS_SHARED_DATA)", file=sys.stderr)
        return 1
    print(f"{dt.date.today().isoformat()} · {platform.machine()} · {os.cpu_count()} CPUs · embedded Gemma 3 270M")
    argv = ["arena-eval", "--train", str(b77 / "train.csv"), "--test", str(b77 / "test.csv"), "--text-column",
            "text", "--label-column", "category", "--provider", "local", "--n", str(args.n), "--repeats",
            str(args.repeats), "--temperature", str(args.temperature), "--max-tokens", str(args.max_tokens)]
    if args.csv:
        argv += ["--csv", args.csv]
    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
