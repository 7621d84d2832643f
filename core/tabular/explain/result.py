"""The result of an explanation: :class:`ShapResult`, its units and the captions that describe it.

Values are always ``(n_explained, n_features, n_outputs)`` with base values
``(n_explained, n_outputs)``, in the units found by the additivity check
(:data:`UNITS`); :meth:`ShapResult.to_explanation` gives one output as a
``shap.Explanation`` for SHAP's plots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import ConfigError, DataError

UNITS = ("log-odds", "probability", "target units")


#: How each explainer computes its values, said in captions.
EXPLAINER_NOTES = {
    "TreeExplainer": "exact tree SHAP",
    "LinearExplainer": "exact for a linear model",
    "PermutationExplainer": "estimated from sampled permutations",
}


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------

@dataclass
class ShapResult:
    """SHAP values of a sample of rows, in one normalised shape.

    Attributes:
        values: float ndarray ``(n_explained, n_features, n_outputs)``. ``n_outputs`` is the
            number of classes for classification (2 for binary: class 0's values are the
            complement of class 1's) and 1 for regression.
        base_values: float ndarray ``(n_explained, n_outputs)``; for every row and output,
            ``base_values + values.sum(axis=1)`` equals the model output in ``output_units``.
        data: float ndarray ``(n_explained, n_features)``: the transformed feature values
            (for grouped features of several columns: the source value when numeric, else NaN).
        feature_names: ``n_features`` names (``get_feature_names_out``, or source columns when grouped;
            the infrequent-categories column ``X_infrequent_sklearn`` reads ``"X = (other)"``,
            see :func:`display_feature_name`).
        output_units: ``"log-odds"``, ``"probability"`` or ``"target units"``.
        explainer_name: ``"LinearExplainer"``, ``"TreeExplainer"`` or ``"PermutationExplainer"``.
        n_explained: rows explained. n_total: rows in the table given to :func:`explain`.
        n_background: background rows used by the explainer (0 for path-dependent TreeExplainer).
        sampled: ``True`` when ``n_explained < n_total``.
        classes: class labels (``model.classes_``) for classification, ``None`` for regression.
        row_index: ``n_explained`` labels of the explained rows in the original ``X.index``.
        seconds: wall time of :func:`explain` (transform + explain + checks), in seconds.
        display_data: object ndarray ``(n_explained, n_features)`` of the values shown in
            waterfall labels: the user's original value for grouped columns and for numeric
            columns that became one feature (so a scaled ``tenure`` reads ``8``, not ``-0.99``),
            else the transformed value; ``"missing"`` where the original cell was empty.
        budget_limited: ``True`` when fewer rows than ``max_explain_rows`` were explained
            because of ``time_budget_s``.
        time_budget_s: the time budget used, in seconds.
        seconds_per_row: measured explaining cost per row, in seconds.
        additivity_error: max |base + sum(values) - model output| over explained rows and outputs.
        grouped: ``True`` when features were grouped into source columns.
        notes: plain-language remarks (fallbacks, checks).
        complete: ``False`` for a first view that :class:`ProgressiveExplainer` is still refining
            (more rows will be explained).
        max_rows: the row cap (most rows that will be explained; 0 = unknown).
    """

    values: np.ndarray
    base_values: np.ndarray
    data: np.ndarray
    feature_names: list[str]
    output_units: str
    explainer_name: str
    n_explained: int
    n_total: int
    n_background: int
    sampled: bool
    classes: list | None
    row_index: list
    seconds: float
    display_data: np.ndarray | None = None
    budget_limited: bool = False
    time_budget_s: float = 20.0
    seconds_per_row: float = float("nan")
    additivity_error: float = float("nan")
    grouped: bool = False
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    max_rows: int = 0

    # ---- helpers ------------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        """Number of outputs (classes, or 1 for regression)."""
        return int(self.values.shape[2])

    def default_class_index(self) -> int:
        """Output shown when none is chosen: class 1 for binary, else 0 (first class / regression)."""
        return 1 if self.classes is not None and len(self.classes) == 2 else 0

    def _check_class_index(self, class_index: int | None) -> int:
        c = self.default_class_index() if class_index is None else int(class_index)
        if not 0 <= c < self.n_outputs:
            raise ConfigError(f"class_index {class_index} is out of range: this explanation has "
                              f"{self.n_outputs} output(s); use 0..{self.n_outputs - 1}.")
        return c

    def output_label(self, class_index: int | None = None) -> str:
        """Plain words for one output: ``"log-odds of class '1'"``, ``"target units"``..."""
        if self.classes is None:
            return self.output_units
        c = self._check_class_index(class_index)
        return f"{self.output_units} of class '{self.classes[c]}'"

    def position_of(self, label: Any) -> int:
        """Position (0..n_explained-1) of the explained row whose original index label is ``label``.

        Raises:
            DataError: the row was not among the explained (sampled) rows.
        """
        for i, v in enumerate(self.row_index):
            if v == label:
                return i
        raise DataError(f"row {label!r} was not among the {self.n_explained} explained rows; "
                        "pick one of the explained rows or raise max_explain_rows.")

    # ---- API ----------------------------------------------------------------------------
    def to_explanation(self, class_index: int | None = None):
        """One output as a ``shap.Explanation`` with values ``(n_explained, n_features)``.

        Args:
            class_index: output to take; default class 1 for binary, the single output for
                regression, class 0 for multiclass.

        Returns:
            ``shap.Explanation`` (values, base_values ``(n_explained,)``, data, feature_names,
            display_data when grouped).

        Raises:
            ConfigError: ``class_index`` out of range.
        """
        import shap

        c = self._check_class_index(class_index)
        return shap.Explanation(
            values=self.values[:, :, c].copy(),
            base_values=self.base_values[:, c].copy(),
            data=self.data.copy(),
            display_data=None if self.display_data is None else self.display_data.copy(),
            feature_names=list(self.feature_names),
        )

    def mean_abs(self, class_index: int | None = None) -> np.ndarray:
        """Mean |SHAP value| per feature, shape ``(n_features,)``, in ``output_units``.

        With ``class_index=None`` a multiclass result is averaged over classes (binary and
        regression use their default output, which for binary equals the class average).
        """
        a = np.abs(self.values)
        if class_index is None and self.classes is not None and len(self.classes) > 2:
            return a.mean(axis=(0, 2))
        return a[:, :, self._check_class_index(class_index)].mean(axis=0)

    def top_features(self, k: int = 10, class_index: int | None = None) -> list[dict]:
        """The ``k`` features with the largest mean |SHAP value|, largest first.

        Returns:
            ``[{"feature": str, "mean_abs_shap": float}, ...]`` (JSON-ready; units are
            ``output_units``; multiclass with ``class_index=None``: mean over classes).
        """
        m = self.mean_abs(class_index)
        order = np.argsort(-m, kind="stable")[: max(0, int(k))]
        return [{"feature": self.feature_names[i], "mean_abs_shap": float(m[i])} for i in order]

    def sample_text(self) -> str:
        """``"300 of 7,043 rows explained, 100 background rows"`` (+ why rows were sampled).

        A first view that is still being refined says so: ``"25 of 1,409 rows explained so far
        (first view; refining up to 200 rows)"``.
        """
        rows = f"{self.n_explained:,} of {self.n_total:,} rows explained"
        if not self.complete:
            rows += f" so far (first view; refining up to {self.max_rows:,} rows)"
        elif self.budget_limited:
            rows += f" (sampled to fit the {self.time_budget_s:g} s time budget)"
        elif self.sampled:
            rows += " (random sample)"
        if self.n_background:
            bg = f"{self.n_background:,} background rows"
        elif not self.explainer_name.endswith("Explainer"):
            bg = "no background needed"
        else:
            bg = "no background sample (path-dependent, uses the trees' training cover)"
        return f"{rows}, {bg}"

    def caption(self, class_index: int | None = None) -> str:
        """One plain sentence stating units, sample size and explainer.

        Example: ``"SHAP values in log-odds of class '1'; 300 of 7,043 rows explained,
        100 background rows, LinearExplainer."``; multiclass with ``class_index=None`` says
        "per class".
        """
        if self.classes is not None and len(self.classes) > 2 and class_index is None:
            units = f"{self.output_units} per class ({len(self.classes)} classes)"
        else:
            units = self.output_label(class_index)
        grouped = ", one-hot/text/date columns grouped by source column" if self.grouped else ""
        how = EXPLAINER_NOTES.get(self.explainer_name)
        name = f"{self.explainer_name} ({how})" if how else self.explainer_name
        return f"SHAP values in {units}; {self.sample_text()}, {name}{grouped}."
