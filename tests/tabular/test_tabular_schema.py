"""Column type inference, task detection and target checks (core.tabular.schema)."""

import numpy as np
import pandas as pd
import pytest

from core.errors import DataError
from core.tabular.schema import infer_column_type, infer_schema, is_id_name, prepare_xy, suggest_target


def _table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    words = ["good service", "slow delivery", "broken item", "great price", "late refund", "kind staff"]
    return pd.DataFrame({
        "row_id": np.arange(1, n + 1),
        "code": [f"C{i:04d}X" for i in range(n)],
        "age": rng.normal(40, 10, n).round(1),
        "city": rng.choice(["Tokyo", "Osaka", "Nagoya"], n),
        "member": rng.choice(["Yes", "No"], n),
        "flag01": rng.choice([0, 1], n),
        "joined": pd.date_range("2020-01-01", periods=n, freq="7D").strftime("%Y-%m-%d"),
        "comment": [f"{words[i % 6]} number {i} was {words[(i * 7) % 6]}" for i in range(n)],
        "same": ["x"] * n,
        "nothing": [np.nan] * n,
        "y": rng.choice(["a", "b"], n),
    })


def test_each_column_type_action_and_reason():
    s = infer_schema(_table(), "y")
    got = {c.name: (c.inferred_type, c.action) for c in s.columns}
    assert got == {
        "row_id": ("id", "dropped"), "code": ("id", "dropped"), "age": ("numeric", "used"),
        "city": ("categorical", "encoded"), "member": ("boolean", "encoded"), "flag01": ("boolean", "encoded"),
        "joined": ("datetime", "encoded"), "comment": ("text", "encoded"), "same": ("constant", "dropped"),
        "nothing": ("empty", "dropped"), "y": ("categorical", "target"),
    }
    assert all(c.reason for c in s.columns)
    assert s.feature_columns == ["age", "city", "member", "flag01", "joined", "comment"]
    assert "3 categories" in s.column("city").reason
    assert s.column("nothing").n_missing == 60


def test_integer_column_that_is_not_an_id_stays_numeric():
    s = pd.Series([3, 1, 2, 5, 4, 9, 7, 8, 6, 10, 12, 11, 15, 13, 14, 20, 18, 17, 19, 16, 30], name="count")
    # distinct on every row but not consecutive and not ID-named -> numeric
    assert infer_column_type(s).inferred_type == "numeric"
    assert infer_column_type(s.rename("customer_id")).inferred_type == "id"


@pytest.mark.parametrize("name", ["Paid", "Valid", "humid", "Rapid", "PAID"])
def test_words_ending_in_id_are_not_identifiers(name):
    """A distinct whole number per row named Paid/Valid/humid is a number, not an ID (the old rule `id$` dropped it)."""
    s = pd.Series([3, 1, 2, 5, 4, 9, 7, 8, 6, 10, 12, 11, 15, 13, 14, 20, 18, 17, 19, 16, 30], name=name)
    assert not is_id_name(name)
    info = infer_column_type(s)
    assert info.inferred_type == "numeric" and info.action == "used"


@pytest.mark.parametrize("name", ["customerID", "PassengerId", "userId", "user_id", "ID", "order-key", "Row Index"])
def test_identifier_names(name):
    s = pd.Series([3, 1, 2, 5, 4, 9, 7, 8, 6, 10, 12, 11, 15, 13, 14, 20, 18, 17, 19, 16, 30], name=name)
    assert is_id_name(name) and infer_column_type(s).inferred_type == "id"


def test_japanese_free_text_is_text():
    s = pd.Series([f"{i}番目の注文の商品が届かず困っています。" for i in range(30)], name="問い合わせ")
    info = infer_column_type(s)
    assert info.inferred_type == "text" and info.action == "encoded"


def test_task_detection_and_override():
    df = _table()
    df["price"] = np.linspace(1, 100, len(df))
    df["stars"] = np.tile([1, 2, 3, 4, 5], len(df) // 5)
    assert infer_schema(df, "y").task == "classification"
    assert infer_schema(df, "price").task == "regression"
    s = infer_schema(df, "stars")
    assert s.task == "classification" and s.classes == [1, 2, 3, 4, 5] and s.task_reason.startswith("detected")
    s = infer_schema(df, "stars", task="regression")
    assert s.task == "regression" and s.task_reason == "chosen by the user"


def test_missing_target_rows_are_dropped_and_counted():
    df = _table()
    df.loc[[0, 5, 9], "y"] = np.nan
    s = infer_schema(df, "y")
    assert s.n_dropped_missing_target == 3 and s.n_rows == 57 and s.n_rows_total == 60
    assert any("3 row(s) with a missing target" in w for w in s.warnings)
    X, y = prepare_xy(df, s)
    assert len(X) == len(y) == 57 and list(X.columns) == s.feature_columns
    assert y.isna().sum() == 0


def test_single_row_class_is_dropped_with_notice():
    df = _table()
    df.loc[3, "y"] = "lonely"
    s = infer_schema(df, "y")
    assert s.classes == ["a", "b"] and s.n_dropped_rare_class == 1 and s.n_rows == 59
    X, y = prepare_xy(df, s)
    assert "lonely" not in set(y) and len(X) == 59


@pytest.mark.parametrize("mutate, target, task, message", [
    (lambda d: d, "nope", "auto", "unknown target column 'nope'"),
    (lambda d: d.assign(y=np.nan), "y", "auto", "entirely missing"),
    (lambda d: d.assign(y="a"), "y", "auto", "only one class"),
    (lambda d: d, "city", "regression", "not numeric"),
    (lambda d: pd.concat([d] * 3, ignore_index=True).assign(v=lambda x: np.arange(len(x)) * 0.5), "v", "classification", "too many classes"),
    (lambda d: d.head(6).assign(y=["a", "b"] * 3), "y", "auto", "at least 10 are needed"),
    (lambda d: d[["y", "same", "nothing"]], "y", "auto", "no usable feature column"),
])
def test_target_errors_are_clear(mutate, target, task, message):
    with pytest.raises(DataError, match=message):
        infer_schema(mutate(_table()), target, task=task)


def test_leakage_notice_for_a_copy_of_the_target():
    df = _table()
    df["price"] = np.linspace(1, 100, len(df))
    df["price_copy"] = df["price"] * 2 + 1
    s = infer_schema(df, "price")
    assert any("'price_copy' is almost the target" in w for w in s.warnings)


def test_the_table_is_not_modified():
    df = _table()
    before = df.copy()
    s = infer_schema(df, "y")
    prepare_xy(df, s)
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.shared
@pytest.mark.parametrize("rel, expected, last", [
    ("titanic/train.csv", "Survived", "Embarked"),
    ("telco_churn/Telco-Customer-Churn.csv", "Churn", "Churn"),
    ("california_housing/housing.csv", "median_house_value", "ocean_proximity"),
    ("wine_quality_red_semicolon/winequality-red.csv", "quality", "quality"),
])
def test_suggest_target_on_real_tables(shared_data, rel, expected, last):
    from core.io import load_table

    df = load_table(shared_data / rel).frame
    assert str(df.columns[-1]) == last  # the old default (last column) was wrong for titanic/california
    assert suggest_target(df) == expected


def test_suggest_target_rules():
    rng = np.random.default_rng(0)
    n = 50
    base = {"row_id": np.arange(n), "age": rng.integers(18, 80, n).astype(float)}
    # a word of the name matches; Pclass does not (whole words only)
    df = pd.DataFrame({**base, "SalePrice": rng.normal(size=n), "Pclass": rng.integers(1, 4, n),
                       "city": rng.choice(["a", "b", "c"], n)})
    assert suggest_target(df) == "SalePrice"
    # an exact name beats a partial one
    df = pd.DataFrame({**base, "label": rng.choice(["x", "y"], n), "house_value": rng.normal(size=n)})
    assert suggest_target(df) == "label"
    # no name match: last column that is not ID-like, free text or constant
    df = pd.DataFrame({**base, "colour": rng.choice(["r", "g"], n), "const": 1, "uid": [f"u{i:04d}" for i in range(n)]})
    assert suggest_target(df) == "colour"
    # a name match that is constant is skipped
    df = pd.DataFrame({**base, "target": 1, "colour": rng.choice(["r", "g"], n)})
    assert suggest_target(df) == "colour"
    with pytest.raises(DataError):
        suggest_target(pd.DataFrame())
