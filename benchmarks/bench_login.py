"""Login benchmark: per-rerun session lookup, and full login round trips, ours vs ``st.login``.

Run from the repository root::

    python -m benchmarks.bench_login                             # about 30 s
    python -m benchmarks.bench_login --logins 10 --lookups 2000  # quicker

It prints numbers and asserts nothing about time. What it measures:

1. ``SessionManager.load`` (what every Streamlit rerun pays) on SQLite and in memory,
   for a session made by a real login (claims, trace, validation report), and for a miss.
2. Our full login round trip (``/auth/login/dev`` → ``/idp/authorize`` with
   ``login_hint`` → callback → session cookie) against the dev provider mounted at
   ``/idp``: our routes under uvicorn in this process, and ``streamlit run app.py``.
3. The same round trip against one standalone dev provider on loopback, for our
   routes (both ways) and for Streamlit's own ``st.login`` (``streamlit run``).
4. Where the time goes: provider requests per warm login and the provider's own time,
   from the provider's journal.
5. One keep-alive request per server, which shows the ~40 ms Nagle stall of servers
   whose listening socket leaves ``TCP_NODELAY`` off (see ``devidp.runner.bind_socket``).

Each login is a fresh browser (cookies cleared) on kept-alive connections; the
final redirect to the app's page is not followed, for ours nor for ``st.login``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from starlette.applications import Starlette

from auth import (
    AuthConfig,
    Authenticator,
    MemoryStore,
    ProviderSettings,
    Session,
    SessionManager,
    SQLiteStore,
    auth_routes,
)
from auth.devmode import LocalProviders, dev_provider_settings
from auth.routes import SESSION_COOKIE
from devidp import Client, DevAuthorizationServer, ProviderConfig, demo_clients, embed, serve
from devidp.runner import bind_socket, serve_asgi

from .servers import ROOT, StreamlitLoginApp, serve_provider, streamlit_login_app, streamlit_with_secrets
from .streamlit_process import free_port

PERSONA = "alice"
OURS_CLIENT, OURS_SECRET = "bench-ours", secrets.token_urlsafe(24)
ST_CLIENT, ST_SECRET = "bench-st-login", secrets.token_urlsafe(24)
ST_USER_COOKIE = "_streamlit_user"


# --- statistics --------------------------------------------------------------------------
@dataclass(frozen=True)
class Stats:
    samples: tuple[float, ...]  # milliseconds

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank

    def row(self, label: str, digits: int = 1) -> str:
        return (
            f"  {label:<44} median {self.median:8.{digits}f} ms   p95 {self.p95:8.{digits}f} ms"
            f"   (n={len(self.samples)})"
        )


def time_calls(call: Callable[[], object], n: int, warmup: int = 200) -> Stats:
    for _ in range(min(warmup, n)):
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return Stats(tuple(samples))


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


# --- the app under test, composed like app.py --------------------------------------------
def our_app(
    store_path: Path, standalone_metadata_url: str
) -> tuple[Starlette, Authenticator, DevAuthorizationServer]:
    """Our auth routes plus the mounted dev provider (as ``app.py``), and one more provider:
    the standalone dev provider that ``st.login`` also uses."""
    dev = dev_provider_settings(client_secret=secrets.token_urlsafe(32))
    standalone = ProviderSettings(
        name="standalone",
        client_id=OURS_CLIENT,
        client_secret=OURS_SECRET,
        server_metadata_url=standalone_metadata_url,
        scope="openid email profile",  # st.login's default scope
    )
    config = AuthConfig(
        cookie_secret=secrets.token_urlsafe(48), providers=(dev, standalone), store_path=store_path
    )
    idp = DevAuthorizationServer(ProviderConfig())

    # Over the network through the app, as the standalone provider is reached: same footing.
    local = LocalProviders(embed("/idp", server=idp), "Benchmark app", in_process=False)
    authenticator = Authenticator(
        config, SessionManager(SQLiteStore(store_path), config.cookie_secret, config.session), local=local
    )

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        yield
        await authenticator.aclose()

    app = Starlette(routes=auth_routes(authenticator) + local.routes, lifespan=lifespan)
    return app, authenticator, idp


# --- one login, the way a browser does it ------------------------------------------------
def _hop(browser: httpx2.Client, url: str | httpx2.URL, what: str) -> httpx2.URL:
    response = browser.get(url)
    if response.status_code != 302:
        raise RuntimeError(f"{what}: expected 302, got {response.status_code}: {response.text[:300]}")
    return httpx2.URL(response.headers["location"])


def _login(browser: httpx2.Client, start: str, cookie: str) -> float:
    """Start → provider (auto-approved by ``login_hint``) → callback; return milliseconds."""
    browser.cookies.clear()  # a fresh browser: no session, no provider session
    started = time.perf_counter()
    authorize = _hop(browser, start, "login start")
    callback = _hop(browser, authorize.copy_add_param("login_hint", PERSONA), "provider")
    done = browser.get(callback)
    elapsed = (time.perf_counter() - started) * 1000
    set_cookies = " ".join(done.headers.get_list("set-cookie"))
    if done.status_code != 302 or f"{cookie}=" not in set_cookies:
        raise RuntimeError(
            f"login did not finish: {done.status_code} to {done.headers.get('location')!r}, "
            f"cookies {set_cookies[:200]!r}"
        )
    return elapsed


def login_ours(browser: httpx2.Client, app_url: str, provider: str) -> float:
    return _login(browser, f"{app_url}/auth/login/{provider}?next=/", SESSION_COOKIE)


def login_st(browser: httpx2.Client, app: StreamlitLoginApp) -> float:
    # st.login() gives the browser this URL; the timed round trip starts at it.
    token = app.provider_token()
    return _login(browser, f"{app.url}/auth/login?provider={token}", ST_USER_COOKIE)


# --- provider journal ----------------------------------------------------------------------
@dataclass
class LoginRun:
    """Timed logins of one kind, with what the provider saw of each warm one."""

    cold: float
    warm: list[float] = field(default_factory=list)
    provider_requests: list[int] = field(default_factory=list)
    provider_ms: list[float] = field(default_factory=list)
    paths: Counter[str] = field(default_factory=Counter)


def run_logins(
    login: Callable[[], float], idp: DevAuthorizationServer | None, n: int, *, cold: float | None = None
) -> LoginRun:
    """One cold login (unless already timed), then ``n`` warm ones, each joined with the journal."""
    run = LoginRun(cold=login() if cold is None else cold)
    for _ in range(n):
        seen = idp.journal.entries() if idp else []
        run.warm.append(login())
        if idp is not None:
            entries = idp.journal.entries(since=seen[-1].id if seen else 0)
            run.provider_requests.append(len(entries))
            run.provider_ms.append(sum(e.duration_ms for e in entries))
            run.paths.update(e.path.rsplit("/", 1)[-1] for e in entries)
    return run


def print_run(label: str, run: LoginRun) -> None:
    print(f"  {label + ', cold':<44} first  {run.cold:8.1f} ms   (first login with this provider)")
    print(Stats(tuple(run.warm)).row(label + ", warm"))


def print_provider_share(label: str, run: LoginRun) -> None:
    n = len(run.warm)
    per_login = ", ".join(f"{path} x{count / n:g}" for path, count in sorted(run.paths.items()))
    provider, login = statistics.median(run.provider_ms), statistics.median(run.warm)
    print(f"  {label}")
    print(f"    provider requests per warm login: {statistics.median(run.provider_requests):g} ({per_login})")
    print(
        f"    provider's own time per login:    {provider:.2f} ms of {login:.1f} ms "
        f"({100 * provider / login:.0f}% of the round trip)"
    )


# --- the benchmark ---------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--logins", type=int, default=30, help="warm logins per variant (default 30)")
    parser.add_argument("--lookups", type=int, default=20000, help="lookups per case (default 20000)")
    parser.add_argument(
        "--devidp-serve",
        action="store_true",
        help="serve the standalone provider with devidp.serve itself (the same TCP_NODELAY socket)",
    )
    return parser.parse_args(argv)


def app_py_secrets(cookie_secret: str, metadata_url: str) -> str:
    """``app.py``'s config: the mounted dev provider plus ``[auth.standalone]``."""
    return (
        f'[auth]\ncookie_secret = "{cookie_secret}"\ndev_provider = true\n\n'
        f'[auth.standalone]\nclient_id = "{OURS_CLIENT}"\nclient_secret = "{OURS_SECRET}"\n'
        f'server_metadata_url = "{metadata_url}"\nclient_kwargs = {{ scope = "openid email profile" }}\n'
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    n = args.logins
    our_socket = bind_socket()
    app_url = f"http://127.0.0.1:{our_socket.getsockname()[1]}"
    app_py_port, st_port = free_port(), free_port()
    app_py_url = f"http://localhost:{app_py_port}"
    clients = (
        *demo_clients(),
        Client(
            client_id=OURS_CLIENT,
            client_secret=OURS_SECRET,
            name="Our login module (benchmark)",
            redirect_uris=(f"{app_url}/auth/callback/standalone", f"{app_py_url}/auth/callback/standalone"),
        ),
        Client(
            client_id=ST_CLIENT,
            client_secret=ST_SECRET,
            name="st.login (benchmark)",
            redirect_uris=(f"http://localhost:{st_port}/oauth2callback",),
        ),
    )
    shipped = "devidp.serve as shipped" if args.devidp_serve else "the devidp app on a TCP_NODELAY socket"
    print(
        f"Login benchmark, {time.strftime('%Y-%m-%d %H:%M')}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; standalone provider: {shipped}"
    )
    floors: dict[str, Stats] = {}

    with (
        tempfile.TemporaryDirectory(prefix="bench-login-") as scratch,
        serve_provider(ProviderConfig(clients=clients), as_shipped=args.devidp_serve) as standalone,
        httpx2.Client(timeout=10) as browser,
    ):
        metadata_url = f"{standalone.url}/.well-known/openid-configuration"
        app, authenticator, mounted_idp = our_app(Path(scratch) / "sessions.sqlite3", metadata_url)
        with serve_asgi(app, our_socket, lifespan="on", name="bench-app"):
            progress("our app in-process: first login")
            browser.get(f"{app_url}/auth/me")  # open the connection: time the login, not the handshake
            cold = login_ours(browser, app_url, "dev")
            session = authenticator.sessions.load(browser.cookies.get(SESSION_COOKIE))
            if session is None:
                raise RuntimeError("the first login left no session")
            progress("session lookups")
            print_lookups(authenticator.sessions, session, args.lookups)
            progress(f"our app in-process: {n} logins, mounted provider; {n}, standalone provider")
            mounted = run_logins(lambda: login_ours(browser, app_url, "dev"), mounted_idp, n, cold=cold)
            ours = run_logins(lambda: login_ours(browser, app_url, "standalone"), standalone.server, n)
            floors["our app in-process: GET /auth/me (401)"] = time_calls(
                lambda: browser.get(f"{app_url}/auth/me"), 50, warmup=5
            )

        progress(f"`streamlit run app.py`: {n} logins, mounted provider; {n}, standalone provider")
        with streamlit_with_secrets(
            ROOT / "app.py",
            cwd=Path(scratch),
            port=app_py_port,
            secrets_toml=app_py_secrets(secrets.token_urlsafe(48), metadata_url),
        ):
            browser.get(f"{app_py_url}/auth/me")
            deployed_mounted = run_logins(lambda: login_ours(browser, app_py_url, "dev"), None, n)
            deployed = run_logins(lambda: login_ours(browser, app_py_url, "standalone"), standalone.server, n)
            floors["streamlit run app.py: GET /auth/me (401)"] = time_calls(
                lambda: browser.get(f"{app_py_url}/auth/me"), 20, warmup=2
            )

        progress(f"`streamlit run` of a st.login app: {n} logins, standalone provider")
        with streamlit_login_app(
            port=st_port, client_id=ST_CLIENT, client_secret=ST_SECRET, server_metadata_url=metadata_url
        ) as st_app:
            browser.get(f"{st_app.url}/_stcore/health")
            native = run_logins(lambda: login_st(browser, st_app), standalone.server, n)

        floors["standalone provider: GET /jwks.json"] = time_calls(
            lambda: browser.get(f"{standalone.url}/jwks.json"), 50, warmup=5
        )
        if not args.devidp_serve:
            with serve(ProviderConfig()) as as_shipped:
                floors["devidp.serve as shipped: GET /jwks.json"] = time_calls(
                    lambda: browser.get(f"{as_shipped.url}/jwks.json"), 20, warmup=2
                )

    print("\n2. Full login round trip, our routes, devidp mounted at /idp (as app.py composes it)")
    print_run("ours, uvicorn in-process", mounted)
    print_run("ours, `streamlit run app.py`", deployed_mounted)
    print("\n3. Same provider for both: one standalone devidp on loopback")
    print_run("ours, uvicorn in-process", ours)
    print_run("ours, `streamlit run app.py`", deployed)
    print_run("st.login, `streamlit run`", native)
    for label, run in (("ours in-process", ours), ("ours under streamlit run", deployed)):
        ratio = statistics.median(native.warm) / statistics.median(run.warm)
        print(f"  st.login / {label}, warm medians: {ratio:.1f}x (target: 10x)")
    print("\n4. Where a warm login's time goes (the provider's journal, duration_ms summed)")
    print_provider_share("ours, mounted provider, in-process", mounted)
    print_provider_share("ours, standalone provider, in-process", ours)
    print_provider_share("ours, standalone provider, `streamlit run app.py`", deployed)
    print_provider_share("st.login, standalone provider", native)
    print("\n5. One keep-alive request with a JSON body, per server (~40 ms: Nagle + delayed ACK)")
    for label, stats in floors.items():
        print(stats.row(label, 2))


def print_lookups(sessions: SessionManager, session: Session, n: int) -> None:
    """Section 1: what ``current_session()`` pays on every rerun."""
    size = len(json.dumps(session.as_dict(), separators=(",", ":")))
    memory = SessionManager(MemoryStore(), secrets.token_urlsafe(48), sessions.settings)
    memory.save(session)
    unknown = secrets.token_urlsafe(32)
    print(
        "\n1. Per-rerun session lookup, SessionManager.load(session_id), for a real login's session\n"
        f"   ({size / 1024:.1f} KiB of JSON: {len(session.claims)} claims, "
        f"{len(session.trace.steps)} trace steps, "
        f"{len(session.report.checks) if session.report else 0} report rows; target: under 0.2 ms)"
    )
    print(time_calls(lambda: sessions.load(session.id), n).row("SQLiteStore (default), hit", 3))
    print(time_calls(lambda: memory.load(session.id), n).row("MemoryStore, hit", 3))
    print(time_calls(lambda: sessions.load(unknown), n).row("SQLiteStore, miss (unknown id)", 3))
    print(time_calls(lambda: memory.load(unknown), n).row("MemoryStore, miss (unknown id)", 3))


if __name__ == "__main__":
    main()
