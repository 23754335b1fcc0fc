"""Auth configuration: one frozen dataclass tree, loaded at one edge.

The layout is Streamlit's own ``st.login`` layout in ``.streamlit/secrets.toml``::

    [auth]
    cookie_secret = "..."            # optional here: generated and kept in .local/
    base_url = "https://app.example" # optional: the app's public URL (with its sub-path, if any)
    trusted_proxies = ["127.0.0.1"]  # optional: whose X-Forwarded-* count (proxies.py); default none
    redirect_uri = "https://app.example/oauth2callback"  # optional: st.login's one callback
    expose_tokens = ["id", "access"] # optional: st.user.tokens, as st.login
    session_store = "redis://localhost:6379/0"  # optional: shared by replicas; default SQLite
    metrics_token = "..."            # optional: GET /auth/metrics answers this bearer token (metrics.py)
    log_format = "json"              # optional: one JSON object a log line (eventlog.py); default "text"

    [auth.google]
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"
    client_kwargs = { scope = "openid email profile" }
    post_logout_redirect_uri = "..."  # optional: default, the callback URI /auth/callback/google
    allowed_domains = ["example.com"] # optional: who may come in (rules.py); also in [auth]
    session_max_age = "2h"            # optional: how long a session lives (lifetime.py); also in [auth]

    [auth.roles]                      # optional: who holds which role (roles.py)
    admin = ["alice@example.com", "group:admins"]

    [auth.strava]                     # any OAuth 2.0 provider, by Authlib's keys (endpoints.py)
    client_id = "..."
    client_secret = "..."
    authorize_url = "https://www.strava.com/oauth/authorize"
    access_token_url = "https://www.strava.com/oauth/token"
    api_base_url = "https://www.strava.com/api/v3/"
    userinfo_endpoint = "athlete"
    profile_map = { id = "id", name = "firstname", avatar = "profile" }

st.login's single-provider form (``client_id``, ``client_secret``, ``server_metadata_url`` in
``[auth]`` itself) is the provider ``default``, which is what ``st.login()`` asks for. A key
st.login would accept but this module cannot honour stops the start with its name; another key
of ``[auth]`` this module does not use is the app's (``AuthConfig.app_keys``), unless it is a
near miss of one it does (``config_keys.app_keys``). A configuration with mistakes stops the
start with one ``ConfigError`` naming every one of them, one line each (``config_problems.py``).

Environment variables override: ``AUTH_COOKIE_SECRET``, ``AUTH_BASE_URL``,
``AUTH_TRUSTED_PROXIES`` (comma-separated), ``AUTH_SESSION_STORE``, ``AUTH_METRICS_TOKEN``,
``AUTH_<NAME>_CLIENT_ID``, ``AUTH_<NAME>_CLIENT_SECRET`` (``-`` in a name becomes ``_``).
In the core, ``load_config`` is the only function that reads the environment; ``st.secrets``
reaches it as a mapping, read by the Streamlit glue.

Development mode is decided here (``AuthConfig.dev_provider_enabled``) and supplied from
outside: ``load_config`` takes its providers from a ``DevMode`` (``_devmode.py``, passed in by
``with_login``), so this package imports neither the development provider nor a web framework.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from .config_keys import (
    DEFAULT_PROVIDER,
    ENDPOINT_KEYS,
    PROFILE_MAP,
    PROVIDER_KEYS,
    ROLES_TABLE,
    SETTINGS_KEYS,
    TOKEN_URL_ALIAS,
    ClientKwargs,
    app_keys,
    is_loopback_url,
    parse_client_kwargs,
    parse_expose_tokens,
    parse_redirect_uri,
    parse_session_store,
    refuse_public_client_without_pkce,
    refuse_unknown,
    table_name,
    with_base_path,
)
from .config_problems import Problems, config_error
from .endpoints import (
    Endpoints,
    parse_profile_map,
    parse_token_url,
    parse_url,
    parse_userinfo,
    refuse_jwks_without_discovery,
    refuse_missing_endpoint,
    refuse_missing_profile,
    refuse_openid_without_discovery,
    startup_notes,
    with_endpoints,
)
from .errors import ConfigError, Problem
from .eventlog import parse_log_format
from .lifetime import IDLE, Lifetime, lifetime_for, parse_lifetime
from .local_dir import local_cookie_secret
from .metrics import parse_metrics_token
from .presets import GENERIC, GENERIC_OAUTH2, GENERIC_OIDC, PRESETS, Preset
from .proxies import TrustedProxies, parse_trusted_proxies
from .roles import WHERE as ROLES_WHERE
from .roles import RoleEntry, parse_roles
from .rules import AccessRules, family_of, parse_rules, rules_for

V = TypeVar("V")


@dataclass(frozen=True, kw_only=True)
class AppleKey:
    """What Apple's ES256 client secret is made from (Apple's "Sign in with Apple" key)."""

    team_id: str
    key_id: str
    private_key: str  # PEM


@dataclass(frozen=True, kw_only=True)
class ProviderSettings:
    """One login provider: a preset (endpoints, quirks) plus this app's credentials.
    Any OIDC provider needs only its discovery URL (the generic ``oidc`` preset); any OAuth 2.0
    provider its endpoints (the generic ``oauth2`` preset, completed from the table)."""

    name: str
    client_id: str
    client_secret: str | None
    server_metadata_url: str
    scope: str = "openid email profile"
    display_name: str = ""
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    token_auth_method: str | None = None  # client_kwargs' token_endpoint_auth_method; None: preset's
    preset: Preset = GENERIC_OIDC
    apple_key: AppleKey | None = None
    # Where the provider sends the browser after RP-initiated logout; None: the callback URI,
    # which is registered already (and is what Streamlit's own st.logout sends too).
    post_logout_redirect_uri: str | None = None
    # How the login page offers it: a short tag beside its button ("offline"), and whether it
    # is listed apart, after the others.
    badge: str = ""
    secondary: bool = False
    # Names st.login(name) also finds it by, when no provider has that name: development mode's
    # stand-ins answer st.login() ("default") and st.login("github") offline.
    st_login_names: tuple[str, ...] = ()
    # Who may come in (rules.py): [auth]'s rules with this provider's own replacing them.
    access: AccessRules = field(default_factory=AccessRules)
    # The endpoints the table names itself (Authlib's keys, endpoints.py): they replace the
    # discovery document's; a preset's are in ``preset`` already.
    endpoints: Endpoints = field(default_factory=Endpoints)
    pkce: bool = True  # client_kwargs code_challenge_method = "none" turns it off (config_keys.py)
    # What the start-up log says of this table once (`token_url` read as access_token_url...).
    notes: tuple[str, ...] = ()

    @property
    def family(self) -> str:
        """Whose quirks the access rules mind: "google", "github", "microsoft" or ""."""
        return family_of(self.preset.name, self.server_metadata_url)

    @property
    def label(self) -> str:
        if self.display_name:
            return self.display_name
        if self.preset.name not in GENERIC:
            return self.preset.label
        if self.name == DEFAULT_PROVIDER:
            # st.login's provider in [auth] itself has no name of its own: "Default" reads as a
            # provider called that, so its host (its discovery URL's, or its authorize URL's for
            # an OAuth 2.0 provider) says whose it is.
            return urlsplit(self.server_metadata_url or self.preset.authorize_url).hostname or "Your provider"
        return self.name.replace("_", " ").title()

    @property
    def is_oidc(self) -> bool:
        return self.preset.kind == "oidc"

    @property
    def served_here(self) -> bool:
        """Its URLs are paths of this app (the embedded provider), resolved against the app's
        origin: the app reaches it through ``LocalProviders``, which registers this app there."""
        return self.server_metadata_url.startswith("/") or self.preset.authorize_url.startswith("/")

    @property
    def profile_in_token_response(self) -> bool:
        """An OAuth 2.0 provider with no profile API: its token response carries the person
        (Strava's ``athlete``), which ``profile_map`` reads."""
        return not self.is_oidc and not self.preset.profile_url


@dataclass(frozen=True, kw_only=True)
class SessionSettings:
    # [auth]'s session lifetime (lifetime.py): seconds without use, seconds in all; with
    # ``ends_with_grant`` (session_max_age = "refresh") absolute_timeout is the grant's ceiling.
    idle_timeout: int = 8 * 3600
    absolute_timeout: int = 7 * 24 * 3600
    ends_with_grant: bool = False
    # Providers whose table sets a lifetime of its own, merged over [auth]'s; others have [auth]'s.
    by_provider: Mapping[str, Lifetime] = field(default_factory=dict)
    state_ttl: int = 600  # RFC 9700 §4.7: a pending login lives 10 minutes at most
    # Store each login's validation report and trace (``sessions.LoginDetails``): some 6 KiB a
    # session, read only by pages that show them. ``with_login`` turns it off unless an app asks.
    keep_login_details: bool = True

    def lifetime(self, provider: str) -> Lifetime:
        """How long a session of ``provider`` lives: its table's keys, else [auth]'s."""
        found = self.by_provider.get(provider)
        if found is None:
            found = Lifetime(
                idle=self.idle_timeout, max_age=self.absolute_timeout, ends_with_grant=self.ends_with_grant
            )
        return found


@dataclass(frozen=True, kw_only=True)
class HttpSettings:
    timeout: float = 5.0
    metadata_ttl: int = 3600
    jwks_ttl: int = 3600
    # Unknown-`kid` refetches, at most one a second per provider; ordinary fetches don't count.
    jwks_refetch_interval: float = 1.0


@dataclass(frozen=True, kw_only=True)
class AuthConfig:
    cookie_secret: str
    providers: tuple[ProviderSettings, ...]
    base_url: str | None = None  # the app's root URL, its sub-path included
    # Where the server serves the app: Streamlit's server.baseUrlPath ("" or "/app"). Every route
    # of the module is under it, and every path a route or page builds starts with it.
    base_path: str = ""
    # Whose X-Forwarded-Proto/-Host/-For count (proxies.py): nobody's unless named.
    trusted_proxies: TrustedProxies = field(default_factory=TrustedProxies)
    # st.login's [auth] redirect_uri: when set, the one callback URI of every provider.
    redirect_uri: str | None = None
    expose_tokens: tuple[str, ...] = ()  # st.user.tokens: "id", "access"
    store_path: Path = Path(".local/sessions.sqlite3")
    # A redis:// or rediss:// URL shared by every replica; None: the SQLite file at store_path.
    session_store: str | None = None
    # Turn Nagle's algorithm off on the app's listener (nodelay.py); False only to measure it.
    tcp_nodelay: bool = True
    # The bearer token GET /auth/metrics asks for (metrics.py); None: it answers 404.
    metrics_token: str | None = field(default=None, repr=False)
    log_format: str = "text"  # "json": one JSON object a log line (eventlog.py)
    # Development mode: wanted when no provider is configured, or with [auth] dev_provider = true.
    dev_provider_enabled: bool = False
    session: SessionSettings = field(default_factory=SessionSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    # [auth.roles]: role → who holds it (roles.py); and the keys of [auth] left to the app.
    roles: Mapping[str, tuple[RoleEntry, ...]] = field(default_factory=dict)
    app_keys: tuple[str, ...] = ()

    def provider(self, name: str) -> ProviderSettings | None:
        return next((p for p in self.providers if p.name == name), None)

    def st_login_provider(self, name: str) -> ProviderSettings | None:
        """The provider ``st.login(name)`` means: the one of that name (``st.login()`` asks for
        ``default``), else one that answers to that name too (``st_login_names``: in development
        mode the development provider for ``st.login()``, a preset's twin for ``st.login("github")``)."""
        found = self.provider(name)
        if found is None:
            found = next((p for p in self.providers if name in p.st_login_names), None)
        return found


class DevMode(Protocol):
    """Development mode as ``load_config`` takes it: the providers it adds when the secrets want
    it. ``_devmode.py`` implements it; ``with_login`` passes it in."""

    @property
    def provider_name(self) -> str:
        """The development provider's name, which the secrets may not take for another."""
        ...

    def providers(self, *, emulated: bool) -> Sequence[ProviderSettings]:
        """Its providers, each with a fresh client; with ``emulated``, offline twins of the presets too."""
        ...


def _env(name: str, key: str) -> str:
    return f"AUTH_{name.upper().replace('-', '_')}_{key.upper()}"


def _text(table: Mapping[str, object], key: str, name: str, env: Mapping[str, str]) -> str:
    value = env.get(_env(name, key)) or table.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"{table_name(name)} needs `{key}` (a non-empty string) in .streamlit/secrets.toml."
        )
    return value


def _preset_for(name: str, table: Mapping[str, object]) -> Preset:
    preset_name = str(table.get("preset", name))
    if "preset" in table and preset_name not in PRESETS:
        raise ConfigError(
            f"{table_name(name)} `preset` {preset_name!r} is unknown; known: {', '.join(PRESETS)}."
        )
    if preset_name in PRESETS:
        return PRESETS[preset_name]
    # st.login's [auth.<any name>] (or [auth] itself) with, say, Google's discovery URL is Google.
    metadata_url = table.get("server_metadata_url")
    endpoints_given = any(key in table for key in (*ENDPOINT_KEYS, TOKEN_URL_ALIAS))
    if endpoints_given and not metadata_url and not table.get("base_url"):
        return GENERIC_OAUTH2  # no discovery document: an OAuth 2.0 provider known by its endpoints
    return next(
        (p for p in PRESETS.values() if metadata_url and p.server_metadata_url == metadata_url), GENERIC_OIDC
    )


def _apple_key(name: str, table: Mapping[str, object], environ: Mapping[str, str]) -> AppleKey:
    pem = table.get("private_key")
    if not pem:
        path = Path(_text(table, "private_key_path", name, environ))
        if not path.is_file():
            raise ConfigError(f"{table_name(name)} `private_key_path` {str(path)!r} is not a readable file.")
        pem = path.read_text()
    return AppleKey(
        team_id=_text(table, "team_id", name, environ),
        key_id=_text(table, "key_id", name, environ),
        private_key=str(pem),
    )


def _provider(
    name: str, table: Mapping[str, object], environ: Mapping[str, str], rules: Mapping[str, object]
) -> ProviderSettings:
    """One provider table; ``rules`` are [auth]'s access rules, which its own keys replace.
    Every key is checked: one ``ConfigError`` names each problem (``config_problems.py``)."""
    where = table_name(name)
    problems = Problems()
    preset = GENERIC_OIDC
    with problems.at(where, "preset"):
        preset = _preset_for(name, table)
    known_preset = not problems.count()  # else checks that depend on the preset would only guess
    client_id = ""
    with problems.at(where, "client_id"):
        client_id = _text(table, "client_id", name, environ)
    secret = environ.get(_env(name, "client_secret")) or table.get("client_secret")
    metadata_url = table.get("server_metadata_url") or preset.server_metadata_url or ""
    if base := table.get("base_url"):  # self-hosted, e.g. GitLab
        metadata_url = f"{str(base).rstrip('/')}/.well-known/openid-configuration"
    if preset.kind == "oidc" and known_preset:
        with problems.at(where, "server_metadata_url"):
            if not isinstance(metadata_url, str) or not metadata_url:
                raise ConfigError(
                    f"{table_name(name)} needs `server_metadata_url` (the provider's discovery URL) in "
                    ".streamlit/secrets.toml, or, for an OAuth 2.0 provider without one, `authorize_url`, "
                    "`access_token_url` and `userinfo_endpoint` (docs/providers.md)."
                )
            if urlsplit(metadata_url).scheme != "https" and not is_loopback_url(metadata_url):
                raise ConfigError(
                    f"{table_name(name)} `server_metadata_url` must be https:// (got {metadata_url!r})."
                )
    kwargs: Mapping[str, object] = {}
    with problems.at(where, "client_kwargs"):
        kwargs = _client_kwargs_table(name, table)
    post_logout = table.get("post_logout_redirect_uri")
    with problems.at(where, "post_logout_redirect_uri"):
        if post_logout is not None and (
            not isinstance(post_logout, str) or not post_logout.startswith(("http://", "https://"))
        ):
            raise ConfigError(
                f"{table_name(name)} `post_logout_redirect_uri` must be an absolute http(s) URL "
                f"registered at the provider (got {post_logout!r})."
            )
    apple = None
    if preset.name == "apple":
        with problems.at(where, "private_key"):
            apple = _apple_key(name, table, environ)
    if (
        not secret
        and apple is None
        and preset.kind == "oauth2"
        and known_preset
        and preset.name not in GENERIC
    ):
        problems.add(
            where,
            "client_secret",
            f"{table_name(name)} needs `client_secret`: {preset.label} has no public-client login.",
        )
    for key in table:
        with problems.at(where, key):
            refuse_unknown(where, (key,), PROVIDER_KEYS)
    # Each client_kwargs entry alone, for a line of its own; once all pass, all of them for their values.
    problems.key_by_key(where, kwargs, partial(parse_client_kwargs, name), key="client_kwargs")
    client = ClientKwargs({}, None, pkce=True)
    with problems.at(where, "client_kwargs"):  # its entries' own problems are the ones above
        client = parse_client_kwargs(name, kwargs)
        refuse_public_client_without_pkce(name, client.pkce, bool(secret or apple))
    scope = str(kwargs.get("scope", preset.scope))
    endpoints, aliased, profile_map = _endpoints(where, table, preset, scope, problems)
    own_rules = _merged(problems.key_by_key(where, table, partial(parse_rules, where)))
    problems.check({where: list(table)})
    settings = ProviderSettings(
        name=name,
        client_id=client_id,
        client_secret=str(secret) if secret else None,
        server_metadata_url=str(metadata_url),
        scope=scope,
        display_name=str(table.get("display_name", "")),
        authorize_params={**preset.authorize_params, **client.params},
        token_auth_method=client.token_auth_method,
        preset=with_endpoints(preset, endpoints, profile_map),
        apple_key=apple,
        post_logout_redirect_uri=post_logout,
        endpoints=endpoints,
        pkce=client.pkce,
        notes=startup_notes(table_name(name), preset, endpoints, aliased=aliased, pkce=client.pkce),
    )
    return with_rules(settings, rules, own_rules)


def _client_kwargs_table(name: str, table: Mapping[str, object]) -> Mapping[str, object]:
    kwargs = table.get("client_kwargs", {})
    if not isinstance(kwargs, Mapping):
        raise ConfigError(
            f'{table_name(name)} `client_kwargs` must be a table, like {{ scope = "openid email" }}.'
        )
    return kwargs


def _merged(parts: Iterable[Mapping[str, V]]) -> dict[str, V]:
    return {key: value for part in parts for key, value in part.items()}


def provider_settings(name: str, table: Mapping[str, object]) -> ProviderSettings:
    """One provider table read as ``load_config`` reads it, without [auth]'s rules or the
    environment: development mode makes its generic twins from a real table this way."""
    return _provider(name, table, {}, {})


def _endpoints(
    where: str, table: Mapping[str, object], preset: Preset, scope: str, problems: Problems
) -> tuple[Endpoints, bool, dict[str, str]]:
    """The table's own endpoints (Authlib's keys, endpoints.py), whether its token URL was spelt
    `token_url`, and its profile_map: each key checked alone, a check that combines keys only on
    keys that passed, and what a provider known only by its endpoints must have."""
    urls: dict[str, str | None] = {}
    passed = set()
    for key in ("authorize_url", "api_base_url", "jwks_uri"):
        with problems.at(where, key):
            urls[key] = parse_url(where, key, table.get(key))
            passed.add(key)
    aliased = False
    with problems.at(where, TOKEN_URL_ALIAS if TOKEN_URL_ALIAS in table else "access_token_url"):
        urls["access_token_url"], aliased = parse_token_url(where, table)
    if "api_base_url" in passed:  # a relative userinfo_endpoint is joined to it
        with problems.at(where, "userinfo_endpoint"):
            urls["userinfo_endpoint"] = parse_userinfo(
                where, table.get("userinfo_endpoint"), urls["api_base_url"]
            )
    if "jwks_uri" in passed:
        with problems.at(where, "jwks_uri"):
            refuse_jwks_without_discovery(where, urls["jwks_uri"], discovery=preset.kind == "oidc")
    profile_map = _profile_map(where, table.get(PROFILE_MAP), problems)
    if preset is GENERIC_OAUTH2:  # no discovery document, no preset: the table is all there is
        with problems.at(where, "client_kwargs"):
            refuse_openid_without_discovery(where, scope)
        if "authorize_url" not in table:
            with problems.at(where, "authorize_url"):
                refuse_missing_endpoint(where, "authorize_url")
        if "access_token_url" not in table and TOKEN_URL_ALIAS not in table:
            with problems.at(where, "access_token_url"):
                refuse_missing_endpoint(where, "access_token_url")
        mapped = table.get(PROFILE_MAP)
        with problems.at(where, "userinfo_endpoint"):
            refuse_missing_profile(
                where, "userinfo_endpoint" in table, isinstance(mapped, Mapping) and "id" in mapped
            )
    return Endpoints(**{key: urls.get(key) for key in ENDPOINT_KEYS}), aliased, profile_map


def _profile_map(where: str, value: object, problems: Problems) -> dict[str, str]:
    """``profile_map``, entry by entry: one line for each field or path that is wrong."""
    if isinstance(value, Mapping) and value:
        return _merged(problems.key_by_key(where, value, partial(parse_profile_map, where), key=PROFILE_MAP))
    profile_map: dict[str, str] = {}
    with problems.at(where, PROFILE_MAP):
        profile_map = parse_profile_map(where, value)  # None, or not a table at all
    return profile_map


def with_rules(
    settings: ProviderSettings, common: Mapping[str, object], own: Mapping[str, object]
) -> ProviderSettings:
    access = rules_for(settings.name, settings.label, settings.family, settings.scope, common, own)
    return replace(settings, access=access)


def session_lifetimes(
    auth: Mapping[str, object], tables: Mapping[str, Mapping[str, object]], problems: Problems
) -> SessionSettings:
    """[auth]'s session lifetime, and each provider table's own (``lifetime.py``); each key
    checked alone, their combination only when both passed (``config_problems.py``)."""
    common = _merged(problems.key_by_key("[auth]", auth, partial(parse_lifetime, "[auth]")))
    default = Lifetime()
    with problems.at("[auth]", IDLE):
        default = lifetime_for("[auth]", {}, common)
    by_provider = {}
    for name, table in tables.items():
        where = table_name(name)
        if own := _merged(problems.key_by_key(where, table, partial(parse_lifetime, where))):
            with problems.at(where, IDLE):
                by_provider[name] = lifetime_for(where, common, own)
    return SessionSettings(
        idle_timeout=default.idle,
        absolute_timeout=default.max_age,
        ends_with_grant=default.ends_with_grant,
        by_provider=by_provider,
    )


def load_config(
    secrets_table: Mapping[str, object],
    environ: Mapping[str, str] | None = None,
    *,
    local_dir: Path = Path(".local"),
    dev_mode: DevMode | None = None,
    base_path: str = "",
) -> AuthConfig:
    """Build the config from ``st.secrets`` (as a mapping) and the environment, for an app the
    server serves under ``base_path`` (Streamlit's ``server.baseUrlPath``, as ``url_base_path``
    spells it: "" or "/app").

    With no provider configured, development mode is on and its providers (``dev_mode``'s) are
    the only ones. With real providers configured, it is off unless ``[auth] dev_provider =
    true``, and it is never on for a non-loopback ``base_url``. Without ``dev_mode`` the config
    still says whether development mode is wanted (``dev_provider_enabled``) but lists only the
    configured providers.
    """
    environ = os.environ if environ is None else environ
    auth = secrets_table.get("auth", {})
    if not isinstance(auth, Mapping):
        line = "`auth` in .streamlit/secrets.toml must be a table: [auth]."
        raise config_error([Problem("[auth]", "", line)])
    # Every key is checked, each problem recorded and the loading gone on with a placeholder:
    # one ConfigError at the end names them all (config_problems.py).
    problems = Problems()
    base_url = None
    with problems.at("[auth]", "base_url"):
        base_url = with_base_path(_base_url(environ.get("AUTH_BASE_URL") or auth.get("base_url")), base_path)
    trusted_proxies = TrustedProxies()
    with problems.at("[auth]", "trusted_proxies"):
        trusted_proxies = parse_trusted_proxies(
            environ.get("AUTH_TRUSTED_PROXIES") or auth.get("trusted_proxies")
        )
    redirect_uri = None
    with problems.at("[auth]", "redirect_uri"):
        redirect_uri = parse_redirect_uri(auth.get("redirect_uri"), base_path)
    if base_url is None and redirect_uri:
        # st.login's layout names the app's public URL only in redirect_uri: the same origin.
        parts = urlsplit(redirect_uri)
        base_url = f"{parts.scheme}://{parts.netloc}{base_path}"
    session_store = None
    with problems.at("[auth]", "session_store"):
        session_store = parse_session_store(environ.get("AUTH_SESSION_STORE") or auth.get("session_store"))
    cookie_secret = environ.get("AUTH_COOKIE_SECRET") or auth.get("cookie_secret")
    with problems.at("[auth]", "cookie_secret"):
        if cookie_secret is None and session_store:
            raise ConfigError(
                "With a shared `session_store`, set [auth] `cookie_secret` (or AUTH_COOKIE_SECRET), the "
                "same on every replica: it encrypts the sessions, so each replica must know it."
            )
        if cookie_secret is not None and (not isinstance(cookie_secret, str) or len(cookie_secret) < 32):
            raise ConfigError("[auth] `cookie_secret` must be a random string of at least 32 characters.")

    tables = {
        name: table
        for name, table in auth.items()
        if isinstance(table, Mapping) and name not in ("client_kwargs", PROFILE_MAP, ROLES_TABLE)
    }
    known = SETTINGS_KEYS | PROVIDER_KEYS | {ROLES_TABLE}
    left_to_app: list[str] = []
    for key in auth:
        if key not in tables:
            with problems.at("[auth]", key):
                left_to_app += app_keys("[auth]", (key,), known)
    rules = _merged(problems.key_by_key("[auth]", auth, partial(parse_rules, "[auth]")))
    if "client_id" in auth:  # st.login's single-provider form: the provider st.login() asks for
        if DEFAULT_PROVIDER in tables:
            problems.add(
                "[auth]",
                "client_id",
                f"[auth] has a `client_id` and an [auth.{DEFAULT_PROVIDER}] table: both would be the "
                "provider st.login() logs in with; keep one.",
            )
        else:
            tables[DEFAULT_PROVIDER] = {k: v for k, v in auth.items() if k in PROVIDER_KEYS - SETTINGS_KEYS}
    providers = []
    for name, table in tables.items():
        with problems.at(table_name(name)):
            providers.append(_provider(name, table, environ, rules))
    session = session_lifetimes(auth, tables, problems)
    reserved = dev_mode.provider_name if dev_mode is not None else None
    if reserved in tables:
        problems.add(
            f"[auth.{reserved}]", "", f"[auth.{reserved}] is reserved for the embedded development provider."
        )
    want_dev = auth.get("dev_provider", not tables)
    if want_dev and base_url and not is_loopback_url(str(base_url)):
        problems.add(
            "[auth]",
            "base_url",
            f"The development provider logs anyone in without a password, so it cannot run for "
            f"base_url {base_url!r}. Configure a real provider in [auth.<name>] or serve on localhost.",
        )
    if want_dev and session_store:
        problems.add(
            "[auth]",
            "session_store",
            "The embedded development provider keeps its logins in this process's memory, so "
            "replicas sharing a `session_store` cannot use it (a login started on one would fail "
            "on another). Run it once, stand-alone (`python -m devidp --port 9000 --client ID:SECRET "
            "--redirect-uri URI`), and configure it in every replica as a real provider: [auth.<name>] "
            'with client_id, client_secret and server_metadata_url = "http://127.0.0.1:9000/'
            '.well-known/openid-configuration".',
        )
    expose_tokens: tuple[str, ...] = ()
    with problems.at("[auth]", "expose_tokens"):
        expose_tokens = parse_expose_tokens(auth.get("expose_tokens"))
    metrics_token = None
    with problems.at("[auth]", "metrics_token"):
        metrics_token = parse_metrics_token(environ.get("AUTH_METRICS_TOKEN") or auth.get("metrics_token"))
    log_format = "text"
    with problems.at("[auth]", "log_format"):
        log_format = parse_log_format(auth.get("log_format"))
    roles = _roles(auth.get(ROLES_TABLE), problems)
    if want_dev and dev_mode is not None and not problems.count():
        dev = dev_mode.providers(emulated=bool(auth.get("emulated_providers", True)))
        with problems.at("[auth]"):
            providers += [with_rules(p, rules, {}) for p in dev]  # [auth]'s rules hold for them too
    problems.check(_layout(auth))

    if cookie_secret is None:  # only now: a configuration that cannot start writes nothing
        cookie_secret = local_cookie_secret(local_dir)
    return AuthConfig(
        cookie_secret=str(cookie_secret),
        providers=tuple(providers),
        base_url=str(base_url).rstrip("/") if base_url else None,
        trusted_proxies=trusted_proxies,
        base_path=base_path,
        redirect_uri=redirect_uri,
        expose_tokens=expose_tokens,
        store_path=local_dir / "sessions.sqlite3",
        session_store=session_store,
        tcp_nodelay=bool(auth.get("tcp_nodelay", True)),
        metrics_token=metrics_token,
        log_format=log_format,
        dev_provider_enabled=bool(want_dev),
        session=session,
        roles=roles,
        app_keys=tuple(left_to_app),
    )


def _base_url(value: object) -> str | None:
    if value is not None and (not isinstance(value, str) or not value.startswith(("http://", "https://"))):
        raise ConfigError(f"[auth] `base_url` must be an absolute http(s) URL (got {value!r}).")
    return value if isinstance(value, str) else None


def _roles(table: object, problems: Problems) -> dict[str, tuple[RoleEntry, ...]]:
    """[auth.roles], role by role (``roles.py``)."""
    if isinstance(table, Mapping):
        return _merged(problems.key_by_key(ROLES_WHERE, table, parse_roles))
    roles = {}
    with problems.at(ROLES_WHERE):
        roles = parse_roles(table)  # None, or not a table at all
    return roles


def _layout(auth: Mapping[str, object]) -> dict[str, list[str]]:
    """Each table's keys as the secrets file has them, [auth] first: the order of the problems."""
    layout = {"[auth]": list(auth)}
    for key, value in auth.items():
        if isinstance(value, Mapping):
            where = table_name(key)  # [auth.default] is "[auth]" too: the provider st.login() asks for
            layout[where] = [*layout.get(where, []), *value]
    return layout
