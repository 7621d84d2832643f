"""How long do the AWS dry runs take on the shared datasets, and how fast is the recordIO-protobuf writer?

Prints, for each job a user can dry-run without an account (banking77 Linear Learner text and
Bedrock batch, telco Linear Learner table, chABSA Comprehend job): wall time of building the plan
(features, files, requests, estimate), bytes staged and the estimate. Then the recordIO-protobuf
writer on banking77's sparse TF-IDF train matrix: rows/s and MB/s, against the SageMaker Python
SDK's ``write_spmatrix_to_sparse_tensor`` on the same matrix when that SDK is installed (it is not a
dependency: point ``CROSSROADS_SAGEMAKER_PYTHON`` at a Python that has ``sagemaker<3`` and scipy),
and checks that both write the same bytes.

Run: ``python benchmarks/aws_dry_runs.py`` (about a minute; needs ../shared/data).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from core.aws import bedrock_batch as bb  # noqa: E402
from core.aws import comprehend_job as cj  # noqa: E402
from core.aws import sagemaker_linear_learner as ll  # noqa: E402
from core.aws.recordio import recordio_bytes  # noqa: E402
from core.aws.staging import S3Location  # noqa: E402
from core.io import load_table  # noqa: E402
from core.settings import settings  # noqa: E402

SHARED = settings.shared_data  # CROSSROADS_SHARED_DATA
SDK_PYTHON = str(settings.sagemaker_python)  # CROSSROADS_SAGEMAKER_PYTHON
STAGING = S3Location.make("amzn-s3-demo-bucket")
ROLE = "arn:aws:iam::111122223333:role/Crossroads"


def _report(name: str, seconds: float, plan) -> None:
    e = plan.estimate
    cap = f", at most USD {e.usd_max:,.4f}" if e.usd_max is not None else ""
    print(f"{name:<48} {seconds:6.1f} s  {plan.staged_bytes / 1e6:7.2f} MB staged  USD {e.usd:,.4f}{cap}")


def main() -> int:
    if not SHARED.is_dir():
        print(f"shared datasets not found at {SHARED}; set CROSSROADS_SHARED_DATA")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="crossroads-bench-"))
    b77 = load_table(SHARED / "banking77" / "train.csv").frame
    b77_test = load_table(SHARED / "banking77" / "test.csv").frame

    t0 = time.perf_counter()
    prep = ll.prepare_text(b77, "text", "category", test_df=b77_test)
    plan = ll.plan_training(prep, staging=STAGING, role_arn=ROLE, region="us-east-1", folder=tmp / "ll-text")
    _report("Linear Learner, banking77 text (recordIO)", time.perf_counter() - t0, plan)

    t0 = time.perf_counter()
    telco = load_table(SHARED / "telco_churn" / "Telco-Customer-Churn.csv").frame
    tprep = ll.prepare_table(telco, "Churn")
    tplan = ll.plan_training(tprep, staging=STAGING, role_arn=ROLE, region="us-east-1", folder=tmp / "ll-table")
    _report("Linear Learner, telco table (CSV)", time.perf_counter() - t0, tplan)

    t0 = time.perf_counter()
    labels = sorted(b77_test["category"].astype(str).unique())
    recs = bb.classification_records(b77_test["text"].astype(str).tolist(), labels)
    bplan = bb.plan_bedrock_batch(recs, staging=STAGING, role_arn=ROLE, region="us-east-1", folder=tmp / "bedrock")
    _report("Bedrock batch, banking77 test (3,080 records)", time.perf_counter() - t0, bplan)

    t0 = time.perf_counter()
    chabsa = load_table(SHARED / "ja_chabsa_sentiment" / "chabsa_sentences.csv").frame
    cplan = cj.plan_comprehend_job(chabsa["sentence"].tolist(), staging=STAGING, role_arn=ROLE, region="us-east-1",
                                   language="ja", folder=tmp / "comprehend")
    _report("Comprehend job, chABSA (6,119 documents)", time.perf_counter() - t0, cplan)

    X = sp.csr_matrix(prep.train.X, dtype=np.float32)
    y = prep.train.y
    best = min(_timed(lambda: recordio_bytes(X, y)) for _ in range(3))
    data = recordio_bytes(X, y)
    print(f"\nrecordIO-protobuf writer, banking77 train ({X.shape[0]:,} x {X.shape[1]:,}, {X.nnz:,} non-zeros): "
          f"{best:.2f} s, {X.shape[0] / best:,.0f} rows/s, {len(data) / 1e6 / best:.1f} MB/s")
    if not Path(SDK_PYTHON).exists():
        print(f"SageMaker SDK not found at {SDK_PYTHON}: no comparison (set CROSSROADS_SAGEMAKER_PYTHON).")
        return 0
    sp.save_npz(tmp / "x.npz", X)
    np.save(tmp / "y.npy", y)
    script = textwrap.dedent("""
        import io, sys, time, numpy as np, scipy.sparse as sp
        from sagemaker.amazon.common import write_spmatrix_to_sparse_tensor
        X = sp.load_npz(sys.argv[1] + "/x.npz"); y = np.load(sys.argv[1] + "/y.npy")
        best = None
        for _ in range(3):
            b = io.BytesIO(); t = time.perf_counter(); write_spmatrix_to_sparse_tensor(b, X, y)
            best = min(best or 1e9, time.perf_counter() - t)
        open(sys.argv[1] + "/sdk.bin", "wb").write(b.getvalue())
        print(best)
    """)
    out = subprocess.run([SDK_PYTHON, "-c", script, str(tmp)], capture_output=True, text=True,
                         env=dict(os.environ, SAGEMAKER_SUPPRESS_V2_WARNING="1"), timeout=600)
    if out.returncode:
        print("SageMaker SDK run failed:", out.stderr[-500:])
        return 1
    sdk = float(out.stdout.strip().splitlines()[-1])
    same = (tmp / "sdk.bin").read_bytes() == data
    print(f"SageMaker SDK write_spmatrix_to_sparse_tensor: {sdk:.2f} s, {X.shape[0] / sdk:,.0f} rows/s; "
          f"Crossroads / SDK time ratio {best / sdk:.2f}; identical bytes: {same}")
    return 0 if same else 1


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())
