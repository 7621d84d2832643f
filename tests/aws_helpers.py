"""Shared set-up for the core.aws tests: fake credentials, moto S3, Stubber-wrapped clients.

Nothing here reaches AWS: moto intercepts S3 and SageMaker calls in-process and
``botocore.stub.Stubber`` answers Bedrock and Comprehend calls after checking each
request against botocore's API model.
"""

from __future__ import annotations

import contextlib
import struct

import boto3
import pytest
from botocore.stub import Stubber

REGION = "us-east-1"
BUCKET = "crossroads-test-bucket"
#: A value that must never appear in any file Crossroads writes.
SECRET = "SECRETSENTINELdoNotWriteMe0123456789abcd"
ROLE_SM = "arn:aws:iam::123456789012:role/CrossroadsSageMakerRole"
ROLE_BR = "arn:aws:iam::123456789012:role/CrossroadsBedrockBatchRole"
ROLE_CO = "arn:aws:iam::123456789012:role/CrossroadsComprehendRole"


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Fake credentials (with a sentinel secret), a region, and a private job store."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SECRET + "token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("CROSSROADS_AWS_JOBS_DIR", str(tmp_path / "jobs"))
    return tmp_path


@contextlib.contextmanager
def moto_aws(create_bucket: bool = True):
    """moto's in-process AWS with the test bucket created."""
    from moto import mock_aws

    with mock_aws():
        if create_bucket:
            boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


def stubbed(service: str):
    """A real boto3 client for ``service`` and its activated Stubber."""
    client = boto3.client(service, region_name=REGION)
    stub = Stubber(client)
    stub.activate()
    return client, stub


def s3_put(key: str, data: bytes) -> None:
    boto3.client("s3", region_name=REGION).put_object(Bucket=BUCKET, Key=key, Body=data)


def s3_keys(prefix: str = "") -> list[str]:
    resp = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in resp.get("Contents", []))


# ---------------------------------------------------------------------------------------------------------------
# A protobuf wire-format reader written from the documented format (record.proto in the SageMaker SDK and
# https://protobuf.dev/programming-guides/encoding/), independent of the protobuf library used by the writer.

def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> list[tuple[int, int, object]]:
    """(field number, wire type, value) of a message: value is int (varint) or bytes (length-delimited)."""
    out, pos = [], 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.append((number, wire, value))
    return out


def _packed_varints(buf: bytes) -> list[int]:
    out, pos = [], 0
    while pos < len(buf):
        v, pos = _varint(buf, pos)
        out.append(v)
    return out


def parse_float32_tensor(buf: bytes) -> dict:
    """Float32Tensor: 1 = packed float values, 2 = packed uint64 keys, 3 = packed uint64 shape."""
    t = {"values": [], "keys": [], "shape": []}
    for number, wire, value in _fields(buf):
        assert wire == 2, "Float32Tensor fields are packed (length-delimited)"
        if number == 1:
            t["values"] += list(struct.unpack(f"<{len(value) // 4}f", value))
        elif number == 2:
            t["keys"] += _packed_varints(value)
        elif number == 3:
            t["shape"] += _packed_varints(value)
    return t


def parse_record(payload: bytes) -> dict:
    """Record: 1 = map<string, Value> features, 2 = map<string, Value> label; Value: 2 = Float32Tensor."""
    rec = {"features": {}, "label": {}}
    for number, wire, entry in _fields(payload):
        assert wire == 2 and number in (1, 2)
        name, tensor = None, None
        for n2, _w2, v2 in _fields(entry):
            if n2 == 1:
                name = v2.decode("utf-8")
            elif n2 == 2:
                kinds = _fields(v2)
                assert [k[0] for k in kinds] == [2], "only float32_tensor (field 2) is written"
                tensor = parse_float32_tensor(kinds[0][2])
        rec["features" if number == 1 else "label"][name] = tensor
    return rec


def parse_recordio_file(data: bytes) -> list[dict]:
    """Split MXNet RecordIO (magic 0xCED7230A, uint32 length, payload, pad to 4) and parse each Record."""
    out, pos = [], 0
    while pos < len(data):
        magic, length = struct.unpack_from("<II", data, pos)
        assert magic == 0xCED7230A, f"bad magic at {pos}"
        payload = data[pos + 8:pos + 8 + length]
        pad = (4 - length % 4) % 4
        assert data[pos + 8 + length:pos + 8 + length + pad] == b"\x00" * pad, "padding must be zero bytes"
        out.append(parse_record(payload))
        pos += 8 + length + pad
    assert pos == len(data)
    return out
