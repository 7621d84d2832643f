"""Which Japanese tokenization suits the intent classifier? Prints CV macro F1, accuracy and fit time.

Compares, with the same TF-IDF + LogisticRegression pipeline (core.arena.classifier):

- character n-grams only (no word features), sizes 1-4 and 1-3;
- janome / sudachi (mode A, sudachidict-core) / fugashi (unidic-lite) words (uni+bigrams) + char 1-4-grams;
- the same tokenizers' unigrams + char 1-3-grams;
- janome words only (no character n-grams);
- the classifier's default: regex word unigrams (Japanese runs left to the characters) + char 1-3-grams.

Data: the Japanese rows of ``data/support_queries.csv`` (ours, 200 rows, 8 classes) and
``../shared/data/ja_xsid_intents/xsid_ja_intents.csv`` (``text_ja``; the three classes with
fewer than 5 examples are dropped: 390 rows, 7 classes). Stratified 5-fold CV repeated
3 times (folds reduced to the smallest class when needed, as the classifier does).

Run: ``python benchmarks/ja_tokenizer.py`` (a few minutes on 1 core).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import RepeatedStratifiedKFold, cross_validate
from threadpoolctl import threadpool_limits
from sklearn.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.arena.classifier import IntentClassifier, normalize_text  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
REPEATS = 3  # 5-fold CV repeated 3 times with different shuffles: 15 fits per figure


def datasets() -> dict[str, tuple[list[str], list[str]]]:
    out = {}
    sample = pd.read_csv(ROOT / "data" / "support_queries.csv")
    ja = sample[sample["language"] == "ja"]
    out["sample-ja"] = (ja["text"].tolist(), ja["label"].tolist())
    xsid = SHARED / "ja_xsid_intents" / "xsid_ja_intents.csv"
    if xsid.exists():
        df = pd.read_csv(xsid)
        counts = df["intent"].value_counts()
        df = df[df["intent"].map(counts) >= 5]
        out["xsid-ja"] = (df["text_ja"].tolist(), df["intent"].tolist())
    else:
        print(f"(skipping xSID: {xsid} not found)")
    return out


def char_only(ngram_range=(1, 4)) -> Pipeline:
    clf = IntentClassifier()
    pipe = clf.build_pipeline()
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range,
                           preprocessor=normalize_text, sublinear_tf=True)
    return Pipeline([("features", char), ("model", pipe.named_steps["model"])])


def words_only(backend: str) -> Pipeline:
    pipe = IntentClassifier(japanese_tokenizer=backend).build_pipeline()
    word = dict(pipe.named_steps["features"].transformer_list)["word"]
    return Pipeline([("features", word), ("model", pipe.named_steps["model"])])


def combo(backend, words=(1, 2), chars=(1, 4)) -> Pipeline:
    return IntentClassifier(japanese_tokenizer=backend, word_ngram_range=words,
                            char_ngram_range=chars).build_pipeline()


CONFIGS = {
    "char (1-4) only": char_only,
    "char (1-3) only": lambda: char_only((1, 3)),
    "janome uni+bigrams + char14": lambda: combo("janome"),
    "sudachi uni+bigrams + char14": lambda: combo("sudachi"),
    "fugashi uni+bigrams + char14": lambda: combo("fugashi"),
    "janome unigrams + char13": lambda: combo("janome", (1, 1), (1, 3)),
    "sudachi unigrams + char13": lambda: combo("sudachi", (1, 1), (1, 3)),
    "fugashi unigrams + char13": lambda: combo("fugashi", (1, 1), (1, 3)),
    "janome words only": lambda: words_only("janome"),
    "DEFAULT: regex uni + char13": lambda: combo(None, (1, 1), (1, 3)),
}


def main() -> None:
    data = datasets()
    print(f"{'features':<30}" + "".join(f"{name:>34}" for name in data))
    print(f"{'':<30}" + "".join(f"{'macroF1 / acc / CV time':>34}" for _ in data))
    results = {}
    for cfg, make in CONFIGS.items():
        row = f"{cfg:<30}"
        for name, (x, y) in data.items():
            folds = min(5, int(pd.Series(y).value_counts().min()))
            cv = RepeatedStratifiedKFold(n_splits=folds, n_repeats=REPEATS, random_state=0)
            t0 = time.perf_counter()
            with threadpool_limits(1):
                res = cross_validate(make(), x, y, cv=cv, scoring=("accuracy", "f1_macro"), n_jobs=1)
            secs = time.perf_counter() - t0
            f1, acc = float(np.mean(res["test_f1_macro"])), float(np.mean(res["test_accuracy"]))
            results[(cfg, name)] = f1
            row += f"{f1:>16.3f} / {acc:.3f} / {secs:5.1f}s"
        print(row, flush=True)
    base = "char (1-4) only"
    for name in data:
        best = max(CONFIGS, key=lambda c: results[(c, name)])
        print(f"{name}: best = {best} (macro F1 {results[(best, name)]:.3f}, "
              f"{results[(best, name)] / results[(base, name)]:.3f}x char-only)")


if __name__ == "__main__":
    main()
