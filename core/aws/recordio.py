"""SageMaker's recordIO-protobuf format, and label-first headerless CSV, for the built-in algorithms.

Format (documented in "Common data formats for training", section *protobuf recordIO*,
https://docs.aws.amazon.com/sagemaker/latest/dg/cdf-training.html, and in the ``record.proto``
file of the SageMaker Python SDK, ``src/sagemaker/amazon/record.proto``, package ``aialgs.data``):

* The file is a sequence of MXNet **RecordIO** records. Each record is
  ``uint32 magic = 0xCED7230A`` (little-endian), ``uint32 length`` (little-endian; the upper 3 bits
  are a continuation flag, 0 for a whole record), ``length`` bytes of payload, then zero bytes up to
  the next multiple of 4.
* Each payload is one serialized protobuf ``Record`` message::

      message Float32Tensor { repeated float values = 1 [packed = true];
                              repeated uint64 keys = 2 [packed = true];
                              repeated uint64 shape = 3 [packed = true]; }
      message Value  { oneof value { Float32Tensor float32_tensor = 2; Float64Tensor float64_tensor = 3;
                                     Int32Tensor int32_tensor = 7; Bytes bytes = 9; } }
      message Record { map<string, Value> features = 1; map<string, Value> label = 2;
                       optional string uid = 3; optional string metadata = 4; optional string configuration = 5; }

* A **dense** row is ``features["values"].float32_tensor.values = [x0, x1, ...]``.
  A **sparse** row has the non-zero ``values``, their column indices in ``keys`` and
  ``shape = [feature_dim]``. The label, when present, is ``label["values"].float32_tensor.values = [y]``.
  Linear Learner reads only ``Float32`` tensors
  (https://docs.aws.amazon.com/sagemaker/latest/dg/linear-learner.html#ll-input_output).

The messages are built with the ``protobuf`` library from a descriptor equal to ``record.proto``
(no generated code, no ``protoc``), and framed as above. The result is byte-for-byte what the
SageMaker SDK's ``write_spmatrix_to_sparse_tensor`` / ``write_numpy_to_dense_tensor`` write
(checked in ``tests/aws/test_aws_recordio.py`` against the SDK when it is installed, and always against a
parser written from the documented format).

CSV for the built-in algorithms: no header, the label in the first column, then the features
(https://docs.aws.amazon.com/sagemaker/latest/dg/cdf-training.html, "CSV"); for inference the
rows carry the features only.
"""

from __future__ import annotations

import io
import re
import struct
from typing import BinaryIO, Iterator, Sequence

import numpy as np
import scipy.sparse as sp

from core.errors import DataError

#: RecordIO magic number (little-endian uint32), from MXNet's recordio format.
RECORDIO_MAGIC = 0xCED7230A
#: Content type SageMaker expects for this format.
RECORDIO_CONTENT_TYPE = "application/x-recordio-protobuf"
CSV_CONTENT_TYPE = "text/csv"

_RECORD_CLASS = None


def _record_class():
    """The protobuf ``aialgs.data.Record`` message class, built once from its descriptor."""
    global _RECORD_CLASS
    if _RECORD_CLASS is not None:
        return _RECORD_CLASS
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="crossroads_aialgs_record.proto", package="aialgs.data",
                                             syntax="proto2")

    def tensor(name: str, value_type: int) -> None:
        m = fdp.message_type.add(name=name)
        for number, fname, ftype in ((1, "values", value_type), (2, "keys", F.TYPE_UINT64),
                                     (3, "shape", F.TYPE_UINT64)):
            f = m.field.add(name=fname, number=number, type=ftype, label=F.LABEL_REPEATED)
            f.options.packed = True

    tensor("Float32Tensor", F.TYPE_FLOAT)
    tensor("Float64Tensor", F.TYPE_DOUBLE)
    tensor("Int32Tensor", F.TYPE_INT32)
    b = fdp.message_type.add(name="Bytes")
    b.field.add(name="value", number=1, type=F.TYPE_BYTES, label=F.LABEL_REPEATED)
    b.field.add(name="content_type", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    v = fdp.message_type.add(name="Value")
    v.oneof_decl.add(name="value")
    for number, fname, tname in ((2, "float32_tensor", "Float32Tensor"), (3, "float64_tensor", "Float64Tensor"),
                                 (7, "int32_tensor", "Int32Tensor"), (9, "bytes", "Bytes")):
        v.field.add(name=fname, number=number, type=F.TYPE_MESSAGE, type_name=f".aialgs.data.{tname}",
                    label=F.LABEL_OPTIONAL, oneof_index=0)
    r = fdp.message_type.add(name="Record")
    for number, fname, entry in ((1, "features", "FeaturesEntry"), (2, "label", "LabelEntry")):
        e = r.nested_type.add(name=entry)
        e.options.map_entry = True
        e.field.add(name="key", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
        e.field.add(name="value", number=2, type=F.TYPE_MESSAGE, type_name=".aialgs.data.Value",
                    label=F.LABEL_OPTIONAL)
        r.field.add(name=fname, number=number, type=F.TYPE_MESSAGE,
                    type_name=f".aialgs.data.Record.{entry}", label=F.LABEL_REPEATED)
    for number, fname in ((3, "uid"), (4, "metadata"), (5, "configuration")):
        r.field.add(name=fname, number=number, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    _RECORD_CLASS = message_factory.GetMessageClass(pool.FindMessageTypeByName("aialgs.data.Record"))
    return _RECORD_CLASS


def frame_record(payload: bytes) -> bytes:
    """Wrap one payload in a RecordIO frame: magic, length, payload, zero padding to 4 bytes."""
    pad = (-len(payload)) % 4
    return struct.pack("<II", RECORDIO_MAGIC, len(payload)) + payload + b"\x00" * pad


def _check_labels(labels, n_rows: int) -> np.ndarray | None:
    if labels is None:
        return None
    y = np.asarray(labels, dtype=np.float32).ravel()
    if y.shape[0] != n_rows:
        raise DataError(f"{n_rows} feature rows but {y.shape[0]} labels; they must pair up one to one.")
    if not np.all(np.isfinite(y)):
        raise DataError("a label is missing or not a finite number; remove those rows first.")
    return y


def write_recordio_protobuf(out: BinaryIO, X, labels: Sequence[float] | None = None) -> int:
    """Write a feature matrix (and labels) as recordIO-protobuf, one ``Record`` per row.

    Args:
        out: a binary file object open for writing.
        X: ``(n_rows, feature_dim)`` features; a ``scipy.sparse`` matrix is written **sparse**
            (``values`` + ``keys`` + ``shape``), a dense array **dense** (``values`` only). Values are
            written as float32 (the type Linear Learner reads).
        labels: ``n_rows`` labels (float32), or ``None`` for inference input.

    Returns:
        The number of bytes written.

    Raises:
        DataError: not 2-D, a non-finite feature value, or labels of the wrong length.
    """
    Record = _record_class()
    record = Record()
    written = 0
    if sp.issparse(X):
        M = sp.csr_matrix(X, dtype=np.float32)
        if M.ndim != 2:
            raise DataError("the features must be a 2-D matrix (rows x features).")
        M.sort_indices()
        if not np.all(np.isfinite(M.data)):
            raise DataError("a feature value is not a finite number (NaN or infinity); impute it first.")
        n_rows, n_cols = M.shape
        y = _check_labels(labels, n_rows)
        indptr, indices, data = M.indptr, M.indices.astype(np.uint64), M.data
        for i in range(n_rows):
            record.Clear()
            t = record.features["values"].float32_tensor
            lo, hi = indptr[i], indptr[i + 1]
            t.values.extend(data[lo:hi].tolist())
            t.keys.extend(indices[lo:hi].tolist())
            if y is not None:
                record.label["values"].float32_tensor.values.append(float(y[i]))
            t.shape.append(n_cols)
            chunk = frame_record(record.SerializeToString())
            out.write(chunk)
            written += len(chunk)
        return written
    A = np.asarray(X, dtype=np.float32)
    if A.ndim != 2:
        raise DataError("the features must be a 2-D matrix (rows x features).")
    if not np.all(np.isfinite(A)):
        raise DataError("a feature value is not a finite number (NaN or infinity); impute it first.")
    y = _check_labels(labels, A.shape[0])
    for i in range(A.shape[0]):
        record.Clear()
        record.features["values"].float32_tensor.values.extend(A[i].tolist())
        if y is not None:
            record.label["values"].float32_tensor.values.append(float(y[i]))
        chunk = frame_record(record.SerializeToString())
        out.write(chunk)
        written += len(chunk)
    return written


def recordio_bytes(X, labels: Sequence[float] | None = None) -> bytes:
    """:func:`write_recordio_protobuf` into memory; returns the bytes."""
    buf = io.BytesIO()
    write_recordio_protobuf(buf, X, labels)
    return buf.getvalue()


def iter_recordio(data: bytes) -> Iterator[bytes]:
    """Yield the payloads of a RecordIO byte string.

    Raises:
        DataError: a bad magic number, a truncated record, or a multi-part record (not written by SageMaker's
            algorithms or by this module).
    """
    pos, n = 0, len(data)
    while pos < n:
        if n - pos < 8:
            raise DataError(f"truncated RecordIO header at byte {pos}.")
        magic, length = struct.unpack_from("<II", data, pos)
        if magic != RECORDIO_MAGIC:
            raise DataError(f"not a RecordIO file: bad magic number 0x{magic:08X} at byte {pos}.")
        if length >> 29:
            raise DataError(f"multi-part RecordIO record at byte {pos} is not supported.")
        start = pos + 8
        end = start + length
        if end > n:
            raise DataError(f"truncated RecordIO record at byte {pos}.")
        yield data[start:end]
        pos = end + ((-length) % 4)


def read_recordio_protobuf(data: bytes) -> list[dict]:
    """Parse recordIO-protobuf bytes back into plain dicts (for checks and for transform outputs).

    Returns:
        One dict per record: ``{"features": {name: {"values": [...], "keys": [...], "shape": [...]}},
        "label": {name: {...}}}`` (tensor values as Python floats/ints).
    """
    Record = _record_class()
    out = []
    for payload in iter_recordio(data):
        r = Record()
        r.ParseFromString(payload)

        def tensors(m) -> dict:
            res = {}
            for name, value in m.items():
                kind = value.WhichOneof("value")
                t = getattr(value, kind) if kind else None
                if t is None or kind == "bytes":
                    res[name] = {"values": list(getattr(t, "value", []))}
                else:
                    res[name] = {"values": list(t.values), "keys": list(t.keys), "shape": list(t.shape)}
            return res

        out.append({"features": tensors(r.features), "label": tensors(r.label)})
    return out


#: Rows formatted per block when writing CSV (bounds memory on large tables).
CSV_BLOCK_ROWS = 20_000
_TRAILING_ZERO = re.compile(r"\.0(?=[,\n])")


def write_csv(out: BinaryIO, X, labels: Sequence[float] | None = None) -> int:
    """Write features as headerless CSV, label first when given (SageMaker's built-in algorithm CSV).

    Values are written as float32 (what Linear Learner reads), each as the shortest decimal that
    reads back as the same float32 (numpy's formatting: ``0.3``, ``1e-08``), with ``.0`` dropped from
    whole numbers (``1`` rather than ``1.0``) and ``-0`` written as ``0``.

    Args:
        out: a binary file object open for writing.
        X: ``(n_rows, feature_dim)`` features (sparse matrices are densified block by block).
        labels: ``n_rows`` labels, or ``None`` (inference input: features only).

    Returns:
        The number of bytes written (UTF-8, ``\n`` line ends).

    Raises:
        DataError: a non-finite value or labels of the wrong length.
    """
    n_rows = X.shape[0]
    y = _check_labels(labels, n_rows)
    written = 0
    for start in range(0, n_rows, CSV_BLOCK_ROWS):
        stop = min(start + CSV_BLOCK_ROWS, n_rows)
        block = X[start:stop]
        dense = np.asarray(block.toarray() if sp.issparse(block) else block, dtype=np.float32)
        if dense.ndim != 2:
            raise DataError("the features must be a 2-D matrix (rows x features).")
        bad = ~np.isfinite(dense).all(axis=1)
        if bad.any():
            raise DataError(f"row {start + int(np.flatnonzero(bad)[0])} has a missing or infinite feature value; "
                            "impute it first.")
        if y is not None:
            dense = np.column_stack([y[start:stop], dense])
        dense = dense + np.float32(0)  # -0.0 -> 0.0
        text = "\n".join(",".join(row) for row in dense.astype(str).tolist()) + "\n"
        data = _TRAILING_ZERO.sub("", text).encode("utf-8")
        out.write(data)
        written += len(data)
    return written
