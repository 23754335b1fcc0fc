"""Behind nginx with TLS, as an operator deploys it: ``deploy/nginx.conf`` itself (the file the
README quotes) run by a real nginx with a self-signed certificate, in front of ``streamlit run
app.py`` (the dashboard) with one table, ``[auth.corp]``, at a stand-alone development provider
(``python -m devidp``), and::

    [auth] trusted_proxies = ["127.0.0.2"]

nginx connects to the app from 127.0.0.2 (``proxy_bind``, added around the file), and this test's
own direct requests come from 127.0.0.1: the address uvicorn, as Streamlit runs it, believes
X-Forwarded-* from, and which the app must not. So both directions are proven: the proxy it
trusts is believed, which uvicorn would not do, and a local process is not, which uvicorn does.

Two layouts: the app at ``https://…/app/`` (``--server.baseUrlPath app``), the file as
written, and at ``https://…/`` (every ``/app/`` of the file made ``/``, no base path), which must
keep working too. Each test checks first that the login routes answer JSON under the layout's
path (``RoutesNotUnderBasePath`` otherwise: Streamlit's index page would answer there instead).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Browser, Page, expect

from benchmarks.streamlit_process import free_port, streamlit_run
from devidp import PERSONAS
from tests.auth.login_harness import query_of, set_cookies, with_params
from tests.browser.test_who_may_come_in import start_provider, wait_for_provider
from tests.streamlit_process import scratch_checkout
from tests.tls_proxies import nginx

ALICE = next(p for p in PERSONAS if p.username == "alice")
CLIENT_ID, CLIENT_SECRET = "rules-app", "rules-app-secret"  # start_provider's client
COOKIE_SECRET = "behind-nginx-cookie-secret-0123456789abcdefghij"
PROXY_ADDRESS = "127.0.0.2"  # where nginx connects to the app from: the one trusted proxy
EVIL = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-For": PROXY_ADDRESS}


class RoutesNotUnderBasePath(AssertionError):
    """The login routes answer at the server's root, not under ``server.baseUrlPath``."""


@dataclass(frozen=True)
class Layout:
    prefix: str  # "" or "/app"

    @property
    def session_cookie(self) -> str:
        # The sub-path branch's names: the sub-path in the name, __Host- and Path=/ kept.
        return "__Host-auth_session" + (f"-{self.prefix.strip('/')}" if self.prefix else "")


AT_ROOT = Layout("")
ON_SUB_PATH = Layout("/app")
LAYOUTS = (AT_ROOT, ON_SUB_PATH)
FIRST_PAGE = 60_000  # ms: a new server's first page imports pandas and Altair, seconds on a busy machine


@dataclass(frozen=True)
class Ports:
    provider: int
    nginx: dict[str, int]


@dataclass(frozen=True)
class Site:
    layout: Layout
    public: str  # https://localhost:PORT[/app], through nginx
    direct: str  # http://localhost:PORT[/app], the app itself
    log: Path
    nginx_log: Path

    def console(self) -> str:
        return self.log.read_text()


@pytest.fixture(scope="module")
def ports() -> Ports:
    return Ports(free_port(), {layout.prefix: free_port() for layout in LAYOUTS})


@pytest.fixture(scope="module")
def provider(ports: Ports, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One stand-alone provider for both layouts, each one's public callback registered."""
    log = tmp_path_factory.mktemp("devidp") / "devidp.log"
    uris = [f"https://localhost:{port}{prefix}/auth/callback/corp" for prefix, port in ports.nginx.items()]
    process = start_provider(ports.provider, uris, log)
    metadata = f"http://127.0.0.1:{ports.provider}/.well-known/openid-configuration"
    try:
        wait_for_provider(process, metadata, log)
        yield metadata
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def sites(ports: Ports, provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Site]]:
    """Both layouts, each a ``streamlit run`` behind its own nginx; the two apps start side by
    side, since each spends seconds importing."""
    secrets = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    secrets.write_text(
        f'[auth]\ncookie_secret = "{COOKIE_SECRET}"\ntrusted_proxies = ["{PROXY_ADDRESS}"]\n\n'
        f'[auth.corp]\nclient_id = "{CLIENT_ID}"\nclient_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider}"\n'
    )
    app_ports = {layout.prefix: free_port() for layout in LAYOUTS}
    logs = {layout.prefix: tmp_path_factory.mktemp("streamlit") / "streamlit.log" for layout in LAYOUTS}
    runs = []
    for layout in LAYOUTS:
        args = ["--secrets.files", str(secrets), "--server.address", "127.0.0.1"]
        if layout.prefix:
            args += ["--server.baseUrlPath", layout.prefix.strip("/")]
        checkout = scratch_checkout(tmp_path_factory.mktemp("checkout"))
        port, log = app_ports[layout.prefix], logs[layout.prefix]
        runs.append(
            streamlit_run("app.py", cwd=checkout, log=log, port=port, args=args, base_path=layout.prefix)
        )
    with ExitStack() as stack:
        enter_together(stack, runs)
        found = {}
        for layout in LAYOUTS:
            proxy = stack.enter_context(
                nginx(
                    tmp_path_factory.mktemp("nginx"),
                    port=ports.nginx[layout.prefix],
                    upstream_port=app_ports[layout.prefix],
                    sub_path=bool(layout.prefix),
                    source_address=PROXY_ADDRESS,
                )
            )
            direct = f"http://localhost:{app_ports[layout.prefix]}{layout.prefix}"
            found[layout.prefix] = Site(
                layout, proxy.url + layout.prefix, direct, logs[layout.prefix], proxy.log
            )
        yield found


def enter_together(stack: ExitStack, managers: list[AbstractContextManager[object]]) -> None:
    """Enter each of ``managers`` in a thread of its own, and leave each entered one with ``stack``."""
    with ThreadPoolExecutor(len(managers)) as pool:
        futures = [pool.submit(manager.__enter__) for manager in managers]
        errors = []
        for manager, future in zip(managers, futures, strict=True):
            if (error := future.exception()) is None:
                stack.push(manager)
            else:
                errors.append(error)
    if errors:
        raise errors[0]


@pytest.fixture(
    params=[
        pytest.param(AT_ROOT, id="root"),
        pytest.param(ON_SUB_PATH, id="app"),
    ],
)
def site(request: pytest.FixtureRequest, sites: dict[str, Site]) -> Site:
    here = sites[request.param.prefix]
    me = httpx2.get(f"{here.direct}/auth/me")
    if "application/json" not in me.headers.get("content-type", ""):
        raise RoutesNotUnderBasePath(f"{here.direct}/auth/me answered {me.status_code} {me.text[:80]!r}")
    return here


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page that accepts the test's self-signed certificate."""
    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def through_nginx(**kwargs: object) -> httpx2.Client:
    return httpx2.Client(verify=False, timeout=10, **kwargs)  # type: ignore[arg-type]


def log_in(client: httpx2.Client, site: Site, persona: str) -> str:
    """A login through nginx as a script does it (login_hint skips the persona list): the session id."""
    start = client.get(f"{site.public}/auth/login/corp", params={"next": "/"})
    assert start.status_code == 302, start.text
    at_provider = client.get(with_params(start.headers["location"], login_hint=persona))
    assert at_provider.status_code == 302, at_provider.text
    done = client.get(at_provider.headers["location"])
    assert done.status_code == 302, done.text
    return str(client.cookies[site.layout.session_cookie])


# --- a person, in Chromium ------------------------------------------------------------------
def test_a_person_logs_in_and_out_through_nginx_with_tls(page: Page, site: Site) -> None:
    """Bob's live session id tossed into Alice's browser under the bare cookie names (as a
    sibling host or a plain-http page could): the first page over https (its websocket through
    nginx) and the routes take it for no session. Then Alice logs in with the public https
    redirect URI, gets a Secure HttpOnly session cookie and is Alice, not Bob, and her logout
    ends her session while Bob's lives on."""
    me = f"{site.public}/auth/me"
    with through_nginx() as bob:
        bobs = log_in(bob, site, "bob")
        bare = {site.layout.session_cookie.removeprefix("__Host-"), "auth_session"}
        page.context.add_cookies([{"name": name, "value": bobs, "url": site.public + "/"} for name in bare])
        page.goto(site.public + "/")
        expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=FIRST_PAGE)
        assert page.request.get(me).status == 401

        page.get_by_role("link", name="Log in with Corp").click()
        page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/authorize\?"))
        assert query_of(page.url)["redirect_uri"] == f"{site.public}/auth/callback/corp"
        page.get_by_role("button", name=re.compile("^" + re.escape(ALICE.name))).click()
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(re.compile("^" + re.escape(site.public)))
        expect(page.get_by_role("button", name="Log out")).to_be_visible()

        cookies = {c["name"]: c for c in page.context.cookies()}
        session = cookies[site.layout.session_cookie]
        assert session["secure"] and session["httpOnly"] and session["path"] == "/"
        assert {name for name in cookies if name.startswith("auth_")} == bare  # the app set no bare name
        alice = page.request.get(me)
        assert alice.status == 200 and alice.json()["profile"]["username"] == "alice"

        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_text("signed you out too", exact=False)).to_be_visible()
        assert page.request.get(me).status == 401
        assert site.layout.session_cookie not in {c["name"] for c in page.context.cookies()}
        assert bob.get(me).json()["profile"]["username"] == "bob"


# --- who is believed ----------------------------------------------------------------------------
def test_forwarded_headers_from_an_untrusted_peer_are_ignored(site: Site) -> None:
    """Straight to the app from 127.0.0.1, which uvicorn believes and the app does not: saying
    https, another host and the proxy's address changes neither the redirect URI nor a cookie."""
    start = httpx2.get(f"{site.direct}/auth/login/corp", params={"next": "/"}, headers=EVIL)
    assert start.status_code == 302, start.text
    location = start.headers["location"]
    assert "evil.example" not in location
    assert query_of(location)["redirect_uri"] == f"{site.direct}/auth/callback/corp"
    cookies = set_cookies(start)
    assert cookies and not any(name.startswith("__Host-") for name in cookies)
    assert not any("Secure" in header for header in cookies.values())
    assert "forwarding headers (X-Forwarded-*, Forwarded) from 127.0.0.1 ignored" in site.console()


def test_nginx_overwrites_the_clients_own_forwarding_headers(site: Site) -> None:
    """Through the trusted proxy, a client's own X-Forwarded-Host and Forwarded get nowhere."""
    headers = {**EVIL, "X-Forwarded-Proto": "http", "Forwarded": "host=evil.example;proto=http"}
    with through_nginx() as client:
        start = client.get(f"{site.public}/auth/login/corp", params={"next": "/"}, headers=headers)
    assert start.status_code == 302, start.text
    assert query_of(start.headers["location"])["redirect_uri"] == f"{site.public}/auth/callback/corp"
    assert "__Host-auth_login" in "".join(set_cookies(start))


def test_nginx_limits_logins_per_address_and_the_size_of_bodies(site: Site) -> None:
    """From an address of its own: callbacks past the burst get 429 from nginx, and a body over
    64 KB to /auth/ never reaches the app."""
    transport = httpx2.HTTPTransport(verify=False, local_address="127.0.0.5")
    with through_nginx(transport=transport) as client:
        statuses = [
            client.get(
                f"{site.public}/auth/callback/corp", params={"code": "x", "state": f"s{i}"}
            ).status_code
            for i in range(30)
        ]
        too_large = client.post(f"{site.public}/auth/logout", content=b"x" * 100_000)
    # 30 a minute with a burst of 20: the first 21 pass at once, and refills come every 2 s.
    assert 429 not in statuses[:21] and 429 in statuses, statuses
    assert too_large.status_code == 413 and "nginx" in too_large.text
