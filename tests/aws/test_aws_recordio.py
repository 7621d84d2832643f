"""recordIO-protobuf and CSV for SageMaker's built-in algorithms, checked byte for byte."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.settings import settings
import scipy.sparse as sp

from aws_helpers import parse_recordio_file
from core.aws.recordio import (RECORDIO_MAGIC, frame_record, iter_recordio, read_recordio_protobuf, recordio_bytes,
                               write_csv)
from core.errors import DataError

SAGEMAKER_PYTHON = str(settings.sagemaker_python)  # CROSSROADS_SAGEMAKER_PYTHON


def test_one_dense_record_matches_the_documented_bytes():
    # Hand-encoded from record.proto: Float32Tensor{values=[1.5]} is 0a 04 <1.5 as float32 LE>; Value wraps it
    # in field 2 (12 06 ...); the map entry is key "values" (0a 06 ...) + value (12 08 ...); Record.features is
    # field 1 (0a 12 ...), Record.label field 2 (12 12 ...). 40 payload bytes, no padding needed.
    def entry(x: float) -> bytes:
        tensor = b"\x0a\x04" + struct.pack("<f", x)
        value = b"\x12\x06" + tensor
        return b"\x0a\x06values" + b"\x12\x08" + value

    payload = b"\x0a\x12" + entry(1.5) + b"\x12\x12" + entry(0.0)
    expected = struct.pack("<II", 0xCED7230A, len(payload)) + payload
    assert len(payload) == 40
    assert recordio_bytes(np.array([[1.5]]), [0]) == expected


def test_frames_are_padded_to_four_bytes():
    for n in range(9):
        framed = frame_record(b"x" * n)
        assert len(framed) % 4 == 0
        assert struct.unpack_from("<II", framed) == (RECORDIO_MAGIC, n)
        assert framed[8 + n:] == b"\x00" * ((4 - n % 4) % 4)


def test_sparse_rows_are_written_sparse_and_parse_back_with_an_independent_reader():
    X = sp.csr_matrix(np.array([[0, 0.5, 0, 0, 2.0], [0, 0, 0, 0, 0], [3.25, 0, 0, 0, -1]], dtype=np.float64))
    data = recordio_bytes(X, [2, 0, 1])
    recs = parse_recordio_file(data)
    assert [r["label"]["values"]["values"] for r in recs] == [[2.0], [0.0], [1.0]]
    assert recs[0]["features"]["values"] == {"values": [0.5, 2.0], "keys": [1, 4], "shape": [5]}
    assert recs[1]["features"]["values"] == {"values": [], "keys": [], "shape": [5]}   # an empty row keeps its shape
    assert recs[2]["features"]["values"] == {"values": [3.25, -1.0], "keys": [0, 4], "shape": [5]}
    # the module's own reader (protobuf library) agrees
    assert read_recordio_protobuf(data)[2]["features"]["values"]["keys"] == [0, 4]


def test_dense_rows_have_values_only_and_no_label_for_inference():
    A = np.array([[1.0, 0.0, -2.5], [0.1, 0.2, 0.3]])
    recs = parse_recordio_file(recordio_bytes(A))
    assert recs[0] == {"features": {"values": {"values": [1.0, 0.0, -2.5], "keys": [], "shape": []}}, "label": {}}
    np.testing.assert_allclose(recs[1]["features"]["values"]["values"], np.float32([0.1, 0.2, 0.3]))


def test_bad_input_is_refused_clearly():
    with pytest.raises(DataError, match="finite"):
        recordio_bytes(np.array([[np.nan, 1.0]]))
    with pytest.raises(DataError, match="pair up"):
        recordio_bytes(np.ones((3, 2)), [1, 0])
    with pytest.raises(DataError, match="magic"):
        list(iter_recordio(b"\x00" * 12))
    with pytest.raises(DataError, match="truncated"):
        list(iter_recordio(frame_record(b"abcdef")[:10]))


def test_csv_is_headerless_label_first_and_round_trips_float32():
    X = np.array([[0.3, 1e-8, -2.0], [1e20, 5.0, 0.0]])
    out = io.BytesIO()
    write_csv(out, X, [1, 0])
    text = out.getvalue().decode("utf-8")
    assert text == "1,0.3,1e-08,-2\n0,1e+20,5,0\n"
    back = np.array([[float(v) for v in line.split(",")] for line in text.splitlines()], dtype=np.float32)
    np.testing.assert_array_equal(back[:, 1:], X.astype(np.float32))
    out = io.BytesIO()
    write_csv(out, sp.csr_matrix(X))  # inference input: features only
    assert out.getvalue().decode().splitlines()[0] == "0.3,1e-08,-2"


@pytest.mark.skipif(not Path(SAGEMAKER_PYTHON).exists(),
                    reason=f"the sagemaker SDK (v2, with scipy) is not installed at {SAGEMAKER_PYTHON}; set "
                           "CROSSROADS_SAGEMAKER_PYTHON to a python that has it (kept out of requirements.txt)")
def test_byte_identical_to_the_sagemaker_sdk_and_readable_by_it(tmp_path):
    rng = np.random.default_rng(7)
    X = sp.random(60, 50, density=0.08, format="csr", dtype=np.float32, random_state=3)
    y = rng.integers(0, 6, 60).astype(np.float32)
    D = rng.normal(size=(25, 9)).astype(np.float32)
    sp.save_npz(tmp_path / "x.npz", X)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "d.npy", D)
    (tmp_path / "ours_sparse.bin").write_bytes(recordio_bytes(X, y))
    (tmp_path / "ours_dense.bin").write_bytes(recordio_bytes(D, y[:25]))
    script = textwrap.dedent("""
        import io, sys, numpy as np, scipy.sparse as sp
        from sagemaker.amazon.common import (write_spmatrix_to_sparse_tensor, write_numpy_to_dense_tensor,
                                             read_records)
        d = sys.argv[1]
        X = sp.load_npz(d + "/x.npz"); y = np.load(d + "/y.npy"); D = np.load(d + "/d.npy")
        b = io.BytesIO(); write_spmatrix_to_sparse_tensor(b, X, y)
        open(d + "/sdk_sparse.bin", "wb").write(b.getvalue())
        b = io.BytesIO(); write_numpy_to_dense_tensor(b, D, y[:25])
        open(d + "/sdk_dense.bin", "wb").write(b.getvalue())
        recs = read_records(open(d + "/ours_sparse.bin", "rb"))
        t = recs[5].features["values"].float32_tensor
        print(len(recs), list(t.keys), list(t.shape), recs[5].label["values"].float32_tensor.values[0])
    """)
    env = dict(os.environ, SAGEMAKER_SUPPRESS_V2_WARNING="1")
    res = subprocess.run([SAGEMAKER_PYTHON, "-c", script, str(tmp_path)], capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert (tmp_path / "sdk_sparse.bin").read_bytes() == (tmp_path / "ours_sparse.bin").read_bytes()
    assert (tmp_path / "sdk_dense.bin").read_bytes() == (tmp_path / "ours_dense.bin").read_bytes()
    line = res.stdout.strip().splitlines()[-1]
    assert line.startswith("60 ")
    assert f"[{', '.join(str(k) for k in X[5].indices)}]" in line
    assert "[50]" in line and line.endswith(str(float(y[5])))
