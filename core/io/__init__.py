"""Reading the tables people really upload: CSV, TSV/TXT, Excel, Parquet and JSON Lines.

The entry point is :func:`load_table`. It takes a path or the raw bytes of an
upload, works out the format, the text encoding, the delimiter, the decimal
mark and the missing-value markers, and returns a :class:`LoadedTable` whose
``notes`` say, in plain words, what was detected and converted.

Libraries do the detecting and parsing:

- the text encoding: a strict UTF-8 check of the *whole* file first (line by
  line when some lines are UTF-8 and others are not: each line is then decoded
  with its own encoding), then `charset-normalizer
  <https://github.com/jawah/charset_normalizer>`_, which scores candidate code
  pages over chunks spread across the whole file;
- the CSV dialect (delimiter, quote character): `CleverCSV
  <https://github.com/alan-turing-institute/CleverCSV>`_ (van den Burg et al.,
  "Wrangling messy CSV files by detecting row and type patterns", Data Mining
  and Knowledge Discovery, 2019);
- delimited text is parsed by pyarrow's streaming CSV reader, block by block,
  every cell as text; each block's columns are converted to numbers at once
  when every value is a plain number, so a large numeric file never exists
  as millions of Python strings (pandas' C parser takes over for files with
  short rows, which it pads with missing values). With ``max_rows`` a seeded
  uniform sample is drawn while reading, so only the sample is ever held;
- Excel: the Rust ``calamine`` reader, in a child process with a memory limit
  and a time limit (:mod:`core.io._excel_child`), after the workbook's zip has
  been checked for bombs; Parquet: ``pyarrow``.

Limits (:mod:`core.settings`): file size, columns (checked on the header line
before any parsing), cells, characters per cell, and for workbooks the
uncompressed size, each zip member's size and compression ratio, and the
sheet's declared dimension. Each has its own :class:`core.errors.LimitError`.

The user's file is only ever read. Uploads are never unpickled or executed:
there is no pickle, no ``eval`` and no macro support anywhere on this path.

Modules, one concern each:

- :mod:`core.io.sources`: the file (path or bytes, size limit), :class:`LoadedTable`, digests;
- :mod:`core.io.sniff`: format, encoding and delimiter detection;
- :mod:`core.io.columns`: text cells to numbers and missing values (:func:`clean_frame`);
- :mod:`core.io.sampling`: numeric buffers, the cell cap and the seeded row sample;
- :mod:`core.io.delimited`: delimited text, streamed;
- :mod:`core.io.excel` (with :mod:`core.io._excel_child`): workbooks;
- :mod:`core.io.parquet_json`: Parquet and JSON Lines;
- :mod:`core.io.load`: :func:`load_table`.

The public names below are re-exported here: import them from ``core.io``.
"""

from core.io.columns import clean_frame
from core.io.excel import list_sheets
from core.io.load import load_table
from core.io.sniff import detect_delimiter, detect_encoding, sniff_format
from core.io.sources import (
    DEFAULT_NA_VALUES,
    EXTENSIONS,
    SUPPORTED_EXTENSIONS,
    LoadedTable,
    file_digest,
    read_source,
    table_digest,
)

__all__ = [
    "DEFAULT_NA_VALUES", "EXTENSIONS", "SUPPORTED_EXTENSIONS", "LoadedTable", "clean_frame", "detect_delimiter",
    "detect_encoding", "file_digest", "list_sheets", "load_table", "read_source", "sniff_format", "table_digest",
]
