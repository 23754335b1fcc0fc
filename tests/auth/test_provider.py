"""One provider as the app talks to it: discovery checks, metadata and JWKS caches, bounded time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx2
import pytest
from login_harness import BuildApp, HungProvider, LoginApp, dev_config, free_port, query_of, set_cookies
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route

from devidp import Client, DevAuthorizationServer
from streamlit_authlib_login._core.config import HttpSettings, ProviderSettings
from streamlit_authlib_login._core.errors import DiscoveryError, ProviderUnreachable
from streamlit_authlib_login._core.provider import ProviderClient, expected_issuer

StartHung = Callable[..., HungProvider]
DISCOVERY = "/.well-known/openid-configuration"


def settings(name: str, metadata_url: str) -> ProviderSettings:
    return ProviderSettings(
        name=name, client_id="app", client_secret="secret", server_metadata_url=metadata_url
    )


def document(issuer: str) -> dict[str, object]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }


def provider_app(answer: Callable[[Request], Response]) -> Starlette:
    async def endpoint(request: Request) -> Response:
        return answer(request)

    return Starlette(routes=[Route(DISCOVERY, endpoint)])


async def fetch_metadata(
    app: Starlette, base: str = "https://op.test", timeout: float = 5.0
) -> dict[str, object]:
    client = ProviderClient(
        settings("op", base + DISCOVERY),
        base + DISCOVERY,
        HttpSettings(timeout=timeout),
        transport=httpx2.ASGITransport(app=app),
    )
    try:
        return await client.metadata()
    finally:
        await client.aclose()


# --- discovery --------------------------------------------------------------------------------
async def test_discovery_vouching_for_another_issuer_is_refused() -> None:
    """A discovery document whose issuer is not the URL it came from is a DiscoveryError."""
    liar = provider_app(lambda _: JSONResponse(document("https://accounts.example.com")))
    with pytest.raises(DiscoveryError) as caught:
        await fetch_metadata(liar, "https://op.test")
    assert "'https://accounts.example.com'" in caught.value.description
    assert "'https://op.test'" in caught.value.description
    assert "OIDC Discovery §4.3" in caught.value.description


async def test_discovery_issuer_with_a_terminating_slash_is_that_prefix() -> None:
    """OIDC Discovery §4.1 drops an issuer's terminating "/" to build the URL (Auth0 issuers end in "/")."""
    auth0_like = provider_app(lambda _: JSONResponse(document("https://op.test/")))
    assert (await fetch_metadata(auth0_like, "https://op.test"))["issuer"] == "https://op.test/"


async def test_discovery_naming_a_longer_or_other_path_is_refused() -> None:
    """Anything but the prefix itself (with or without its "/") is another issuer."""
    for other in ("https://op.test/tenant", "https://op.test//", "https://op.test.evil"):
        liar = provider_app(lambda _, other=other: JSONResponse(document(other)))
        with pytest.raises(DiscoveryError):
            await fetch_metadata(liar, "https://op.test")


async def test_honest_discovery_is_accepted_and_cached() -> None:
    """A document naming its own URL's issuer is accepted."""
    honest = provider_app(lambda _: JSONResponse(document("https://op.test")))
    assert (await fetch_metadata(honest))["token_endpoint"] == "https://op.test/token"


async def test_discovery_without_a_jwks_uri_is_refused() -> None:
    """A document missing a required endpoint cannot be used to verify anything."""
    incomplete = {k: v for k, v in document("https://op.test").items() if k != "jwks_uri"}
    with pytest.raises(DiscoveryError, match="jwks_uri"):
        await fetch_metadata(provider_app(lambda _: JSONResponse(incomplete)))


@pytest.mark.parametrize(
    ("response", "words"),
    [
        (PlainTextResponse("down", status_code=503), "answered HTTP 503"),
        (PlainTextResponse("<html>hi</html>"), "is not JSON"),
        (JSONResponse(["a", "list"]), "not a JSON object"),
    ],
    ids=["503", "html", "json-list"],
)
async def test_failing_discovery_is_provider_unreachable(response: Response, words: str) -> None:
    """A provider answering garbage is a clean ProviderUnreachable, naming what went wrong."""
    with pytest.raises(ProviderUnreachable, match=words):
        await fetch_metadata(provider_app(lambda _: response))


async def test_lying_discovery_ends_on_the_login_page(build_app: BuildApp) -> None:
    """Through the routes: a login with an untrusted discovery document lands on the login page."""
    liar = provider_app(lambda _: JSONResponse(document("http://localhost/idp")))
    app = build_app(
        config=dev_config(providers=[settings("liar", "http://localhost/liar" + DISCOVERY)]),
        extra_routes=[Mount("/liar", app=liar)],
    )
    browser = app.browser()
    response = await browser.get("/auth/login/liar")
    assert response.status_code == 303
    # Nothing is stored for a refused start (anyone can make one): the log line has the details.
    record = app.refusal(response.headers["location"], browser)
    assert record is not None and record["error"] == "discovery_untrusted"


@pytest.mark.parametrize(
    ("url", "issuer"),
    [
        ("https://op.example.com/.well-known/openid-configuration", "https://op.example.com"),
        ("https://op.example.com/tenant/.well-known/openid-configuration", "https://op.example.com/tenant"),
        ("https://op.example.com/.well-known/oauth-authorization-server", "https://op.example.com"),
        (
            "https://op.example.com/.well-known/oauth-authorization-server/tenant",
            "https://op.example.com/tenant",
        ),
    ],
)
def test_expected_issuer_follows_the_discovery_url(url: str, issuer: str) -> None:
    """OIDC Discovery appends the well-known path; RFC 8414 §3.1 inserts it before the issuer's path."""
    assert expected_issuer(url) == issuer


async def test_login_through_the_rfc8414_metadata_url(
    build_app: BuildApp, shared_idp: DevAuthorizationServer
) -> None:
    """A provider configured by its RFC 8414 metadata URL (path inserted) logs in."""
    shared_idp.register_client(
        Client(
            client_id="as-app",
            client_secret="as-secret",
            name="as",
            redirect_uris=("http://localhost/auth/callback/as",),
        )
    )
    rfc8414 = ProviderSettings(
        name="as",
        client_id="as-app",
        client_secret="as-secret",
        server_metadata_url="http://localhost/.well-known/oauth-authorization-server/idp",
    )
    app = build_app(config=dev_config(providers=[rfc8414]))
    response = await app.login(app.browser(), provider="as")
    assert response.status_code == 302, response.headers["location"]


# --- caches -----------------------------------------------------------------------------------
async def test_metadata_and_jwks_are_fetched_once_for_many_logins(login_app: LoginApp) -> None:
    """Three logins share one discovery fetch and one JWKS fetch (st.login refetches every time)."""
    mark = login_app.mark()
    for _ in range(3):
        assert (await login_app.login(login_app.browser())).status_code == 302
    assert len(login_app.requests_since(mark, DISCOVERY)) == 1
    assert len(login_app.requests_since(mark, "/jwks.json")) == 1


async def test_metadata_expires_after_its_ttl(build_app: BuildApp) -> None:
    """With metadata_ttl=0 each login refetches discovery; stale metadata with stale JWKS doesn't deadlock."""
    app = build_app(config=dev_config(http=HttpSettings(metadata_ttl=0)))
    mark = app.mark()
    assert (await asyncio.wait_for(app.login(app.browser()), 5)).status_code == 302
    after_one = len(app.requests_since(mark, DISCOVERY))
    assert (await asyncio.wait_for(app.login(app.browser()), 5)).status_code == 302
    assert len(app.requests_since(mark, DISCOVERY)) > after_one >= 1


async def test_jwks_expires_after_its_ttl(build_app: BuildApp) -> None:
    """With jwks_ttl=0 every login fetches the JWKS again."""
    app = build_app(config=dev_config(http=HttpSettings(jwks_ttl=0)))
    mark = app.mark()
    for _ in range(2):
        assert (await app.login(app.browser())).status_code == 302
    assert len(app.requests_since(mark, "/jwks.json")) == 2


async def test_a_login_right_after_a_key_rotation_is_accepted(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """Login, rotate, log in again at once: the new kid refetches the JWKS once and the login passes,
    however fresh the cache (OpenID RP certification rp-key-rotation-op-sign-key)."""
    app = build_app(idp, config=dev_config(http=HttpSettings(jwks_refetch_interval=3600)))
    mark = app.mark()
    assert (await app.login(app.browser())).status_code == 302
    new_kid = await app.rotate_keys()
    response = await app.login(app.browser())
    assert response.status_code == 302, response.headers["location"]
    assert len(app.requests_since(mark, "/jwks.json")) == 2
    session = app.auth.sessions.load(set_cookies(response)["auth_session"].split("=", 1)[1].split(";")[0])
    assert session is not None and session.report is not None and session.report.header["kid"] == new_kid


async def test_logins_racing_after_a_rotation_share_one_refetch(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """Three logins finishing together after a rotation all pass, on one JWKS refetch between them."""
    app = build_app(idp, config=dev_config(http=HttpSettings(jwks_refetch_interval=3600)), latency=0.02)
    assert (await app.login(app.browser())).status_code == 302
    await app.rotate_keys()
    browsers = [app.browser() for _ in range(3)]
    callbacks = [await app.authorize(b, await app.start(b)) for b in browsers]
    mark = app.mark()
    responses = await asyncio.gather(*(b.get(url) for b, url in zip(browsers, callbacks, strict=True)))
    assert [r.status_code for r in responses] == [302, 302, 302], [r.headers["location"] for r in responses]
    assert len(app.requests_since(mark, "/jwks.json")) == 1


async def test_made_up_kids_refetch_at_most_once_per_interval(
    build_app: BuildApp, idp: DevAuthorizationServer
) -> None:
    """A burst of unknown kids refetches once; the next refetch waits for jwks_refetch_interval."""
    app = build_app(idp)
    now = [1_000_000.0]
    client = ProviderClient(
        app.auth.settings("dev"),
        app.base_url,
        HttpSettings(jwks_refetch_interval=1.0),
        transport=app.transport,
        clock=lambda: now[0],
    )
    mark = app.mark()
    await client.jwks()
    for _ in range(5):
        await client.jwks(kid="an-attackers-made-up-kid")
    assert len(app.requests_since(mark, "/jwks.json")) == 2  # the first fetch, one refetch
    now[0] += 0.5
    await client.jwks(kid="another-made-up-kid")
    assert len(app.requests_since(mark, "/jwks.json")) == 2
    now[0] += 0.5
    for _ in range(5):
        await client.jwks(kid="yet-another-kid")
    assert len(app.requests_since(mark, "/jwks.json")) == 3
    await client.jwks()  # known keys, fresh cache: no fetch at all
    assert len(app.requests_since(mark, "/jwks.json")) == 3
    await client.aclose()


async def test_one_pooled_client_per_provider(login_app: LoginApp) -> None:
    """The Authenticator keeps one client per provider (and, for the dev one, per app URL)."""
    dev = login_app.auth.settings("dev")
    assert login_app.auth.client(dev, "http://localhost") is login_app.auth.client(dev, "http://localhost")
    assert login_app.auth.client(dev, "http://localhost") is not login_app.auth.client(
        dev, "http://127.0.0.1"
    )


# --- bounded time ------------------------------------------------------------------------------
async def test_hung_discovery_times_out_quickly(hung_provider: StartHung) -> None:
    """A provider that never answers discovery gives ProviderUnreachable within the timeout."""
    hung = hung_provider(DISCOVERY)
    client = ProviderClient(
        settings("slow", hung.url + DISCOVERY), hung.url + DISCOVERY, HttpSettings(timeout=0.5)
    )
    started = time.monotonic()
    try:
        with pytest.raises(ProviderUnreachable, match="timed out"):
            await client.metadata()
    finally:
        await client.aclose()
    assert time.monotonic() - started < 2


async def test_unreachable_provider_fails_fast() -> None:
    """A provider whose port is closed gives ProviderUnreachable, not a hang."""
    url = f"http://127.0.0.1:{free_port()}{DISCOVERY}"
    client = ProviderClient(settings("gone", url), url, HttpSettings(timeout=0.5))
    try:
        with pytest.raises(ProviderUnreachable, match="cannot fetch"):
            await client.metadata()
    finally:
        await client.aclose()


async def test_login_with_a_hung_provider_lands_on_the_login_page(
    build_app: BuildApp, hung_provider: StartHung
) -> None:
    """GET /auth/login/slow answers a redirect to the login page within seconds, no 5xx, no traceback."""
    hung = hung_provider(DISCOVERY)
    app = build_app(
        config=dev_config(
            providers=[settings("slow", hung.url + DISCOVERY)], dev=False, http=HttpSettings(timeout=0.5)
        ),
        over_network=True,
    )
    started = time.monotonic()
    browser = app.browser()
    response = await browser.get("/auth/login/slow")
    assert time.monotonic() - started < 2
    assert response.status_code == 303
    assert "Traceback" not in response.text
    record = app.refusal(response.headers["location"], browser)
    assert record is not None and record["error"] == "provider_unreachable"


async def test_callback_with_a_hung_token_endpoint_lands_on_the_login_page(
    build_app: BuildApp, hung_provider: StartHung
) -> None:
    """A token endpoint that never answers ends the callback within seconds on the login page, no session."""
    hung = hung_provider("/token")
    app = build_app(
        config=dev_config(
            providers=[settings("slow", hung.url + DISCOVERY)], dev=False, http=HttpSettings(timeout=0.5)
        ),
        over_network=True,
    )
    browser = app.browser()
    state = query_of(await app.start(browser, provider="slow"))["state"]
    started = time.monotonic()
    response = await browser.get("/auth/callback/slow", params={"code": "c", "state": state})
    assert time.monotonic() - started < 2
    assert response.status_code == 303
    assert "auth_session" not in set_cookies(response)
    record = app.refusal(response.headers["location"], browser)
    assert record is not None and record["error"] == "provider_unreachable"
    assert "token request timed out" in str(record["description"])


def test_every_call_has_a_timeout() -> None:
    """The pooled client carries the configured timeout for connect, read, write and pool."""
    client = ProviderClient(
        settings("op", "https://op.test" + DISCOVERY),
        "https://op.test" + DISCOVERY,
        HttpSettings(timeout=1.5),
    )
    timeout = client.client.timeout
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (1.5, 1.5, 1.5, 1.5)
    assert HttpSettings().timeout <= 10


def test_apple_client_secret_is_a_fresh_es256_jwt() -> None:
    """Apple's client secret: ES256, kid = key id, iss = team, sub = client id, aud = Apple, short-lived."""
    from joserfc import jwt
    from joserfc.jwk import ECKey

    from streamlit_authlib_login._core.presets import PRESETS
    from streamlit_authlib_login._devmode import throwaway_apple_key

    key = throwaway_apple_key()
    apple = ProviderSettings(
        name="apple", client_id="com.example.web", client_secret=None, preset=PRESETS["apple"],
        server_metadata_url="https://appleid.apple.com/.well-known/openid-configuration", apple_key=key,
    )  # fmt: skip
    client = ProviderClient(apple, "", HttpSettings(), clock=lambda: 1_800_000_000)
    client.prepare_client_secret()
    token = jwt.decode(
        str(client.client.client_secret), ECKey.import_key(key.private_key), algorithms=["ES256"]
    )
    assert token.header["kid"] == key.key_id
    assert token.claims == {
        "iss": key.team_id, "sub": "com.example.web", "aud": "https://appleid.apple.com",
        "iat": 1_800_000_000, "exp": 1_800_003_600,
    }  # fmt: skip
    assert client.client.token_endpoint_auth_method == "client_secret_post"
