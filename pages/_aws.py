"""UI for running the work on AWS: SageMaker Linear Learner and batch transform, Comprehend jobs, Bedrock batch.

Render functions called by the pages (each a small, self-contained insertion):

* :func:`render_data_models_aws` (Data & Models): "Train on SageMaker (Linear Learner)" and
  "Score a file with batch transform";
* :func:`render_comprehend_job` (Sentiment): "Run as a Comprehend job" for files over
  :data:`COMPREHEND_JOB_MIN_ROWS` rows;
* :func:`render_bedrock_batch` (Decide / Prompt Arena, wired by the lead): "Run the LLM arms as a Bedrock
  batch job", given Converse records from :func:`core.aws.bedrock_batch.build_record`.

Each shows the cost and time estimate and the dry-run contents (the exact files and requests) before
anything is submitted, then the job's status with progress and elapsed time, cancel, and results joined
to the user's rows. Jobs can be resumed by name or ID after a restart (:class:`core.aws.jobs.JobStore`).
All work is in :mod:`core.aws`; this module only renders. Credentials come from boto3's default chain and
are never shown.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd
import streamlit as st

from core.aws import jobs
from core.aws.dryrun import PLACEHOLDER_BUCKET, PLACEHOLDER_REGION, PLACEHOLDER_ROLES, describe_dry_run, write_dry_run
from core.aws.pricing import format_bytes, format_duration
from core.aws.session import AwsSession
from core.aws.staging import S3Location
from pages._shared import download_buttons, show_error
from pages._state import keep

#: The Sentiment page offers a Comprehend job for files with more rows than this.
COMPREHEND_JOB_MIN_ROWS = 5_000
#: Dry-run folders larger than this are not offered as a zip download (the folder path is shown instead).
MAX_ZIP_BYTES = 200_000_000
SERVICE_LABELS = {"sagemaker": "Amazon SageMaker", "bedrock": "Amazon Bedrock", "comprehend": "Amazon Comprehend"}
INSTANCE_TYPES = ["ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge", "ml.c5.xlarge", "ml.c5.2xlarge",
                  "ml.c5.4xlarge"]


# ------------------------------------------------------------------------------------------- settings

def _expander(label: str, key: str, *, icon: str | None = None):
    """An expander that stays open across reruns and page changes (its open state is a kept widget value).

    Without state tracking, an expander whose content changes on a rerun (a button inside it) can close
    again in the browser; tracking it keeps it open while the user works in it.
    """
    return st.expander(label, key=keep(key, False), icon=icon, on_change="rerun")


@dataclass
class AwsSettings:
    """What the user chose for staging and running jobs (no credentials)."""

    profile: str | None
    region: str | None
    bucket: str
    prefix: str
    role: str
    service: str
    credentials_ok: bool
    credentials_reason: str

    def session(self) -> AwsSession:
        return AwsSession(profile=self.profile, region=self.region)

    def for_plan(self) -> tuple[str, S3Location, str, list[str]]:
        """(region, staging, role, notes): placeholders where nothing was chosen, as the CLI's dry run does."""
        notes = []
        region = self.region
        if not region:
            try:
                region = self.session().region
            except Exception:  # noqa: BLE001 - no region anywhere: the dry run uses a placeholder
                region = PLACEHOLDER_REGION
                notes.append(f"No region chosen: the dry run uses {region}.")
        bucket = self.bucket or PLACEHOLDER_BUCKET
        if not self.bucket:
            notes.append(f"No bucket chosen: the dry run uses the placeholder {bucket}.")
        role = self.role or PLACEHOLDER_ROLES[self.service]
        if not self.role:
            notes.append("No role chosen: the dry run uses a placeholder role ARN.")
        return region, S3Location.make(bucket, self.prefix or "crossroads"), role, notes

    def submit_blockers(self) -> list[str]:
        """Why a real submission is not possible yet (empty when it is)."""
        out = []
        if not self.credentials_ok:
            out.append(self.credentials_reason)
        if not self.bucket:
            out.append("choose an S3 bucket for staging")
        if not self.role:
            out.append(f"give the {SERVICE_LABELS[self.service]} service role ARN")
        return out


def aws_settings(key: str, service: str, *, profile: str | None = None, region: str | None = None,
                 show_profile_region: bool = True) -> AwsSettings:
    """Render the AWS settings expander (bucket, prefix, role; profile and region unless given).

    Bucket, prefix, profile and region are shared by every page (the same widget keys), the role is per service.
    """
    with _expander("AWS settings: S3 bucket, role, region", f"{key}_settings_open", icon=":material/settings:"):
        c1, c2 = st.columns(2)
        if show_profile_region:
            profile = c1.text_input("AWS profile (empty: default credential chain)", key=keep("aws_job_profile", ""),
                                    help="Credentials are found by boto3 and never shown or stored.") or None
            region = c2.text_input("AWS region", key=keep("aws_job_region", ""), placeholder="us-east-1") or None
        bucket = c1.text_input("S3 bucket for staging", key=keep("aws_job_bucket", ""), placeholder="my-bucket",
                               help="Input files go to s3://bucket/prefix/<job>/input/ and results come back to "
                                    ".../output/. Nothing staged is deleted without asking.")
        prefix = c2.text_input("Key prefix", key=keep("aws_job_prefix", "crossroads"))
        role = st.text_input(f"{SERVICE_LABELS[service]} service role ARN", key=keep(f"aws_job_role_{service}", ""),
                             placeholder="arn:aws:iam::123456789012:role/...",
                             help="The role the service assumes to read and write the bucket; see the README section "
                                  "'Running at scale on AWS' for its trust and permission policies.")
    ok, reason = _credential_status(profile or "", region or "")
    return AwsSettings(profile, region, bucket.strip(), prefix.strip(), role.strip(), service, ok, reason)


@st.cache_data(ttl=60, show_spinner=False)
def _credential_status(profile: str, region: str) -> tuple[bool, str]:
    return AwsSession(profile=profile or None, region=region or None).credential_status()


# ------------------------------------------------------------------------------------------- plan preview

def _new_folder(key: str) -> Path:
    """A fresh temporary folder for this widget's dry run (the previous one, ours, is removed)."""
    old = st.session_state.get(f"{key}_folder")
    if old:
        shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix="crossroads-dryrun-"))
    st.session_state[f"{key}_folder"] = str(folder)
    return folder


def _zip(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(folder).as_posix())
    return buf.getvalue()


def show_plan(plan, key: str) -> None:
    """The estimate, then exactly what would be uploaded and sent (the dry run), with a zip download."""
    est = plan.estimate
    c1, c2, c3 = st.columns(3)
    c1.metric("Estimated cost (USD)", f"{est.usd:,.4f}",
              help="At most USD {:,.4f}.".format(est.usd_max) if est.usd_max is not None else None)
    if est.seconds is not None:
        c2.metric("Estimated time", format_duration(est.seconds))
    elif est.seconds_max is not None:
        c2.metric("Time", f"up to {format_duration(est.seconds_max)}", help="The job's timeout.")
    c3.metric("Staged in S3", format_bytes(plan.staged_bytes))
    st.dataframe(pd.DataFrame([{"item": ln.what, "quantity": f"{ln.quantity:,.6g} {ln.unit}",
                                "unit price (USD)": f"{ln.unit_usd:.6g}", "USD": f"{ln.usd:.4f}" if ln.usd >= 1e-4 else f"{ln.usd:.2g}"}
                               for ln in est.lines]), hide_index=True, key=f"{key}_cost")
    for a in est.assumptions:
        st.caption(a)
    st.caption("Prices: " + "; ".join(est.sources) + ".")
    for n in plan.notes:
        st.caption(f":material/info: {n}")
    if not getattr(plan, "_dry_run_written", False):  # once per plan, not on every rerun
        write_dry_run(plan)
        plan._dry_run_written = True
    folder = Path(plan.folder)
    files = describe_dry_run(folder)
    with st.expander(f"Dry run: the {len(plan.objects)} file(s) and {len(plan.requests)} request(s) that would be "
                     "sent", icon=":material/preview:"):
        st.dataframe(pd.DataFrame([{"file": f["path"], "size": f["size"]} for f in files]), hide_index=True,
                     key=f"{key}_files")
        for r in plan.requests:
            st.markdown(f"**{r.operation}** ({r.service})")
            st.json(r.params, expanded=False)
        for f in files:
            if f["path"].startswith("s3/"):
                st.markdown(f"`{f['path']}`: first bytes")
                st.code(f["preview"], language=None, wrap_lines=True)
        total = sum(f["bytes"] for f in files)
        if total <= MAX_ZIP_BYTES:
            cached = st.session_state.get(f"{key}_zip_bytes")
            if not cached or cached[0] != str(folder):
                cached = (str(folder), _zip(folder))
                st.session_state[f"{key}_zip_bytes"] = cached
            st.download_button("Download the dry run (zip)", cached[1], f"{plan.job_name}-dry-run.zip",
                               "application/zip", key=f"{key}_zip", icon=":material/download:")
        else:
            st.caption(f"The dry run is {format_bytes(total)}: open it in {folder}.")


def _submit(plan, settings: AwsSettings, key: str) -> jobs.JobRecord | None:
    """A Submit button (disabled with the reason when settings are missing); returns the record once submitted."""
    blockers = settings.submit_blockers()
    if blockers:
        st.caption("To submit: " + "; ".join(b.rstrip(". ") for b in blockers) + ".")
    if not st.button(f"Submit to {SERVICE_LABELS[settings.service]}", type="primary", icon=":material/cloud_upload:",
                     key=f"{key}_submit", disabled=bool(blockers)):
        return None
    bar = st.progress(0.0, text="Starting...")
    try:
        record = jobs.submit(settings.session(), plan,
                             progress=lambda msg, frac: bar.progress(frac if frac is not None else 1.0, text=msg))
    except Exception as exc:  # noqa: BLE001 - shown, never a traceback
        bar.empty()
        show_error(exc, what="Submitting the job")
        return None
    bar.progress(1.0, text=f"Submitted {record.job_name}.")
    _remember(key, record.job_name)
    return record


# ------------------------------------------------------------------------------------------- jobs

def _remember(key: str, job_name: str) -> None:
    names = st.session_state.setdefault(f"{key}_jobs", [])
    if job_name not in names:
        names.insert(0, job_name)
    st.session_state[f"{key}_pick"] = job_name  # show the new job (set before the picker is drawn)


def resume_picker(key: str, kinds: Sequence[str]) -> jobs.JobRecord | None:
    """Pick a job recorded on this machine, or type a job name or ID (resume after a restart)."""
    store = jobs.JobStore()
    recorded = [r for r in store.list() if r.kind in kinds]
    names = list(dict.fromkeys(st.session_state.get(f"{key}_jobs", []) + [r.job_name for r in recorded]))
    if st.session_state.get(f"{key}_pick") not in (names or ["(none yet)"]):
        st.session_state.pop(f"{key}_pick", None)
    c1, c2 = st.columns([3, 2])
    choice = c1.selectbox("Jobs on this machine", names or ["(none yet)"], key=f"{key}_pick",
                          help="Every job submitted from this machine is recorded (name, ID, region, the rows to "
                               "join back; never credentials), so you can come back to it after a restart.")
    ref = c2.text_input("Or resume by job name or ID", key=f"{key}_ref", placeholder="crossroads-... or an ARN")
    if ref.strip():
        rec = store.find(ref.strip())
        if rec is None or rec.kind not in kinds:
            st.error(f"No {' / '.join(kinds)} job {ref.strip()!r} is recorded on this machine. Use the CLI "
                     "(`python -m core aws status JOB --kind ... --region ...`) for a job submitted elsewhere.",
                     icon=":material/error:")
            return None
        return rec
    if not names:
        return None
    return store.find(choice)


def job_panel(record: jobs.JobRecord, settings: AwsSettings, key: str,
              show_result: Callable[[jobs.JobResult], None]) -> None:
    """Status with progress and elapsed time, auto-refresh, cancel, and the results once the job is done."""
    session = AwsSession(profile=settings.profile or record.profile, region=record.region)
    st.markdown(f"**{jobs.kind_of(record).label}** `{record.job_name}` in {record.region}, submitted "
                f"{record.submitted_at[:19].replace('T', ' ')} UTC. Input: `{record.staging_uri}/`")
    statuses = st.session_state.setdefault(f"{key}_status", {})
    c1, c2, c3, c4 = st.columns(4)
    refresh = c1.button("Refresh status", icon=":material/refresh:", key=f"{key}_refresh")
    auto = c2.toggle("Auto-refresh every 30 s", key=f"{key}_auto")
    confirm = c3.checkbox("Confirm cancel", key=f"{key}_confirm_cancel")
    cancel = c3.button("Cancel the job", icon=":material/stop_circle:", key=f"{key}_cancel", disabled=not confirm)
    want_fetch = c4.button("Fetch results", icon=":material/download:", key=f"{key}_fetch")

    def poll() -> None:
        try:
            statuses[record.job_name] = jobs.status(session, record)
        except Exception as exc:  # noqa: BLE001
            show_error(exc, what="Reading the job status")

    if cancel:
        try:
            statuses[record.job_name] = jobs.cancel(session, record)
            st.success("Stop requested. The staged input is kept.", icon=":material/stop_circle:")
        except Exception as exc:  # noqa: BLE001
            show_error(exc, what="Cancelling the job")
    elif refresh or record.job_name not in statuses:
        poll()

    @st.fragment(run_every="30s" if auto else None)
    def status_view() -> None:
        if auto:
            poll()
        st_ = statuses.get(record.job_name)
        if st_ is None:
            return
        st.progress(st_.progress if st_.progress is not None else 0.0, text=st_.describe())
        if st_.state == "failed":
            show_error(jobs_failed(record, st_))

    status_view()
    results = st.session_state.setdefault(f"{key}_results", {})
    if want_fetch:
        with st.spinner("Reading the results from S3..."):
            try:
                results[record.job_name] = jobs.fetch(session, record)
            except Exception as exc:  # noqa: BLE001
                show_error(exc, what="Fetching the results")
    if record.job_name in results:
        res = results[record.job_name]
        for n in res.notes:
            st.caption(f":material/info: {n}")
        show_result(res)


def jobs_failed(record, status):
    """The JobFailedError for a failed status (its message has the reason and a fix)."""
    from core.aws.errors import job_failed

    bucket = record.staging_uri[5:].split("/", 1)[0] if record.staging_uri else None
    return job_failed(jobs.kind_of(record).service, record.job_name, status.message, role_arn=record.role_arn or None,
                      bucket=bucket)


def _jobs_section(key: str, kinds: Sequence[str], settings: AwsSettings, show_result) -> None:
    st.markdown("**Jobs**")
    record = resume_picker(key, kinds)
    if record is not None:
        job_panel(record, settings, f"{key}_{record.job_name}", show_result)


# ------------------------------------------------------------------------------------------- Data & Models

def _metrics_row(name: str, m: dict) -> dict:
    if m.get("accuracy") is not None:
        ci = m.get("ci95") or [None, None]
        return {"model": name, "accuracy": round(m["accuracy"], 4),
                "95% CI": f"{ci[0]:.3f}-{ci[1]:.3f}" if ci[0] is not None else "",
                "macro F1": None if m.get("macro_f1") is None else round(m["macro_f1"], 4), "test rows": m.get("n")}
    return {"model": name, "RMSE": m.get("rmse"), "MAE": m.get("mae"), "test rows": m.get("n")}


def show_training_result(res: jobs.JobResult) -> None:
    """Linear Learner's test metrics beside the local linear model's, on the same test rows."""
    s = res.summary
    rows = [_metrics_row("SageMaker Linear Learner", s["linear_learner"])]
    if s.get("local"):
        rows.append(_metrics_row(f"Local: {s['local']['model']}", s["local"]["metrics"]))
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    if s.get("verdict"):
        st.info(s["verdict"], icon=":material/balance:")
    extra = []
    if s.get("usd") is not None:
        extra.append(f"billed {s['billable_seconds']:,} s, about USD {s['usd']:,.4f}")
    if s.get("model_artifact"):
        extra.append(f"model: `{s['model_artifact']}`")
    if extra:
        st.caption("; ".join(extra) + ".")
    with st.expander("All final metrics reported by Linear Learner"):
        st.json(s.get("final_metrics", {}))


def show_table_result(basename: str, scorers: Mapping[str, Callable[[jobs.JobResult], None]] | None = None
                      ) -> Callable[[jobs.JobResult], None]:
    """The renderer of a job's joined table: accuracy when labels were allowed, then the table and downloads.

    Args:
        basename: download file name and widget-key prefix.
        scorers: ``{meta["scorer"]: render(result)}``: a feature that put a ``scorer`` name in the job's meta
            (e.g. :data:`core.arena.batch.SCORER`) renders its own scoring of the answers above the table.
    """
    def show(res: jobs.JobResult) -> None:
        scorer = (scorers or {}).get(str(res.record.meta.get("scorer") or ""))
        if scorer is not None:
            try:
                scorer(res)
            except Exception as exc:  # noqa: BLE001 - shown, never a traceback; the table stays below
                show_error(exc, what="Scoring the answers")
        acc = res.summary.get("accuracy")
        if acc:
            ci = acc.get("ci95") or [float("nan")] * 2
            st.metric("Accuracy against your labels", f"{acc['accuracy']:.3f}",
                      help=f"95% Wilson interval {ci[0]:.3f}-{ci[1]:.3f}, n = {acc['n']:,} rows.")
            st.caption(f"95% interval {ci[0]:.3f}-{ci[1]:.3f} on {acc['n']:,} rows.")
        by_arm = res.summary.get("accuracy_by_arm")
        if by_arm:
            from core.decide.batch import arm_table
            from core.decide.plan import ARM_NAMES

            st.markdown("**Accuracy of each arm's answers** (the hybrid row is the LLM choosing among the classifier's "
                        "candidates on every test row; the cascade's threshold is applied when you compare)")
            st.dataframe(arm_table(by_arm, ARM_NAMES), hide_index=True, key=f"{basename}_{res.record.job_name}_arms")
        if res.summary.get("usd") is not None:
            st.caption(f"Actual cost from the job's token counts: about USD {res.summary['usd']:,.4f}.")
        st.dataframe(res.table, hide_index=True, key=f"{basename}_{res.record.job_name}_table")
        download_buttons(res.table, f"{basename}_{res.record.job_name}", key=f"{basename}_{res.record.job_name}_dl",
                         json_obj={"summary": res.summary, "rows": res.table.to_dict("records")})
    return show


def _text_columns(df: pd.DataFrame, target: str) -> list[str]:
    head = df.head(500)  # a sample is enough to tell free text from codes, and keeps reruns fast on big tables
    return [str(c) for c in df.columns if c != target and (df[c].dtype == object or pd.api.types.is_string_dtype(df[c]))
            and head[c].dropna().astype(str).str.len().mean() > 15]


def render_data_models_aws(df: pd.DataFrame, target: str, task: str = "auto", *, key: str = "dm_aws") -> None:
    """Data & Models: "Train on SageMaker (Linear Learner)" and "Score a file with batch transform".

    Args:
        df: the user's table; ``target``: the column to predict; ``task``: auto/classification/regression.
        key: widget-key prefix.
    """
    st.subheader("Past one machine: Amazon SageMaker")
    st.caption("Train the workshop's classifier, SageMaker Linear Learner, on the features built here, and score "
               "large files with batch transform. The cost is estimated and the exact files and requests are shown "
               "before anything is sent; without an AWS account you can still build and download the dry run.")
    settings = aws_settings(key, "sagemaker")
    with _expander("Train on SageMaker (Linear Learner)", f"{key}_train_open", icon=":material/model_training:"):
        _train_section(df, target, task, settings, f"{key}_train")
    with _expander("Score a file with batch transform", f"{key}_score_open", icon=":material/batch_prediction:"):
        _transform_section(df, settings, f"{key}_score", train_key=f"{key}_train")


def _train_section(df, target, task, settings: AwsSettings, key: str) -> None:
    from core.aws import sagemaker_linear_learner as ll

    text_cols = _text_columns(df, target)
    modes = ["Table (Data & Models preprocessing)"] + [f"Text: {c} (intent classifier TF-IDF)" for c in text_cols]
    c1, c2, c3, c4 = st.columns(4)
    mode = c1.selectbox("Features", modes, key=keep(f"{key}_mode", modes[0], options=modes),
                        help="Tables use the same preprocessing as the local models; a text column can instead use "
                             "the intent classifier's word and character TF-IDF (written sparse).")
    fmt = c2.selectbox("Format", ["auto", "recordio", "csv"], key=keep(f"{key}_fmt", "auto"),
                       help="recordIO-protobuf (sparse for text) or label-first CSV; auto: recordio for text, "
                            "CSV for tables.")
    epochs = int(c3.number_input("Epochs", 1, 100, key=keep(f"{key}_epochs", 15)))
    instance = c4.selectbox("Instance", INSTANCE_TYPES, key=keep(f"{key}_instance", INSTANCE_TYPES[0]))
    c1, c2 = st.columns(2)
    minutes = int(c1.number_input("Stop after (minutes)", 5, 1440, key=keep(f"{key}_minutes", 60),
                                  help="MaxRuntimeInSeconds: caps the cost."))
    want_local = c2.checkbox("Also train the local linear model on the same rows", key=keep(f"{key}_local", True),
                             help="Its test metrics are shown beside Linear Learner's, on the same test rows.")
    sig = json.dumps([len(df), list(map(str, df.columns)), target, task, mode, fmt, epochs, instance, minutes,
                      want_local, settings.bucket, settings.prefix, settings.role, settings.region], default=str)
    if st.button("Build the job and show what would be sent", icon=":material/preview:", key=f"{key}_build"):
        with st.status("Building the features locally...", expanded=False) as status:
            try:
                if mode.startswith("Text: "):
                    col = mode[len("Text: "):].rsplit(" (", 1)[0]
                    prep = ll.prepare_text(df, col, target)
                else:
                    prep = ll.prepare_table(df, target, task=task)
                local = None
                if want_local:
                    status.update(label="Training the local linear model on the same rows...")
                    local = ll.local_baseline(prep)
                region, staging, role, notes = settings.for_plan()
                plan = ll.plan_training(prep, staging=staging, role_arn=role, region=region, fmt=fmt,
                                        instance_type=instance, epochs=epochs, max_runtime_seconds=minutes * 60,
                                        local=local, folder=_new_folder(key))
                plan.notes = notes + plan.notes
                st.session_state[f"{key}_plan"] = (sig, plan)
                status.update(label=f"Built {plan.job_name}", state="complete")
            except Exception as exc:  # noqa: BLE001
                status.update(label="Building the job failed", state="error")
                show_error(exc, what="Building the job")
    built = st.session_state.get(f"{key}_plan")
    if built and built[0] == sig:
        plan = built[1]
        m = plan.meta
        st.markdown(f"`{m['predictor_type']}`: {m['n_train']:,} train, {m['n_validation']:,} validation, "
                    f"{m['n_test']:,} test rows; feature_dim {m['feature_dim']:,}; {m['format']} files; image "
                    f"`{m['image']}`.")
        if m.get("local"):
            st.dataframe(pd.DataFrame([_metrics_row(f"Local: {m['local']['model']}", m["local"]["metrics"])]),
                         hide_index=True, key=f"{key}_localm")
        show_plan(plan, key)
        _submit(plan, settings, key)
    elif built:
        st.caption("The options changed: build the job again to see the new estimate.")
    _jobs_section(key, [ll.TRAIN_KIND], settings, show_training_result)


def _transform_section(df, settings: AwsSettings, key: str, *, train_key: str) -> None:
    from core.aws import sagemaker_linear_learner as ll
    from core.io import load_table

    store = jobs.JobStore()
    trained = [r for r in store.list() if r.kind == ll.TRAIN_KIND]
    built = st.session_state.get(f"{train_key}_plan")
    options = [r.job_name for r in trained]
    if built and built[1].job_name not in options:
        options.append(f"{built[1].job_name} (built above, not submitted)")
    if not options:
        st.info("Build or submit a Linear Learner training job above first: scoring uses its model and its features.",
                icon=":material/info:")
        _jobs_section(key, [ll.TRANSFORM_KIND], settings, show_table_result("transform"))
        return
    c1, c2 = st.columns([3, 2])
    choice = c1.selectbox("Model (Linear Learner training job)", options, key=f"{key}_training")
    source = c2.radio("File to score", ["The table above", "Upload a file"], horizontal=True, key=f"{key}_source")
    frame = df
    if source == "Upload a file":
        up = st.file_uploader("Table to score", key=f"{key}_upload",
                              help="It needs the columns the model was trained on. Your file is never changed.")
        if up is None:
            frame = None
        else:
            try:
                frame = load_table(up.getvalue(), name=up.name).frame
            except Exception as exc:  # noqa: BLE001
                show_error(exc, what="Reading the file")
                frame = None
    c1, c2 = st.columns(2)
    instance = c1.selectbox("Instance", INSTANCE_TYPES, key=keep(f"{key}_instance", INSTANCE_TYPES[0]))
    count = int(c2.number_input("Instances", 1, 20, key=keep(f"{key}_count", 1)))
    if frame is not None and st.button(f"Build the scoring job for {len(frame):,} rows", icon=":material/preview:",
                                       key=f"{key}_build"):
        try:
            if choice.endswith("(built above, not submitted)"):
                tplan = built[1]
                training = jobs.JobRecord(ll.TRAIN_KIND, tplan.job_name, tplan.job_name, tplan.region, meta=tplan.meta)
                rows = tplan.rows
            else:
                training = store.load(choice)
                rows = store.rows(training)
            region, staging, role, notes = settings.for_plan()
            with st.spinner("Rebuilding the training job's features and writing the scoring files..."):
                plan = ll.plan_transform(training, rows, frame, staging=staging, role_arn=role, region=region,
                                         instance_type=instance, instance_count=count, folder=_new_folder(key))
            plan.notes = notes + plan.notes
            st.session_state[f"{key}_plan"] = plan
        except Exception as exc:  # noqa: BLE001
            show_error(exc, what="Building the scoring job")
    plan = st.session_state.get(f"{key}_plan")
    if plan is not None:
        show_plan(plan, key)
        _submit(plan, settings, key)
    _jobs_section(key, [ll.TRANSFORM_KIND], settings, show_table_result("transform"))


# ------------------------------------------------------------------------------------------- Sentiment

def render_comprehend_job(df: pd.DataFrame, text_column: str, label_column: str | None = None, *,
                          language: str = "auto", profile: str | None = None, region: str | None = None,
                          key: str = "sent_aws") -> None:
    """Sentiment: "Run as a Comprehend job" for files over :data:`COMPREHEND_JOB_MIN_ROWS` rows.

    Args:
        df: the whole table; ``text_column`` the documents; ``label_column`` optional reference labels.
        language: the page's language choice (``auto``: the majority language of the file).
        profile / region: the page's AWS settings.
        key: widget-key prefix.
    """
    from core.aws import comprehend_job as cj

    if len(df) <= COMPREHEND_JOB_MIN_ROWS:
        return
    with _expander(f"Run as a Comprehend job (files over {COMPREHEND_JOB_MIN_ROWS:,} rows: this one has {len(df):,})",
                   f"{key}_open", icon=":material/cloud_upload:"):
        st.caption("An asynchronous Amazon Comprehend job analyses the whole file in AWS (one document per line) "
                   "instead of sending 25 documents at a time from this machine; the results come back in the same "
                   "Sentiment / SentimentScore schema. Same price per unit as the live API.")
        settings = aws_settings(key, "comprehend", profile=profile, region=region, show_profile_region=False)
        sig = (len(df), text_column, label_column, language, settings.bucket, settings.prefix, settings.role, region)
        if st.button(f"Build the job for {len(df):,} rows", icon=":material/preview:", key=f"{key}_build"):
            try:
                reg, staging, role, notes = settings.for_plan()
                labels = df[label_column].tolist() if label_column else None
                plan = cj.plan_comprehend_job(df[text_column].tolist(), staging=staging, role_arn=role, region=reg,
                                              language=language, labels=labels, folder=_new_folder(key))
                plan.notes = notes + plan.notes
                st.session_state[f"{key}_plan"] = (sig, plan)
            except Exception as exc:  # noqa: BLE001
                show_error(exc, what="Building the Comprehend job")
        built = st.session_state.get(f"{key}_plan")
        if built and built[0] == sig:
            show_plan(built[1], key)
            _submit(built[1], settings, key)
        _jobs_section(key, [cj.KIND], settings, show_table_result("comprehend_sentiment"))


# ------------------------------------------------------------------------------------------- Decide / Arena

def render_bedrock_batch(records: Sequence[dict], *, rows: pd.DataFrame | None = None,
                         labels: Sequence[str] | None = None, model_id: str | None = None,
                         key: str = "bedrock_batch", title: str = "Run the LLM arms as a Bedrock batch job",
                         meta: Mapping[str, Any] | None = None,
                         scorers: Mapping[str, Callable[[jobs.JobResult], None]] | None = None,
                         on_result: Callable[[jobs.JobResult], None] | None = None) -> None:
    """Decide / Arena: stage Converse records as a Bedrock batch job (half the on-demand price).

    Args:
        records: from :func:`core.aws.bedrock_batch.build_record` (or ``classification_records``), one per
            row and arm, each with a unique ``recordId``.
        rows: one row per record with ``row`` and ``recordId`` (plus any columns to show beside the answers,
            e.g. ``text``, ``label``, ``arm``); default: ``row`` = position.
        labels: the allowed labels when the records choose a label (accuracy is computed on fetch when
            ``rows`` has a ``label`` column).
        model_id: the Bedrock model or inference profile (default: the module's default).
        key: widget-key prefix.
        title: the expander's title.
        meta: kept with the job record (JSON-ready), e.g. ``{"scorer": name, ...settings}``.
        scorers: renderers of fetched results by ``meta["scorer"]`` (:func:`show_table_result`).
        on_result: drawn under a fetched job's results (e.g. Decide's "Use these answers in the bake-off").
    """
    from core.aws import bedrock_batch as bb

    with _expander(title, f"{key}_open", icon=":material/cloud_upload:"):
        st.caption(f"{len(records):,} records. Bedrock runs batch jobs within 24 hours at 50% of the on-demand price; "
                   "answers are joined back by recordId. A job needs at least the model's minimum number of records "
                   "(100 for most models).")
        settings = aws_settings(key, "bedrock")
        model = st.text_input("Model ID or inference profile", key=keep(f"{key}_model", model_id or bb.DEFAULT_MODEL_ID))
        sig = (_digest(records, meta), model, settings.bucket, settings.prefix, settings.role, settings.region)
        if st.button("Build the job and show what would be sent", icon=":material/preview:", key=f"{key}_build"):
            try:
                region, staging, role, notes = settings.for_plan()
                plan = bb.plan_bedrock_batch(records, staging=staging, role_arn=role, region=region, model_id=model,
                                             rows=rows, labels=labels, folder=_new_folder(key), meta=meta)
                plan.notes = notes + plan.notes
                st.session_state[f"{key}_plan"] = (sig, plan)
            except Exception as exc:  # noqa: BLE001
                show_error(exc, what="Building the Bedrock batch job")
        built = st.session_state.get(f"{key}_plan")
        if built and built[0] == sig:
            show_plan(built[1], key)
            _submit(built[1], settings, key)
        table_view = show_table_result("bedrock_batch", scorers)

        def show(res: jobs.JobResult) -> None:
            table_view(res)
            if on_result is not None:
                on_result(res)
        _jobs_section(key, [bb.KIND], settings, show)


def _digest(records: Sequence[dict], meta: Mapping[str, Any] | None) -> str:
    """A hash of the records and meta: a built job is reused only while both are unchanged (same count is not enough)."""
    h = hashlib.sha256(json.dumps(dict(meta or {}), sort_keys=True, default=str).encode())
    for r in records:
        h.update(json.dumps(r, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()
