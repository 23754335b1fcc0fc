"""Who may come in, end to end: a stand-alone development provider (``python -m devidp``) as a
real provider, and ``streamlit run app.py`` (the dashboard) with two tables against it, as the
README's *Who may come in* writes them::

    [auth.corp]  allowed_groups = ["admins"]                  (scope with `groups`)
    [auth.mail]  allowed_domains = ["example.com", "example.kr"]

In Chromium, through the login page's buttons and the provider's persona list, as a person goes:
Alice (in the group admins) gets in through corp and 김지우 (verified at example.kr) through
mail; Bob (group staff, an unverified address at example.org) and Casey (no email) get no
session, and a login page that names the rule in words, never its list. Then the page guard:
the Admin page (role ``admin``, ``role_page`` in ``streamlit_app.py``) is in Alice's sidebar and
at her ``/admin``; 김지우, logged in and holding a role (``editor``, mail asks for `groups` too)
but not ``admin``, finds neither the entry nor the page at its URL, but "not allowed".
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser, Page, expect

from benchmarks.streamlit_process import free_port, streamlit_run
from devidp import PERSONAS, Persona
from tests.browser.warmup import warm_up
from tests.streamlit_process import scratch_checkout

BY_NAME = {p.username: p for p in PERSONAS}
ALICE, BOB, JIWOO, CASEY = (BY_NAME[n] for n in ("alice", "bob", "jiwoo", "noemail"))
CLIENT_ID, CLIENT_SECRET = "rules-app", "rules-app-secret"
LABELS = {"corp": "Corp", "mail": "Mail"}  # a generic OIDC table's label: its name, titled
# What the lists hold: no refusal page may show any of it.
LISTED = ("admins", "example.com", "example.kr")
GROUP_RULE = "This app admits only members of its allowed groups."
DOMAIN_RULE = "This app admits only people whose verified email is at one of its allowed domains."


@dataclass(frozen=True)
class Dashboard:
    url: str
    log: Path

    def log_lines(self, needle: str) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if needle in line]


def start_provider(port: int, redirect_uris: list[str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m devidp`` with the app registered as a client, as at a real provider's console."""
    uris = [arg for uri in redirect_uris for arg in ("--redirect-uri", uri)]
    client = ("--client", f"{CLIENT_ID}:{CLIENT_SECRET}")
    command = [sys.executable, "-m", "devidp", "--port", str(port), *client]
    with log.open("wb") as output:
        return subprocess.Popen([*command, *uris], stdout=output, stderr=subprocess.STDOUT)


def wait_for_provider(process: subprocess.Popen[bytes], metadata: str, log: Path) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx2.get(metadata, timeout=1).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"python -m devidp did not start:\n{log.read_text()}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Dashboard]:
    """The provider and the dashboard, started side by side (the app reads the provider's
    metadata at the first login, not at start)."""
    scratch = tmp_path_factory.mktemp("who-may-come-in")
    port, idp_port = free_port(), free_port()
    app = f"http://localhost:{port}"
    metadata = f"http://127.0.0.1:{idp_port}/.well-known/openid-configuration"
    provider = start_provider(idp_port, [f"{app}/auth/callback/{n}" for n in LABELS], scratch / "devidp.log")
    try:
        secrets = scratch / "secrets.toml"
        client = f'client_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
        client += f'server_metadata_url = "{metadata}"\n'
        groups = 'client_kwargs = { scope = "openid profile email groups" }\n'
        secrets.write_text(
            f'[auth.corp]\n{client}allowed_groups = ["admins"]\n{groups}\n'
            f'[auth.mail]\n{client}allowed_domains = ["example.com", "example.kr"]\n{groups}'
        )
        checkout = scratch_checkout(tmp_path_factory.mktemp("checkout"))
        log = scratch / "streamlit.log"
        args = ("--secrets.files", str(secrets))  # not the developer's .streamlit/secrets.toml
        with streamlit_run("app.py", cwd=checkout, log=log, port=port, args=args) as url:
            wait_for_provider(provider, metadata, scratch / "devidp.log")
            warm_up(browser, url)
            yield Dashboard(url, log)
    finally:
        provider.terminate()
        provider.wait(timeout=10)


def log_in(page: Page, dashboard: Dashboard, table: str, persona: Persona) -> None:
    """From the login page's button for ``table``, through the provider's persona list and
    consent, back to the app."""
    page.goto(dashboard.url)
    page.get_by_role("link", name=f"Log in with {LABELS[table]}").click()
    page.get_by_role("button", name=re.compile("^" + re.escape(persona.name))).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile("^" + re.escape(dashboard.url)))


def me(page: Page, dashboard: Dashboard) -> tuple[int, dict[str, object]]:
    """``/auth/me`` from this browser context, with its cookies."""
    answer = page.request.get(f"{dashboard.url}/auth/me")
    return answer.status, answer.json()


def session_cookies(page: Page) -> list[str]:
    return [c["name"] for c in page.context.cookies() if c["name"] == "auth_session"]


def test_alice_gets_in_through_corp_and_sees_the_admin_page(page: Page, dashboard: Dashboard) -> None:
    """Alice, in the group admins, logs in with corp: the dashboard, Admin in her sidebar, the
    Admin page at /admin; her session says which rule let her in and that she holds ``admin``."""
    log_in(page, dashboard, "corp", ALICE)
    expect(page.get_by_role("heading", name=f"Hello, {ALICE.name}")).to_be_visible()
    status, session = me(page, dashboard)
    assert status == 200
    assert (session["provider"], session["admitted_by"], session["roles"]) == (
        "corp",
        "allowed_groups",
        ["admin"],
    )
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Admin", exact=True)).to_be_visible()
    nav.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    providers = page.get_by_test_id("stDataFrame")
    expect(providers).to_contain_text("allowed_groups: admins")
    expect(providers).to_contain_text("allowed_domains: example.com, example.kr")
    expect(page).to_have_url(f"{dashboard.url}/admin")
    expect(page.get_by_text("Not allowed.", exact=False)).to_have_count(0)


def test_jiwoo_gets_in_through_mail_and_is_not_allowed_on_the_admin_page(
    page: Page, dashboard: Dashboard
) -> None:
    """김지우, verified at example.kr, logs in with mail: the dashboard, with a role (editor) but
    not admin, so no Admin in the sidebar and "not allowed" at /admin, not the page."""
    log_in(page, dashboard, "mail", JIWOO)
    expect(page.get_by_role("heading", name=f"Hello, {JIWOO.name}")).to_be_visible()
    status, session = me(page, dashboard)
    assert status == 200
    assert (session["provider"], session["admitted_by"], session["roles"]) == (
        "mail",
        "allowed_domains",
        ["editor"],
    )
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Profile", exact=True)).to_be_visible()  # the sidebar is there
    expect(nav.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
    page.goto(f"{dashboard.url}/admin")
    expect(
        page.get_by_text(
            "Not allowed. You are logged in, but this is only for the role “admin”, which your "
            "account does not have."
        )
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_have_count(0)
    expect(page.get_by_text("Providers, and who each lets in")).to_have_count(0)
    expect(page.get_by_text("Page not found", exact=False)).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin", exact=True)).to_have_count(0)


def assert_refused(page: Page, dashboard: Dashboard, table: str, rule: str, words: str, why: str) -> None:
    """Back on the login page, which says in words which rule refused them (``words``) and why
    (``why``), never what the list holds; no session cookie, ``/auth/me`` 401; one log line with
    the rule and the page's request id."""
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_contain_text(f"The login was refused. {words} {why}")
    expect(page.get_by_role("heading", name="Log in", exact=True)).to_be_visible()
    main = page.get_by_test_id("stMain").inner_text()
    assert not [item for item in LISTED if item in main], main
    caption = page.get_by_text(re.compile(r"^Request id \w+: the server log has the same line"))
    expect(caption).to_contain_text(f"(check not_allowed/{rule})")
    request_id = caption.inner_text().split()[2].rstrip(":")
    assert session_cookies(page) == []
    assert me(page, dashboard)[0] == 401
    [line] = dashboard.log_lines(f"request_id={request_id}")
    assert f"login refused: provider={table} check=not_allowed/{rule} request_id={request_id}" in line


def test_bob_is_refused_by_corps_group_rule_and_by_mails_domain_rule(
    page: Page, dashboard: Dashboard
) -> None:
    """Bob (group staff, an unverified address at example.org) tries corp: not in an allowed
    group. From the page that says so he tries mail: his email is not one mail vouches for. No
    session either time."""
    log_in(page, dashboard, "corp", BOB)
    assert_refused(page, dashboard, "corp", "allowed_groups", GROUP_RULE, "Your account is in none of them")
    page.get_by_role("link", name="Log in with Mail").click()
    # The provider remembers him (its own session): consent only, as a person sees it.
    expect(page.get_by_text(f"Signed in as {BOB.name}.")).to_be_visible()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile("^" + re.escape(dashboard.url)))
    unverified = "Mail does not vouch that your email is verified, so it is not matched."
    assert_refused(page, dashboard, "mail", "allowed_domains", DOMAIN_RULE, unverified)


def test_casey_without_an_email_is_refused_by_mails_domain_rule(page: Page, dashboard: Dashboard) -> None:
    """Casey has no email at all: nothing for the domain rule to match, no session."""
    log_in(page, dashboard, "mail", CASEY)
    no_email = "Mail gave this app no email for your account."
    assert_refused(page, dashboard, "mail", "allowed_domains", DOMAIN_RULE, no_email)


def test_the_admin_page_counts_the_refusals_above(page: Page, dashboard: Dashboard) -> None:
    """Last in this module: the three refusals above (Bob twice, Casey once) are on the Admin
    page's count, per provider and rule, for Alice to read."""
    log_in(page, dashboard, "corp", ALICE)
    page.goto(f"{dashboard.url}/admin")
    expect(page.get_by_role("heading", name="Refused logins")).to_be_visible()
    rows = page.get_by_test_id("stTable").get_by_role("row")
    expect(rows).to_have_count(3)  # the header, corp's group rule, mail's domain rule
    expect(rows.nth(1)).to_have_text(re.compile(r"corp\s*allowed_groups\s*1$"))
    expect(rows.nth(2)).to_have_text(re.compile(r"mail\s*allowed_domains\s*2$"))
