"""Login benchmark: ours vs ``st.login``, Nagle's stall before and after, stores, throughput.

Run from the repository root (needs ``redis-server`` on PATH)::

    python -m benchmarks.bench_login                             # about a minute
    python -m benchmarks.bench_login --logins 10 --lookups 2000  # quicker

It prints numbers, the targets of issue 13 and whether they are met; it asserts nothing
about time. Everything runs in this one run against the same standalone dev provider:

1. ``SessionManager.load`` (what every Streamlit rerun pays) on SQLite, Redis (a
   ``redis-server`` on loopback), in memory and on a Redis Cluster (three masters, three
   replicas on loopback, named by one node's URL), for a session made by a real login.
2. Our full login round trip (``/auth/login/dev`` → ``/idp/authorize`` with
   ``login_hint`` → callback → session cookie) against the dev provider mounted at ``/idp``.
3. The same round trip against the standalone provider: our routes in-process, under
   ``streamlit run app.py`` with the listener fix (``streamlit_authlib_login/_streamlit/nodelay.py``)
   and without it
   (``[auth] tcp_nodelay = false``), and Streamlit's own ``st.login``; logins per second
   with 1 and 16 concurrent clients.
4. Where the time goes: provider requests per warm login and the provider's own time.
5. One keep-alive request per server, and a page rerun over Streamlit's websocket, with
   and without the fix: the ~40 ms Nagle stall.
6. ID-token validation against one RSA verification; bytes per 10,000 live sessions.

Each login is a fresh browser (cookies cleared) on kept-alive connections; the
final redirect to the app's page is not followed, for ours nor for ``st.login``.
"""

from __future__ import annotations

import argparse
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

from devidp import Client, DevAuthorizationServer, ProviderConfig, demo_clients, embed, serve
from devidp.runner import bind_socket, serve_asgi
from streamlit_authlib_login._core.config import AuthConfig, ProviderSettings
from streamlit_authlib_login._core.flow import Authenticator
from streamlit_authlib_login._core.sessions import SessionManager
from streamlit_authlib_login._core.store import SQLiteStore
from streamlit_authlib_login._devmode import DEV_CLIENT_ID, LocalProviders, dev_provider_settings
from streamlit_authlib_login._routes import SESSION_COOKIE, auth_routes

from . import storage, tokens
from .redis_process import redis_cluster, redis_server
from .rerun import time_reruns
from .servers import ROOT, StreamlitLoginApp, serve_provider, streamlit_login_app, streamlit_with_secrets
from .stats import Stats, progress, time_calls, verdict
from .streamlit_process import free_port
from .throughput import Throughput, logins_per_second

PERSONA = "alice"
OURS_CLIENT, OURS_SECRET = "bench-ours", secrets.token_urlsafe(24)
ST_CLIENT, ST_SECRET = "bench-st-login", secrets.token_urlsafe(24)
ST_USER_COOKIE = "_streamlit_user"


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

    app = Starlette(routes=auth_routes(authenticator, login_page="/login") + local.routes, lifespan=lifespan)
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


def app_py_secrets(cookie_secret: str, metadata_url: str, *, nodelay: bool = True) -> str:
    """``app.py``'s config: the mounted dev provider plus ``[auth.standalone]``; ``nodelay``
    False leaves Streamlit's listener as it binds it (Nagle on), to measure the fix."""
    return (
        f'[auth]\ncookie_secret = "{cookie_secret}"\ndev_provider = true\n'
        f"tcp_nodelay = {str(nodelay).lower()}\n\n"
        f'[auth.standalone]\nclient_id = "{OURS_CLIENT}"\nclient_secret = "{OURS_SECRET}"\n'
        f'server_metadata_url = "{metadata_url}"\nclient_kwargs = {{ scope = "openid email profile" }}\n'
    )


def machine() -> str:
    """The CPU model and core count the figures were measured on."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model})"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    n = args.logins
    our_socket = bind_socket()
    app_url = f"http://127.0.0.1:{our_socket.getsockname()[1]}"
    fixed_port, stock_port, st_port = free_port(), free_port(), free_port()
    fixed_url, stock_url = f"http://localhost:{fixed_port}", f"http://localhost:{stock_port}"
    clients = (
        *demo_clients(),
        Client(
            client_id=OURS_CLIENT,
            client_secret=OURS_SECRET,
            name="Our login module (benchmark)",
            redirect_uris=tuple(f"{url}/auth/callback/standalone" for url in (app_url, fixed_url, stock_url)),
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
        f"{machine()}, load average {os.getloadavg()[0]:.2f}; standalone provider: {shipped}"
    )
    floors: dict[str, Stats] = {}
    reruns: dict[str, Stats] = {}
    throughput: dict[str, Throughput] = {}

    with (
        tempfile.TemporaryDirectory(prefix="bench-login-") as scratch,
        serve_provider(ProviderConfig(clients=clients), as_shipped=args.devidp_serve) as standalone,
        redis_server(Path(scratch)) as redis,
        redis_cluster(Path(scratch) / "cluster") as cluster,
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
            progress("session lookups: SQLite, Redis, memory, Redis Cluster")
            lookups = storage.lookups(authenticator.sessions, redis.url, session, args.lookups, cluster.url)
            progress("ID-token validation")
            token_costs = tokens.id_token_costs(session, f"{app_url}/idp", DEV_CLIENT_ID, args.lookups // 10)
            progress("Redis bytes per session; memory per 10,000 sessions: SQLite, Redis")
            settings = authenticator.sessions.settings
            # A short run (--lookups 100) copies fewer sessions; the figures are per session anyway.
            copies = min(10_000, args.lookups // 2)
            per_session = storage.redis_bytes_per_session(session, settings, redis.url, min(1_000, copies))
            memory = {
                app: storage.memory_per_10k(
                    session, settings, Path(scratch), redis.url, keep_login_details=keep, count=copies
                )
                for app, keep in storage.APPS.items()
            }
            progress(f"our app in-process: {n} logins, mounted provider; {n}, standalone provider")
            mounted = run_logins(lambda: login_ours(browser, app_url, "dev"), mounted_idp, n, cold=cold)
            ours = run_logins(lambda: login_ours(browser, app_url, "standalone"), standalone.server, n)
            floors["our app in-process: GET /auth/me (401)"] = time_calls(
                lambda: browser.get(f"{app_url}/auth/me"), 50, warmup=5
            )

        runs: dict[str, LoginRun] = {}
        for label, url, port, nodelay in (
            ("fixed", fixed_url, fixed_port, True),
            ("stock", stock_url, stock_port, False),
        ):
            name = "with the fix" if nodelay else "Nagle on (tcp_nodelay = false)"
            progress(f"`streamlit run app.py`, {name}: {n} logins, mounted; {n}, standalone; reruns")
            cwd = Path(scratch) / label
            cwd.mkdir()
            with streamlit_with_secrets(
                ROOT / "app.py",
                cwd=cwd,
                port=port,
                secrets_toml=app_py_secrets(secrets.token_urlsafe(48), metadata_url, nodelay=nodelay),
            ):
                browser.get(f"{url}/auth/me")
                runs[f"{label} mounted"] = run_logins(lambda u=url: login_ours(browser, u, "dev"), None, n)
                runs[label] = run_logins(
                    lambda u=url: login_ours(browser, u, "standalone"), standalone.server, n
                )
                floors[f"streamlit run app.py, {name}: GET /auth/me (401)"] = time_calls(
                    lambda u=url: browser.get(f"{u}/auth/me"), 20, warmup=2
                )
                reruns[f"streamlit run app.py, {name}"] = Stats(tuple(time_reruns(url, max(10, n // 2))))
                if nodelay:
                    for concurrency, each in ((1, 2 * n), (16, max(2, n // 4))):
                        progress(f"`streamlit run app.py`: logins/s with {concurrency} client(s)")
                        throughput[f"{concurrency} client(s)"] = logins_per_second(
                            lambda b, u=url: login_ours(b, u, "standalone"), concurrency, each
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

    storage.print_lookups(lookups, session)
    print("\n2. Full login round trip, our routes, devidp mounted at /idp (as app.py composes it)")
    print_run("ours, uvicorn in-process", mounted)
    print_run("ours, `streamlit run app.py`, fix", runs["fixed mounted"])
    print_run("ours, `streamlit run app.py`, Nagle on", runs["stock mounted"])
    print("\n3. Same provider for all: one standalone devidp on loopback")
    print_run("ours, uvicorn in-process", ours)
    print_run("ours, `streamlit run app.py`, fix", runs["fixed"])
    print_run("ours, `streamlit run app.py`, Nagle on", runs["stock"])
    print_run("st.login, `streamlit run`", native)
    st_p50 = statistics.median(native.warm)
    for label, run in (("in-process", ours), ("`streamlit run`, fix", runs["fixed"])):
        p50 = statistics.median(run.warm)
        print(
            f"  target: ours {label} p50 <= st.login p50 / 10 = {st_p50 / 10:.1f} ms: {p50:.1f} ms "
            f"({st_p50 / p50:.1f}x), {verdict(p50 <= st_p50 / 10)}"
        )
    print("  Logins per second, `streamlit run app.py` with the fix, standalone provider:")
    for label, result in throughput.items():
        print(result.row(label))
    print("\n4. Where a warm login's time goes (the provider's journal, duration_ms summed)")
    print_provider_share("ours, mounted provider, in-process", mounted)
    print_provider_share("ours, standalone provider, in-process", ours)
    print_provider_share("ours, standalone provider, `streamlit run app.py`, fix", runs["fixed"])
    print_provider_share("st.login, standalone provider", native)
    print("\n5. Nagle + delayed ACK: one keep-alive request with a JSON body, per server")
    for label, stats in floors.items():
        print(stats.row(label, 2))
    print("   A page rerun (the login page) over Streamlit's websocket, rerun_script to script_finished")
    for label, stats in reruns.items():
        print(stats.row(label, 1))
    print("\n6. ID-token validation vs its floor, and memory per 10,000 live sessions")
    for label, stats in token_costs.items():
        print(stats.row(label, 3))
    ratio = (
        token_costs["validate_id_token (every check)"].median
        / token_costs["one RS256 signature verification"].median
    )
    print(f"  validation / one RSA verification, medians: {ratio:.1f}x")
    storage.print_memory(per_session, memory)


if __name__ == "__main__":
    main()
