"""What ``[auth]`` and each provider table may hold, checked key by key: st.login's layout,
this module's own settings, and what st.login accepts that this module cannot honour (a
start-up error naming the key, never a setting silently ignored). ``load_config`` uses these.

A key of ``[auth]`` this module does not use is the app's own (st.login ignores keys it does
not use, so st.login apps keep lists of their own there): it is left alone and named once at
start-up, unless it is a near miss of a known key (``cookie_secrte``), which stops the start.

Each check raises one ``ConfigError`` for one key; ``load_config`` calls them key by key and
collects what they raise (``config_problems.py``), so that one start names every mistake. A
misspelt key's error carries its ``Problem`` with the key meant, for that list."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from .errors import ConfigError, Problem
from .lifetime import LIFETIME_KEYS

DEFAULT_PROVIDER = "default"  # st.login's name for the provider configured in [auth] itself
ST_LOGIN_CALLBACK = "/oauth2callback"  # the path st.login's redirect_uri must have

ROLES_TABLE = "roles"  # [auth.roles]: who has which role (_core/roles.py), never a provider
# Who may come in (_core/access.py): in [auth] for every provider, in [auth.<name>] for one.
RULE_KEYS = frozenset(
    {
        *("allowed_emails", "allowed_domains", "allowed_groups", "groups_claim"),
        *("allowed_orgs", "allowed_teams", "allowed_tenants", "roles_claim"),
    }
)
# What [auth] itself may hold: settings, the rules, and st.login's single-provider form.
SETTINGS_KEYS = frozenset(
    {
        *("redirect_uri", "cookie_secret", "expose_tokens"),  # st.login's
        *("base_url", "dev_provider", "emulated_providers", "session_store", "tcp_nodelay"),
        *("metrics_token", "log_format"),  # GET /auth/metrics (_core/metrics.py), _core/eventlog.py
        *RULE_KEYS,
        *LIFETIME_KEYS,  # session_idle_timeout, session_max_age (_core/lifetime.py); per provider too
        "trusted_proxies",  # whose X-Forwarded-* headers count (_core/proxies.py)
    }
)
# Authlib's registration keys for where a provider's endpoints are (``oauth.register(...)`` as
# Authlib's docs and the blog post write them), read by endpoints.py; `token_url` is the post's
# spelling of `access_token_url`, accepted and named at start-up.
ENDPOINT_KEYS = ("authorize_url", "access_token_url", "api_base_url", "userinfo_endpoint", "jwks_uri")
TOKEN_URL_ALIAS = "token_url"
PROFILE_MAP = "profile_map"  # this module's: where the normalized profile's fields are in the JSON
PROVIDER_KEYS = frozenset(
    {
        *("client_id", "client_secret", "server_metadata_url", "client_kwargs"),  # st.login's
        *ENDPOINT_KEYS,
        TOKEN_URL_ALIAS,
        PROFILE_MAP,
        *("preset", "display_name", "base_url", "post_logout_redirect_uri"),
        *("private_key", "private_key_path", "team_id", "key_id"),  # Apple's client secret
        *RULE_KEYS,
        *LIFETIME_KEYS,
    }
)
NEAR_MISS = 2  # edits: an unknown [auth] key this close to a known one is a typo, not the app's
# Keys st.login hands to Authlib's register() or OAuth2 client that have no meaning here: the
# per-login values are generated per login, the HTTP client is the module's own.
NOT_HONOURED = {
    "refresh_token_url": "a refresh goes to the token endpoint: `access_token_url`, or the discovery "
    "document's or preset's",
    "authorize_params": "put authorization request parameters in `client_kwargs`",
    "access_token_params": "the token request is RFC 6749 §4.1.3's, with nothing added",
    "redirect_uri": "set it once, in [auth] `redirect_uri`",
    "token_placement": "the access token is always sent in the Authorization header (RFC 6750 §2.1)",
    "revocation_endpoint_auth_method": "revocation authenticates as the token request does",
    "timeout": "HTTP timeouts are the login module's own (5 s)",
    "verify": "TLS certificates are always verified",
    "proxies": "calls to providers do not go through a proxy",
    "trust_env": "calls to providers do not go through a proxy",
    "headers": "requests to the provider carry no extra headers",
    "leeway": "clock leeway is the login module's own (60 s)",
}
# Authorization request parameters the module always sets itself (or never sends), and why: neither
# st.login's client_kwargs nor the Playground may set them, since overriding one would switch a
# protection off (state: RFC 9700 §4.7; nonce: OIDC Core §3.1.2.1; PKCE: RFC 7636) or break the login.
MODULE_PARAMETERS = {
    "state": "the module makes a fresh `state` for every login (CSRF, RFC 9700 §4.7.1)",
    "nonce": "the module makes a fresh `nonce` for every login (replay, OIDC Core §3.1.2.1)",
    "code_challenge": "PKCE is always on, with a verifier only this server knows (RFC 7636 §4.2)",
    "code_challenge_method": "PKCE is S256 (RFC 9700 §2.1.1), or off only in a provider's own table",
    "code_verifier": "the verifier never goes through the browser (RFC 7636 §4.5)",
    "redirect_uri": "the callback must be this app's registered one (RFC 6749 §3.1.2)",
    "client_id": "the client is the configured one (RFC 6749 §2.2)",
    "response_type": "this login is the authorization code flow: `code` (RFC 6749 §4.1.1)",
    "client_secret": "a secret never goes into a URL (RFC 6749 §2.3.1)",
    "request": "request objects are not built here (OIDC Core §6)",
    "request_uri": "request objects are not built here (OIDC Core §6)",
}
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
PKCE_METHOD = "S256"
PKCE_OFF = "none"  # client_kwargs code_challenge_method: no PKCE, for a provider that rejects it


class ClientKwargs(NamedTuple):
    """What st.login's ``client_kwargs`` say: the authorization request's extra parameters, the
    token endpoint's client authentication (None: the preset's), and whether PKCE is on."""

    params: dict[str, str]
    token_auth_method: str | None
    pkce: bool


def table_name(name: str) -> str:
    return "[auth]" if name == DEFAULT_PROVIDER else f"[auth.{name}]"


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_unknown(where: str, keys: Iterable[str], known: frozenset[str]) -> None:
    """``ConfigError`` for the first of ``keys`` not in ``known``: a key st.login takes but this
    module cannot honour, with why; a near miss of a known key, with the key meant; any other,
    with the known keys."""
    for key in keys:
        if key in known:
            continue
        if reason := NOT_HONOURED.get(key):
            raise ConfigError(f"{where} `{key}` is not supported by this login module: {reason}.")
        if meant := near_miss(key, known):
            raise misspelt(where, key, meant)
        raise ConfigError(
            f"{where} `{key}` is not a setting this login module knows; known: {', '.join(sorted(known))}."
        )


def app_keys(where: str, keys: Iterable[str], known: frozenset[str]) -> tuple[str, ...]:
    """The keys of ``where`` this module does not use, left to the app. A key st.login would
    take but this module cannot honour, or a near miss of a known key, raises ``ConfigError``:
    a setting that looks meant for this module must never be silently ignored."""
    left = []
    for key in keys:
        if key in known:
            continue
        if reason := NOT_HONOURED.get(key):
            raise ConfigError(f"{where} `{key}` is not supported by this login module: {reason}.")
        if meant := near_miss(key, known):
            raise misspelt(where, key, meant, note=" (Keys far from every setting are left to the app.)")
        left.append(key)
    return tuple(left)


def misspelt(where: str, key: str, meant: str, *, note: str = "") -> ConfigError:
    """A near miss of the known key ``meant``: its error, and its ``Problem`` with ``meant``."""
    line = f"{where} `{key}` is not a setting this login module knows; did you mean `{meant}`?{note}"
    return ConfigError(line, problems=(Problem(where, key, line, meant),))


def near_miss(key: str, known: Iterable[str]) -> str | None:
    """The known key 1 to ``NEAR_MISS`` edits away from ``key`` (Levenshtein), the closest first."""
    distances = sorted((_edits(key.lower(), k), k) for k in known)
    return next((k for d, k in distances if 0 < d <= NEAR_MISS or (d == 0 and k != key)), None)


def _edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def parse_client_kwargs(name: str, kwargs: Mapping[str, object]) -> ClientKwargs:
    """st.login's ``client_kwargs``: authorization request parameters, plus the client settings
    that have a meaning here (token endpoint authentication, PKCE on or off)."""
    where = f"{table_name(name)} client_kwargs"
    params: dict[str, str] = {}
    method = None
    pkce = True
    for key, value in kwargs.items():
        if key == "scope":
            continue
        if key == "code_challenge_method":
            pkce = parse_code_challenge_method(where, value)
        elif key == "token_endpoint_auth_method":
            if value not in TOKEN_AUTH_METHODS:
                raise ConfigError(
                    f"{where} `token_endpoint_auth_method` must be one of {TOKEN_AUTH_METHODS}."
                )
            method = str(value)
        elif key == "response_type":
            if value != "code":
                raise ConfigError(f"{where} `response_type` must be code: the login is the code flow.")
        elif reason := NOT_HONOURED.get(key):
            raise ConfigError(f"{where} `{key}` is not supported by this login module: {reason}.")
        elif key in MODULE_PARAMETERS or key.startswith("code_challenge"):
            reason = MODULE_PARAMETERS.get(key, MODULE_PARAMETERS["code_challenge"])
            raise ConfigError(f"{where} `{key}` cannot be set: {reason}.")
        elif isinstance(value, Mapping | list):
            raise ConfigError(f"{where} `{key}` must be a string: it is an authorization request parameter.")
        else:
            params[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    return ClientKwargs(params, method, pkce)


def parse_code_challenge_method(where: str, value: object) -> bool:
    """Whether PKCE is on: "S256", the default, or "none" for a provider that rejects PKCE's
    parameters. RFC 7636 made PKCE optional for a server, and RFC 9700 §2.1.1 lets a confidential
    client rely on another defence against code injection (the client secret here, the `nonce` for
    OpenID Connect), so off is allowed, only when asked for; "plain" never (RFC 9700 §2.1.1)."""
    if value == PKCE_METHOD:
        return True
    if value == PKCE_OFF:
        return False
    raise ConfigError(
        f'{where} `code_challenge_method` must be "{PKCE_METHOD}" (the default) or "{PKCE_OFF}" to switch '
        f"PKCE off for a provider that rejects it; got {value!r} (plain is refused: RFC 9700 §2.1.1)."
    )


def refuse_public_client_without_pkce(name: str, pkce: bool, confidential: bool) -> None:
    """RFC 9700 §2.1.1: a public client MUST use PKCE, whatever the provider accepts."""
    if not pkce and not confidential:
        raise ConfigError(
            f'{table_name(name)} client_kwargs `code_challenge_method = "{PKCE_OFF}"` needs a '
            "`client_secret`: a public client must use PKCE (RFC 9700 §2.1.1). Remove the setting, or "
            "configure the client secret."
        )


def parse_redirect_uri(value: object, base_path: str = "") -> str | None:
    """st.login's ``[auth] redirect_uri``: the app's URL with the path ``/oauth2callback``, under
    the app's sub-path when it has one (``base_path``: ``/app/oauth2callback``, where Streamlit
    mounts st.login's callback under ``server.baseUrlPath``)."""
    if value is None:
        return None
    path = base_path + ST_LOGIN_CALLBACK
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or parts.path != path:
        raise ConfigError(
            f"[auth] `redirect_uri` must be the app's absolute URL with the path {path}, "
            f"as st.login requires, like http://localhost:8501{path} (got {value!r})."
        )
    return str(value)


def url_base_path(value: object) -> str:
    """Streamlit's ``server.baseUrlPath`` as a path prefix: "" at the server's root, else one
    leading slash and none trailing (``/app/`` and ``app`` are ``/app``), as Streamlit joins it
    (``streamlit/url_util.py`` ``make_url_path``)."""
    stripped = str(value or "").strip("/")
    return f"/{stripped}" if stripped else ""


def with_base_path(base_url: str | None, base_path: str) -> str | None:
    """``[auth] base_url`` as the URL of the app's root, without a trailing slash. A URL without
    a path names the origin, and gets the app's sub-path; a URL with one must name that very
    sub-path, or the login would send browsers to routes this server does not serve there."""
    if base_url is None:
        return None
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    if path in ("", base_path):
        return f"{parts.scheme}://{parts.netloc}{base_path}"
    fix = (
        f"--server.baseUrlPath {path.strip('/')}"
        if not base_path
        else f'base_url = "{parts.scheme}://{parts.netloc}{base_path}"'
    )
    raise ConfigError(
        f"[auth] `base_url` {base_url!r} names the path {path}, but Streamlit serves this app at "
        f"{base_path or '/'} (server.baseUrlPath), and the login's routes with it: they must agree. "
        f"Write {fix}."
    )


def parse_expose_tokens(value: object) -> tuple[str, ...]:
    """st.login's ``[auth] expose_tokens``: "id", "access", or a list of them."""
    names = (
        [value]
        if isinstance(value, str)
        else value
        if isinstance(value, list)
        else []
        if value is None
        else None
    )
    if names is None or any(n not in ("id", "access") for n in names):
        raise ConfigError(f'[auth] `expose_tokens` must be "id", "access" or a list of them (got {value!r}).')
    return tuple(str(n) for n in names)


def parse_session_store(value: object) -> str | None:
    """A Redis URL, or None for SQLite. Never echoes a password in the message."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or urlsplit(value).scheme not in ("redis", "rediss"):
        shown = urlsplit(value).scheme + "://..." if isinstance(value, str) else repr(value)
        raise ConfigError(
            "[auth] `session_store` must be a redis:// or rediss:// URL, like "
            f'"redis://localhost:6379/0" (got {shown}); leave it out for the SQLite file in .local/.'
        )
    return value
