"""The scikit-learn preprocessing built from a :class:`~core.tabular.schema.TableSchema`.

:func:`build_preprocessor` returns a ``ColumnTransformer`` with one branch per
column type:

* ``num``   numeric: median imputation, ``StandardScaler`` when the model needs scaling;
* ``bin``   numeric 0/1-like booleans: most-frequent imputation;
* ``bool``  text booleans (Yes/No): most-frequent imputation, one 0/1 column
  (``OneHotEncoder(drop="if_binary")``);
* ``cat``   categorical: constant ``"missing"`` imputation, ``OneHotEncoder(
  handle_unknown="infrequent_if_exist", min_frequency=..., max_categories=...)``;
* ``date``  datetimes: year, month, day, weekday (and hour) via :class:`DateParts`,
  then median imputation (and scaling);
* ``text:<column>`` free text: TF-IDF (:class:`TextTfidf`, word n-grams, or
  character n-grams for Japanese/Chinese/Korean).

Feature names come from ``get_feature_names_out`` and read like ``Age``,
``Sex_male``, ``Embarked_infrequent_sklearn``, ``Date.month``, ``Name: mr``.
:func:`feature_sources` maps each output feature back to its source column, through
:func:`source_columns`, which also works on any fitted ``ColumnTransformer`` and is the
mapping SHAP uses to group one-hot columns back into their column (:func:`group_matrix`);
:func:`display_feature_name` is a feature's name as shown on charts.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core.tabular.schema import TableSchema
from core.text.script import has_cjk

#: Categories seen in fewer rows than this (or this share of rows) are grouped as "infrequent".
MIN_FREQUENCY = 10
#: One-hot columns per categorical column at most (the rest grouped as "infrequent").
MAX_CATEGORIES = 30
#: TF-IDF vocabulary per free-text column.
TEXT_MAX_FEATURES = 100


class DateParts(TransformerMixin, BaseEstimator):
    """Turn date columns into numeric parts: year, month, day, weekday (Monday=0), and hour when any time is set.

    Input: a DataFrame (n_rows, n_date_columns) of datetimes or date strings.
    Output: float ndarray (n_rows, 4 or 5 per column) with NaN where a date is missing/unparsable.
    """

    def fit(self, X, y=None):
        X = pd.DataFrame(X)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = X.shape[1]
        self.with_hour_ = []
        for c in X.columns:
            d = self._parse(X[c])
            self.with_hour_.append(bool((d.dt.hour.fillna(0) != 0).any() or (d.dt.minute.fillna(0) != 0).any()))
        return self

    @staticmethod
    def _parse(s: pd.Series) -> pd.Series:
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            return s
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pd.to_datetime(s, errors="coerce", format="mixed")

    def transform(self, X):
        X = pd.DataFrame(X)
        parts = []
        for c, hour in zip(X.columns, self.with_hour_):
            d = self._parse(X[c])
            cols = [d.dt.year, d.dt.month, d.dt.day, d.dt.dayofweek] + ([d.dt.hour] if hour else [])
            parts.extend(np.asarray(v, dtype=float) for v in cols)
        return np.column_stack(parts) if parts else np.empty((len(X), 0))

    def get_feature_names_out(self, input_features=None):
        names = []
        for c, hour in zip(self.feature_names_in_, self.with_hour_):
            names += [f"{c}.year", f"{c}.month", f"{c}.day", f"{c}.weekday"] + ([f"{c}.hour"] if hour else [])
        return np.asarray(names, dtype=object)


class TextTfidf(TfidfVectorizer):
    """``TfidfVectorizer`` for one text column that accepts missing values and names features ``"<column>: <term>"``.

    Input: a 1-D sequence of strings (NaN/None allowed, read as empty text).
    Output: sparse TF-IDF matrix (n_rows, vocabulary size <= ``max_features``).
    """

    def __init__(self, *, column: str = "text", lowercase=True, analyzer="word", ngram_range=(1, 1),
                 max_features=TEXT_MAX_FEATURES, min_df=2, token_pattern=r"(?u)\b\w\w+\b",
                 sublinear_tf=True, dtype=np.float64):
        super().__init__(lowercase=lowercase, analyzer=analyzer, ngram_range=ngram_range,
                         max_features=max_features, min_df=min_df, token_pattern=token_pattern,
                         sublinear_tf=sublinear_tf, dtype=dtype)
        self.column = column

    @staticmethod
    def _clean(raw):
        return ["" if (v is None or (isinstance(v, float) and np.isnan(v))) else str(v) for v in np.ravel(raw)]

    def fit(self, raw_documents, y=None):
        self.fit_transform(raw_documents)
        return self

    def fit_transform(self, raw_documents, y=None):
        docs = self._clean(raw_documents)
        try:
            return super().fit_transform(docs)
        except ValueError:  # empty vocabulary (e.g. too few rows for min_df): keep every term
            self.set_params(min_df=1)
            return super().fit_transform(docs)

    def transform(self, raw_documents):
        return super().transform(self._clean(raw_documents))

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"{self.column}: {t}" for t in super().get_feature_names_out()], dtype=object)


def _is_cjk(values: pd.Series) -> bool:
    sample = "".join(map(str, values.dropna().head(50)))
    return has_cjk(sample)


def build_preprocessor(schema: TableSchema, X: pd.DataFrame | None = None, *, scale: bool = True,
                       min_frequency: int | float = MIN_FREQUENCY,
                       max_categories: int = MAX_CATEGORIES) -> ColumnTransformer:
    """Build the (unfitted) ``ColumnTransformer`` for a schema.

    Args:
        schema: from :func:`core.tabular.schema.infer_schema`.
        X: the prepared feature frame (used only to pick a word or character
            analyzer for text columns); optional.
        scale: add ``StandardScaler`` to numeric and date branches (linear models need it,
            trees do not).
        min_frequency: categories seen in fewer rows (int) or a smaller share (float) are grouped.
        max_categories: one-hot columns per categorical column at most.

    Returns:
        An unfitted ``ColumnTransformer`` whose ``fit_transform`` gives a dense float
        array (n_rows, n_features); names from ``get_feature_names_out()``.
    """
    transformers = []
    num = schema.features("numeric")
    if num:
        steps = [("impute", SimpleImputer(strategy="median"))] + ([("scale", StandardScaler())] if scale else [])
        transformers.append(("num", Pipeline(steps), num))
    bools = schema.features("boolean")
    bin_num = [c for c in bools if X is not None and pd.api.types.is_numeric_dtype(X[c].dtype)]
    bin_txt = [c for c in bools if c not in bin_num]
    if bin_num:
        transformers.append(("bin", SimpleImputer(strategy="most_frequent"), bin_num))
    if bin_txt:
        transformers.append(("bool", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(drop="if_binary", handle_unknown="ignore", sparse_output=False)),
        ]), bin_txt))
    cat = schema.features("categorical")
    if cat:
        transformers.append(("cat", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_frequency,
                                     max_categories=max_categories, sparse_output=False)),
        ]), cat))
    dates = schema.features("datetime")
    if dates:
        steps = [("parts", DateParts()), ("impute", SimpleImputer(strategy="median", keep_empty_features=True))]
        transformers.append(("date", Pipeline(steps + ([("scale", StandardScaler())] if scale else [])), dates))
    for col in schema.features("text"):
        cjk = X is not None and _is_cjk(X[col])
        vec = TextTfidf(column=col, analyzer="char_wb" if cjk else "word", ngram_range=(1, 2) if cjk else (1, 1))
        transformers.append((f"text:{col}", vec, col))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0,
                             verbose_feature_names_out=False, n_jobs=None)


def feature_names(preprocessor: ColumnTransformer) -> list[str]:
    """Output feature names of a fitted preprocessor (``get_feature_names_out``) as a list of str."""
    return [str(n) for n in preprocessor.get_feature_names_out()]


def feature_sources(preprocessor: ColumnTransformer) -> dict[str, str]:
    """Map each output feature of a *fitted* preprocessor to the source column it comes from.

    One-hot columns (``Sex_male``), date parts (``Date.month``) and TF-IDF terms
    (``Name: mr``) all map back to their source column (``Sex``, ``Date``, ``Name``).

    Args:
        preprocessor: a fitted ``ColumnTransformer`` from :func:`build_preprocessor`.

    Returns:
        ``{output feature name: source column name}`` in output order.
    """
    # One mapping for the whole app: the same one SHAP uses to group features back into columns.
    return dict(zip(feature_names(preprocessor), source_columns(preprocessor)))


# --------------------------------------------------------------------------------------------
# Output feature -> source column
# --------------------------------------------------------------------------------------------

def _find_column_transformer(preprocess) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if isinstance(preprocess, ColumnTransformer):
        return preprocess
    if isinstance(preprocess, Pipeline):
        cts = [s for _, s in preprocess.steps if isinstance(s, ColumnTransformer)]
        # only usable when the ColumnTransformer is the last step (its outputs are the model's inputs)
        if cts and preprocess.steps[-1][1] is cts[-1]:
            return cts[-1]
    return None


def _resolve_columns(cols, names_in: np.ndarray | None) -> list[str]:
    if isinstance(cols, str):
        return [cols]
    if isinstance(cols, (int, np.integer)):
        return [str(names_in[cols]) if names_in is not None else str(cols)]
    if isinstance(cols, slice):
        return [str(c) for c in names_in[cols]] if names_in is not None else []
    arr = np.asarray(cols)
    if arr.dtype == bool:
        return [str(c) for c in names_in[arr]] if names_in is not None else []
    if np.issubdtype(arr.dtype, np.integer):
        return [str(names_in[i]) if names_in is not None else str(i) for i in arr]
    return [str(c) for c in arr]


def _match_source(name: str, cols: Sequence[str]) -> str | None:
    """Source column of one output of a multi-column transformer, from that transformer's own columns."""
    if name in cols:
        return name
    best = None
    for c in cols:  # "Contract_Two year", "Date.month", "Name: mr"
        if name.startswith(c) and not name[len(c)].isalnum() and (best is None or len(c) > len(best)):
            best = c
    if best is not None:
        return best
    for c in cols:  # "missingindicator_Age"
        if name.endswith(c) and not name[-len(c) - 1].isalnum() and (best is None or len(c) > len(best)):
            best = c
    return best


#: Suffix scikit-learn's ``OneHotEncoder`` gives the column of grouped infrequent categories.
INFREQUENT_SUFFIX = "infrequent_sklearn"


def display_feature_name(name: str, source: str | None = None) -> str:
    """The name shown to people for one transformed feature (display only).

    scikit-learn names the one-hot column of grouped rare categories
    ``<column>_infrequent_sklearn`` (``OneHotEncoder(handle_unknown="infrequent_if_exist")``);
    it is shown as ``"<column> = (other)"``. Every other name is returned unchanged.

    Args:
        name: a ``get_feature_names_out`` name, e.g. ``"Cabin_infrequent_sklearn"``.
        source: its source column (from :func:`source_columns`); default: the name
            without the suffix.

    Returns:
        ``str``, e.g. ``"Cabin = (other)"``.
    """
    if not name.endswith(INFREQUENT_SUFFIX):
        return name
    if not source or source == name:
        source = name[: -len(INFREQUENT_SUFFIX)].rstrip("_ ") or name
        if "__" in source:  # verbose ColumnTransformer prefix "cat__"
            source = source.split("__", 1)[1]
    return f"{source} = (other)"


def source_columns(preprocess, n_features: int | None = None) -> list[str]:
    """Source column of every transformed feature, in output order.

    Uses the fitted ``ColumnTransformer``'s ``transformers_`` and ``output_indices_``
    (which output slice each transformer produced and from which input columns), not
    the output names alone: a transformer with one input column (a one-hot encoder on one
    column, a TF-IDF vectorizer, date parts of one column) maps all its outputs to it;
    for a transformer of several columns each output is matched to the *longest* of that
    transformer's own input columns that its name starts (or ends) with at a word
    boundary; ``passthrough`` and one-to-one transformers map by position. Outputs that
    cannot be attributed keep their own name.

    Args:
        preprocess: a fitted ``ColumnTransformer`` or a ``Pipeline`` ending with one.
        n_features: number of transformed features (used when ``preprocess`` has no
            ``ColumnTransformer``: every feature is then its own source).

    Returns:
        list of ``n_features`` source column names (str).
    """
    ct = _find_column_transformer(preprocess)
    try:
        out_names = [str(n) for n in preprocess.get_feature_names_out()]
    except Exception:  # noqa: BLE001 - a step without feature names
        out_names = [f"x{i}" for i in range(n_features or 0)]
    if ct is None or not hasattr(ct, "output_indices_"):
        return list(out_names)
    names_in = getattr(ct, "feature_names_in_", None)
    ct_names = [str(n) for n in ct.get_feature_names_out()]
    sources = list(ct_names)
    verbose = bool(getattr(ct, "verbose_feature_names_out", True))
    for name, trans, cols in ct.transformers_:
        sl = ct.output_indices_.get(name)
        if sl is None or sl.stop <= sl.start or (isinstance(trans, str) and trans == "drop"):
            continue
        cols_list = _resolve_columns(cols, names_in)
        outs = ct_names[sl]
        if verbose:
            prefix = f"{name}__"
            outs = [o[len(prefix):] if o.startswith(prefix) else o for o in outs]
        if len(cols_list) == 1:
            mapped = [cols_list[0]] * len(outs)
        elif (isinstance(trans, str) and trans == "passthrough") or outs == cols_list:
            mapped = list(cols_list) if len(cols_list) == len(outs) else list(outs)
        else:
            mapped = []
            for j, o in enumerate(outs):
                m = _match_source(o, cols_list)
                if m is None and len(outs) == len(cols_list):
                    m = cols_list[j]
                mapped.append(m if m is not None else ct_names[sl][j])
        sources[sl] = mapped
    if len(sources) != len(out_names):  # a step after the ColumnTransformer changed the features
        return list(out_names)
    return sources


def group_matrix(sources: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Groups in order of first appearance and the 0/1 matrix ``(n_features, n_groups)`` that sums them."""
    groups: list[str] = []
    pos: dict[str, int] = {}
    for s in sources:
        if s not in pos:
            pos[s] = len(groups)
            groups.append(s)
    g = np.zeros((len(sources), len(groups)))
    for i, s in enumerate(sources):
        g[i, pos[s]] = 1.0
    return groups, g
