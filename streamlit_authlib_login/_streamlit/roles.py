"""Roles for pages: a guard for a page or a section, and pages that only some roles see.

A person's roles are ``Session.roles`` (the provider's roles claim and ``[auth.roles]``, read at
login and at each refresh). Two helpers, meant to be used together:

- ``role_page(page, *roles)`` in the router, around an ``st.Page``: for someone with one of
  the roles, the page itself; for anyone else a hidden stand-in at the same URL, so the page is
  not in the navigation and its URL says "not allowed" instead of running the page (or
  Streamlit's "page not found").
- ``require_role(*roles)`` at the top of the page (or above a section): the page's own guard,
  which holds wherever the page is listed or linked from.

A role matches exactly (case-sensitive); any one of the roles named is enough.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NoReturn

import streamlit as st

from .._core.sessions import Session
from . import current_session, require_login

__all__ = ["require_role", "role_page"]

# CommonMark §2.4: any ASCII punctuation may be backslash-escaped; `:` and `$` too, so a role's
# name never turns into Streamlit's :color[...], :material/...: or math.
_MARKUP = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def require_role(*roles: str, session: Session | None = None) -> Session:
    """Return the session if it holds one of ``roles``. Logged out: the login buttons, as
    ``require_login``; logged in without any of them: a "not allowed" message naming the roles,
    and the page stops there. ``session``: the current one if the page has it already (saves a
    store read); read here otherwise."""
    wanted = _wanted(roles, "require_role")
    if session is None:
        session = require_login()
    if not _holds(session, wanted):
        _refuse(wanted)
    return session


def role_page(page: st.Page, *roles: str, session: Session | None = None) -> st.Page:
    """``page`` for a person who holds one of ``roles``; for anyone else (logged out too) a hidden
    page at the same URL whose body says they are not allowed (logged out: the login buttons).
    Put what it returns in ``st.navigation``, and link to that (``st.page_link``,
    ``st.switch_page``). ``session``: the router's ``current_session()`` if it has read it (saves
    a store read); read here otherwise."""
    wanted = _wanted(roles, "role_page")
    if page.url_path == "":
        raise ValueError(
            "role_page cannot hide the default page: everyone lands there. Guard its content "
            "with require_role instead, or make another page the default."
        )
    if session is None:
        session = current_session()
    if session is not None and _holds(session, wanted):
        return page

    def not_allowed() -> None:
        if session is None:
            require_login()  # stops the page with the login buttons
        _refuse(wanted)

    return st.Page(not_allowed, title=page.title, icon=page.icon, url_path=page.url_path, visibility="hidden")


def _holds(session: Session, roles: Sequence[str]) -> bool:
    """Whether ``session`` holds any one of ``roles``."""
    return not set(roles).isdisjoint(session.roles)


def _wanted(roles: tuple[str, ...], helper: str) -> tuple[str, ...]:
    if not roles:
        raise ValueError(f'{helper} needs at least one role, like {helper}("admin").')
    if not all(isinstance(role, str) and role for role in roles):
        raise TypeError(f'{helper} takes each role as a string of its own, like {helper}("admin", "editor").')
    return roles


def _literal(text: str) -> str:
    return _MARKUP.sub(r"\\\1", text)


def _refuse(roles: tuple[str, ...]) -> NoReturn:
    # Only the app's own role names are shown: never the person's roles, nor anything from a claim.
    names = [f"“{_literal(role)}”" for role in roles]
    if len(names) == 1:
        needs = f"the role {names[0]}, which your account does not have"
    else:
        needs = f"the roles {', '.join(names[:-1])} or {names[-1]}, and your account has none of them"
    st.error(f"**Not allowed.** You are logged in, but this is only for {needs}.", icon=":material/block:")
    st.stop()
