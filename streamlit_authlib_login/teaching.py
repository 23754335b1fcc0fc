"""The teaching extension: what a dashboard that *explains* a login reads beyond a session.

This repository's demo dashboard (``views/``, ``dashboard/``) imports only the package's
``__all__`` and this module, as any other app could. Names here follow that dashboard's
needs and may change with it; an app that only logs people in needs none of them.

The login, as it happened (the protocol core: no Streamlit)

- ``Trace``, ``Step``: a session's record of its login (``session.trace``), step by step:
  each HTTP exchange with the provider, each redirect, each check.
- ``mask``: a token as the trace shows it, ``prefix…suffix``: enough to recognise, not to use.
- ``ValidationReport``: every OpenID Connect Core §3.1.3.7 check of an ID token, passed or not.
- ``check_id_token``: run those checks on any ID token with given keys and expectations
  (the JWT inspector); ``verifying_key``: the key of a key set that verifies a token's
  signature; ``allowed_algorithms``: those of a provider's advertised algorithms that are
  verified (RS256 when it advertises none); ``SAFE_ALGORITHMS``: all that ever are.
- ``is_loopback_url``: whether a URL's host is ``localhost`` or a loopback address.
- ``MODULE_PARAMETERS``: authorization parameters the module always sets itself (``state``,
  ``nonce``, PKCE…), each with why, which the Playground therefore refuses.
- ``PROMPTS``, ``RESPONSE_MODES``: the ``prompt`` and ``response_mode`` values the Playground
  offers.

In a page (Streamlit; imported on first use, like the package's own page helpers)

- Providers: ``configured_providers()`` (all), ``configured_provider(name)`` (one, or None),
  ``provider_names()`` (name → label), ``provider_label(name)``, ``provider_metadata(p)`` (its
  discovery document, checked, or its preset's endpoints), ``provider_entry_url(p)`` (its
  discovery URL, or its authorization endpoint), ``registration(name)`` (the URIs to register
  there for this origin), ``providers_to_set_up()`` (real ones with no login yet),
  ``refusal_counts()`` (logins the access rules refused since this process started, per
  provider and rule), ``origin()`` (the app's origin as this browser sees it).
- Logging in and out: ``login_link(provider, next_path, label)`` (one provider's button),
  ``unfinished_logout()`` (a logout that went to its provider and never came back).
- Tokens at the provider: ``introspect(session, which)`` (RFC 7662), ``revoke(session, which)``
  (RFC 7009), ``token_fingerprint(value)`` (names a token without showing it, as the
  development provider's log does).
- The Playground (a login with hand-picked parameters): ``playground_request(form)``,
  ``playground_preview(request)`` (the exact URL Send would go to),
  ``playground_send_button(session, form, next_path, label)``, ``playground_result()`` (the
  outcome this page came back with).
- Development mode: ``dev_provider_enabled()`` (no real provider configured),
  ``dev_provider_here()`` (it runs and this browser is on loopback), ``dev_provider_mount()``
  (``/idp/``), ``dev_provider_log(state=, code_fingerprint=)`` (the provider's own log of one
  login), ``dev_faults()`` (its fault switches: name → what it breaks), ``dev_faults_on()``,
  ``set_dev_faults(names)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._core.config import is_loopback_url
from ._core.config_keys import MODULE_PARAMETERS
from ._core.playground import PROMPTS, RESPONSE_MODES
from ._core.trace import Step, Trace, mask
from ._core.validation import (
    SAFE_ALGORITHMS,
    ValidationReport,
    allowed_algorithms,
    check_id_token,
    verifying_key,
)

if TYPE_CHECKING:
    from ._streamlit import (
        configured_provider,
        configured_providers,
        dev_faults,
        dev_faults_on,
        dev_provider_enabled,
        dev_provider_here,
        dev_provider_log,
        dev_provider_mount,
        introspect,
        login_link,
        origin,
        playground_preview,
        playground_request,
        playground_result,
        playground_send_button,
        provider_entry_url,
        provider_label,
        provider_metadata,
        provider_names,
        providers_to_set_up,
        refusal_counts,
        registration,
        revoke,
        set_dev_faults,
        token_fingerprint,
        unfinished_logout,
    )

__all__ = [
    "MODULE_PARAMETERS",
    "PROMPTS",
    "RESPONSE_MODES",
    "SAFE_ALGORITHMS",
    "Step",
    "Trace",
    "ValidationReport",
    "allowed_algorithms",
    "check_id_token",
    "configured_provider",
    "configured_providers",
    "dev_faults",
    "dev_faults_on",
    "dev_provider_enabled",
    "dev_provider_here",
    "dev_provider_log",
    "dev_provider_mount",
    "introspect",
    "is_loopback_url",
    "login_link",
    "mask",
    "origin",
    "playground_preview",
    "playground_request",
    "playground_result",
    "playground_send_button",
    "provider_entry_url",
    "provider_label",
    "provider_metadata",
    "provider_names",
    "providers_to_set_up",
    "refusal_counts",
    "registration",
    "revoke",
    "set_dev_faults",
    "token_fingerprint",
    "unfinished_logout",
    "verifying_key",
]


def __getattr__(name: str) -> object:
    # The page helpers import Streamlit: only when a page asks (``dashboard/``'s pure modules,
    # and their tests, use the core names above without it).
    if name in __all__:  # the core names above are found before this is asked
        from . import _streamlit

        return getattr(_streamlit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
