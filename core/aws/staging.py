"""The S3 staging location: where a job's input goes and its output comes back.

The user chooses a bucket and a prefix; every job gets its own folder under the
prefix (``s3://bucket/prefix/<job name>/input/...`` and ``.../output/``). Files are
written locally first (:class:`StagedObject`), so a dry run and a real run write the
same bytes; a real run then uploads them with boto3's managed transfer (multipart for
large files).

Nothing staged is ever deleted without asking: :func:`delete_staged` refuses unless
``confirm=True``, and only deletes the exact objects a job staged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from core.aws.errors import translate
from core.errors import ConfigError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into ``(bucket, key)``.

    Raises:
        ConfigError: not an ``s3://`` URI or a bad bucket name.
    """
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ConfigError(f"{uri!r} is not an S3 URI: write it as s3://bucket/prefix.")
    bucket, _, key = uri[5:].partition("/")
    check_bucket_name(bucket)
    return bucket, key


def check_bucket_name(bucket: str) -> str:
    """Return ``bucket`` if it is a valid S3 bucket name, else raise :class:`ConfigError`."""
    if not bucket or not _BUCKET.match(bucket) or ".." in bucket:
        raise ConfigError(f"{bucket!r} is not a valid S3 bucket name: 3-63 lower-case letters, digits, dots and "
                          "hyphens, starting and ending with a letter or digit.")
    return bucket


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix (no leading or trailing ``/``)."""

    bucket: str
    prefix: str = "crossroads"

    @classmethod
    def make(cls, bucket: str, prefix: str | None = None) -> "S3Location":
        """Build from user input: ``bucket`` may be ``s3://bucket/prefix``; the prefix is cleaned."""
        bucket = (bucket or "").strip()
        if not bucket:
            raise ConfigError("choose an S3 bucket for staging (--bucket): the job's input and output go there.")
        if bucket.startswith("s3://"):
            bucket, key = parse_s3_uri(bucket)
            prefix = prefix if prefix not in (None, "") else key
        check_bucket_name(bucket)
        prefix = "/".join(p for p in str(prefix if prefix is not None else "crossroads").split("/") if p)
        return cls(bucket, prefix)

    def key(self, *parts: str) -> str:
        """The object key ``prefix/part/part``."""
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p and p.strip("/"))

    def uri(self, *parts: str) -> str:
        """``s3://bucket/prefix/part/...``."""
        return f"s3://{self.bucket}/{self.key(*parts)}"


@dataclass
class StagedObject:
    """One object to upload: its S3 key and the local file holding its exact bytes."""

    bucket: str
    key: str
    path: Path
    content_type: str = "application/octet-stream"
    n_records: int = 0

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def size(self) -> int:
        """Size in bytes."""
        return self.path.stat().st_size


def local_path(folder: Path, bucket: str, key: str) -> Path:
    """Where the object ``s3://bucket/key`` is written under a plan folder: ``folder/s3/bucket/key``."""
    p = Path(folder) / "s3" / bucket / key
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def check_bucket(session, bucket: str) -> None:
    """Check that ``bucket`` exists, is reachable, and is in the session's region.

    Raises:
        ConfigError: missing bucket, or a bucket in another region.
        ProviderError: access denied, no credentials.
    """
    s3 = session.client("s3")
    region = session.region
    try:
        resp = s3.head_bucket(Bucket=bucket)
    except Exception as exc:  # noqa: BLE001
        raise translate(exc, service="s3", action=f"checking the bucket {bucket}", region=region,
                        bucket=bucket) from None
    headers = (resp.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    found = resp.get("BucketRegion") or headers.get("x-amz-bucket-region")
    if found and found != region:
        raise ConfigError(f"the bucket {bucket} is in {found} but the job runs in {region}: the service reads "
                          f"the bucket from its own region. Choose region {found}, or a bucket in {region}.")


def upload(session, objects: Iterable[StagedObject], *,
           progress: Callable[[int, int], None] | None = None) -> None:
    """Upload the staged files (multipart for large ones) to their S3 keys.

    Args:
        session: an :class:`core.aws.session.AwsSession`.
        objects: the files to upload.
        progress: ``callback(bytes_done, bytes_total)``, always called on the calling thread (a UI can
            update itself from it); with a callback, multipart parts are sent one after another
            instead of by boto3's worker threads.

    Raises:
        ConfigError / ProviderError: missing bucket, access denied, no credentials.
    """
    objs = list(objects)
    total = sum(o.size for o in objs)
    done = 0
    s3 = session.client("s3")
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(use_threads=progress is None)
    for o in objs:
        def cb(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, total)

        try:
            s3.upload_file(str(o.path), o.bucket, o.key, ExtraArgs={"ContentType": o.content_type},
                           Callback=cb if progress else None, Config=config)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, service="s3", action=f"uploading {o.uri}", region=session.region,
                            bucket=o.bucket) from None


def list_objects(session, uri: str) -> list[dict]:
    """Every object under ``s3://bucket/prefix`` as ``{"Key", "Size"}`` dicts, sorted by key."""
    bucket, prefix = parse_s3_uri(uri)
    s3 = session.client("s3")
    out: list[dict] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            out.extend({"Key": o["Key"], "Size": int(o.get("Size", 0))} for o in page.get("Contents", []))
    except Exception as exc:  # noqa: BLE001
        raise translate(exc, service="s3", action=f"listing {uri}", region=session.region, bucket=bucket) from None
    return sorted(out, key=lambda o: o["Key"])


def read_object(session, uri: str) -> bytes:
    """The bytes of ``s3://bucket/key``."""
    bucket, key = parse_s3_uri(uri)
    try:
        return session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:  # noqa: BLE001
        raise translate(exc, service="s3", action=f"reading {uri}", region=session.region, bucket=bucket,
                        job="output") from None


def delete_staged(session, uris: Iterable[str], *, confirm: bool = False) -> int:
    """Delete exactly the given staged objects, only when the user confirmed.

    Args:
        session: an :class:`core.aws.session.AwsSession`.
        uris: ``s3://`` URIs of objects a job staged (never prefixes).
        confirm: must be ``True``; the caller asks the user first.

    Returns:
        The number of objects deleted.

    Raises:
        ConfigError: ``confirm`` is not ``True`` (nothing is deleted).
    """
    uris = list(uris)
    if confirm is not True:
        raise ConfigError(f"not deleting {len(uris)} staged object(s) without confirmation: pass --yes "
                          "(CLI) or tick the confirmation box (page).")
    n = 0
    for uri in uris:
        bucket, key = parse_s3_uri(uri)
        try:
            session.client("s3").delete_object(Bucket=bucket, Key=key)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, service="s3", action=f"deleting {uri}", region=session.region,
                            bucket=bucket) from None
        n += 1
    return n
