"""The blog post's Flask + Authlib recipe as the attack notebooks' naive client, with one
check left out at a time.

``recipe_app`` is the recipe as notebook 01 made it run (``access_token_url``, ``jwks_uri``),
with what an attack needs to be visible: the user kept in the session, a ``/me`` page, a
logout, ``next=``, and more than one provider on one shared callback (as the recipe's pattern
invites). Authlib's ``authorize_access_token()`` and ``parse_id_token()`` are written out into
their steps, so that ``removed`` can leave exactly one of them out (``REMOVABLE``); with
``removed=None`` the callback calls Authlib's own ``parse_id_token``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from authlib.oidc.core import CodeIDToken
from flask import Flask, Response, jsonify, redirect, request, session, url_for
from flask.sessions import SessionInterface, SessionMixin
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import JWSRegistry
from werkzeug.datastructures import CallbackDict

from streamlit_authlib_login._core.flow import safe_next

# Each: the one line of the recipe that changes. Nothing else does.
REMOVABLE: dict[str, str] = {
    "state": "the callback goes on when its `state` is not one this browser's session started "
    "(`get_state_data(...) or {}` instead of Authlib's MismatchingStateError)",
    "nonce": "the ID token's `nonce` is not compared with the login's (`nonce=None`, as the blog's "
    "`parse_id_token(token)` ran on the Authlib of its day)",
    "azp": "Authlib's `azp` rule is skipped (in Authlib 1.9 the only place an ID token's `aud` "
    "is compared with the client id)",
    "alg": "`parse_id_token` replaced by a decoder that verifies with whatever algorithm the "
    "token's header names, as JWT libraries did before RFC 8725",
    "next": "`next` is redirected to as given, with no same-origin check",
    "session_id": "the session keeps its id across the login (no `session.regenerate()`)",
}


@dataclass(frozen=True)
class Registration:
    """The recipe's client at one provider (a dev provider's base URL)."""

    url: str
    client_id: str = "demo-web"
    client_secret: str = "demo-web-secret"  # a public demo value


class _WithoutAzp(CodeIDToken):
    def validate_azp(self) -> None:  # the one check left out
        return None


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def hmac_key(keys: KeySet) -> bytes:
    """What an HS256 check keyed with "the provider's key" uses: its public key, as PEM."""
    key = next(k for k in keys if isinstance(k, RSAKey))
    return key.as_pem(private=False)


def trusting_header_alg(id_token: str, keys: KeySet) -> tuple[dict[str, object], dict[str, object]]:
    """Verify ``id_token`` with the algorithm its own header names: ``none`` needs no signature,
    ``HS256`` is keyed with the provider's public key. What node-jsonwebtoken before 4.2.2
    (CVE-2015-9235) and PyJWT before 1.5.1 (CVE-2017-11424) let through; RFC 8725 §2.1, §3.1."""
    head, body, signature = id_token.split(".")
    header, claims = json.loads(_b64decode(head)), json.loads(_b64decode(body))
    alg = str(header.get("alg"))
    if alg == "none":
        valid = signature == ""
    elif alg == "HS256":
        mac = hmac.new(hmac_key(keys), f"{head}.{body}".encode(), hashlib.sha256).digest()
        valid = hmac.compare_digest(base64.urlsafe_b64encode(mac).rstrip(b"="), signature.encode())
    else:
        jws.deserialize_compact(id_token, keys, algorithms=[alg])
        valid = True
    if not valid:
        raise BadSignatureError()
    return header, claims


class _ServerSession(CallbackDict[str, object], SessionMixin):
    def __init__(self, data: Mapping[str, object], sid: str) -> None:
        super().__init__(data)
        self.sid = sid

    def regenerate(self) -> None:
        self.sid = secrets.token_urlsafe(16)


class ServerSideSessions(SessionInterface):
    """Sessions on the server under an id the cookie carries, as Flask-Session keeps them."""

    def __init__(self) -> None:
        self.store: dict[str, dict[str, object]] = {}

    def open_session(self, app: Flask, request: object) -> _ServerSession:
        sid = getattr(request, "cookies", {}).get(self.get_cookie_name(app)) or secrets.token_urlsafe(16)
        return _ServerSession(self.store.get(sid, {}), sid)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, _ServerSession)
        self.store[session.sid] = dict(session)
        response.set_cookie(self.get_cookie_name(app), session.sid, httponly=True)


def recipe_app(
    providers: Mapping[str, Registration],
    *,
    removed: str | None = None,
    pkce: bool = False,
    server_side_sessions: bool = False,
) -> Flask:
    """The recipe, logging in with ``providers`` (the first one at ``/login``), ``removed``
    one of ``REMOVABLE``'s checks. ``pkce``: notebook 01's fix. Exceptions reach the caller."""
    if removed is not None and removed not in REMOVABLE:
        raise ValueError(f"removed must be one of {sorted(REMOVABLE)}")
    app = Flask("recipe")
    app.secret_key = "your_secret_key"  # as in the blog
    app.testing = True
    if server_side_sessions:
        app.session_interface = ServerSideSessions()
    oauth = OAuth(app)
    for name, at in providers.items():
        oauth.register(
            name,
            client_id=at.client_id,
            client_secret=at.client_secret,
            authorize_url=f"{at.url}/authorize",
            access_token_url=f"{at.url}/token",
            jwks_uri=f"{at.url}/jwks.json",
            client_kwargs={
                "scope": "openid email profile",
                **({"code_challenge_method": "S256"} if pkce else {}),
            },
        )

    @app.route("/login", defaults={"name": next(iter(providers))})
    @app.route("/login/<name>")
    def login(name: str) -> Response:
        session["provider"], session["next"] = name, request.args.get("next", "/")
        return oauth.create_client(name).authorize_redirect(url_for("authorize", _external=True))

    @app.route("/authorize")
    def authorize() -> Response:
        client = oauth.create_client(str(session.get("provider", next(iter(providers)))))
        state = request.args.get("state")
        data = client.framework.get_state_data(session, state)
        if data is None and removed != "state":
            raise MismatchingStateError()  # Authlib: this browser did not start this login
        data = data or {"redirect_uri": url_for("authorize", _external=True)}
        client.framework.clear_state_data(session, state)
        token = client.fetch_access_token(
            code=request.args["code"],
            redirect_uri=data["redirect_uri"],
            **({"code_verifier": data["code_verifier"]} if data.get("code_verifier") else {}),
        )
        session["user"] = _id_token(client, token, data.get("nonce"), removed)
        if removed != "session_id" and isinstance(session, _ServerSession):
            app.session_interface.store.pop(session.sid, None)  # type: ignore[attr-defined]
            session.regenerate()
        target = str(session.pop("next", "/"))
        return redirect(target if removed == "next" else safe_next(target))

    @app.route("/me")
    def me() -> Response:
        return jsonify(session.get("user"))

    @app.route("/logout")
    def logout() -> Response:
        session.pop("user", None)  # the cookie the browser had is still valid: nothing to revoke
        return redirect("/")

    return app


def _id_token(
    client: FlaskOAuth2App, token: dict[str, object], nonce: str | None, removed: str | None
) -> dict[str, object]:
    """``parse_id_token(token, nonce)``; for a removed ID-token check, its steps in Authlib 1.9's
    order (authlib/integrations/base_client/sync_openid.py), that one left out."""
    if removed not in ("nonce", "azp", "alg"):
        return dict(client.parse_id_token(token, nonce=nonce))
    keys = KeySet.import_key_set(client.fetch_jwk_set())
    id_token = str(token["id_token"])
    if removed == "alg":
        header, claims = trusting_header_alg(id_token, keys)
    else:
        decoded = jwt.decode(id_token, keys, registry=JWSRegistry(strict_check_header=False))
        header, claims = dict(decoded.header), dict(decoded.claims)
    params = {
        "nonce": None if removed == "nonce" else nonce,
        "client_id": client.client_id,
        "access_token": token["access_token"],
    }
    checks = _WithoutAzp if removed == "azp" else CodeIDToken
    checks(claims, header, None, params).validate(leeway=120)
    return claims
