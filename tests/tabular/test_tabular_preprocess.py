"""The ColumnTransformer built from a schema, and the model registry (core.tabular.preprocess/models)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier

from core.errors import ConfigError
from core.tabular import models as registry
from core.tabular.models import Hyperparameter, ModelSpec, available_models, make_estimator, register_model
from core.tabular.preprocess import build_preprocessor, feature_sources
from core.tabular.schema import infer_schema, prepare_features, prepare_xy


def _table(n=80):
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "age": np.where(np.arange(n) % 10 == 0, np.nan, rng.normal(40, 10, n)),
        "city": ["Tokyo"] * 50 + ["Osaka"] * 25 + ["Kobe"] * 3 + ["Nara"] * 2,
        "member": rng.choice(["Yes", "No"], n),
        "joined": pd.date_range("2021-03-01", periods=n, freq="D").strftime("%Y-%m-%d"),
        "note": [f"parcel {i} {'late' if i % 2 else 'fine'} again and box {'damaged' if i % 3 else 'intact'}"
                 for i in range(n)],
        "y": rng.choice(["a", "b"], n),
    })


def test_feature_names_and_encodings():
    df = _table()
    s = infer_schema(df, "y")
    X, _ = prepare_xy(df, s)
    ct = build_preprocessor(s, X, scale=True)
    Z = ct.fit_transform(X)
    names = list(ct.get_feature_names_out())
    assert Z.shape == (80, len(names)) and not np.isnan(Z).any()
    # Kobe (3) and Nara (2) are below min_frequency=10: grouped into one "infrequent" column
    assert [n for n in names if n.startswith("city_")] == ["city_Osaka", "city_Tokyo", "city_infrequent_sklearn"]
    assert "member_Yes" in names and "member_No" not in names  # one 0/1 column
    assert {"joined.year", "joined.month", "joined.day", "joined.weekday"} <= set(names)
    assert "note: late" in names and "note: damaged" in names
    # scaled numeric: mean 0, std 1
    age = Z[:, names.index("age")]
    assert abs(age.mean()) < 1e-9 and abs(age.std() - 1) < 1e-9
    months = Z[:, names.index("joined.month")]
    assert len(np.unique(months)) == 3  # March..May, standardised


def test_unscaled_keeps_raw_values_and_unknown_categories_do_not_fail():
    df = _table()
    s = infer_schema(df, "y")
    X, _ = prepare_xy(df, s)
    ct = build_preprocessor(s, X, scale=False).fit(X)
    names = list(ct.get_feature_names_out())
    new = prepare_features(pd.DataFrame({"age": [33.0], "city": ["Sapporo"], "member": ["Maybe"],
                                         "joined": ["2030-12-25"], "note": [None]}), s)
    row = ct.transform(new)[0]
    assert row[names.index("age")] == 33.0
    assert row[names.index("city_infrequent_sklearn")] == 1.0  # unseen city -> infrequent bucket
    assert row[names.index("joined.year")] == 2030 and row[names.index("joined.weekday")] == 2  # a Wednesday
    assert row[[i for i, n in enumerate(names) if n.startswith("note: ")]].sum() == 0


def test_feature_sources_map_back_to_columns():
    df = _table()
    s = infer_schema(df, "y")
    X, _ = prepare_xy(df, s)
    ct = build_preprocessor(s, X).fit(X)
    src = feature_sources(ct)
    assert list(src) == list(ct.get_feature_names_out())
    assert src["city_infrequent_sklearn"] == "city" and src["joined.weekday"] == "joined"
    assert src["note: late"] == "note" and src["member_Yes"] == "member" and src["age"] == "age"


def test_registry_defaults_match_the_issue():
    tree = make_estimator("tree", "classification")
    assert isinstance(tree, DecisionTreeClassifier) and tree.max_depth == 5 and tree.min_samples_split == 5
    forest = make_estimator("forest", "classification")
    assert isinstance(forest, RandomForestClassifier) and forest.n_estimators == 100
    assert forest.max_features == "sqrt" and forest.max_depth is None
    assert isinstance(make_estimator("linear", "classification"), LogisticRegression)
    assert isinstance(make_estimator("linear", "regression", {"alpha": 3.0}), Ridge)
    assert make_estimator("linear", "regression", {"alpha": 3.0}).alpha == 3.0
    assert make_estimator("tree", "regression", {"max_depth": 0}).max_depth is None  # 0 = no limit
    assert [m.key for m in available_models("regression")] == ["linear", "tree", "forest", "hgb", "dummy"]
    assert registry.MODELS["dummy"].baseline


@pytest.mark.parametrize("key, params, message", [
    ("nope", {}, "unknown model 'nope'"),
    ("tree", {"max_depth": 500}, "between 1 and 50"),
    ("tree", {"depth": 3}, "no hyperparameter 'depth'"),
    ("forest", {"max_features": "all"}, "must be one of"),
    ("linear", {"alpha": 1.0}, "no hyperparameter 'alpha' for classification"),
])
def test_bad_model_settings_raise_config_error(key, params, message):
    with pytest.raises(ConfigError, match=message):
        make_estimator(key, "classification", params)


def test_one_entry_adds_a_model():
    from sklearn.neighbors import KNeighborsClassifier

    spec = ModelSpec(key="knn_test", label="kNN", classifier=KNeighborsClassifier, regressor=None,
                     needs_scaling=True, random_state=False,
                     hyperparameters=(Hyperparameter("n_neighbors", "Neighbours", "int", 7, 1, 50),))
    try:
        register_model(spec)
        assert "knn_test" in [m.key for m in available_models("classification")]
        assert "knn_test" not in [m.key for m in available_models("regression")]
        assert make_estimator("knn_test", "classification").n_neighbors == 7
    finally:
        registry.MODELS.pop("knn_test", None)
