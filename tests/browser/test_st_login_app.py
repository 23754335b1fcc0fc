"""An app written only for st.login, put behind the login package the way the README says:
from the built wheel, installed into a fresh venv outside the repository.

The wheel is built from this checkout and installed into a venv in a temporary folder; only
the wheel provides ``streamlit_authlib_login`` and ``devidp`` there. Its dependencies are the
repository's own pinned ones, seen through a path entry on the repository venv's
site-packages, so the test needs no download; ``pip check`` in the new venv proves the
wheel's ranges accept them. The apps are built in empty folders from the README's section
"Put it in front of your own app" alone (its entry file and its ``your_app.py`` scripts) and
run by that venv's Streamlit; a person uses them in Chromium: with no provider (the
development provider and its twins log in), and with a real provider configured (that venv's
``python -m devidp`` on a port of its own, a client registered at it, as at a real console).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path

import httpx2
import pytest
from packaging.requirements import Requirement
from playwright.sync_api import Browser, BrowserContext, Page, expect

from benchmarks.streamlit_process import free_port, streamlit_run
from devidp import PERSONAS

ROOT = Path(__file__).resolve().parents[2]
ALICE = next(p for p in PERSONAS if p.username == "alice")
COOKIE_SECRET = "an-st-login-apps-own-cookie-secret-0123456789"
CLIENT_ID, CLIENT_SECRET = "corp-app", "corp-secret-for-the-wheel-test"


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def code_blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def build_from_readme(where: Path, *, script: int = 0) -> dict[str, str]:
    """The outside app, from the README's words: the entry and the README's ``script``-th
    ``your_app.py`` (0: the st.login one, 1: the one on the helpers). Nothing is copied."""
    files: dict[str, str] = {}
    scripts = 0
    for block in code_blocks(readme_section("Put it in front of your own app"), "python"):
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
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from this checkout as ``pip wheel`` builds it for a user."""
    out = tmp_path_factory.mktemp("wheel")
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--quiet",
        "--wheel-dir",
        str(out),
        str(ROOT),
    ]
    subprocess.run(command, check=True, capture_output=True)
    [built] = out.glob("streamlit_authlib_login-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> str:
    """A fresh venv outside the repository with the wheel installed; its interpreter."""
    venv = tmp_path_factory.mktemp("venv")
    assert not venv.is_relative_to(ROOT)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", python]
    subprocess.run([*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel)], check=True)
    # The dependencies: those this interpreter sees (the repository venv's, or in .ci/run's
    # lowest-Streamlit step its layers), appended after the venv's own site-packages. Their .pth
    # files (an editable install of this checkout) are not read from a path entry.
    layers = [entry for entry in sys.path if entry.endswith("site-packages")]
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site_packages) / "zz_pinned_dependencies.pth").write_text("".join(f"{e}\n" for e in layers))
    check = subprocess.run([*pip, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    return python


def clean_env() -> dict[str, str]:
    """This process's environment without a PYTHONPATH that could lead back to the checkout."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_the_wheel_holds_the_package_and_the_provider_and_no_pin(wheel: Path) -> None:
    """Two top-level packages (no ``auth``, nothing of the demo), the provider's templates and
    ``py.typed``, and ranges, never ``==``, in its requirements."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
        fields = Parser().parsestr(archive.read(metadata).decode())
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"streamlit_authlib_login", "devidp"}
    assert "streamlit_authlib_login/py.typed" in names and "devidp/templates/login.html" in names
    requires = fields.get_all("Requires-Dist")
    assert requires and not [r for r in requires if "==" in r.split(";")[0]]  # ; extra == 'redis'
    parsed = {r.name: r for r in map(Requirement, requires)}
    assert parsed["streamlit"].specifier.contains("1.59.0")  # the tested floor
    assert not parsed["streamlit"].specifier.contains("1.58.0")
    assert parsed["redis"].marker is not None and parsed["redis"].marker.evaluate({"extra": "redis"})


def test_only_the_wheel_provides_the_package_in_the_venv(venv_python: str, tmp_path: Path) -> None:
    """From an empty folder, the venv imports the package and the provider from its own
    site-packages, and nothing of the demo."""
    probe = (
        "import importlib.util, streamlit_authlib_login, devidp\n"
        "print(streamlit_authlib_login.__file__); print(devidp.__file__)\n"
        "print([n for n in ('auth', 'dashboard', 'views', 'benchmarks') if importlib.util.find_spec(n)])\n"
    )
    run = subprocess.run(
        [venv_python, "-c", probe], cwd=tmp_path, env=clean_env(), check=True, capture_output=True, text=True
    )
    package, provider, demo = run.stdout.splitlines()
    venv = Path(venv_python).parents[1]
    assert Path(package).is_relative_to(venv) and Path(provider).is_relative_to(venv)
    assert demo == "[]"


def test_the_readme_installs_with_pip_and_copies_nothing() -> None:
    """The README's way in is ``pip install`` and one import line, not ``cp``."""
    section = readme_section("Put it in front of your own app")
    commands = [line for block in code_blocks(section, "bash") for line in block.splitlines()]
    assert any(line.startswith("pip install ") for line in commands)
    assert not [line for line in commands if line.startswith("cp ")]
    assert "from streamlit_authlib_login import with_login" in section


def serve_app(where: Path, python: str, port: int) -> Iterator[str]:
    with streamlit_run(
        "entry.py",
        cwd=where,
        log=where / "streamlit.log",
        port=port,
        args=("--server.address", "localhost"),
        env=clean_env(),
        python=python,
        timeout=60,
    ) as url:
        yield url


@pytest.fixture(scope="module")
def outside_app(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser, venv_python: str
) -> Iterator[str]:
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
    for url in serve_app(where, venv_python, port):
        context = browser.new_context()
        context.new_page().goto(url)  # the first page pays for Streamlit's imports
        context.close()
        yield url
    assert (where / ".local" / ".gitignore").read_text().splitlines()[-1] == "*"


@pytest.fixture(scope="module")
def helpers_app(tmp_path_factory: pytest.TempPathFactory, venv_python: str) -> Iterator[str]:
    """The README's other way: a new app on the package's page helpers, no secrets at all."""
    where = tmp_path_factory.mktemp("helpers-app")
    files = build_from_readme(where, script=1)
    assert "require_login" in files["your_app.py"]
    yield from serve_app(where, venv_python, free_port())


@pytest.fixture(scope="module")
def corp_app(tmp_path_factory: pytest.TempPathFactory, venv_python: str) -> Iterator[str]:
    """The st.login app with a real provider configured in ``[auth]`` (st.login's
    single-provider form): the venv's ``python -m devidp`` on a port of its own, the app
    registered at it as a client."""
    where = tmp_path_factory.mktemp("corp-app")
    build_from_readme(where)
    port, idp_port = free_port(), free_port()
    callback = f"http://localhost:{port}/oauth2callback"
    # As at a real provider's console: the client, and the redirect URI it may come back to.
    register = ("--client", f"{CLIENT_ID}:{CLIENT_SECRET}", "--redirect-uri", callback)
    idp_log = (where / "devidp.log").open("wb")
    idp = subprocess.Popen(
        [venv_python, "-m", "devidp", "--port", str(idp_port), *register],
        cwd=where,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=idp_log,
    )
    metadata = f"http://127.0.0.1:{idp_port}/.well-known/openid-configuration"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert idp.poll() is None, (where / "devidp.log").read_text()
            try:
                if httpx2.get(metadata, timeout=1).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, "python -m devidp did not answer"
            time.sleep(0.1)
        (where / ".streamlit").mkdir()
        (where / ".streamlit" / "secrets.toml").write_text(
            f'[auth]\nredirect_uri = "{callback}"\ncookie_secret = "{COOKIE_SECRET}"\n'
            f'client_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{metadata}"\n'
            # The list an st.login app keeps for its own check (st.login ignores the key): here
            # it is enforced at the door.
            'allowed_emails = ["alice@example.com"]\n'
        )
        yield from serve_app(where, venv_python, port)
    finally:
        idp.terminate()
        idp.wait(timeout=10)
        idp_log.close()


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


def test_st_login_logs_in_through_a_real_provider_configured_in_secrets(page: Page, corp_app: str) -> None:
    """With a real provider in [auth], st.login() goes to it (not to an embedded provider),
    and st.user shows who logged in there (Alice: on the app's `allowed_emails` list)."""
    page.goto(corp_app)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(re.compile(r"^http://127\.0\.0\.1:\d+/"))
    page.get_by_role("button", name=re.compile("^" + re.escape(ALICE.name))).click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text(f"Hello, {ALICE.name}!")).to_be_visible()
    assert page.url.startswith(corp_app)


def refused_by_the_email_list(page: Page, app: str, why: str) -> None:
    """A page that names the rule (not who is on the list) and ``why``; no session."""
    refusal = page.get_by_role("alert")
    expect(refusal.get_by_text("The login was refused.", exact=True)).to_be_visible()
    expect(refusal).to_contain_text(
        "This app admits only people whose verified email is on its list of allowed emails."
    )
    expect(refusal).to_contain_text(why)
    expect(refusal).to_contain_text("not_allowed/allowed_emails")
    assert "alice" not in page.content()
    assert [c for c in page.context.cookies() if c["name"] == "auth_session"] == []
    assert page.request.get(f"{app}/auth/me").status == 401


def test_st_login_apps_allowed_emails_refuses_anyone_not_on_it_at_the_door(page: Page, corp_app: str) -> None:
    """The st.login app's `[auth] allowed_emails` list holds only Alice: Bob (unverified) and then
    김지우 (verified, not on it) come back to a page that says which rule refused them, with no
    session, and from there to the app, still logged out."""
    bob, jiwoo = (next(p for p in PERSONAS if p.username == name) for name in ("bob", "jiwoo"))
    page.goto(corp_app)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("button", name=re.compile("^" + re.escape(bob.name))).click()
    page.get_by_role("button", name="Allow").click()
    refused_by_the_email_list(page, corp_app, "127.0.0.1 does not vouch that your email is verified")
    page.get_by_role("link", name="Back to the app").click()
    page.get_by_role("button", name="Log in", exact=True).click()
    page.get_by_role("link", name="Use another persona").click()  # the provider remembers Bob
    page.get_by_role("button", name=re.compile("^" + re.escape(jiwoo.name))).click()
    page.get_by_role("button", name="Allow").click()
    refused_by_the_email_list(page, corp_app, "Your verified email is not on it.")
    page.get_by_role("link", name="Back to the app").click()
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible()
