"""Detecting what a file is: its format (by content, then extension), text encoding and delimiter.

- format: magic bytes (zip/OLE2 workbooks, Parquet), then the extension;
  binary content that is no table is refused;
- encoding: a strict UTF-8 check of the whole file first, then
  `charset-normalizer <https://github.com/jawah/charset_normalizer>`_;
- delimiter and quote: `CleverCSV <https://github.com/alan-turing-institute/CleverCSV>`_,
  with the most consistent delimiter across lines as the fallback.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Iterator

from core.errors import DataError
from core.io.sources import (
    _DELIMITER_NAMES,
    _DELIMITERS,
    _ENCODING_NAMES,
    _SCAN_CHUNK,
    EXTENSIONS,
)

#: Control bytes that do not occur in text (NUL and the C0 controls except tab, LF, VT, FF, CR, ESC).
_CONTROL = bytes([*range(0, 9), *range(14, 27), *range(28, 32)])
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL)


def _control_bytes(data: bytes) -> int:
    """How many bytes of ``data`` are control characters that never occur in text (NUL included)."""
    return len(data.translate(None, _NOT_CONTROL))


def sniff_format(data: bytes, name: str) -> str:
    """Decide the file format from magic bytes first, then the file extension.

    Args:
        data: the file's first bytes (64 KiB are enough) or all of them.
        name: the file name (its extension is a hint).

    Returns:
        One of ``"csv"``, ``"excel"``, ``"parquet"``, ``"jsonl"``.

    Raises:
        DataError: a recognised non-table binary (zip archive without a
            workbook, gzip, PDF, image...) or binary bytes (more than 1% control
            bytes in the first 64 KiB; a stray NUL in text is removed later, with a notice).
    """
    ext = Path(name).suffix.lower()
    head = data[:8]
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        if b"xl/" in data[:65536] or b"content.xml" in data[:65536] or b"[Content_Types].xml" in data[:65536] \
                or ext in EXTENSIONS["excel"]:
            return "excel"
        raise DataError(f"'{name}' is a zip archive, not a table. Unzip it and upload the CSV or Excel file inside.")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "excel"  # legacy .xls (OLE2)
    if head.startswith(b"\x1f\x8b"):
        raise DataError(f"'{name}' is gzip-compressed. Decompress it first, then upload the table inside.")
    if head.startswith(b"%PDF"):
        raise DataError(f"'{name}' is a PDF, not a table. Export the table as CSV or Excel and upload that.")
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        raise DataError(f"'{name}' is an image, not a table. Use a CSV, TSV, Excel, Parquet or JSON Lines file.")
    if ext in EXTENSIONS["excel"] or ext in EXTENSIONS["parquet"]:
        raise DataError(f"'{name}' has a {ext} extension but its content is not a valid {ext} file. "
                        "Re-export it from the program that made it.")
    sample = data[:65536]
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) \
            and _control_bytes(sample) > max(2, len(sample) // 100):
        raise DataError(f"'{name}' contains binary bytes and is not a text table. "
                        "Use a CSV, TSV, Excel, Parquet or JSON Lines file.")
    if ext in EXTENSIONS["jsonl"]:
        return "jsonl"
    stripped = data.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped[:1] in (b"{", b"[") and ext not in EXTENSIONS["csv"]:
        return "jsonl"
    return "csv"


def _legacy_codec(data: bytes) -> tuple[str, str]:
    """charset-normalizer's choice among Japanese and Western code pages, as ``(codec, note)``."""
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp932", "shift_jis", "euc_jp", "cp1252", "latin_1"]).best()
    if best is None:
        return "latin-1", "Encoding: not recognised; read as Latin-1, so some characters may look wrong."
    enc = best.encoding.replace("_", "-").lower()
    enc = {"shift-jis": "cp932", "sjis": "cp932", "iso-8859-1": "latin-1", "latin-1": "latin-1",
           "windows-1252": "cp1252"}.get(enc, enc)
    return enc, f"Encoding: {_ENCODING_NAMES.get(enc, enc)} (detected by charset-normalizer)."


def detect_encoding(data: bytes) -> tuple[str, str]:
    """Detect the text encoding of a whole file.

    A byte-order mark decides first; then a strict UTF-8 decode of every byte;
    then charset-normalizer chooses among Japanese and Western code pages over
    chunks taken across the whole file (not only its first kilobytes). A file
    whose lines mix UTF-8 and another encoding is handled by :func:`load_table`
    line by line.

    Args:
        data: the file's bytes.

    Returns:
        ``(codec, note)``: a Python codec name (``"utf-8"``, ``"utf-8-sig"``,
        ``"utf-16"``, ``"cp932"``, ``"euc-jp"``, ``"cp1252"``, ``"latin-1"``) and a
        human-readable note.
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "Encoding: UTF-8 with BOM."
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "Encoding: UTF-16 (byte-order mark)."
    if _is_utf8(_chunks_of(data)):
        return "utf-8", "Encoding: UTF-8."
    return _legacy_codec(data)


def _chunks_of(data: bytes, size: int = _SCAN_CHUNK) -> Iterator[bytes]:
    view = memoryview(data)
    for i in range(0, len(view), size):
        yield view[i:i + size]


def _is_utf8(chunks) -> bool:
    """Whether the concatenated chunks are valid UTF-8 (checked incrementally, little memory)."""
    dec = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        for chunk in chunks:
            if bytes(chunk).isascii() if isinstance(chunk, memoryview) else chunk.isascii():
                if dec.getstate()[0]:  # a multi-byte character was cut at the previous chunk's end
                    dec.decode(bytes(chunk))
                continue
            dec.decode(bytes(chunk))
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_delimiter(text: str, name: str = "") -> tuple[str, str, str]:
    """Detect the delimiter and quote character of delimited text with CleverCSV.

    Args:
        text: the decoded file or its beginning (a sample of its first ~200 lines is examined).
        name: file name; a ``.tsv``/``.tab`` extension forces tab.

    Returns:
        ``(delimiter, quotechar, note)``. A file with a single column gets ``","``.
    """
    if Path(name).suffix.lower() in (".tsv", ".tab"):
        return "\t", '"', "Delimiter: tab (from the .tsv extension)."
    lines = text.splitlines(keepends=True)[:200]
    sample = "".join(lines)[:100_000]
    dialect = None
    try:
        import clevercsv

        dialect = clevercsv.Detector().detect(sample, delimiters=_DELIMITERS)
    except Exception:  # noqa: BLE001 - detector failures fall back to counting below
        dialect = None
    if dialect is not None and dialect.delimiter in _DELIMITERS:
        delim, quote = dialect.delimiter, dialect.quotechar or '"'
        return delim, quote, f"Delimiter: {_DELIMITER_NAMES[delim]} (detected by CleverCSV)."
    # CleverCSV found nothing usable: the delimiter that occurs the same number of times on most lines wins.
    best, best_score = ",", 0
    for d in _DELIMITERS:
        counts = [ln.count(d) for ln in lines[:50] if ln.strip()]
        if counts and counts[0] > 0:
            score = sum(c == counts[0] for c in counts)
            if score > best_score:
                best, best_score = d, score
    if best_score == 0:
        return ",", '"', "Delimiter: none found, so the file is read as a single column."
    return best, '"', f"Delimiter: {_DELIMITER_NAMES[best]} (most consistent across lines)."
