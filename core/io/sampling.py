"""Holding the rows of a streamed file: growing numeric buffers, the cell cap, and the seeded row sample.

:class:`_Collector` receives blocks of text columns, converts each column to
numbers when every value is a plain number, enforces ``settings.max_cells`` as
rows arrive, and with ``max_rows`` keeps a seeded uniform (bottom-k) sample so
that only the sample is ever held.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from core.io.columns import _plain_numbers, _trim_mark
from core.settings import settings

#: pyarrow CSV block size: rows are parsed and converted this many bytes at a time.
_BLOCK_BYTES = 1 * 2**20


class _NumBuf:
    """A growing numpy column (int64 until a float or a missing value arrives, then float64).

    One large buffer instead of many block-sized pieces: pieces freed at the end
    stay in the allocator, so the peak would be twice the column. Capacity
    beyond what is written is never touched, so it costs no resident memory.
    """

    def __init__(self, capacity: int):
        self.capacity = max(int(capacity), 1)
        self.a: np.ndarray | None = None
        self.n = 0

    def append(self, x: np.ndarray) -> None:
        if self.a is None:
            self.a = np.empty(max(self.capacity, len(x)), dtype=x.dtype)
        elif x.dtype.kind == "f" and self.a.dtype.kind != "f":
            self.a = self.a.astype(np.float64)
        if self.n + len(x) > len(self.a):
            grown = np.empty(int((self.n + len(x)) * 1.5), dtype=self.a.dtype)
            grown[:self.n] = self.a[:self.n]
            self.a = grown
        self.a[self.n:self.n + len(x)] = x
        self.n += len(x)

    def values(self) -> np.ndarray:
        return self.a[:self.n] if self.a is not None else np.empty(0)


class _Collector:
    """Receives blocks of string columns, converts them, and keeps all rows or a seeded uniform sample.

    Sampling gives every row a uniform random key and keeps the ``max_rows``
    smallest keys (a bottom-k sample, i.e. simple random sampling without
    replacement), compacting whenever twice that many rows are held.
    """

    def __init__(self, names: list[str], na_text: list[str], max_rows: int | None, seed: int, file_name: str,
                 file_size: int):
        self.names, self.na_text, self.max_rows, self.file_name = names, na_text, max_rows, file_name
        self.file_size = max(file_size, 1)
        n = len(names)
        self.state = ["?"] * n          # "?" only missing so far, "num", "text", "reread"
        self.nulls = [0] * n            # rows seen while a column was all missing ("?")
        self.num: list[_NumBuf | None] = [None] * n
        self.text: list[list] = [[] for _ in range(n)]
        self.keys: list[np.ndarray] = []
        self.ids: list[np.ndarray] = []
        self.held = 0
        self.rows_seen = 0
        self.bytes_per_row = None
        self.rng = np.random.default_rng(seed)
        self.threshold = np.inf
        self.max_cells = settings.max_cells

    def _capacity(self, m: int) -> int:
        if self.max_rows:
            return 2 * self.max_rows + 2 * m
        if self.bytes_per_row is None:  # estimated from the first block, generously: unused capacity is free
            self.bytes_per_row = min(_BLOCK_BYTES, self.file_size) / m
        return int(self.file_size / self.bytes_per_row * 1.25) + m

    def add(self, cols: list) -> None:
        m = len(cols[0]) if cols else 0
        if m == 0:
            return
        start = self.rows_seen
        self.rows_seen += m
        keys = ids = None
        if self.max_rows:
            ids = np.arange(start, start + m)
            keys = self.rng.random(m)
            keep = np.flatnonzero(keys < self.threshold)
            if len(keep) == 0:
                return
            if len(keep) < m:
                idx = pa.array(keep)
                cols = [c.take(idx) for c in cols]
                keys, ids = keys[keep], ids[keep]
        elif self.rows_seen * len(self.names) > self.max_cells:
            raise settings.limit_error(
                "max_cells", f"'{self.file_name}' has more than {self.rows_seen - m:,} rows x "
                f"{len(self.names):,} columns. Read a sample of the rows (--max-rows, or the page's row limit), "
                "or raise the limit")
        k = len(cols[0])
        for j, col in enumerate(cols):
            st = self.state[j]
            if st == "reread":
                continue
            if st in ("?", "num"):
                nums = _plain_numbers(col)  # a clean block (no spaces, no blanks): no trimming needed
                if nums is not None:
                    if st == "?":
                        self.state[j], self.num[j] = "num", _NumBuf(self._capacity(m))
                        if self.nulls[j]:
                            self.num[j].append(np.full(self.nulls[j], np.nan))
                    self.num[j].append(nums)
                    continue
            col = _trim_mark(col, self.na_text)
            if st in ("?", "num"):
                if col.null_count == k:
                    if st == "?":
                        self.nulls[j] += k  # all missing so far: the type is not known yet
                    else:
                        self.num[j].append(np.full(k, np.nan))
                    continue
                nums = _plain_numbers(col)
                if nums is not None:
                    if st == "?":
                        self.state[j], self.num[j] = "num", _NumBuf(self._capacity(m))
                        if self.nulls[j]:
                            self.num[j].append(np.full(self.nulls[j], np.nan))
                    self.num[j].append(nums)
                    continue
                if st == "num":  # numbers so far, text now: read this column again as text at the end
                    self.state[j], self.num[j] = "reread", None
                    continue
                self.state[j] = "text"
                if self.nulls[j]:
                    self.text[j].append(pa.nulls(self.nulls[j], type=pa.large_string()))
            self.text[j].append(col.cast(pa.large_string()))
        if ids is not None:
            self.ids.append(ids)
            self.keys.append(keys)
        self.held += k
        if self.max_rows and self.held > 2 * self.max_rows:
            self._compact()

    def column(self, j: int):
        """Column ``j`` so far: a numpy array (numbers or all missing), an Arrow array (text), or None (reread)."""
        st = self.state[j]
        if st == "num":
            return self.num[j].values()
        if st == "?":
            return np.full(self.held, np.nan)
        if st == "text":
            return pa.chunked_array(self.text[j], type=pa.large_string())
        return None

    def release(self, j: int) -> None:
        """Forget column ``j`` once it has been built (keeps the peak memory near one copy)."""
        self.num[j], self.text[j] = None, []

    def _take(self, order: np.ndarray) -> None:
        for j in range(len(self.names)):
            col = self.column(j)
            if col is None:
                continue
            if self.state[j] == "num":
                buf = _NumBuf(self._capacity(len(order)))
                buf.append(col[order])
                self.num[j] = buf
            elif self.state[j] == "text":
                self.text[j] = [col.take(pa.array(order)).combine_chunks()]
            else:
                self.nulls[j] = len(order)
        self.ids = [np.concatenate(self.ids)[order]]
        self.keys = [np.concatenate(self.keys)[order]]
        self.held = len(order)

    def _compact(self) -> None:
        keys = np.concatenate(self.keys)
        k = self.max_rows
        order = np.argpartition(keys, k - 1)[:k] if len(keys) > k else np.arange(len(keys))
        self.threshold = float(keys[order].max()) if len(order) == k else np.inf
        self._take(order)

    def finish(self) -> np.ndarray:
        """Final selection in file order; returns the kept rows' 0-based row numbers."""
        if not self.max_rows:
            return np.arange(self.rows_seen)
        if self.keys and self.held > self.max_rows:
            self._compact()
        ids = np.concatenate(self.ids) if self.ids else np.empty(0, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        if len(ids) and (order != np.arange(len(order))).any():
            self._take(order)
            ids = self.ids[0]
        return ids
