"""Crossroads core: the UI-free library behind the Streamlit pages and the CLI.

Sub-modules:

- :mod:`core.io` – reading user tables (CSV/TSV/Excel/Parquet/JSON Lines) with
  encoding and delimiter detection.
- :mod:`core.tabular` – column typing, preprocessing pipelines, model
  comparison with cross-validation, SHAP explanations (Data & Models page).
- :mod:`core.sentiment` – Amazon Comprehend and offline sentiment with one
  result schema (Sentiment page).
- :mod:`core.arena` – intent classifier, prompt templates and LLM providers
  (Prompt Arena page).
- :mod:`core.export` – formula-safe CSV/JSON exports, outputs written atomically.
- :mod:`core.settings` – every ``CROSSROADS_*`` setting and limit, validated, in one place.
- :mod:`core.redact` – URLs without ``user:password@`` wherever one is quoted.

Run ``python -m core --help`` for the command line. This package never imports
streamlit.
"""

__version__ = "0.1.0"
