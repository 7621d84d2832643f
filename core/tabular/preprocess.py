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
:func:`feature_sources` maps each output feature back to its source column
(used by SHAP to group one-hot columns).
"""

from __future__ import annotations

import warnings

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
    from core.tabular.explain import source_columns

    return dict(zip(feature_names(preprocessor), source_columns(preprocessor)))
