"""The OAuth 2.0-only flavours end to end, as an app talks to the real ones: GitHub,
Facebook, Discord, Naver and Strava (devidp/flavors/github.py, facebook.py, discord.py, naver.py,
strava.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from relying_party import pkce_pair, query_of

import devidp
from devidp import Client, RunningProvider
from devidp.flavors import FLAVORS, emulated_url
from devidp.personas import BY_USERNAME

APP = "oauth-app"
SECRET = "oauth-app-secret"
CALLBACK = "http://127.0.0.1:8501/auth/callback/{}"


@pytest.fixture(scope="module")
def provider() -> Iterator[RunningProvider]:
    """A provider of this module's own, with the app registered for every flavour's callback."""
    with devidp.serve() as running:
        callbacks = tuple(CALLBACK.format(name) for name in FLAVORS)
        running.server.register_client(
            Client(client_id=APP, client_secret=SECRET, name="OAuth test app", redirect_uris=callbacks)
        )
        yield running


def twin(provider: RunningProvider, flavor: str, real_url: str) -> str:
    return emulated_url(real_url, provider.url, flavor)


def authorized(
    provider: RunningProvider, flavor: str, url: str, persona: str, **params: str
) -> tuple[str, str]:
    """Send the browser to ``url`` with login_hint; the code and the PKCE verifier that goes with it."""
    verifier, challenge = pkce_pair()
    response = httpx2.get(
        twin(provider, flavor, url),
        params={
            "client_id": APP,
            "redirect_uri": CALLBACK.format(flavor),
            "state": "st-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": persona,
        }
        | params,
    )
    assert response.status_code == 302, response.text
    answer = query_of(response.headers["location"])
    assert answer["state"] == "st-1"
    assert "iss" not in answer
    return answer["code"], verifier


def app(flavor: str, scope: str, **kwargs: str) -> OAuth2Client:
    """Authlib's httpx client as the app, the way a generic relying party is set up."""
    return OAuth2Client(
        APP,
        SECRET,
        redirect_uri=CALLBACK.format(flavor),
        scope=scope,
        code_challenge_method="S256",
        **kwargs,
    )


# --- GitHub ---------------------------------------------------------------------------------------

GITHUB_AUTHORIZE = "https://github.com/login/oauth/authorize"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"


def github_token(provider: RunningProvider, persona: str, scope: str = "read:user user:email") -> str:
    code, verifier = authorized(provider, "github", GITHUB_AUTHORIZE, persona, scope=scope)
    response = httpx2.post(
        twin(provider, "github", GITHUB_TOKEN),
        data={"client_id": APP, "client_secret": SECRET, "code": code, "code_verifier": verifier},
        headers={"Accept": "application/json"},
    )
    return str(response.json()["access_token"])


def github_api(provider: RunningProvider, path: str, token: str, scheme: str = "Bearer") -> httpx2.Response:
    return httpx2.get(
        twin(provider, "github", f"https://api.github.com{path}"),
        headers={"Authorization": f"{scheme} {token}"},
    )


def test_github_login_with_authlib(provider):
    """Authlib's client (which sends Accept: application/json) logs in and reads /user."""
    with app("github", "read:user user:email") as client:
        url, state = client.create_authorization_url(
            twin(provider, "github", GITHUB_AUTHORIZE),
            code_verifier=(verifier := pkce_pair()[0]),
            login_hint="alice",
        )
        location = httpx2.get(url).headers["location"]
        token = client.fetch_token(
            twin(provider, "github", GITHUB_TOKEN), authorization_response=location, code_verifier=verifier
        )
        user = client.get(twin(provider, "github", "https://api.github.com/user")).json()
    assert query_of(location)["state"] == state
    assert token["access_token"].startswith("gho_")
    assert token["token_type"] == "bearer"
    assert token["scope"] == "read:user,user:email"
    assert "refresh_token" not in token
    assert "id_token" not in token
    assert user["login"] == "alice-anderson"
    assert isinstance(user["id"], int)
    assert user["node_id"].startswith("U_")
    assert user["email"] == "alice@example.com"
    assert httpx2.get(user["avatar_url"]).headers["content-type"] == "image/svg+xml"


def test_github_token_response_is_form_encoded_without_the_accept_header(provider):
    """Without Accept: application/json GitHub answers access_token=...&scope=...&token_type=bearer."""
    code, verifier = authorized(provider, "github", GITHUB_AUTHORIZE, "bob", scope="read:user")
    response = httpx2.post(
        twin(provider, "github", GITHUB_TOKEN),
        data={"client_id": APP, "client_secret": SECRET, "code": code, "code_verifier": verifier},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert [k for k, _ in parse_qsl(response.text)] == ["access_token", "scope", "token_type"]
    assert dict(parse_qsl(response.text))["token_type"] == "bearer"


def test_github_token_errors_come_back_with_http_200(provider):
    """A bad code and bad client credentials are HTTP 200 with error, error_description and error_uri."""
    url = twin(provider, "github", GITHUB_TOKEN)
    bad_code = httpx2.post(url, data={"client_id": APP, "client_secret": SECRET, "code": "nope"})
    assert bad_code.status_code == 200
    error = dict(parse_qsl(bad_code.text))
    assert error["error"] == "bad_verification_code"
    assert error.keys() == {"error", "error_description", "error_uri"}

    code, verifier = authorized(provider, "github", GITHUB_AUTHORIZE, "alice")
    bad_secret = httpx2.post(
        url,
        data={"client_id": APP, "client_secret": "wrong", "code": code, "code_verifier": verifier},
        headers={"Accept": "application/json"},
    )
    assert bad_secret.status_code == 200
    assert bad_secret.json()["error"] == "incorrect_client_credentials"


def test_github_user_needs_a_token_in_either_scheme(provider):
    """/user takes "Bearer" and GitHub's own "token" scheme; without a token: 401 Requires authentication."""
    token = github_token(provider, "alice")
    assert github_api(provider, "/user", token, "token").json()["login"] == "alice-anderson"
    anonymous = httpx2.get(twin(provider, "github", "https://api.github.com/user"))
    assert anonymous.status_code == 401
    assert anonymous.json()["message"] == "Requires authentication"


def test_github_private_email_is_only_in_user_emails(provider):
    """jiwoo's email is private: null on /user, primary and verified in /user/emails."""
    token = github_token(provider, "jiwoo")
    assert github_api(provider, "/user", token).json()["email"] is None
    assert github_api(provider, "/user/emails", token).json() == [
        {"email": "jiwoo@example.kr", "primary": True, "verified": True, "visibility": "private"}
    ]


@pytest.mark.parametrize(("persona", "emails"), [("bob", [False]), ("noemail", [])])
def test_github_people_without_a_verified_email(provider, persona, emails):
    """bob's only email is unverified; casey has none at all (and no name either)."""
    token = github_token(provider, persona)
    user = github_api(provider, "/user", token).json()
    assert user["email"] is None
    assert [e["verified"] for e in github_api(provider, "/user/emails", token).json()] == emails
    assert (user["name"] is None) == (persona == "noemail")


def test_github_user_emails_needs_the_user_email_scope(provider):
    """Without user:email, /user/emails is a 404 Not Found."""
    token = github_token(provider, "alice", scope="read:user")
    response = github_api(provider, "/user/emails", token)
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert github_api(provider, "/user", token).headers["x-oauth-scopes"] == "read:user"


# --- Facebook -------------------------------------------------------------------------------------

FACEBOOK_DIALOG = "https://www.facebook.com/v21.0/dialog/oauth"
FACEBOOK_TOKEN = "https://graph.facebook.com/v21.0/oauth/access_token"
FACEBOOK_ME = "https://graph.facebook.com/v21.0/me"


def facebook_token(provider: RunningProvider, persona: str, scope: str = "email,public_profile") -> str:
    code, verifier = authorized(provider, "facebook", FACEBOOK_DIALOG, persona, scope=scope)
    response = httpx2.get(
        twin(provider, "facebook", FACEBOOK_TOKEN),
        params={
            "client_id": APP,
            "client_secret": SECRET,
            "redirect_uri": CALLBACK.format("facebook"),
            "code": code,
            "code_verifier": verifier,
        },
    )
    body = response.json()
    assert body.keys() == {"access_token", "token_type", "expires_in"}
    return str(body["access_token"])


def test_facebook_login_with_authlib_and_graph_me(provider):
    """Authlib's client logs in (POST to the token endpoint) and reads /me?fields=id,name,email,picture."""
    with app("facebook", "email public_profile", token_endpoint_auth_method="client_secret_post") as client:
        verifier = pkce_pair()[0]
        url, _ = client.create_authorization_url(
            twin(provider, "facebook", FACEBOOK_DIALOG), code_verifier=verifier, login_hint="alice"
        )
        location = httpx2.get(url).headers["location"]
        seen_by_the_app = location.split("#")[0]  # browsers keep the fragment to themselves
        client.fetch_token(
            twin(provider, "facebook", FACEBOOK_TOKEN),
            authorization_response=seen_by_the_app,
            code_verifier=verifier,
        )
        me = client.get(
            twin(provider, "facebook", FACEBOOK_ME), params={"fields": "id,name,email,picture"}
        ).json()
    assert location.endswith("#_=_")
    assert me["name"] == "Alice Anderson"
    assert me["email"] == "alice@example.com"
    assert me["id"].isdigit()
    assert me["picture"]["data"]["url"].startswith(f"{provider.url}/flavors/facebook/")
    assert httpx2.get(me["picture"]["data"]["url"]).status_code == 200


def test_facebook_me_answers_id_and_name_unless_asked_for_fields(provider):
    """/me without fields has id and name only; the token may come as ?access_token=."""
    token = facebook_token(provider, "alice")
    me = httpx2.get(twin(provider, "facebook", FACEBOOK_ME), params={"access_token": token}).json()
    assert me.keys() == {"id", "name"}


@pytest.mark.parametrize(
    ("persona", "scope"), [("bob", "email,public_profile"), ("noemail", "email"), ("alice", "public_profile")]
)
def test_facebook_email_is_missing(provider, persona, scope):
    """No email field when it is unconfirmed (bob), absent (casey) or the app did not get `email`."""
    token = facebook_token(provider, persona, scope)
    me = httpx2.get(
        twin(provider, "facebook", FACEBOOK_ME), params={"access_token": token, "fields": "id,name,email"}
    ).json()
    assert "email" not in me
    assert me.keys() == {"id", "name"}


def test_facebook_errors_are_oauth_exceptions(provider):
    """A bad code, a missing token and an unknown field each get {"error": {"type": "OAuthException"}}."""
    bad_code = httpx2.get(
        twin(provider, "facebook", FACEBOOK_TOKEN),
        params={
            "client_id": APP,
            "client_secret": SECRET,
            "redirect_uri": CALLBACK.format("facebook"),
            "code": "x",
        },
    )
    no_token = httpx2.get(twin(provider, "facebook", FACEBOOK_ME))
    token = facebook_token(provider, "alice")
    unknown = httpx2.get(
        twin(provider, "facebook", FACEBOOK_ME), params={"access_token": token, "fields": "id,birthday"}
    )
    for response, code in ((bad_code, 100), (no_token, 2500), (unknown, 100)):
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["type"] == "OAuthException"
        assert error["code"] == code
        assert error["message"]


# --- Discord --------------------------------------------------------------------------------------

DISCORD_AUTHORIZE = "https://discord.com/oauth2/authorize"
DISCORD_TOKEN = "https://discord.com/api/oauth2/token"
DISCORD_ME = "https://discord.com/api/users/@me"


@pytest.mark.parametrize(("persona", "scope"), [("jiwoo", "identify email"), ("noemail", "identify email")])
def test_discord_login_and_users_me(provider, persona, scope):
    """A snowflake id as a string, username, global_name, avatar hash (or null), email and verified."""
    with app("discord", scope) as client:
        verifier = pkce_pair()[0]
        url, _ = client.create_authorization_url(
            twin(provider, "discord", DISCORD_AUTHORIZE), code_verifier=verifier, login_hint=persona
        )
        location = httpx2.get(url).headers["location"]
        token = client.fetch_token(
            twin(provider, "discord", DISCORD_TOKEN), authorization_response=location, code_verifier=verifier
        )
        me = client.get(twin(provider, "discord", DISCORD_ME)).json()
    assert token["scope"] == "identify email"
    assert token["expires_in"] == 604800
    assert "refresh_token" in token
    assert me["id"].isdigit() and len(me["id"]) >= 17
    assert me["username"] == persona
    assert me["discriminator"] == "0"
    assert me["global_name"] == BY_USERNAME[persona].given_name
    if persona == "jiwoo":
        assert me["email"] == "jiwoo@example.kr"
        assert me["verified"] is True
        assert me["locale"] == "ko"
        assert len(me["avatar"]) == 32
    else:
        assert me["email"] is None
        assert me["verified"] is False
        assert me["avatar"] is None


def test_discord_email_needs_the_email_scope(provider):
    """With identify alone, /users/@me has neither email nor verified; without a token: 401."""
    code, verifier = authorized(
        provider, "discord", DISCORD_AUTHORIZE, "alice", scope="identify", response_type="code"
    )
    token = httpx2.post(
        twin(provider, "discord", DISCORD_TOKEN),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK.format("discord"),
            "code_verifier": verifier,
        },
        auth=(APP, SECRET),
    ).json()["access_token"]
    me = httpx2.get(
        twin(provider, "discord", DISCORD_ME), headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert "email" not in me and "verified" not in me
    unauthorized = httpx2.get(twin(provider, "discord", DISCORD_ME))
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"message": "401: Unauthorized", "code": 0}


# --- Naver ----------------------------------------------------------------------------------------

NAVER_AUTHORIZE = "https://nid.naver.com/oauth2.0/authorize"
NAVER_TOKEN = "https://nid.naver.com/oauth2.0/token"
NAVER_ME = "https://openapi.naver.com/v1/nid/me"


def test_naver_requires_state(provider):
    """Without state Naver refuses the request outright, on an error page naming Naver."""
    response = httpx2.get(
        twin(provider, "naver", NAVER_AUTHORIZE),
        params={"response_type": "code", "client_id": APP, "redirect_uri": CALLBACK.format("naver")},
    )
    assert response.status_code == 400
    assert "Emulating Naver" in response.text
    assert "state is required" in response.text


def test_naver_login_and_profile_envelope(provider):
    """The token comes from a GET with query parameters (expires_in a string), the profile in an envelope."""
    code, verifier = authorized(provider, "naver", NAVER_AUTHORIZE, "jiwoo", response_type="code")
    token = httpx2.get(
        twin(provider, "naver", NAVER_TOKEN),
        params={
            "grant_type": "authorization_code",
            "client_id": APP,
            "client_secret": SECRET,
            "code": code,
            "state": "st-1",
            "code_verifier": verifier,
        },
    ).json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == "3600"
    assert "refresh_token" in token
    profile = httpx2.get(
        twin(provider, "naver", NAVER_ME), headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert profile["resultcode"] == "00"
    assert profile["message"] == "success"
    assert profile["response"]["email"] == "jiwoo@example.kr"
    assert profile["response"]["name"] == "김지우"
    assert {"id", "nickname", "profile_image"} <= profile["response"].keys()


def test_naver_errors(provider):
    """A bad code is an HTTP 200 with error; the profile without a valid token is resultcode 024."""
    bad_code = httpx2.post(
        twin(provider, "naver", NAVER_TOKEN),
        data={"grant_type": "authorization_code", "client_id": APP, "client_secret": SECRET, "code": "x"},
    )
    assert bad_code.status_code == 200
    assert bad_code.json()["error"] == "invalid_request"
    assert "error_description" in bad_code.json()
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = httpx2.get(twin(provider, "naver", NAVER_ME), headers=headers)
        assert response.status_code == 401
        assert response.json()["resultcode"] == "024"


def test_naver_delete_grant_revokes_the_token(provider):
    """grant_type=delete answers result=success, and the token no longer reads the profile."""
    code, verifier = authorized(provider, "naver", NAVER_AUTHORIZE, "alice", response_type="code")
    token = httpx2.post(
        twin(provider, "naver", NAVER_TOKEN),
        data={
            "grant_type": "authorization_code",
            "client_id": APP,
            "client_secret": SECRET,
            "code": code,
            "code_verifier": verifier,
        },
    ).json()["access_token"]
    deleted = httpx2.post(
        twin(provider, "naver", NAVER_TOKEN),
        data={
            "grant_type": "delete",
            "client_id": APP,
            "client_secret": SECRET,
            "access_token": token,
            "service_provider": "NAVER",
        },
    )
    assert deleted.json() == {"access_token": token, "result": "success"}
    profile = httpx2.get(twin(provider, "naver", NAVER_ME), headers={"Authorization": f"Bearer {token}"})
    assert profile.json()["resultcode"] == "024"


# --- Strava ---------------------------------------------------------------------------------------

STRAVA_AUTHORIZE = "https://www.strava.com/oauth/authorize"
STRAVA_TOKEN = "https://www.strava.com/oauth/token"
STRAVA_ATHLETE = "https://www.strava.com/api/v3/athlete"


def strava_redirect(provider: RunningProvider, persona: str, scope: str, **params: str) -> dict[str, str]:
    """The authorization response's parameters, as Strava sends the browser back."""
    response = httpx2.get(
        twin(provider, "strava", STRAVA_AUTHORIZE),
        params={"client_id": APP, "redirect_uri": CALLBACK.format("strava"), "response_type": "code",
                "scope": scope, "login_hint": persona} | params,
    )  # fmt: skip
    assert response.status_code == 302, response.text
    return dict(parse_qsl(urlsplit(response.headers["location"]).query, keep_blank_values=True))


def strava_tokens(
    provider: RunningProvider, code: str, url: str = STRAVA_TOKEN, **form: str
) -> httpx2.Response:
    """Strava's documented token request: the credentials as form fields, no redirect_uri."""
    data = {"client_id": APP, "client_secret": SECRET, "code": code, "grant_type": "authorization_code"}
    return httpx2.post(twin(provider, "strava", url), data=data | form)


def test_strava_login_athlete_in_the_token_response_and_from_api_v3(provider):
    """The code (with PKCE) at /api/v3/oauth/token: Strava's fields, the summary athlete; then the
    detailed athlete from /api/v3/athlete with profile:read_all; a refresh carries no athlete."""
    verifier, challenge = pkce_pair()
    answer = strava_redirect(
        provider, "alice", "read,profile:read_all", state="st-1", code_challenge=challenge,
        code_challenge_method="S256",
    )  # fmt: skip
    assert answer["state"] == "st-1" and answer["scope"] == "read,profile:read_all"
    response = strava_tokens(
        provider, answer["code"], "https://www.strava.com/api/v3/oauth/token", code_verifier=verifier
    )
    assert response.status_code == 200, response.text
    token = response.json()
    assert list(token) == [
        "token_type",
        "expires_at",
        "expires_in",
        "refresh_token",
        "access_token",
        "athlete",
    ]
    assert token["token_type"] == "Bearer" and token["expires_in"] == 21600
    assert abs(token["expires_at"] - (time.time() + 21600)) < 60
    athlete = token["athlete"]
    alice = BY_USERNAME["alice"]
    assert isinstance(athlete["id"], int) and athlete["resource_state"] == 2
    assert (athlete["firstname"], athlete["lastname"]) == (alice.given_name, alice.family_name)
    assert "email" not in json.dumps(token)  # Strava releases no email, to anyone
    assert httpx2.get(athlete["profile"]).headers["content-type"] == "image/svg+xml"
    detailed = httpx2.get(
        twin(provider, "strava", STRAVA_ATHLETE), headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert detailed["id"] == athlete["id"] and detailed["resource_state"] == 3 and "email" not in detailed
    refreshed = httpx2.post(
        twin(provider, "strava", STRAVA_TOKEN),
        data={"client_id": APP, "client_secret": SECRET, "grant_type": "refresh_token",
              "refresh_token": token["refresh_token"]},
    ).json()  # fmt: skip
    assert "athlete" not in refreshed and refreshed["refresh_token"] == token["refresh_token"]


def test_strava_sends_state_back_always_and_granted_scopes_with_commas(provider):
    """No state sent: `state=` comes back empty; space-separated scopes come back comma-separated;
    a summary athlete without profile:read_all; no picture: Strava's relative placeholder."""
    answer = strava_redirect(provider, "noemail", "read activity:read")
    assert answer["state"] == "" and answer["scope"] == "read,activity:read"
    token = strava_tokens(provider, answer["code"]).json()
    athlete = httpx2.get(
        twin(provider, "strava", STRAVA_ATHLETE), headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert athlete["resource_state"] == 2 and athlete["username"] is None
    assert athlete["profile"] == "avatar/athlete/large.png"


@pytest.mark.parametrize(
    ("form", "basic", "status", "error"),
    [
        ({"client_id": None, "client_secret": None}, True, 400,
         {"resource": "Application", "field": "client_id", "code": "invalid"}),
        ({"client_secret": "wrong"}, False, 401, {"resource": "Application", "field": "", "code": "invalid"}),
        ({"code": "not-a-code"}, False, 400,
         {"resource": "AuthorizationCode", "field": "code", "code": "invalid"}),
    ],
    ids=["basic-only", "wrong-secret", "bad-code"],
)  # fmt: skip
def test_strava_token_errors_are_its_faults(provider, form, basic, status, error):
    """Credentials in the Authorization header count for nothing; a known client with a wrong
    secret is a 401; a bad code a 400: each as Strava's {"message", "errors": [...]}."""
    answer = strava_redirect(provider, "bob", "read")
    data = {
        "client_id": APP,
        "client_secret": SECRET,
        "code": answer["code"],
        "grant_type": "authorization_code",
    }
    data = {k: v for k, v in (data | form).items() if v is not None}
    response = httpx2.post(
        twin(provider, "strava", STRAVA_TOKEN), data=data, auth=(APP, SECRET) if basic else None
    )
    assert response.status_code == status
    body = response.json()
    assert body["message"] == ("Authorization Error" if status == 401 else "Bad Request")
    assert body["errors"] == [error]


def test_strava_api_refuses_a_missing_token_as_a_fault(provider):
    response = httpx2.get(twin(provider, "strava", STRAVA_ATHLETE))
    assert response.status_code == 401
    assert response.json() == {
        "message": "Authorization Error",
        "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}],
    }
