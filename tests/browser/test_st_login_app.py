"""An app written only for st.login, put behind the login module the way the README says.

The app is built in a temporary folder from the README's section "Put it in front of your own
app" alone: its copy command, its entry file and its st.login script, with an st.login-style
``.streamlit/secrets.toml`` (``redirect_uri`` on ``/oauth2callback``, ``cookie_secret``, no
provider: the development provider and its twins log in). Then a person uses it in Chromium.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from benchmarks.streamlit_process import free_port, streamlit_run
from devidp import PERSONAS

ROOT = Path(__file__).resolve().parents[2]
ALICE = next(p for p in PERSONAS if p.username == "alice")
COOKIE_SECRET = "an-st-login-apps-own-cookie-secret-0123456789"


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def code_blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def build_from_readme(where: Path, *, script: int = 0) -> dict[str, str]:
    """The outside app, from the README's words: copied folders, the entry, and the README's
    ``script``-th ``your_app.py`` (0: the st.login one, 1: the one on the helpers)."""
    section = readme_section("Put it in front of your own app")
    [copy, *_] = [b for b in code_blocks(section, "bash") if b.startswith("cp ")]
    words = shlex.split(copy.split("&&")[0])
    assert words[:2] == ["cp", "-r"] and words[-1] == "/path/to/your/app/"
    for name in words[2:-1]:  # what the README says to copy, and nothing more
        (where / name).symlink_to(ROOT / name)
    files: dict[str, str] = {}
    scripts = 0
    for block in code_blocks(section, "python"):
        name = block.splitlines()[0].removeprefix("# ").split(":")[0].strip()
        if name == "your_app.py":
            scripts += 1
            if scripts - 1 != script:
                continue
        files[name] = block
    for name, block in files.items():
        (where / name).write_text(block)
    return files


@pytest.fixture(scope="module")
def outside_app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[str]:
    """``streamlit run entry.py --server.address localhost`` in that folder, as the README says."""
    where = tmp_path_factory.mktemp("outside-app")
    files = build_from_readme(where)
    assert "st.login()" in files["your_app.py"] and "auth" not in files["your_app.py"]
    port = free_port()
    (where / ".streamlit").mkdir()
    (where / ".streamlit" / "secrets.toml").write_text(
        f'[auth]\nredirect_uri = "http://localhost:{port}/oauth2callback"\n'
        f'cookie_secret = "{COOKIE_SECRET}"\n'
    )
    with streamlit_run(
        "entry.py", cwd=where, log=where / "streamlit.log", port=port, args=("--server.address", "localhost")
    ) as url:
        context = browser.new_context()
        context.new_page().goto(url)  # the first page pays for Streamlit's imports
        context.close()
        yield url
    shutil.rmtree(where / ".local", ignore_errors=True)


@pytest.fixture(scope="module")
def helpers_app(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[str]:
    """The README's other way: a new app on the package's page helpers, no secrets at all."""
    where = tmp_path_factory.mktemp("helpers-app")
    files = build_from_readme(where, script=1)
    assert "require_login" in files["your_app.py"]
    with streamlit_run(
        "entry.py", cwd=where, log=where / "streamlit.log", args=("--server.address", "localhost")
    ) as url:
        yield url


def log_in(page: Page, button: str) -> None:
    """From the app's own button, through the provider's pages, back to the app."""
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_role("button", name=re.compile("^" + re.escape(ALICE.name))).click()
    page.get_by_role("button", name="Allow").click()


def session_cookie(context: BrowserContext) -> dict[str, object]:
    [cookie] = [c for c in context.cookies() if c["name"] == "auth_session"]
    return dict(cookie)


def test_st_login_app_logs_in_shows_st_user_and_logs_out(
    page: Page, outside_app: str, browser: Browser
) -> None:
    """st.login() starts our login, st.user shows the session after a reload, st.logout() ends
    it server-side: the old cookie, replayed in another browser, is not logged in."""
    page.goto(outside_app)
    log_in(page, "Log in")
    expect(page.get_by_text(f"Hello, {ALICE.name}!")).to_be_visible()
    assert page.url.startswith(outside_app)
    cookie = session_cookie(page.context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.reload()
    expect(page.get_by_text(f"Hello, {ALICE.name}!")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible()
    thief = browser.new_context()
    try:
        thief.add_cookies([{k: v for k, v in cookie.items() if k in ("name", "value", "domain", "path")}])  # type: ignore[list-item]
        stolen = thief.new_page()
        stolen.goto(outside_app)
        expect(stolen.get_by_role("button", name="Log in", exact=True)).to_be_visible()
    finally:
        thief.close()


def test_st_login_github_logs_in_with_an_oauth2_only_provider(page: Page, outside_app: str) -> None:
    """st.login("github"), which st.login itself cannot do: GitHub's twin, its profile in st.user."""
    page.goto(outside_app)
    page.get_by_role("button", name="Log in with GitHub").click()
    expect(page).to_have_url(re.compile(r"/idp/flavors/github/"))
    page.get_by_role("button", name=re.compile("^" + re.escape(ALICE.name))).click()
    page.get_by_role("button", name=re.compile("Authorize|Allow")).click()
    expect(page.get_by_text(f"Hello, {ALICE.name}!")).to_be_visible()


def test_a_logout_in_one_tab_logs_the_other_tab_out_at_its_next_rerun(page: Page, outside_app: str) -> None:
    """st.user is read from the server-side session on every rerun, not once per tab."""
    page.goto(outside_app)
    log_in(page, "Log in")
    expect(page.get_by_text(f"Hello, {ALICE.name}!")).to_be_visible()
    other = page.context.new_page()
    other.goto(outside_app)
    expect(other.get_by_text(f"Hello, {ALICE.name}!")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible()
    other.keyboard.press("r")  # Streamlit's rerun shortcut: same tab, same websocket
    expect(other.get_by_role("button", name="Log in", exact=True)).to_be_visible()


def test_a_new_app_on_the_helpers_logs_in_and_out(page: Page, helpers_app: str) -> None:
    """require_login() shows the login buttons and stops; after the login, the page; the
    logout button ends the session and the buttons are back."""
    page.goto(helpers_app)
    expect(page.get_by_text("Please log in to see this page.")).to_be_visible()
    page.get_by_role("link", name=re.compile("Log in with Development provider")).click()
    page.get_by_role("button", name=re.compile("^" + re.escape(ALICE.name))).click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text(f"Hello, {ALICE.name}!")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("Please log in to see this page.")).to_be_visible()
