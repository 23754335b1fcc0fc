"""streamlit_authlib_login/_streamlit/roles.py in Streamlit's own script runner (``AppTest``):
``role_page`` in a router with ``st.navigation``, and ``require_role`` guarding a page or a section.

AppTest sends no cookies, so a logged-in person is a ``Session`` handed to the helpers
(``session=``); logged out is no session, read through the installed ``Authenticator`` as a
page would. The browser suite (tests/browser/test_dashboard.py) runs both through real cookies.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

ADMIN_CONTENT = "the admin page's content"


def router(roles: tuple[str, ...] | None, target: str) -> None:
    """A home page and an Admin page that only ``admin`` sees, opened at ``target``; ``roles``
    None: logged out."""
    import streamlit as st

    from streamlit_authlib_login import Session, require_role, role_page
    from streamlit_authlib_login._core.config import AuthConfig, ProviderSettings
    from streamlit_authlib_login._core.flow import Authenticator
    from streamlit_authlib_login._core.sessions import SessionManager, Tokens
    from streamlit_authlib_login._core.store import MemoryStore
    from streamlit_authlib_login._streamlit import install

    corp = ProviderSettings(
        name="corp", client_id="app", client_secret="s", server_metadata_url="https://corp.example/x"
    )
    config = AuthConfig(cookie_secret="x" * 40, providers=(corp,))
    install(Authenticator(config, SessionManager(MemoryStore(), config.cookie_secret, config.session)))
    session = (
        None
        if roles is None
        else Session(
            id="s1",
            provider="corp",
            profile={},
            claims={"roles": ["admin"]},  # a claim is not a role: only Session.roles counts
            tokens=Tokens(access_token="at"),
            created_at=0,
            last_seen=0,
            roles=roles,
        )
    )

    def home() -> None:
        st.write("home")

    def admin() -> None:
        require_role("admin", session=session)
        st.write("the admin page's content")

    pages = [
        st.Page(home, default=True),
        role_page(st.Page(admin, title="Admin", icon="🛡️", url_path="admin"), "admin", session=session),
    ]
    st.caption(" ".join(f"{p.url_path or '/'}:{p.visibility}:{p.title}" for p in pages))
    page = st.navigation(pages)
    if page.url_path != target:
        st.switch_page(next(p for p in pages if p.url_path == target))
    page.run()


def open_router(roles: tuple[str, ...] | None, target: str = "admin") -> AppTest:
    app = AppTest.from_function(router, args=(roles, target), default_timeout=10)
    app.run()
    assert not app.exception, app.exception
    return app


def shown(app: AppTest) -> str:
    return " ".join(
        [*(e.value for e in app.error), *(i.value for i in app.info), *(m.value for m in app.markdown)]
    )


def test_a_person_with_the_role_gets_the_page_listed_and_its_content() -> None:
    """For an admin the Admin page is itself: listed in the navigation, and its body runs."""
    app = open_router(("viewer", "admin"))
    assert app.caption[0].value == "/:visible:home admin:visible:Admin"
    assert ADMIN_CONTENT in shown(app) and not app.error


def test_a_person_without_the_role_gets_a_hidden_page_at_its_url_that_says_not_allowed() -> None:
    """For a viewer the Admin page is not listed, and its URL says "not allowed", naming the role,
    instead of running the page (or answering "page not found")."""
    app = open_router(("viewer",))
    assert app.caption[0].value == "/:visible:home admin:hidden:Admin"
    assert [e.value for e in app.error] == [
        "**Not allowed.** You are logged in, but this is only for the role “admin”, "
        "which your account does not have."
    ]
    assert ADMIN_CONTENT not in shown(app)


def test_no_roles_at_all_is_not_allowed_either() -> None:
    """A session with no roles (a provider that sends none) sees no Admin page."""
    app = open_router(())
    assert "admin:hidden" in app.caption[0].value
    assert "Not allowed" in shown(app) and ADMIN_CONTENT not in shown(app)


def test_logged_out_the_url_asks_to_log_in_and_shows_nothing_else() -> None:
    """Logged out, the Admin URL shows the login buttons, as ``require_login`` does."""
    app = open_router(None)
    assert "admin:hidden" in app.caption[0].value
    assert [i.value for i in app.info] == ["Please log in to see this page."]
    assert not app.error and ADMIN_CONTENT not in shown(app)


def section(roles: tuple[str, ...], wanted: tuple[str, ...]) -> None:
    """A page whose second half is for ``wanted`` only."""
    import streamlit as st

    from streamlit_authlib_login import Session, require_role
    from streamlit_authlib_login._core.sessions import Tokens

    session = Session(
        id="s1",
        provider="corp",
        profile={},
        claims={},
        tokens=Tokens(access_token="at"),
        created_at=0,
        last_seen=0,
        roles=roles,
    )
    st.write("for everyone")
    require_role(*wanted, session=session)
    st.write("for the few")


@pytest.mark.parametrize(
    ("roles", "wanted", "refusal"),
    [
        (("editor",), ("admin", "editor"), None),
        (("Admin",), ("admin",), "this is only for the role “admin”, which"),  # exact: no case folding
        (
            ("viewer",),
            ("admin", "editor", "owner"),
            "this is only for the roles “admin”, “editor” or “owner”, and your account has none of them",
        ),
        # A role's name is the app's, and shows as the characters it is: no link, no colour.
        (("viewer",), ("[a](https://x.example) :red[b]",), r"“\[a\]\(https\:\/\/x\.example\) \:red\[b\]”"),
    ],
)
def test_a_section_guard_stops_the_page_below_it_for_anyone_without_one_of_the_roles(
    roles: tuple[str, ...], wanted: tuple[str, ...], refusal: str | None
) -> None:
    """Content above ``require_role`` shows to everyone; below it, only to a holder of any one role."""
    app = AppTest.from_function(section, args=(roles, wanted), default_timeout=10)
    app.run()
    assert not app.exception
    texts = [m.value for m in app.markdown]
    assert texts[0] == "for everyone"
    if refusal is None:
        assert texts[-1] == "for the few" and not app.error
    else:
        assert "for the few" not in texts
        assert len(app.error) == 1 and refusal in app.error[0].value


def misuse(case: str) -> None:
    """A helper called the wrong way."""
    import streamlit as st

    from streamlit_authlib_login import require_role, role_page

    if case == "no role":
        require_role()
    elif case == "a list":
        require_role(["admin", "editor"])  # type: ignore[arg-type]
    else:
        role_page(st.Page(lambda: None, title="Home", default=True), "admin")


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("no role", 'require_role needs at least one role, like require_role("admin").'),
        ("a list", "require_role takes each role as a string of its own, like require_role("),
        ("default page", "role_page cannot hide the default page: everyone lands there."),
    ],
)
def test_a_helper_called_the_wrong_way_says_how_to_call_it(case: str, says: str) -> None:
    """No role, a list of roles, or hiding the landing page: an error that says what to write."""
    app = AppTest.from_function(misuse, args=(case,), default_timeout=10)
    app.run()
    assert len(app.exception) == 1 and says in app.exception[0].value
