"""Amazon Comprehend asynchronous sentiment jobs (``StartSentimentDetectionJob``) for large files.

Input (https://docs.aws.amazon.com/comprehend/latest/dg/class-inputs-async.html): UTF-8 text files,
**one document per line** (``InputFormat="ONE_DOC_PER_LINE"``), no header. Line breaks inside a text
are replaced by spaces so each text stays one document, and each document is cut to 5,000 UTF-8
bytes (Comprehend's sentiment limit) with a note.

Output (https://docs.aws.amazon.com/comprehend/latest/dg/outputs-class-async.html): one
``output.tar.gz`` under ``<output S3Uri>/<account>-SENTIMENT-<job id>/output/``, holding a JSON-lines
file with one line per input line: ``{"File", "Line", "Sentiment", "SentimentScore"}`` or
``{"File", "Line", "ErrorCode", "ErrorMessage"}``. Results are joined back by (file, line) and
returned in the schema of :mod:`core.sentiment` (``Sentiment``, ``SentimentScore`` with
``Positive``/``Negative``/``Neutral``/``Mixed``), the same as the live ``DetectSentiment`` backend.

The archive is read as data: members are never extracted to disk, only regular files are read,
line by line.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import tempfile
from collections import Counter
from pathlib import Path
from typing import Sequence

import pandas as pd

from core.aws.dryrun import JobPlan, Request
from core.aws.errors import check_role_arn
from core.aws.jobs import (JobKind, JobRecord, JobResult, JobStatus, call, elapsed, join_rows, make_job_name,
                           register_kind, require_fetchable)
from core.aws.pricing import comprehend_job_estimate, load_quotas
from core.aws.staging import S3Location, StagedObject, list_objects, local_path, parse_s3_uri, read_object
from core.errors import ConfigError, DataError
from core.sentiment.base import SCORE_KEYS, SUPPORTED_LANGUAGES, SentimentResult, truncate_utf8

KIND = "comprehend-sentiment"
_NEWLINES = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]+")
_STATES = {"SUBMITTED": "queued", "IN_PROGRESS": "running", "COMPLETED": "completed", "FAILED": "failed",
           "STOP_REQUESTED": "stopping", "STOPPED": "stopped"}
#: Largest archive member read, in bytes (a guard against a hostile or corrupt archive).
MAX_MEMBER_BYTES = 20 * 1024 ** 3


def one_line(text: str) -> str:
    """``text`` on one line: line breaks of any kind become single spaces."""
    return _NEWLINES.sub(" ", text).strip()


def choose_language(texts: Sequence[str], language: str) -> tuple[str, list[str]]:
    """The job's language: ``language`` if given, else the most common detected one (jobs take one code).

    Raises:
        DataError: a language Comprehend sentiment does not support.
    """
    notes: list[str] = []
    lang = (language or "auto").strip()
    if lang == "auto":
        from core.sentiment.language import detect_language

        sample = [t for t in texts[:500] if isinstance(t, str) and t.strip()]
        counts = Counter(detect_language(t).code for t in sample)
        if not counts:
            raise DataError("no text to analyse.")
        lang, n = counts.most_common(1)[0]
        notes.append(f"Language detected as {lang!r} on {n} of the first {len(sample)} texts; a Comprehend job "
                     "uses one language for all documents (pass --language to choose).")
    if lang not in SUPPORTED_LANGUAGES:
        raise DataError(f"Comprehend sentiment does not support {lang!r}: use one of "
                        f"{', '.join(SUPPORTED_LANGUAGES)}.")
    return lang, notes


def plan_comprehend_job(texts: Sequence[str], *, staging: S3Location, role_arn: str, region: str,
                        language: str = "auto", rows: Sequence[int] | None = None,
                        labels: Sequence | None = None, folder: str | Path | None = None,
                        job_name: str | None = None, quotas: dict | None = None, prices: dict | None = None
                        ) -> JobPlan:
    """Build (and write locally) everything a Comprehend sentiment job would send.

    Files: ``<prefix>/<job>/input/docs-00000.txt`` (more files past ``documents_per_file`` lines), one
    document per line, UTF-8, ``\\n`` line ends. Request: one ``StartSentimentDetectionJob``.

    Args:
        texts: the documents (one per row of the user's file); blank ones are not sent.
        staging: the S3 bucket and prefix.
        role_arn: the data-access role (trusted by ``comprehend.amazonaws.com``).
        region: the job's region (must offer Comprehend).
        language: a code of :data:`core.sentiment.SUPPORTED_LANGUAGES`, or ``"auto"`` (majority language).
        rows: the user's row number of each text (default ``0..n-1``).
        labels: a reference label per text, kept locally for accuracy (optional).
        folder / job_name / quotas / prices: as in :func:`core.aws.bedrock_batch.plan_bedrock_batch`.

    Raises:
        DataError: no text, an unsupported language.
        ConfigError: no role, a region without Comprehend.
    """
    role_arn = check_role_arn(role_arn, "comprehend")
    q = (quotas or load_quotas())["comprehend_async"]
    if q.get("regions") and region not in q["regions"]:
        raise ConfigError(f"Amazon Comprehend is not offered in {region}: choose one of {', '.join(q['regions'])} "
                          f"(source: {q.get('source')}).")
    texts = list(texts)
    rows = list(range(len(texts))) if rows is None else list(rows)
    if len(rows) != len(texts) or (labels is not None and len(labels) != len(texts)):
        raise DataError("texts, rows and labels must have the same length.")
    lang, notes = choose_language(texts, language)
    job_name = job_name or make_job_name("comprehend")
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="crossroads-comprehend-"))
    max_bytes = int(q.get("max_document_bytes", 5000))
    per_file = int(q.get("documents_per_file", 100_000))
    sent: list[dict] = []
    docs: list[str] = []
    n_blank = n_cut = 0
    for i, (row, text) in enumerate(zip(rows, texts)):
        if text is None or (isinstance(text, float) and text != text) or not str(text).strip():
            n_blank += 1
            continue
        doc, note = truncate_utf8(one_line(str(text)), max_bytes)
        n_cut += note is not None
        k = len(docs)
        sent.append({"row": int(row), "file": f"docs-{k // per_file:05d}.txt", "line": k % per_file,
                     "text": str(text), **({"label": labels[i]} if labels is not None else {})})
        docs.append(doc)
    if not docs:
        raise DataError("every text is empty: choose the column that holds the documents.")
    if n_blank:
        notes.append(f"{n_blank:,} empty row(s) are not sent.")
    if n_cut:
        notes.append(f"{n_cut:,} text(s) were cut to {max_bytes:,} UTF-8 bytes (Comprehend's sentiment limit).")
    objects = []
    for start in range(0, len(docs), per_file):
        name = f"docs-{start // per_file:05d}.txt"
        key = staging.key(job_name, "input", name)
        path = local_path(folder, staging.bucket, key)
        chunk = docs[start:start + per_file]
        path.write_bytes("".join(d + "\n" for d in chunk).encode("utf-8"))
        objects.append(StagedObject(staging.bucket, key, path, "text/plain; charset=utf-8", len(chunk)))
    output_uri = staging.uri(job_name, "output") + "/"
    params = {
        "InputDataConfig": {"S3Uri": staging.uri(job_name, "input") + "/", "InputFormat": "ONE_DOC_PER_LINE"},
        "OutputDataConfig": {"S3Uri": output_uri},
        "DataAccessRoleArn": role_arn,
        "JobName": job_name,
        "LanguageCode": lang,
    }
    est = comprehend_job_estimate(docs, language=lang, staged_bytes=sum(o.size for o in objects),
                                  n_objects=len(objects), prices=prices)
    meta = {"language": lang, "n_documents": len(docs), "has_labels": labels is not None}
    return JobPlan(kind=KIND, job_name=job_name, region=region, folder=folder, staging=staging, objects=objects,
                   requests=[Request("comprehend", "StartSentimentDetectionJob", params)], output_uri=output_uri,
                   estimate=est, rows=pd.DataFrame(sent), meta=meta, notes=notes, role_arn=role_arn)


def read_output_archive(data: bytes, language: str = "") -> pd.DataFrame:
    """Parse a Comprehend sentiment ``output.tar.gz`` into one row per document.

    Returns:
        Columns ``file``, ``line``, ``Sentiment``, ``Positive``, ``Negative``, ``Neutral``, ``Mixed``,
        ``LanguageCode``, ``Backend`` (``"comprehend"``), ``Error`` (``""`` when analysed).

    Raises:
        DataError: not a gzip tar archive, or a line that is not JSON.
    """
    rows = []
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"the Comprehend output is not a .tar.gz archive ({exc}).") from None
    with tf:
        for member in tf.getmembers():
            if not member.isfile():
                continue
            if member.size > MAX_MEMBER_BYTES:
                raise DataError(f"archive member {member.name!r} is larger than {MAX_MEMBER_BYTES:,} bytes.")
            fh = tf.extractfile(member)
            if fh is None:
                continue
            for n, raw in enumerate(io.TextIOWrapper(fh, encoding="utf-8")):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except ValueError as exc:
                    raise DataError(f"{member.name}, line {n + 1}: not JSON ({exc}).") from None
                base = {"file": Path(str(obj.get("File", ""))).name, "line": int(obj.get("Line", -1))}
                if "Sentiment" in obj:
                    score = obj.get("SentimentScore") or {}
                    res = SentimentResult(sentiment=str(obj["Sentiment"]),
                                          sentiment_score={k: float(score.get(k, 0.0)) for k in SCORE_KEYS},
                                          language_code=language, backend="comprehend")
                    row = res.as_row()
                    rows.append({**base, **{k: row[k] for k in ("Sentiment", *SCORE_KEYS, "LanguageCode",
                                                                  "Backend")}, "Error": ""})
                else:
                    rows.append({**base, "Sentiment": None, **{k: None for k in SCORE_KEYS}, "LanguageCode": language,
                                 "Backend": "comprehend",
                                 "Error": f"{obj.get('ErrorCode', 'Error')}: {obj.get('ErrorMessage', '')}".strip()})
    return pd.DataFrame(rows, columns=["file", "line", "Sentiment", *SCORE_KEYS, "LanguageCode", "Backend", "Error"])


def join_output(rows: pd.DataFrame | None, output: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Join parsed output to the rows sent by (file, line).

    Raises:
        DataError: a (file, line) in the output that was not sent.
    """
    if rows is None:
        return output.sort_values(["file", "line"]).reset_index(drop=True), [
            "The rows sent are not recorded here: results are by file and line only."]
    keyed = output.merge(rows[["file", "line", "row"]], on=["file", "line"], how="left")
    if keyed["row"].isna().any():
        bad = keyed[keyed["row"].isna()].iloc[0]
        raise DataError(f"the output has {bad['file']} line {bad['line']}, which was not in this job's input.")
    keyed = keyed.astype({"row": rows["row"].dtype}).drop(columns=["file", "line"])
    return join_rows(rows, keyed)


def sentiment_accuracy(table: pd.DataFrame) -> dict | None:
    """Accuracy of ``Sentiment`` against the ``label`` column (via :func:`core.sentiment.evaluate.evaluate`)."""
    if "label" not in table:
        return None
    from core.sentiment.evaluate import evaluate

    ev = evaluate(table["label"].tolist(), [None if pd.isna(v) else v for v in table["Sentiment"].tolist()])
    return {"accuracy": ev.accuracy, "macro_f1": ev.macro_f1, "n": ev.n, "ci95": list(ev.accuracy_ci)}


# ------------------------------------------------------------------------------------------- job kind

def _describe_request(record: JobRecord) -> Request:
    return Request("comprehend", "DescribeSentimentDetectionJob", {"JobId": record.job_id})


def _stop_request(record: JobRecord) -> Request:
    return Request("comprehend", "StopSentimentDetectionJob", {"JobId": record.job_id})


def _props(session, record: JobRecord) -> dict:
    return call(session, _describe_request(record))["SentimentDetectionJobProperties"]


def _parse_status(record: JobRecord, resp: dict) -> JobStatus:
    p = resp.get("SentimentDetectionJobProperties", resp)
    raw = p.get("JobStatus", "")
    return JobStatus(KIND, record.job_name, record.job_id, _STATES.get(raw, "running"), raw,
                     progress=1.0 if raw == "COMPLETED" else None,
                     elapsed_seconds=elapsed(p.get("SubmitTime"), p.get("EndTime")), message=p.get("Message") or "")


def _fetch(session, record: JobRecord, rows: pd.DataFrame | None) -> JobResult:
    p = _props(session, record)
    st = _parse_status(record, p)
    require_fetchable(st, record)
    uri = (p.get("OutputDataConfig") or {}).get("S3Uri", "")
    if not uri.endswith(".tar.gz"):
        bucket, _ = parse_s3_uri(record.output_uri)
        found = [o["Key"] for o in list_objects(session, record.output_uri) if o["Key"].endswith("output.tar.gz")
                 and record.job_id in o["Key"]]
        if not found:
            raise DataError(f"no output.tar.gz for job {record.job_id} under {record.output_uri}.")
        uri = f"s3://{bucket}/{found[0]}"
    output = read_output_archive(read_object(session, uri), p.get("LanguageCode") or record.meta.get("language", ""))
    table, notes = join_output(rows, output)
    summary = {"status": st.to_dict(), "n_documents": len(output), "errors": int(output["Error"].ne("").sum()),
               "counts": {k: int(v) for k, v in output["Sentiment"].value_counts().items()}}
    try:
        acc = sentiment_accuracy(table) if rows is not None and "label" in rows else None
    except DataError as exc:  # labels that are not sentiments: the results are still shown
        acc = None
        notes.append(f"Accuracy not computed: {exc}")
    if acc:
        summary["accuracy"] = acc
    return JobResult(record, table, summary, notes, [uri])


def _locate(session, ref: str, region: str) -> JobRecord:
    rec = JobRecord(KIND, ref, ref, region)
    p = _props(session, rec)
    out = (p.get("OutputDataConfig") or {}).get("S3Uri", "")
    return JobRecord(KIND, p.get("JobName") or ref, p.get("JobId", ref), region, output_uri=out,
                     role_arn=p.get("DataAccessRoleArn", ""), submitted_at=str(p.get("SubmitTime", "")),
                     meta={"language": p.get("LanguageCode", "")})


register_kind(JobKind(KIND, "comprehend", "Amazon Comprehend sentiment", _describe_request, _parse_status,
                      _stop_request, _fetch, _locate))
