"""Every setting of Crossroads, in one place: its environment variable, type, default and check.

Read a setting as an attribute::

    from core.settings import settings
    settings.max_folds            # 20, or the value of CROSSROADS_MAX_FOLDS
    settings.max_upload_bytes     # CROSSROADS_MAX_UPLOAD_MB in bytes

Each value is read from the environment when it is used, so a bad value only
stops the commands that need it (``CROSSROADS_MAX_UPLOAD_MB=abc`` does not
break ``sentiment --text``), and the error names the variable:
:class:`core.errors.ConfigError` ``CROSSROADS_MAX_UPLOAD_MB='abc' is not valid: ...``.
A secret (the API key) is never echoed, and a URL is quoted without its
``user:password@`` part.

Limits (issue "hostile and huge inputs") are settings too. When an input
goes past one, :meth:`Settings.limit_error` builds a
:class:`core.errors.LimitError` that says what was found, the limit, and the
variable that changes it.

Tests change settings with environment variables (``monkeypatch.setenv``) or
with :meth:`Settings.override`::

    with settings.override(max_folds=3):
        ...

:func:`markdown_table` renders the README's settings table from :data:`SPECS`
(a test keeps the README in step).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from core.errors import ConfigError, LimitError

ROOT = Path(__file__).resolve().parents[1]


class _Invalid(ValueError):
    """A raw value that does not parse; the message says what is expected."""


def _int(minimum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip().replace("_", ""))
        except ValueError:
            raise _Invalid(f"not a whole number (expected an integer of at least {minimum:,})") from None
        if value < minimum:
            raise _Invalid(f"must be at least {minimum:,}")
        return value
    return parse


def _float(minimum_exclusive: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise _Invalid("not a number") from None
        if not value > minimum_exclusive or value != value or value in (float("inf"),):
            raise _Invalid(f"must be a finite number greater than {minimum_exclusive:g}")
        return value
    return parse


def _path(raw: str) -> Path:
    return Path(raw.strip()).expanduser()


def _text(raw: str) -> str:
    return raw.strip()


def _url_list(raw: str) -> tuple[str, ...]:
    urls = tuple(_url(u).rstrip("/") for u in raw.split(",") if u.strip())
    if not urls:
        raise _Invalid("no URL in the list (comma-separated http:// or https:// URLs)")
    from core.arena.providers.openai_compat import normalize_base_url

    return tuple(normalize_base_url(u) for u in urls)


def _path_list(raw: str) -> tuple[Path, ...]:
    paths = tuple(Path(os.path.abspath(os.path.expanduser(p.strip()))) for p in raw.split(",") if p.strip())
    if not paths:
        raise _Invalid("no path in the list (comma-separated GGUF files or folders)")
    return paths


def _url(raw: str) -> str:
    from urllib.parse import urlsplit

    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid("not an http:// or https:// URL (e.g. http://localhost:11434/v1)")
    return url


@dataclass(frozen=True)
class Spec:
    """One setting.

    Attributes:
        name: attribute name on :data:`settings`.
        env: environment variable.
        parse: raw text -> value; raises ``ValueError`` with what is expected.
        default: value when the variable is unset or empty (a callable is called).
        unit: unit for messages and the README (``"MB"``, ``"columns"``...); ``""`` for none.
        doc: one line for the README: what it controls.
        secret: never echo the raw value.
        url: echo the raw value without ``user:password@``.
    """

    name: str
    env: str
    parse: Callable[[str], Any]
    default: Any
    unit: str
    doc: str
    secret: bool = False
    url: bool = False

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default

    def shown(self, raw: str) -> str:
        """The raw value as it may appear in a message."""
        if self.secret:
            return "(hidden)"
        if self.url:
            from core.redact import redact_url

            return repr(redact_url(raw))
        return repr(raw)


#: Every setting, in README order.
SPECS: tuple[Spec, ...] = (
    Spec("max_upload_mb", "CROSSROADS_MAX_UPLOAD_MB", _float(0), 200.0, "MB",
         "Largest file accepted (also set `server.maxUploadSize` in `.streamlit/config.toml` for the app)."),
    Spec("max_columns", "CROSSROADS_MAX_COLUMNS", _int(1), 16_384, "columns",
         "Most columns a table may have (Excel's own limit); checked on the header, before parsing."),
    Spec("max_cells", "CROSSROADS_MAX_CELLS", _int(1), 50_000_000, "cells",
         "Most cells (rows x columns) read from one table, or declared by an Excel sheet."),
    Spec("max_text_chars", "CROSSROADS_MAX_TEXT_CHARS", _int(1), 32_767, "characters",
         "Longest text kept in one cell, one sentiment text or one prompt query; longer ones are cut with a "
         "notice (32,767 is Excel's cell limit; Comprehend itself reads at most 5,000 bytes)."),
    Spec("max_folds", "CROSSROADS_MAX_FOLDS", _int(2), 20, "folds",
         "Most cross-validation folds (`--folds`, the pages' fold inputs)."),
    Spec("max_excel_uncompressed_mb", "CROSSROADS_MAX_EXCEL_UNCOMPRESSED_MB", _float(0), 1024.0, "MB",
         "Largest total uncompressed size of an .xlsx/.xlsm/.ods workbook (a zip), checked before parsing."),
    Spec("max_zip_member_mb", "CROSSROADS_MAX_ZIP_MEMBER_MB", _float(0), 512.0, "MB",
         "Largest uncompressed size of one member of a workbook's zip."),
    Spec("max_zip_ratio", "CROSSROADS_MAX_ZIP_RATIO", _float(1), 200.0, "to 1",
         "Highest compression ratio of a workbook's zip member over 1 MB (real sheets compress 5-50 to 1; "
         "deflate bombs about 1,000 to 1)."),
    Spec("excel_memory_mb", "CROSSROADS_EXCEL_MEMORY_MB", _int(512), 2048, "MB",
         "Address-space limit of the child process that reads a workbook (a crash there is an error "
         "message, never the app going down)."),
    Spec("excel_timeout_s", "CROSSROADS_EXCEL_TIMEOUT_S", _float(0), 30.0, "s",
         "Time limit of the child process that reads a workbook."),
    Spec("llama_threads", "CROSSROADS_LLAMA_THREADS", _int(1), None, "threads",
         "CPU threads of the embedded llama.cpp model (unset: llama-cpp-python's own default, half the cores, "
         "at least 1)."),
    Spec("classifier_threads", "CROSSROADS_CLASSIFIER_THREADS", _int(0), 1, "threads",
         "OpenMP/BLAS threads of the intent classifier's fit and predict; 0 = the libraries' own default (all "
         "cores). 1 by default: on these small sparse problems more threads only add contention (fits measured "
         "10x slower with the libraries' default on a busy 2-core machine)."),
    Spec("cache_dir", "CROSSROADS_CACHE_DIR", _path, None, "",
         "LLM response cache folder (default: the user cache folder from `platformdirs`, `$XDG_CACHE_HOME/crossroads/llm` "
         "or `~/.cache/crossroads/llm` on Linux)."),
    Spec("cache_mb", "CROSSROADS_CACHE_MB", _float(0), 256.0, "MB",
         "Size cap of the LLM response cache on disk; past it the least recently used answers are evicted."),
    Spec("llm_prices", "CROSSROADS_LLM_PRICES", _path, None, "",
         "Your own copy of `core/arena/llm_prices.json` (USD per 1M tokens, with source and date)."),
    Spec("openai_base_url", "CROSSROADS_OPENAI_BASE_URL", _url, None, "",
         "OpenAI-compatible server (Ollama, llama.cpp server, vLLM, LM Studio); default Ollama's "
         "`http://localhost:11434/v1`.", url=True),
    Spec("openai_model", "CROSSROADS_OPENAI_MODEL", _text, None, "",
         "Model name on that server (default: the first it lists)."),
    Spec("openai_api_key", "CROSSROADS_OPENAI_API_KEY", _text, None, "",
         "Bearer token for that server, if it needs one; never logged, shown or cached.", secret=True),
    Spec("allowed_base_urls", "CROSSROADS_ALLOWED_BASE_URLS", _url_list, None, "",
         "Shared deployments: the only OpenAI-compatible base URLs that may be used (comma-separated); the pages "
         "offer them in a list instead of a free URL input. Unset: any URL (your own machine).", url=True),
    Spec("allowed_gguf_paths", "CROSSROADS_ALLOWED_GGUF_PATHS", _path_list, None, "",
         "Shared deployments: the only GGUF files (or folders of them) the embedded model may open, besides the "
         "default weights (comma-separated). Unset: any path."),
    Spec("aws_prices", "CROSSROADS_AWS_PRICES", _path, None, "",
         "Your own copy of `core/aws/aws_prices.json` (SageMaker instance-hours, Bedrock batch discount, S3; "
         "with source and date) for the AWS job estimates."),
    Spec("aws_quotas", "CROSSROADS_AWS_QUOTAS", _path, None, "",
         "Your own copy of `core/aws/quotas.json` (Bedrock batch record quotas, Comprehend regions), e.g. "
         "after raising a quota."),
    Spec("aws_jobs_dir", "CROSSROADS_AWS_JOBS_DIR", _path, None, "",
         "Folder recording the AWS jobs submitted from this machine, for resume by job ID (default "
         "`$XDG_DATA_HOME/crossroads/aws-jobs` or `~/.local/share/crossroads/aws-jobs`)."),
    Spec("sagemaker_python", "CROSSROADS_SAGEMAKER_PYTHON", _path, Path("/tmp/sm-venv/bin/python"), "",
         "A Python with the `sagemaker` SDK, used only by a test and `benchmarks/aws_dry_runs.py` to cross-check "
         "the recordIO writer (never a dependency of the app)."),
    Spec("shared_data", "CROSSROADS_SHARED_DATA", _path, lambda: ROOT.parent / "shared" / "data", "",
         "Folder of the real public datasets used by tests and benchmarks (default `../shared/data`)."),
)
_BY_NAME = {s.name: s for s in SPECS}


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class Settings:
    """The settings, read from the environment on each access (see the module docstring).

    Attribute names are :data:`SPECS`' ``name`` fields, plus :attr:`max_upload_bytes`.

    Raises:
        ConfigError: on access, when the variable holds an invalid value; the
            message names the variable, says what is expected and the default.
    """

    def __init__(self) -> None:
        self._overrides: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        spec = _BY_NAME.get(name)
        if spec is None:
            raise AttributeError(f"no setting named {name!r}")
        for layer in reversed(self._overrides):
            if name in layer:
                return layer[name]
        return self._from_env(spec)

    @staticmethod
    def _from_env(spec: Spec) -> Any:
        raw = os.environ.get(spec.env)
        if raw is None or not raw.strip():
            return spec.default_value()
        try:
            return spec.parse(raw)
        except ValueError as exc:
            default = spec.default_value()
            fix = (f"Unset it to use the default ({_fmt(default)}{' ' + spec.unit if spec.unit else ''})."
                   if default is not None else "Unset it, or give a valid value.")
            raise ConfigError(f"{spec.env}={spec.shown(raw)} is not valid: {exc}. {fix}") from None

    @property
    def max_upload_bytes(self) -> int:
        """:attr:`max_upload_mb` in bytes (1 MB = 2**20 bytes)."""
        return int(self.max_upload_mb * 2**20)

    def check(self) -> list[str]:
        """Validate every setting; returns the problems (empty when all are valid)."""
        problems = []
        for spec in SPECS:
            try:
                self._from_env(spec)
            except ConfigError as exc:
                problems.append(str(exc))
        return problems

    @contextlib.contextmanager
    def override(self, **values: Any) -> Iterator["Settings"]:
        """Temporarily replace settings (for tests): ``with settings.override(max_folds=3): ...``.

        Raises:
            AttributeError: an unknown setting name.
        """
        unknown = [k for k in values if k not in _BY_NAME]
        if unknown:
            raise AttributeError(f"no setting named {', '.join(unknown)}")
        self._overrides.append(dict(values))
        try:
            yield self
        finally:
            self._overrides.pop()

    def limit_error(self, name: str, found: str, *, value: Any | None = None) -> LimitError:
        """A :class:`LimitError` for input past the limit ``name``.

        Args:
            name: a setting name, e.g. ``"max_columns"``.
            found: what was found, e.g. ``"'wide.csv' has 100,000 columns"``.
            value: the limit's value if already read (else read now).

        Returns:
            ``LimitError("<found>; the limit is <value> <unit>. Set <ENV> to change it ...")``.
        """
        spec = _BY_NAME[name]
        limit = getattr(self, name) if value is None else value
        unit = f" {spec.unit}" if spec.unit else ""
        return LimitError(f"{found}; the limit is {_fmt(limit)}{unit}. Use a smaller input, or set the "
                          f"environment variable {spec.env} to change the limit.", setting=spec.env,
                          limit=limit)


#: The process-wide settings object.
settings = Settings()


def markdown_table() -> str:
    """The README's settings table: variable, default, what it controls."""
    lines = ["| variable | default | what it controls |", "|---|---|---|"]
    for spec in SPECS:
        default = spec.default_value()
        if spec.name == "shared_data":
            shown = "`../shared/data`"
        elif default is None:
            shown = "unset"
        else:
            shown = f"{_fmt(default)}{' ' + spec.unit if spec.unit else ''}"
        lines.append(f"| `{spec.env}` | {shown} | {spec.doc} |")
    return "\n".join(lines)


__all__ = ["settings", "Settings", "Spec", "SPECS", "markdown_table"]
