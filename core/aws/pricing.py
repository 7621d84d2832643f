"""Cost and time estimates shown before any AWS job is submitted.

Prices come from dated files, each naming its source page:

* ``core/aws/aws_prices.json`` (or ``$CROSSROADS_AWS_PRICES``): SageMaker training and batch-transform
  instance-hours, the Bedrock batch discount (50% of on-demand), S3 storage and requests;
* ``core/arena/llm_prices.json``: Bedrock on-demand per-token prices (read through
  :func:`core.arena.pricing.load_prices`, not repeated here);
* ``core/sentiment/comprehend_pricing.json``: Comprehend per-unit prices (read through
  :func:`core.sentiment.comprehend.estimate_cost`).

Service limits checked before submitting (Bedrock's per-model minimum record count and
per-job maxima, Comprehend's regions and document size) are in ``core/aws/quotas.json``
(or ``$CROSSROADS_AWS_QUOTAS``).

Every :class:`Estimate` lists its assumptions; times are assumptions unless a service
publishes a figure, and the SageMaker cost also has a hard ceiling (the job is stopped at
its maximum runtime).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from core.errors import ConfigError
from core.text.script import count_cjk

PRICES_FILE = Path(__file__).with_name("aws_prices.json")
QUOTAS_FILE = Path(__file__).with_name("quotas.json")


def _load(path: str | os.PathLike | None, env: str, default: Path, what: str) -> dict:
    from core.settings import settings

    configured = {"CROSSROADS_AWS_PRICES": "aws_prices", "CROSSROADS_AWS_QUOTAS": "aws_quotas"}[env]
    p = Path(path or getattr(settings, configured) or default).expanduser()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} file not found: {p}. Restore it from git or unset {env}.") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{what} file {p} cannot be read as JSON: {exc}. Fix it or restore it from git.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} file {p} must hold a JSON object.")
    data["_path"] = str(p)
    return data


def load_aws_prices(path: str | os.PathLike | None = None) -> dict:
    """Read the AWS price file (``aws_prices.json`` or ``$CROSSROADS_AWS_PRICES``).

    Raises:
        ConfigError: missing or unreadable file, or a missing section.
    """
    data = _load(path, "CROSSROADS_AWS_PRICES", PRICES_FILE, "AWS price")
    for section in ("sagemaker", "bedrock", "s3"):
        if not isinstance(data.get(section), dict):
            raise ConfigError(f"AWS price file {data['_path']} has no {section!r} section.")
    return data


def load_quotas(path: str | os.PathLike | None = None) -> dict:
    """Read the service-limit file (``quotas.json`` or ``$CROSSROADS_AWS_QUOTAS``)."""
    data = _load(path, "CROSSROADS_AWS_QUOTAS", QUOTAS_FILE, "AWS quotas")
    for section in ("bedrock_batch", "comprehend_async"):
        if not isinstance(data.get(section), dict):
            raise ConfigError(f"AWS quotas file {data['_path']} has no {section!r} section.")
    return data


def per_model(table: Mapping[str, Any], model_id: str) -> Any:
    """The entry of ``table`` for a Bedrock ``model_id``: longest key the bare model ID starts with, else ``default``."""
    from core.arena.providers.bedrock_models import base_model_id  # the one list of inference-profile prefixes

    mid = base_model_id(model_id)
    keys = [k for k in table if k != "default" and mid.startswith(k)]
    return table[max(keys, key=len)] if keys else table.get("default")


def estimate_tokens(text: str) -> int:
    """Rough token count of ``text`` before it is sent: 1 per CJK character, 1 per 4 other characters.

    An estimate for the cost shown before a job; the real counts come back from the service.
    """
    if not text:
        return 0
    cjk = count_cjk(text)
    return cjk + math.ceil((len(text) - cjk) / 4)


@dataclass
class CostLine:
    """One priced item of an estimate (``usd`` = ``quantity * unit_usd``)."""

    what: str
    quantity: float
    unit: str
    unit_usd: float
    usd: float


@dataclass
class Estimate:
    """What a job is expected to cost and take, with the reasons.

    Attributes:
        service: ``"sagemaker"``, ``"bedrock"`` or ``"comprehend"``.
        lines: the priced items.
        usd: expected total in US dollars.
        usd_max: a hard ceiling when one exists (SageMaker: the job is stopped at its maximum runtime;
            Bedrock: every answer at ``maxTokens``), else ``None``.
        seconds: expected wall-clock time in seconds (an assumption unless stated), or ``None``.
        seconds_max: the longest the job can run (its timeout), when that is all that is known.
        assumptions: plain sentences; what the figures rest on.
        sources: price pages and the date each file was recorded.
        staged_bytes: bytes uploaded to S3.
    """

    service: str
    lines: list[CostLine] = field(default_factory=list)
    usd: float = 0.0
    usd_max: float | None = None
    seconds: float | None = None
    seconds_max: float | None = None
    assumptions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    staged_bytes: int = 0

    def add(self, what: str, quantity: float, unit: str, unit_usd: float) -> CostLine:
        line = CostLine(what, float(quantity), unit, float(unit_usd), float(quantity) * float(unit_usd))
        self.lines.append(line)
        self.usd += line.usd
        return line

    def describe(self) -> str:
        """One paragraph for the CLI and the pages."""
        parts = [f"Estimated cost: about USD {self.usd:,.4f}"]
        if self.usd_max is not None:
            parts[0] += f" (at most USD {self.usd_max:,.4f})"
        if self.seconds is not None:
            parts.append(f"time: about {format_duration(self.seconds)}")
        elif self.seconds_max is not None:
            parts.append(f"time: up to {format_duration(self.seconds_max)} (the job's timeout)")
        parts.append(f"{format_bytes(self.staged_bytes)} staged in S3")
        text = "; ".join(parts) + "."
        if self.lines:
            text += " " + "; ".join(f"{ln.what}: {ln.quantity:,.6g} {ln.unit} x USD {ln.unit_usd:g} = "
                                    f"USD {ln.usd:,.4f}" for ln in self.lines) + "."
        if self.assumptions:
            text += " " + " ".join(self.assumptions)
        if self.sources:
            text += " Prices: " + "; ".join(self.sources) + "."
        return text

    def to_dict(self) -> dict:
        """JSON-ready dict (``usd`` values in US dollars, ``seconds`` in seconds)."""
        return asdict(self)


def format_bytes(n: int) -> str:
    """``1536`` -> ``"1.5 KB"`` (powers of 1,000)."""
    n = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"


def format_duration(seconds: float) -> str:
    """``75`` -> ``"1 min 15 s"``; ``5400`` -> ``"1 h 30 min"``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


def _s3_lines(est: Estimate, prices: dict, staged_bytes: int, n_objects: int) -> None:
    s3 = prices["s3"]
    est.staged_bytes = int(staged_bytes)
    est.add("S3 PUT requests", n_objects, "requests", float(s3["put_usd_per_1000"]) / 1000)
    est.add("S3 storage of the staged input for a month", staged_bytes / 1e9, "GB-month",
            float(s3["standard_usd_per_gb_month"]))
    src = f"{s3['source']} (recorded {prices.get('recorded', '?')})"
    if src not in est.sources:
        est.sources.append(src)


def _instance_price(prices: dict, table: str, instance_type: str) -> float:
    sm = prices["sagemaker"]
    try:
        return float(sm[table][instance_type])
    except KeyError:
        known = ", ".join(sorted(sm.get(table, {})))
        raise ConfigError(f"no price for instance type {instance_type!r} in {prices['_path']} ({table}); choose "
                          f"one of {known}, or add its price from {sm.get('source')}.") from None


def sagemaker_estimate(*, job: str, n_rows: int, passes: int, instance_type: str, instance_count: int,
                       max_runtime_seconds: int, region: str, staged_bytes: int, n_objects: int,
                       prices: dict | None = None) -> Estimate:
    """Estimate a SageMaker training (``job="training"``) or batch-transform (``job="transform"``) job.

    Time = assumed start-up + ``passes * n_rows / (rows per second * instances)``; cost = that time
    x the instance-hour price x instances, with a ceiling at ``max_runtime_seconds``.

    Args:
        job: ``"training"`` or ``"transform"``.
        n_rows: rows processed per pass.
        passes: passes over the data (epochs for training, 1 for transform).
        instance_type: e.g. ``"ml.m5.large"``.
        instance_count: instances.
        max_runtime_seconds: the job's stopping condition (training) or a cap (transform).
        region: the job's region (prices are for ``us-east-1``; another region is noted).
        staged_bytes: bytes uploaded.
        n_objects: objects uploaded.
        prices: from :func:`load_aws_prices`.

    Returns:
        An :class:`Estimate` (USD, seconds).

    Raises:
        ConfigError: no price for ``instance_type``.
    """
    prices = prices or load_aws_prices()
    sm = prices["sagemaker"]
    table = "training_usd_per_hour" if job == "training" else "transform_usd_per_hour"
    per_hour = _instance_price(prices, table, instance_type)
    startup = float(sm.get("assumed_startup_seconds", 300))
    rate = float(sm.get("assumed_rows_per_second", 20000))
    seconds = startup + passes * n_rows / (rate * max(instance_count, 1))
    seconds = min(seconds, float(max_runtime_seconds))
    est = Estimate("sagemaker", seconds=seconds)
    est.add(f"{instance_count} x {instance_type} {job}", instance_count * seconds / 3600, "instance-hours", per_hour)
    est.usd_max = instance_count * max_runtime_seconds / 3600 * per_hour
    _s3_lines(est, prices, staged_bytes, n_objects)
    est.usd_max += sum(ln.usd for ln in est.lines[1:])
    est.assumptions.append(
        f"Time assumed: {format_duration(startup)} start-up, then {rate:,.0f} rows/s per instance "
        f"over {passes} pass(es) of {n_rows:,} rows (an assumption, not an AWS figure); billed per second. "
        + (f"The job is stopped after {format_duration(max_runtime_seconds)}, which caps the cost."
           if job == "training" else
           f"A transform job has no runtime limit: the ceiling assumes you stop it after "
           f"{format_duration(max_runtime_seconds)}."))
    if region != sm.get("region"):
        est.assumptions.append(f"Instance prices are {sm.get('region')}'s; {region} is priced differently.")
    est.sources.insert(0, f"{sm['source']} (recorded {prices.get('recorded', '?')})")
    return est


def _record_tokens(record: Mapping[str, Any], tool_system_tokens: int) -> tuple[int, int]:
    """(estimated input tokens, maxTokens) of one Converse-format batch record."""
    body = record.get("modelInput", {})
    texts = [b.get("text", "") for b in body.get("system", []) if isinstance(b, Mapping)]
    for m in body.get("messages", []):
        for block in m.get("content", []):
            if isinstance(block, Mapping):
                if "text" in block:
                    texts.append(str(block["text"]))
                elif block:
                    texts.append(json.dumps(block, ensure_ascii=False))
    n_in = sum(estimate_tokens(t) for t in texts)
    if body.get("toolConfig"):
        n_in += estimate_tokens(json.dumps(body["toolConfig"], ensure_ascii=False)) + tool_system_tokens
    n_out = int((body.get("inferenceConfig") or {}).get("maxTokens") or 0)
    return n_in, n_out


def bedrock_batch_estimate(records: Iterable[Mapping[str, Any]], model_id: str, *, staged_bytes: int,
                           n_objects: int, timeout_hours: int = 24, prices: dict | None = None,
                           llm_prices=None) -> Estimate:
    """Estimate a Bedrock batch inference job: on-demand token prices x the batch discount (50%).

    Input tokens are estimated from characters (:func:`estimate_tokens`, plus the tool-use system prompt
    when a record has ``toolConfig``); output tokens are priced at each record's ``maxTokens``, so the
    estimate is a ceiling (``usd == usd_max``). ``aws fetch`` prices the real counts from ``manifest.json.out``.

    Args:
        records: Converse-format records (``{"recordId", "modelInput"}``).
        model_id: the Bedrock model or inference profile.
        staged_bytes / n_objects: what is uploaded.
        timeout_hours: the job's timeout (its time ceiling).
        prices: from :func:`load_aws_prices`.
        llm_prices: a :class:`core.arena.pricing.PriceTable` (default: the bundled ``llm_prices.json``).

    Raises:
        ConfigError: the model has no price in the LLM price file.
    """
    from core.arena.pricing import load_prices

    prices = prices or load_aws_prices()
    table = llm_prices or load_prices()
    price = table.price_for(model_id)
    if price is None:
        raise ConfigError(f"no on-demand price for {model_id} in {table.path}: add it (USD per 1M tokens, from "
                          f"{table.source}) so the batch cost can be estimated before submitting.")
    bd = prices["bedrock"]
    discount = float(bd.get("batch_discount", 0.5))
    tool_tokens = int(bd.get("tool_use_system_tokens", 0))
    n = n_in = n_out = 0
    for rec in records:
        i, o = _record_tokens(rec, tool_tokens)
        n += 1
        n_in += i
        n_out += o
    unit = table.unit_tokens
    est = Estimate("bedrock", seconds_max=float(timeout_hours) * 3600)
    est.add(f"input tokens (estimated from characters, {n:,} records)", n_in, "tokens",
            price.input / unit * discount)
    est.add("output tokens (maxTokens per record: a ceiling)", n_out, "tokens", price.output / unit * discount)
    _s3_lines(est, prices, staged_bytes, n_objects)
    est.usd_max = est.usd
    est.assumptions.append(
        f"Batch price = {discount:.0%} of the on-demand price (USD {price.input:g} / {price.output:g} per "
        f"{unit:,} input/output tokens for {model_id}). Tokens are estimated from characters (about 4 English "
        "or 1 Japanese character per token); output is priced at maxTokens, so the real cost is lower. "
        f"Time: Bedrock runs batch jobs when capacity allows; the job times out after {timeout_hours} h "
        "(records finished by then are kept).")
    est.sources.insert(0, f"{bd['source']} (batch discount recorded {prices.get('recorded', '?')}); "
                          f"on-demand tokens: {table.source} (retrieved {table.retrieved})")
    return est


def comprehend_job_estimate(texts: Iterable[str], *, language: str, staged_bytes: int, n_objects: int,
                            prices: dict | None = None, comprehend_pricing: dict | None = None) -> Estimate:
    """Estimate an asynchronous Comprehend sentiment job (same per-unit price as ``DetectSentiment``).

    Units are counted by :func:`core.sentiment.comprehend.estimate_cost` with the job's language (no
    language-detection units: the job's language is fixed). Time is an assumption (see the price file).

    Raises:
        ConfigError: unreadable price files.
    """
    from core.sentiment.comprehend import estimate_cost

    prices = prices or load_aws_prices()
    texts = list(texts)
    ce = estimate_cost(texts, language=language, pricing=comprehend_pricing)
    cp = prices.get("comprehend", {})
    startup = float(cp.get("assumed_startup_seconds", 300))
    rate = float(cp.get("assumed_documents_per_second", 200))
    est = Estimate("comprehend", seconds=startup + ce.n_documents / rate)
    est.add(f"sentiment units ({ce.n_documents:,} documents, 100 characters per unit, at least 3 per document)",
            ce.units, "units", ce.price_per_unit)
    _s3_lines(est, prices, staged_bytes, n_objects)
    est.assumptions.append(str(cp.get("assumptions_note", "")).strip())
    est.sources.insert(0, f"{ce.source_url} (recorded {ce.recorded})")
    return est
