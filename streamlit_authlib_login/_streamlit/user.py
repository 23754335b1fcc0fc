"""``st.user`` from this login module's server-side session, on every rerun.

Streamlit fills ``st.user`` once per browser tab, when its websocket connects, from st.login's
signed identity cookie (or ``server.trustedUserHeaders``, also read only at connect): a logout
in another tab, a refresh or an expiry would not show until the tab reconnects. Every read of
``st.user`` goes through ``streamlit.user_info._get_user_info``; this puts our session behind
it, so ``st.user`` is whatever ``current_session()`` is at that moment. That function is
Streamlit's, not public: ``install_st_user`` checks it is there (Streamlit 1.67, pinned) and
stops the start with a clear message if a release renamed it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit.user_info as streamlit_user_info
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from .._core.errors import ConfigError

UserInfo = dict[str, object]


def install_st_user(session_user: Callable[[], UserInfo]) -> None:
    """Make ``st.user`` read ``session_user()`` (the logged-in session's view) in page scripts."""
    original = getattr(streamlit_user_info, "_get_user_info", None)
    if original is None or not callable(original):
        raise ConfigError(
            "This Streamlit has no streamlit.user_info._get_user_info, which st.user reads: the "
            "st.login bridge was written for Streamlit 1.67 (see requirements.txt)."
        )
    original = getattr(original, "streamlit_original", original)

    def from_our_session() -> UserInfo:
        if get_script_run_ctx() is None:  # not in a page script: Streamlit's own answer
            return dict(original())
        return session_user()

    from_our_session.streamlit_original = original  # type: ignore[attr-defined]
    streamlit_user_info._get_user_info = from_our_session  # type: ignore[assignment]
