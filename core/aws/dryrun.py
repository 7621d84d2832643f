"""A job plan, and the dry run that writes it to a local folder instead of sending it.

Every job is first built as a :class:`JobPlan`: the exact files that would be uploaded
(already written under ``<folder>/s3/<bucket>/<key>``) and the exact API requests
(service, operation and parameters, as passed to boto3). A **dry run** stops there and adds:

* ``<folder>/requests/01-<Operation>.json``, one file per request, the parameters as sent
  (``{"service", "operation", "params"}``);
* ``<folder>/plan.json``: the job name, region, what would be uploaded (URI, bytes, records),
  the output location and the cost/time estimate.

So a user or a reviewer without an AWS account can open exactly what would go to S3 and to the
service. A real run uploads the same files and sends the same requests.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.aws.pricing import Estimate, format_bytes
from core.aws.staging import S3Location, StagedObject


@dataclass
class Request:
    """One API call: ``boto3.client(service).<operation in snake_case>(**params)``."""

    service: str
    operation: str
    params: dict

    def to_json(self) -> str:
        """The request file's text: ``{"service", "operation", "params"}``, indented, UTF-8 characters kept."""
        return json.dumps({"service": self.service, "operation": self.operation, "params": self.params},
                          indent=2, ensure_ascii=False, default=str) + "\n"


@dataclass
class JobPlan:
    """Everything a job would send, built locally.

    Attributes:
        kind: the job kind (see :mod:`core.aws.jobs`), e.g. ``"bedrock-batch"``.
        job_name: the name the job gets in AWS.
        region: the region it runs in.
        folder: the local folder holding ``s3/`` (and, after a dry run, ``requests/`` and ``plan.json``).
        staging: the user's S3 staging location.
        objects: the files to upload, in order.
        requests: the API calls to make, in order.
        output_uri: where the service writes its output.
        estimate: cost and time, shown before submitting.
        rows: one row per input record, kept locally to join the results back
            (``row`` = 0-based row number in the user's table, plus the columns needed for the join).
        meta: what the job's results need to be read (classes, feature settings, ...), JSON-ready.
        notes: things the user should know (rows dropped, texts cut...).
        role_arn: the service role passed to the job.
    """

    kind: str
    job_name: str
    region: str
    folder: Path
    staging: S3Location
    objects: list[StagedObject] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    output_uri: str = ""
    estimate: Estimate | None = None
    rows: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    role_arn: str = ""

    @property
    def staged_bytes(self) -> int:
        """Total bytes to upload."""
        return sum(o.size for o in self.objects)

    def summary(self) -> dict:
        """JSON-ready description of the plan (what ``plan.json`` holds)."""
        return {
            "kind": self.kind,
            "job_name": self.job_name,
            "region": self.region,
            "role_arn": self.role_arn,
            "uploads": [{"uri": o.uri, "bytes": o.size, "records": o.n_records, "content_type": o.content_type,
                         "local_file": str(Path("s3") / o.bucket / o.key)} for o in self.objects],
            "staged_bytes": self.staged_bytes,
            "requests": [f"requests/{i:02d}-{r.operation}.json" for i, r in enumerate(self.requests, 1)],
            "output_uri": self.output_uri,
            "estimate": self.estimate.to_dict() if self.estimate else None,
            "notes": list(self.notes),
        }


def write_dry_run(plan: JobPlan) -> Path:
    """Write the request files and ``plan.json`` next to the staged files; send nothing.

    Args:
        plan: a built plan (its objects are already under ``plan.folder/s3``).

    Returns:
        ``plan.folder``.
    """
    folder = Path(plan.folder)
    req_dir = folder / "requests"
    req_dir.mkdir(parents=True, exist_ok=True)
    for old in req_dir.glob("*.json"):  # a previous dry run into the same folder
        old.unlink()
    for i, r in enumerate(plan.requests, 1):
        (req_dir / f"{i:02d}-{r.operation}.json").write_text(r.to_json(), encoding="utf-8")
    (folder / "plan.json").write_text(json.dumps(plan.summary(), indent=2, ensure_ascii=False, default=str) + "\n",
                                      encoding="utf-8")
    return folder


def describe_dry_run(folder: str | os.PathLike, *, preview_bytes: int = 600) -> list[dict]:
    """List a dry-run folder for display: every file with its size and a preview.

    Args:
        folder: a folder written by :func:`write_dry_run`.
        preview_bytes: how many leading bytes to preview.

    Returns:
        ``[{"path": relative path, "bytes": size, "preview": text}]`` sorted by path; binary files
        (recordIO-protobuf) are previewed as hex, text files as text.
    """
    folder = Path(folder)
    out = []
    for p in sorted(x for x in folder.rglob("*") if x.is_file()):
        head = p.open("rb").read(preview_bytes)
        try:
            text = head.decode("utf-8")
            binary = "\x00" in text
        except UnicodeDecodeError:
            binary = True
        if binary:
            text = " ".join(f"{b:02x}" for b in head[:96]) + (" ..." if len(head) > 96 else "")
        elif p.stat().st_size > preview_bytes:
            text = text.rsplit("\n", 1)[0] + "\n..."
        out.append({"path": str(p.relative_to(folder)), "bytes": p.stat().st_size, "size": format_bytes(p.stat().st_size),
                    "preview": text})
    return out


def jsonable(obj: Any) -> Any:
    """Numpy scalars and paths as plain JSON values (for ``meta``)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


#: Placeholders used by a dry run when no bucket or role is given (AWS's own documentation examples:
#: the reserved example bucket name and example account 111122223333). A real run requires real values.
PLACEHOLDER_BUCKET = "amzn-s3-demo-bucket"
PLACEHOLDER_ROLES = {
    "sagemaker": "arn:aws:iam::111122223333:role/CrossroadsSageMakerRole",
    "bedrock": "arn:aws:iam::111122223333:role/CrossroadsBedrockBatchRole",
    "comprehend": "arn:aws:iam::111122223333:role/CrossroadsComprehendRole",
}
PLACEHOLDER_REGION = "us-east-1"
