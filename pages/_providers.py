"""The LLM provider widgets' cached work, shared by the Decide page and the Prompt Arena.

One place for: which providers are available for the settings typed (probed at most once a minute,
or again when the provider registry changes), one provider object per settings (the embedded model is
loaded once and reused by both pages), and the on-disk response cache both pages read and write.
"""

from __future__ import annotations

import streamlit as st

from core.arena.cache import ResponseCache
from core.arena.providers import available_providers, make_provider


@st.cache_data(ttl=60, show_spinner="Checking which LLM providers are available...")
def provider_statuses(region: str, base_url: str, model_path: str, registered: tuple[str, ...] = ()):
    """``available_providers`` for these settings; ``registered`` (the registry's names) is part of the key."""
    return available_providers(region=region or None, base_url=base_url or None, model_path=model_path or None)


@st.cache_resource(show_spinner="Preparing the model...", max_entries=4)
def get_provider(name: str, model: str, region: str, base_url: str, model_path: str):
    """One provider object per settings (``core.arena.providers.make_provider``)."""
    return make_provider(name, model or None, region=region or None, base_url=base_url or None,
                         model_path=model_path or None)


@st.cache_resource(show_spinner=False)
def response_cache() -> ResponseCache:
    """Disk cache of LLM answers, shared by every page and session (``core.arena.cache.default_cache_dir``)."""
    return ResponseCache("default")
