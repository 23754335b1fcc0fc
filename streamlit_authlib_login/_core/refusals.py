"""How a refused login is explained when nothing about it was stored.

A failure record (``Notices.save_failure``) is kept only for a real callback: one whose
``state`` matched a pending login of a configured provider, which the store already held, so a
record replaces what it costs. Anything else (an unknown state or provider, a forged st.login
link, a return from a logout nobody started) can be sent by anyone, as often as they like: it
leaves one log line and no record, and the page it lands on says the fixed sentence below for
the check that failed, with the request id of that log line. Nothing in the link becomes text
on the page but the code, looked up here, and the id, checked to be one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# By ``LoginError.error`` (errors.py): the refusals a link can cause without a pending login.
MESSAGES: Mapping[str, str] = {
    "state_mismatch": "This answer from the provider belongs to no login started in this browser: "
    "its `state` is unknown, already used or expired (a login must finish within 10 minutes), or "
    "the login began in a different browser. Start the login again, here.",
    "provider_token_invalid": "The st.login link is forged or has expired (it lasts 2 minutes). "
    "Start the login again.",
    "unknown_provider": "No provider of that name is configured in this app.",
    "config_error": "This app's login configuration does not allow that login from here; the "
    "server log line with this request id says what to change.",
    "provider_error": "The provider refused the request or cancelled the login.",
    "provider_unreachable": "The provider did not answer in time, or not as an OAuth provider "
    "does. Try again in a moment.",
    "discovery_untrusted": "The provider's discovery document failed this app's checks.",
    "not_allowed": "This app admits only some people, and its rules do not admit this account; the "
    "server log line with this request id names the rule.",
    "login_failed": "The login failed unexpectedly; the server log has the details.",
}
LOGOUT_MESSAGE = (
    "The browser came back from a provider without the `state` of a logout this app started, so "
    "this return proves nothing (OpenID Connect RP-Initiated Logout 1.0 §3). Any session of this "
    "app ended when you pressed Log out."
)
GENERIC = "The login was refused; the server log line with this request id says why."
_REQUEST_ID = re.compile(r"[0-9a-f]{12}")


def fixed_record(query: Mapping[str, str]) -> dict[str, object] | None:
    """The record a page shows for ``?refused=<code>&request_id=<id>[&kind=logout]``, built from
    fixed text only; None when the query names no refusal."""
    code = query.get("refused")
    if not code:
        return None
    kind = "logout" if query.get("kind") == "logout" else "login"
    request_id = query.get("request_id", "")
    known = code if code in MESSAGES else "-"
    description = LOGOUT_MESSAGE if kind == "logout" else MESSAGES.get(code, GENERIC)
    return {
        "kind": kind,
        "check": known,
        "error": known,
        "description": description,
        "request_id": request_id if _REQUEST_ID.fullmatch(request_id) else "",
    }
