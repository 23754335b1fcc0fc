"""The pages the login module draws itself, for an app with no login page of its own
(an st.login app under ``create_app``): why a login was refused, and "log out?" when a
logout link came from somewhere else. Plain HTML, every value escaped, nothing loaded from
outside; the routes add the no-framing headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}"
    "code{background:rgba(128,128,128,.15);padding:.1rem .3rem;border-radius:.25rem}"
    ".box{border:1px solid #b91c1c;border-radius:.5rem;padding:1rem 1.2rem;background:rgba(185,28,28,.06)}"
    "button,a.button{font:inherit;padding:.45rem 1rem;border-radius:.4rem;border:1px solid #888;"
    "background:none;cursor:pointer;color:inherit;text-decoration:none;margin-right:.5rem}"
)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style>'
        f"</head><body>{body}</body></html>"
    )


def failure_page(record: Mapping[str, object] | None, *, back: str) -> str:
    """A refused login (or logout return), as the failure record the routes saved says."""
    if record is None:
        body = (
            "<h1>Log in</h1><p>This explanation has expired (they are kept for 5 minutes).</p>"
            f'<p><a class="button" href="{escape(back)}">Back to the app</a></p>'
        )
        return _page("Log in", body)
    what = (
        "The return from the provider's logout was not recognised."
        if record.get("kind") == "logout"
        else ("The login was refused.")
    )
    failed, request_id = escape(str(record.get("check"))), escape(str(record.get("request_id")))
    body = (
        f'<h1>Log in</h1><div class="box" role="alert"><p><strong>{escape(what)}</strong></p>'
        f"<p>{escape(str(record.get('description', '')))}</p>"
        f"<p>Check: <code>{failed}</code> · request id <code>{request_id}</code> "
        "(the server log has the same line)</p></div>"
        f'<p><a class="button" href="{escape(back)}">Back to the app</a></p>'
    )
    return _page("Login refused", body)


def logout_confirm_page(*, csrf: str, action: str, home: str = "/") -> str:
    """Asked when ``GET /auth/logout`` did not come from one of the app's own pages: a link
    elsewhere must not log anyone out, but the person may still mean to. ``home``: the app's
    home page (under its sub-path)."""
    body = (
        "<h1>Log out?</h1><p>This logout link did not come from one of this app's pages, so nothing "
        "was done. You are still logged in.</p>"
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<button type="submit">Log out</button><a class="button" href="{escape(home)}">Stay logged in</a>'
        "</form>"
    )
    return _page("Log out?", body)


def store_down_page(*, home: str = "/") -> str:
    """The session store (Redis) does not answer: nothing was done; the operator has a log line."""
    body = (
        '<h1>Log in</h1><div class="box" role="alert"><p><strong>Logging in is unavailable for a '
        "moment.</strong></p><p>The app cannot reach its session store; nothing was changed. Try again "
        f'in a few seconds.</p></div><p><a class="button" href="{escape(home)}">Back to the app</a></p>'
    )
    return _page("Log in unavailable", body)
