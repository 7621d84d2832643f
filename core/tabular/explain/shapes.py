"""Shape normalisation: the one place that knows the forms SHAP's outputs take.

SHAP returns lists per class, 2-D arrays for one output, 3-D arrays, scalar or
per-row base values, and a single column for a binary classifier;
:func:`normalize_shap_output` turns each into ``(n_rows, n_features, n_outputs)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# --------------------------------------------------------------------------------------------
# Shape normalisation (the one place that knows SHAP's output forms)
# --------------------------------------------------------------------------------------------

def normalize_shap_output(values: Any, base_values: Any, *, n_rows: int, n_features: int,
                          n_classes: int | None = None, units: str | None = None
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Bring SHAP's output into ``values (n_rows, n_features, n_outputs)`` and ``base (n_rows, n_outputs)``.

    Accepted forms (all seen from SHAP ≤ 0.51 across explainers and versions):

    * values: a list of ``n_outputs`` arrays ``(n_rows, n_features)`` (old multi-output form),
      an array ``(n_rows, n_features, n_outputs)``, an array ``(n_rows, n_features)``
      (single output), or ``(n_features,)`` for one row;
    * base values: a scalar, ``(n_outputs,)`` (``expected_value``), ``(n_rows,)``,
      ``(n_rows, n_outputs)``, ``(n_rows, 1)`` or a list of these.

    Binary classifiers explained with a single output (log-odds of class 1, as
    LinearExplainer and HistGradientBoosting give) are completed to two outputs so
    that output index = class index: class 0's values are the negation; its base value
    is ``-base`` in log-odds and ``1 - base`` in probability.

    Args:
        n_classes: number of classes for classification, ``None`` for regression.
        units: ``"log-odds"`` or ``"probability"``; needed only to complete a binary single output.

    Returns:
        ``(values, base_values)`` as float64 arrays.

    Raises:
        ValueError: shapes that do not match ``n_rows``/``n_features``.
    """
    if isinstance(values, (list, tuple)):
        v = np.stack([np.asarray(a, dtype=float) for a in values], axis=-1)
    else:
        v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v.reshape(1, -1, 1) if n_rows == 1 else v.reshape(n_rows, 1, 1)
    elif v.ndim == 2:
        if n_rows == 1 and v.shape[0] == n_features and v.shape[1] != n_features:
            v = v[None, :, :]  # one row, (n_features, n_outputs)
        else:
            v = v[:, :, None]
    if v.ndim != 3 or v.shape[0] != n_rows or v.shape[1] != n_features:
        raise ValueError(f"SHAP values of shape {np.shape(values)} do not match "
                         f"{n_rows} rows x {n_features} features")
    k = v.shape[2]

    if isinstance(base_values, (list, tuple)):
        b = np.stack([np.asarray(x, dtype=float) for x in base_values], axis=-1)
    else:
        b = np.asarray(base_values, dtype=float)
    if b.ndim == 0:
        b = np.full((n_rows, k), float(b))
    elif b.ndim == 1:
        if k == 1 and b.shape[0] in (1, n_rows):
            b = np.broadcast_to(b.reshape(-1, 1), (n_rows, 1))
        elif b.shape[0] == k:
            b = np.broadcast_to(b.reshape(1, k), (n_rows, k))
        else:
            raise ValueError(f"base values of shape {b.shape} do not match {n_rows} rows x {k} outputs")
    elif b.ndim == 2:
        if b.shape == (n_rows, k):
            pass
        elif b.shape in ((n_rows, 1), (1, k), (1, 1)):
            b = np.broadcast_to(b, (n_rows, k))
        else:
            raise ValueError(f"base values of shape {b.shape} do not match {n_rows} rows x {k} outputs")
    else:
        raise ValueError(f"base values of shape {b.shape} are not understood")
    b = np.array(b, dtype=float)

    if n_classes == 2 and k == 1:
        if units == "log-odds":
            v = np.concatenate([-v, v], axis=2)
            b = np.concatenate([-b, b], axis=1)
        elif units == "probability":
            v = np.concatenate([-v, v], axis=2)
            b = np.concatenate([1.0 - b, b], axis=1)
        else:
            raise ValueError("units ('log-odds' or 'probability') are needed to complete a binary output")
    return np.ascontiguousarray(v), b
