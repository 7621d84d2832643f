"""Latency of constrained label choice (``EmbeddedProvider.choose``) on the embedded Gemma 3 270M.

For 8 labels (the bundled support queries), 77 (banking77) and 151 (clinc150,
with ``oos``), on the same N test queries of each data set, zero-shot (the
system prompt lists every label as "humanised name: key"):

* ``mask``: choose() with the token-mask decoder (the default);
* ``gbnf``: choose() with llama.cpp's GBNF grammar sampler;
* ``free``: what a user would otherwise do: generate() with the same prompt
  and no constraint, then ``parse_choice`` on the text.

Printed per label-set size and method: the system prompt's tokens, the first
call (cold: the label list is evaluated) and the warm calls' p50 / p95 latency
in ms (the label list comes from llama.cpp's prefix cache), output tokens, the
share of answers that are a valid label, accuracy on these N rows, and the
ratios gbnf / mask and free / mask, and how often mask and gbnf pick the same label
(they accept the same answers, so under greedy decoding they should agree). Accuracy on so few rows of a 270M base
model says little; the valid-output rate and the latency are the point.

Run:  python benchmarks/choice_latency.py [--n 12] [--threads 1] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from core.arena.choice import humanise_label, parse_choice  # noqa: E402
from core.arena.providers import EmbeddedProvider  # noqa: E402
from core.settings import settings  # noqa: E402


def system_prompt(labels: list[str]) -> str:
    lines = [f"- {humanise_label(k)}: {k}" for k in labels]
    return ("Classify the customer's request into exactly one category. Categories (name: key):\n"
            + "\n".join(lines) + "\nAnswer with the key of the category only.")


def datasets(data_dir: Path, n: int, seed: int) -> list[tuple[str, list[str], pd.DataFrame]]:
    out = []
    sample = pd.read_csv(ROOT / "data" / "support_queries.csv")
    out.append(("support_queries (8)", sample))
    b77 = data_dir / "banking77" / "test.csv"
    if b77.is_file():
        out.append(("banking77 (77)", pd.read_csv(b77).rename(columns={"category": "label"})))
    c150 = data_dir / "clinc150" / "clinc150_full.csv"
    if c150.is_file():
        df = pd.read_csv(c150)
        out.append(("clinc150 (151)", df[df["split"].str.startswith(("test", "oos_test"))]
                    .rename(columns={"intent": "label"})))
    res = []
    for name, df in out:
        labels = sorted(df["label"].astype(str).unique())
        rows = df.sample(n=min(n, len(df)), random_state=seed)
        res.append((name, labels, rows))
    return res


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run(provider: EmbeddedProvider, method: str, system: str, labels: list[str], rows: pd.DataFrame,
        max_tokens: int) -> dict:
    lat, outs, valid, correct, picks = [], [], 0, 0, []
    first_ms = None
    for text, gold in zip(rows["text"].astype(str), rows["label"].astype(str)):
        msgs = [{"role": "user", "content": f"<query>{text}</query>"}]
        t0 = time.perf_counter()
        if method == "free":
            r = provider.generate(system, msgs, max_tokens, 0.0)
        else:
            r = provider.choose(system, msgs, labels, max_tokens=max_tokens)
        ms = (time.perf_counter() - t0) * 1000
        if first_ms is None:
            first_ms = ms
        else:
            lat.append(ms)
        outs.append(r.output_tokens or 0)
        pick = parse_choice(r.text, labels)
        picks.append(pick)
        valid += pick is not None
        correct += pick == gold
    n = len(rows)
    return {"first_ms": first_ms, "p50": pct(lat, 0.5), "p95": pct(lat, 0.95),
            "out_tokens": statistics.mean(outs), "valid": valid / n, "accuracy": correct / n, "picks": picks}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=12, help="test queries per data set (default 12)")
    ap.add_argument("--threads", type=int, default=None, help="llama.cpp CPU threads (default: the provider's)")
    ap.add_argument("--n-ctx", type=int, default=4096, help="context window (default 4096)")
    ap.add_argument("--max-tokens", type=int, default=16, help="max output tokens (default 16)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, default=settings.shared_data)  # CROSSROADS_SHARED_DATA
    args = ap.parse_args()

    opts = {"n_ctx": args.n_ctx} | ({"n_threads": args.threads} if args.threads else {})
    provs = {m: EmbeddedProvider(choice_method=m if m != "free" else "mask", **opts)
             for m in ("mask", "gbnf", "free")}
    t0 = time.perf_counter()
    llm = provs["mask"].llama()
    t1 = time.perf_counter()
    provs["mask"]._pieces(llm)  # the mask's vocabulary table, built once per GGUF file
    t2 = time.perf_counter()
    print(f"model {provs['mask'].model_id}: loaded in {t1 - t0:.1f} s, n_ctx {args.n_ctx}, threads "
          f"{provs['mask'].n_threads}, vocabulary {llm.n_vocab():,} tokens (mask's piece table: {t2 - t1:.1f} s, once)")
    print(f"{args.n} queries per data set (first = cold call, p50/p95 over the other {args.n - 1}), "
          "zero-shot, greedy\n")
    header = (f"{'data set (labels)':<20} {'method':<5} {'sys tok':>7} {'first ms':>9} {'p50 ms':>8} "
              f"{'p95 ms':>8} {'out tok':>7} {'valid':>6} {'acc':>5}")
    print(header)
    print("-" * len(header))
    for name, labels, rows in datasets(args.data, args.n, args.seed):
        system = system_prompt(labels)
        sys_tokens = len(llm.tokenize(system.encode("utf-8"), add_bos=True, special=False))
        results = {}
        for method, prov in provs.items():
            llm.reset()  # each method starts cold: its first call evaluates the label list
            results[method] = r = run(prov, method, system, labels, rows, args.max_tokens)
            print(f"{name:<20} {method:<5} {sys_tokens:>7} {r['first_ms']:>9.0f} {r['p50']:>8.0f} "
                  f"{r['p95']:>8.0f} {r['out_tokens']:>7.1f} {r['valid']:>6.0%} {r['accuracy']:>5.0%}")
        t, g, f = results["mask"], results["gbnf"], results["free"]
        agree = sum(a == b for a, b in zip(t["picks"], g["picks"])) / len(rows)
        print(f"{'':<20} ratios: gbnf/mask p50 {g['p50'] / t['p50']:.1f}x, first call "
              f"{g['first_ms'] / t['first_ms']:.1f}x; free/mask p50 {f['p50'] / t['p50']:.1f}x; "
              f"mask and gbnf pick the same label on {agree:.0%} of rows\n")


if __name__ == "__main__":
    main()
