"""Workspaces: everything a user did, saved as one file and opened again later.

A workspace file is a zip archive:

* ``manifest.json``: the JSON manifest (fields below);
* ``tables/<n>.parquet``: each table (the user's data, result tables) as Parquet;
* ``results/<n>.json``: each result document as JSON (a comparison's figures,
  sentiment batches, LLM answers...).

Fitted models are never stored: a comparison is rebuilt on open from its table,
settings and seed (:func:`core.tabular.compare.restore_comparison`), and the
rebuilt hold-out results are checked against the saved ones. Nothing is pickled.

Manifest fields (``format_version`` 1):

``format``
    always ``"crossroads-workspace"``.
``format_version``
    :data:`FORMAT_VERSION`; a file with a larger number is refused with a message.
``created``
    UTC time of saving, ISO 8601.
``crossroads_version``, ``software``
    versions of Crossroads, Python, scikit-learn, pandas, numpy and pyarrow that wrote it.
``tables``
    ``{name: {member, sha256, bytes, rows, columns, dtypes, info}}``; ``info`` is what was
    detected reading the user's file (name, format, encoding, delimiter, sheet, notes, digest).
``results``
    ``{name: {member, sha256, bytes}}``.
``sections``
    ``{page: {...}}``: which tables and results belong to which page, e.g.
    ``{"data_models": {"table": "data_models.table", "comparison": "data_models.comparison"}}``.
``state``
    small JSON: the pages' choices (widget values, ``ui``) and which saved table each uploaded
    file became (``files``); larger page results are a result document (``pages.session``,
    encoded with :mod:`core.workspace.codec`).

Opening reads every member as data, in memory, never onto disk: member names must be
plain relative paths (no ``..``, no absolute path, no backslash), each member and the
total are size-capped while they are decompressed, a member far more compressed than
data can be is refused (zip bomb), and each member's SHA-256 must match the manifest.
A file that is not a workspace, of a newer format version, or damaged raises
:class:`WorkspaceError` and nothing is returned, so the caller's current work is kept.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import platform
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from core.errors import DataError
from core.settings import settings

FORMAT = "crossroads-workspace"
#: Current format version. Increase it when the layout changes; older files must still open.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: File name suffix offered for workspaces.
SUFFIX = ".zip"

# ---- limits (one place; to be moved to core/settings.py) -------------------------------------------
# The file, member and ratio limits are the upload and zip limits of :mod:`core.settings`
# (``CROSSROADS_MAX_UPLOAD_MB``, ``CROSSROADS_MAX_ZIP_MEMBER_MB``, ``CROSSROADS_MAX_ZIP_RATIO``), read when a
# workspace is opened: one place for each limit. The rest are properties of the format.
#: Largest total of all members once decompressed, in bytes.
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
#: Largest manifest, in bytes.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: Most members in one file.
MAX_MEMBERS = 1000
#: Members smaller than this (bytes) are not ratio-checked: small compact JSON compresses far.
RATIO_CHECK_BYTES = 1024 * 1024

_MEMBER_RE = re.compile(r"^(tables/[0-9]{1,6}\.parquet|results/[0-9]{1,6}\.json|manifest\.json)$")
_NAME_RE = re.compile(r"^[^\x00-\x1f]{1,200}$")


class WorkspaceError(DataError):
    """The file is not a workspace this Crossroads can open (the message says why and what to do)."""


@dataclass
class Workspace:
    """What a workspace holds, in memory.

    Attributes:
        tables: ``{name: DataFrame}`` saved as Parquet.
        table_info: ``{name: {...}}`` facts about each table's source (JSON).
        results: ``{name: JSON data}`` saved as JSON documents.
        sections: ``{page: {...}}`` which tables and results each page uses (JSON).
        state: the pages' choices and small results (JSON).
        created: UTC ISO time it was saved ("" before saving).
        crossroads_version, software: what wrote it (filled when saving).
    """

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    table_info: dict[str, dict] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, dict] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    crossroads_version: str = ""
    software: dict[str, str] = field(default_factory=dict)

    def add_table(self, name: str, frame: pd.DataFrame, info: Mapping[str, Any] | None = None) -> str:
        """Add (or replace) a table; returns ``name``."""
        if not _NAME_RE.match(name):
            raise ValueError(f"bad table name {name!r}")
        self.tables[name] = frame
        self.table_info[name] = dict(info or {})
        return name

    def summary(self) -> str:
        """One line, e.g. ``"2 tables (7,043 rows), 3 results, pages: data_models, sentiment"``."""
        rows = sum(len(t) for t in self.tables.values())
        pages = ", ".join(self.sections) or "none"
        return f"{len(self.tables)} table(s) ({rows:,} rows), {len(self.results)} result(s), pages: {pages}"


def _software() -> dict[str, str]:
    import pyarrow
    import sklearn

    import core

    return {"crossroads": core.__version__, "python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "pandas": pd.__version__, "numpy": np.__version__, "pyarrow": pyarrow.__version__}


# ------------------------------------------------------------------ tables <-> Parquet

def _table_to_parquet(frame: pd.DataFrame) -> tuple[bytes, dict[str, str], list[str]]:
    """Parquet bytes of ``frame``, its dtypes, and the object columns stored as text (mixed types)."""
    df = frame
    if any(not isinstance(c, str) for c in df.columns):
        df = df.rename(columns=str)
    if df.columns.duplicated().any():
        raise DataError("a table with duplicate column names cannot be saved; rename the columns.")
    dtypes = {str(c): str(t) for c, t in df.dtypes.items()}
    as_text: list[str] = []
    buf = io.BytesIO()
    try:
        df.to_parquet(buf)
    except Exception:  # noqa: BLE001 - mixed-type object columns (e.g. numbers and text from Excel)
        df = df.copy()
        for c in df.columns:
            if df[c].dtype == object:
                kinds = {type(v) for v in df[c].dropna().tolist()}
                if len(kinds) > 1 or (kinds and not kinds <= {str, bytes, bool, int, float}):
                    df[c] = df[c].map(lambda v: v if _missing(v) else str(v)).astype(object)
                    as_text.append(str(c))
        buf = io.BytesIO()
        df.to_parquet(buf)
    return buf.getvalue(), dtypes, as_text


def _missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # lists, dicts: not missing
        return False


def _table_from_parquet(data: bytes, dtypes: Mapping[str, str]) -> pd.DataFrame:
    df = pd.read_parquet(io.BytesIO(data))
    for c, t in dtypes.items():
        if c in df.columns and t == "object" and str(df[c].dtype) != "object":
            col = df[c].astype(object)
            df[c] = col.where(col.notna(), np.nan)
        elif c in df.columns and t == "object":
            df[c] = df[c].where(df[c].notna(), np.nan)
    return df


# ------------------------------------------------------------------ saving

def workspace_to_bytes(ws: Workspace) -> bytes:
    """Serialise a workspace as the bytes of a ``.zip`` file (layout in the module docstring).

    Args:
        ws: the workspace; ``created``/``software`` are filled in (the object is updated).

    Returns:
        The zip file's bytes.

    Raises:
        DataError: a table cannot be stored (duplicate column names).
        TypeError: a result or the state is not JSON data.
    """
    ws.created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    ws.software = _software()
    ws.crossroads_version = ws.software["crossroads"]
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "created": ws.created,
        "crossroads_version": ws.crossroads_version, "software": ws.software,
        "tables": {}, "results": {}, "sections": ws.sections, "state": ws.state,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for i, (name, frame) in enumerate(ws.tables.items()):
            data, dtypes, as_text = _table_to_parquet(frame)
            member = f"tables/{i}.parquet"
            zf.writestr(member, data)
            info = dict(ws.table_info.get(name, {}))
            if as_text:
                info["stored_as_text"] = as_text
            manifest["tables"][name] = {"member": member, "sha256": hashlib.sha256(data).hexdigest(),
                                        "bytes": len(data), "rows": int(len(frame)),
                                        "columns": [str(c) for c in frame.columns], "dtypes": dtypes,
                                        "info": info}
        for i, (name, doc) in enumerate(ws.results.items()):
            data = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
            member = f"results/{i}.json"
            zf.writestr(member, data)
            manifest["results"][name] = {"member": member, "sha256": hashlib.sha256(data).hexdigest(),
                                         "bytes": len(data)}
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, allow_nan=False,
                                         default=_json_default).encode("utf-8"))
    return buf.getvalue()


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON data")


def save_workspace(ws: Workspace, path: str | Path) -> int:
    """Write :func:`workspace_to_bytes` to ``path`` (a new file, or replacing one); returns its size in bytes."""
    data = workspace_to_bytes(ws)
    Path(path).write_bytes(data)
    return len(data)


# ------------------------------------------------------------------ opening

def _bad(name: str, why: str) -> WorkspaceError:
    return WorkspaceError(f"'{name}' {why}")


def _safe_member_name(n: str) -> bool:
    if not n or "\x00" in n or "\\" in n or n.startswith("/") or re.match(r"^[A-Za-z]:", n):
        return False
    parts = n.split("/")
    return all(p not in ("..", ".") for p in parts)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, name: str) -> bytes:
    """Decompress one member into memory, stopping as soon as it passes ``cap`` bytes."""
    out = bytearray()
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1024 * 1024)
            if not chunk:
                break
            out += chunk
            if len(out) > cap:
                raise _bad(name, f"holds a member ('{info.filename}') larger than {cap // 2**20} MB once "
                                 "decompressed (a zip bomb?), so it was not opened.")
    return bytes(out)


def open_workspace(source: str | Path | bytes, *, name: str | None = None) -> Workspace:
    """Open a workspace file, checking everything before returning anything.

    Args:
        source: path of the ``.zip``, or its bytes (an upload).
        name: display name for messages (default: the path's name, or ``"workspace"``).

    Returns:
        The :class:`Workspace` with its tables, results, sections and state.

    Raises:
        WorkspaceError: not a zip, not a Crossroads workspace, a newer format version, a
            damaged member (checksum, Parquet or JSON), unsafe member names, or sizes
            beyond the caps above. The message is for the user and says what to do.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), name or "workspace"
    else:
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise WorkspaceError(f"No workspace file at '{path}'. Check the path.")
        if path.stat().st_size > _max_workspace_bytes():
            raise _too_big(name)
        data = path.read_bytes()
    if len(data) > _max_workspace_bytes():
        raise _too_big(name)
    if not data.startswith(b"PK"):
        raise _bad(name, "is not a workspace file (a workspace is a .zip saved by Crossroads' "
                         "'Save workspace' or `python -m core compare --workspace`).")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError):
        raise _bad(name, "is a damaged zip file and could not be read. Save the workspace again.") from None
    with zf:
        return _open_zip(zf, infos, name)


def _max_workspace_bytes() -> int:
    """Largest workspace file accepted (bytes): the upload limit, ``CROSSROADS_MAX_UPLOAD_MB``."""
    return int(settings.max_upload_mb * 2**20)


def _max_member_bytes() -> int:
    """Largest member once decompressed (bytes): ``CROSSROADS_MAX_ZIP_MEMBER_MB``."""
    return int(settings.max_zip_member_mb * 2**20)


def _too_big(name: str) -> WorkspaceError:
    return _bad(name, f"is larger than {_max_workspace_bytes() // 2**20} MB, the upload limit "
                      "(CROSSROADS_MAX_UPLOAD_MB).")


def _open_zip(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], name: str) -> Workspace:
    if len(infos) > MAX_MEMBERS:
        raise _bad(name, f"holds {len(infos):,} files; a workspace has at most {MAX_MEMBERS:,}.")
    seen: set[str] = set()
    total = 0
    for info in infos:
        n = info.filename
        if not _safe_member_name(n):
            raise _bad(name, f"contains an unsafe file name ({n[:80]!r}: an absolute path or '..'), so it was "
                             "not opened.")
        if n in seen:
            raise _bad(name, f"contains the file '{n[:80]}' twice, so it was not opened.")
        seen.add(n)
        if info.flag_bits & 0x1:
            raise _bad(name, "is encrypted; workspaces are never encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _bad(name, f"uses a compression method ({info.compress_type}) Crossroads does not write.")
        if info.file_size > _max_member_bytes():
            raise _bad(name, f"holds a member ('{n[:80]}') of {info.file_size / 2**20:,.0f} MB once "
                             f"decompressed; the limit is {_max_member_bytes() // 2**20} MB "
                             "(CROSSROADS_MAX_ZIP_MEMBER_MB).")
        if info.file_size > RATIO_CHECK_BYTES and info.file_size > settings.max_zip_ratio * max(info.compress_size, 1):
            raise _bad(name, f"holds a member ('{n[:80]}') compressed {info.file_size / max(info.compress_size, 1):,.0f}"
                             " times, far more than real data (a zip bomb?), so it was not opened.")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise _bad(name, f"would take {total / 2**20:,.0f} MB once decompressed; the limit is "
                         f"{MAX_TOTAL_BYTES // 2**20} MB.")
    if MANIFEST not in seen:
        raise _bad(name, "is a zip file but not a Crossroads workspace (it has no manifest.json). Open a file "
                         "saved with 'Save workspace'.")
    by_name = {i.filename: i for i in infos}
    budget = [MAX_TOTAL_BYTES]

    def read(member: str, cap: int) -> bytes:
        if member not in by_name or not _MEMBER_RE.match(member):
            raise _bad(name, f"is damaged: its manifest names a missing or unexpected file ({member[:80]!r}).")
        try:
            blob = _read_member(zf, by_name[member], min(cap, budget[0]), name)
        except WorkspaceError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise _bad(name, f"is damaged ({member}: {type(exc).__name__}). Save the workspace again.") from None
        budget[0] -= len(blob)
        return blob

    try:
        manifest = json.loads(read(MANIFEST, MAX_MANIFEST_BYTES).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _bad(name, "has a damaged manifest.json. Save the workspace again.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(name, "is a zip file but not a Crossroads workspace (its manifest.json is not one).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _bad(name, "has a manifest without a valid format version. Save the workspace again.")
    if version > FORMAT_VERSION:
        raise _bad(name, f"was saved by a newer Crossroads (workspace format {version}; this one opens up to "
                         f"{FORMAT_VERSION}). Update Crossroads to open it.")
    tables_m, results_m = manifest.get("tables", {}), manifest.get("results", {})
    sections, state = manifest.get("sections", {}), manifest.get("state", {})
    if not all(isinstance(x, dict) for x in (tables_m, results_m, sections, state)):
        raise _bad(name, "has a damaged manifest (tables, results, sections and state must be objects).")

    def checked(entry: Any, what: str) -> bytes:
        if not isinstance(entry, dict) or not isinstance(entry.get("member"), str) \
                or not isinstance(entry.get("sha256"), str):
            raise _bad(name, f"has a damaged manifest entry for {what}.")
        blob = read(entry["member"], _max_member_bytes())
        if hashlib.sha256(blob).hexdigest() != entry["sha256"]:
            raise _bad(name, f"is damaged: {what} does not match its checksum. Save the workspace again.")
        return blob

    ws = Workspace(sections=sections, state=state, created=str(manifest.get("created", "")),
                   crossroads_version=str(manifest.get("crossroads_version", "")),
                   software={str(k): str(v) for k, v in (manifest.get("software") or {}).items()})
    for tname, entry in tables_m.items():
        blob = checked(entry, f"table '{tname}'")
        dtypes = entry.get("dtypes") or {}
        try:
            frame = _table_from_parquet(blob, dtypes if isinstance(dtypes, dict) else {})
        except Exception:  # noqa: BLE001 - any Parquet failure is damage
            raise _bad(name, f"is damaged: table '{tname}' is not valid Parquet.") from None
        if len(frame) != entry.get("rows") or [str(c) for c in frame.columns] != entry.get("columns"):
            raise _bad(name, f"is damaged: table '{tname}' does not have the rows and columns its manifest says.")
        ws.tables[str(tname)] = frame
        info = entry.get("info")
        ws.table_info[str(tname)] = info if isinstance(info, dict) else {}
    for rname, entry in results_m.items():
        blob = checked(entry, f"result '{rname}'")
        try:
            ws.results[str(rname)] = json.loads(blob.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise _bad(name, f"is damaged: result '{rname}' is not valid JSON.") from None
    return ws


__all__ = [
    "FORMAT", "FORMAT_VERSION", "MANIFEST", "SUFFIX", "MAX_TOTAL_BYTES",
    "MAX_MANIFEST_BYTES", "MAX_MEMBERS", "RATIO_CHECK_BYTES",
    "Workspace", "WorkspaceError", "workspace_to_bytes", "save_workspace", "open_workspace",
]
