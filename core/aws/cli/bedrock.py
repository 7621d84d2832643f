"""``python -m core aws bedrock-batch``: prompts (JSONL) or a labelled table as a Bedrock batch inference job."""

from __future__ import annotations

from core.aws.cli.common import _finish, _folder, _info, _load, _settings
from core.errors import ConfigError


def run_bedrock(args) -> int:
    """``aws bedrock-batch``."""
    import pandas as pd

    from core.aws.bedrock_batch import (
        DEFAULT_MODEL_ID,
        classification_records,
        plan_bedrock_batch,
        record_id_for,
        records_from_jsonl,
    )
    from core.aws.jobs import make_job_name

    session, region, staging, role, notes = _settings(args, "bedrock")
    model = args.model or DEFAULT_MODEL_ID
    labels = None
    if args.prompts:
        records, rows = records_from_jsonl(args.prompts, model_id=model, max_tokens=args.max_tokens or 512,
                                           temperature=args.temperature, system=args.system)
        if args.limit:
            records, rows = records[:args.limit], rows.head(args.limit)
        if rows["label"].notna().any():
            labels = sorted(rows["label"].dropna().unique().tolist())
    else:
        if not (args.text_column and args.label_column):
            raise ConfigError("with --data, give --text-column and --label-column (the labels the model chooses from).")
        frame = _load(args.data, args.limit)
        for col in (args.text_column, args.label_column):
            if col not in frame.columns:
                raise ConfigError(f"no column {col!r}; the columns are {[str(c) for c in frame.columns]}.")
        keep = frame[args.text_column].notna() & frame[args.label_column].notna()
        keep &= frame[args.text_column].astype(str).str.strip().ne("")
        sub = frame[keep]
        if (~keep).any():
            notes.append(f"{int((~keep).sum()):,} row(s) without a text or a label are not sent.")
        from core.aws.sagemaker_linear_learner.features import _label_text

        truth = [_label_text(v) for v in sub[args.label_column].tolist()]
        labels = sorted(set(truth))
        positions = [int(i) for i in range(len(frame)) if keep.iloc[i]]
        records = classification_records(sub[args.text_column].astype(str).tolist(), labels, positions,
                                         model_id=model, max_tokens=args.max_tokens or 64,
                                         temperature=0.0 if args.temperature is None else args.temperature)
        rows = pd.DataFrame({"row": positions, "recordId": [record_id_for(p) for p in positions],
                             "text": sub[args.text_column].astype(str).tolist(), "label": truth})
    job_name = args.job_name or make_job_name("bedrock-batch")
    plan = plan_bedrock_batch(records, staging=staging, role_arn=role, region=region, model_id=model,
                              folder=_folder(args, job_name), job_name=job_name, rows=rows,
                              timeout_hours=args.timeout_hours, labels=labels)
    _info(args, f"{len(records):,} records for {model}" + (f", answers constrained to {len(labels)} labels" if labels and
                                                      not args.prompts else "") + ".")
    return _finish(args, plan, session, notes)
