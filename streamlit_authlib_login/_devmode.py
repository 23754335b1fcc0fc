"""Development mode: the embedded development provider, and its offline twins, as login providers.

The protocol core (``_core/``) and the wiring (``_streamlit/app.py``) reach ``devidp`` only
through this module, and the core never asks whether a provider is the development one.
``with_login`` hands ``DEV_MODE`` to ``load_config`` (``_core/config.py``'s ``DevMode``), which
asks it for its providers only when the secrets want development mode; they carry what the
core and the pages act on as plain facts (``served_here``, ``badge``, ``secondary``,
``st_login_names``). Then ``with_login`` builds ``LocalProviders`` (``_core/flow.py``'s
protocol: in-process transport, per-login registration of this app's URIs). ``devidp`` is
imported only on those two paths, so a production app never loads the provider at all.

The development provider logs anyone in without a password: ``LocalProviders.before_login``
refuses any origin that is not loopback, and registers callbacks for a few origins only.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._core.config import AppleKey, AuthConfig, ProviderSettings, is_loopback_url, provider_settings
from ._core.config_keys import DEFAULT_PROVIDER
from ._core.endpoints import Endpoints, with_endpoints
from ._core.errors import ConfigError
from ._core.presets import GENERIC_OIDC, PRESETS, Preset

if TYPE_CHECKING:
    import httpx2
    from starlette.routing import BaseRoute

    from devidp import Embedded

# Names development mode takes: its provider, its client there, its twins' prefix.
DEV_PROVIDER = "dev"
DEV_CLIENT_ID = "streamlit-app"
EMULATED_PREFIX = "emulated-"
OFFLINE = "offline"  # the login page's badge for a provider that needs no network
IDP_PATH = "/idp"  # where the development provider is mounted in the app (under its sub-path)
MAX_DEV_ORIGINS = 8  # addresses the embedded provider registers callbacks for, without base_url
# The generic OpenID Connect preset, described as what it is here.
DEV_PRESET = replace(
    GENERIC_OIDC,
    notes="An OpenID Connect provider built on Authlib, running inside this app at /idp: demo "
    "personas, fault switches, and an offline twin of each real provider's shape.",
)


def dev_provider_settings(client_secret: str) -> ProviderSettings:
    """The embedded dev provider; its discovery URL is resolved against the app's own origin."""
    return ProviderSettings(
        name=DEV_PROVIDER,
        client_id=DEV_CLIENT_ID,
        client_secret=client_secret,
        server_metadata_url=f"{IDP_PATH}/.well-known/openid-configuration",
        scope="openid email profile groups offline_access",
        display_name="Development provider",
        preset=DEV_PRESET,
        badge=OFFLINE,
        st_login_names=(DEFAULT_PROVIDER,),  # st.login() without a name, and no [auth] client
    )


def throwaway_apple_key() -> AppleKey:
    """A key for the emulated Apple only: its public half is registered there."""
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", private=True)
    return AppleKey(team_id="DEVTEAM001", key_id="DEVKEY0001", private_key=key.as_pem(private=True).decode())


def _twin(url: str | None, flavor: str) -> str | None:
    """The dev provider's twin of a real URL, relative to the app: ``/idp/flavors/FLAVOR/HOST/PATH``."""
    from devidp.flavors.twins import emulated_url

    return emulated_url(url, IDP_PATH, flavor) if url else url


def emulated_preset(preset: Preset) -> Preset:
    return replace(
        preset,
        server_metadata_url=_twin(preset.server_metadata_url, preset.name),
        authorize_url=_twin(preset.authorize_url, preset.name) or "",
        token_url=_twin(preset.token_url, preset.name) or "",
        profile_url=_twin(preset.profile_url, preset.name),
        emails_url=_twin(preset.emails_url, preset.name),
        orgs_url=_twin(preset.orgs_url, preset.name),
        teams_url=_twin(preset.teams_url, preset.name),
        revocation_url=_twin(preset.revocation_url, preset.name),
        issuer_template=_twin(preset.issuer_template, preset.name),
    )


# A provider no preset knows, as a developer configures it by Authlib's keys (docs/providers.md
# shows this very table): its twin shows the generic OAuth 2.0 provider at work, offline.
STRAVA = "strava"
STRAVA_TABLE: dict[str, object] = {
    "authorize_url": "https://www.strava.com/oauth/authorize",
    "access_token_url": "https://www.strava.com/oauth/token",
    "api_base_url": "https://www.strava.com/api/v3/",
    "userinfo_endpoint": "athlete",
    "client_kwargs": {"scope": "read", "token_endpoint_auth_method": "client_secret_post"},
    "profile_map": {"id": "id", "name": "firstname", "username": "username", "avatar": "profile"},
}


def twin_endpoints(endpoints: Endpoints, flavor: str) -> Endpoints:
    """The table's real endpoints, pointed at their twins; a relative userinfo stays relative."""
    return replace(
        endpoints,
        authorize_url=_twin(endpoints.authorize_url, flavor),
        access_token_url=_twin(endpoints.access_token_url, flavor),
        api_base_url=_twin(endpoints.api_base_url, flavor),
        userinfo_endpoint=endpoints.userinfo_endpoint
        if endpoints.userinfo_endpoint and not urlsplit(endpoints.userinfo_endpoint).scheme
        else _twin(endpoints.userinfo_endpoint, flavor),
        jwks_uri=_twin(endpoints.jwks_uri, flavor),
    )


def emulated_generic(client_secret: str, table: Mapping[str, object] = STRAVA_TABLE) -> ProviderSettings:
    """Strava's table (or another written for its twin) read as any developer's is, then
    pointed at the Strava twin."""
    real = provider_settings(
        EMULATED_PREFIX + STRAVA, {**table, "client_id": DEV_CLIENT_ID, "client_secret": client_secret}
    )
    endpoints = twin_endpoints(real.endpoints, STRAVA)
    return replace(
        real,
        display_name="Strava (emulated)",
        endpoints=endpoints,
        preset=with_endpoints(real.preset, endpoints, {}),
        notes=(),  # the start-up log names real tables' endpoints, not the twins'
        badge=OFFLINE,
        secondary=True,
        st_login_names=(STRAVA,),
    )


def emulated_providers(client_secret: str, apple_key: AppleKey) -> list[ProviderSettings]:
    """Every preset again, pointed at the dev provider's offline twin of that provider; and a
    provider known only by its endpoints (Strava's), pointed at its twin."""
    return [
        ProviderSettings(
            name=EMULATED_PREFIX + preset.name,
            client_id=DEV_CLIENT_ID,
            client_secret=client_secret,
            server_metadata_url=_twin(preset.server_metadata_url, preset.name) or "",
            scope=preset.scope,
            display_name=f"{preset.label} (emulated)",
            authorize_params=preset.authorize_params,
            preset=emulated_preset(preset),
            apple_key=apple_key if preset.name == "apple" else None,
            badge=OFFLINE,
            secondary=True,  # the login page folds the twins away, after the real providers
            st_login_names=(preset.name,),  # st.login("github") without [auth.github]
        )
        for preset in PRESETS.values()
    ] + [emulated_generic(client_secret)]


def dev_providers(*, emulated: bool) -> list[ProviderSettings]:
    """The development provider (and, with ``emulated``, its twins), with a fresh client secret."""
    secret = secrets.token_urlsafe(32)
    listed = [dev_provider_settings(client_secret=secret)]
    return listed + (emulated_providers(secret, throwaway_apple_key()) if emulated else [])


@dataclass(frozen=True)
class DevelopmentMode:
    """What ``load_config`` takes as its ``DevMode``: the development provider and its twins."""

    provider_name: str = DEV_PROVIDER

    def providers(self, *, emulated: bool) -> list[ProviderSettings]:
        return dev_providers(emulated=emulated)


DEV_MODE = DevelopmentMode()


@dataclass
class LocalProviders:
    """The providers this app serves itself: reached in-process, registered as it goes."""

    embedded: Embedded
    client_name: str = "This Streamlit app"
    in_process: bool = True  # False: reach it over the network, like a provider of its own
    _origins: set[str] = field(default_factory=set)

    @classmethod
    def for_config(
        cls, config: AuthConfig, *, server_address: str | None = None, allow_non_loopback: bool = False
    ) -> LocalProviders | None:
        """Development mode for ``config``, or None when it has no development provider.

        ``server_address`` is where the app's server listens (Streamlit's ``server.address``;
        empty: every interface). The provider's own loopback guard trusts the peer address and
        the Host header, which a same-host reverse proxy makes look local, so it runs only on a
        loopback-bound server unless ``allow_non_loopback``; otherwise ``ConfigError``.
        """
        if config.provider(DEV_PROVIDER) is None:
            return None
        from devidp import ProviderConfig, embed
        from devidp.flavors import register_apple_client
        from devidp.runner import NonLoopbackRefused, check_bind_host

        idp_config = ProviderConfig(allow_non_loopback=allow_non_loopback)
        try:
            check_bind_host(server_address or "0.0.0.0", idp_config)
        except NonLoopbackRefused:
            raise ConfigError(
                f"the server listens on {server_address or 'every interface'} (server.address), beyond "
                "loopback, and the development provider logs anyone in without a password. Serve on "
                "localhost, configure a real provider in .streamlit/secrets.toml, or set "
                "DEVIDP_ALLOW_NON_LOOPBACK=1 if you really mean it."
            ) from None
        # Under the app's sub-path, like every route: its issuer is then http://host/app/idp.
        local = cls(embed(config.base_path + IDP_PATH, idp_config))
        for provider in config.providers:
            if provider.served_here and (key := provider.apple_key):
                # The emulated Apple checks the ES256 client secrets against the public half of this key.
                register_apple_client(
                    local.embedded.server,
                    client_id=provider.client_id,
                    team_id=key.team_id,
                    key_id=key.key_id,
                    public_key=key.private_key,
                )
        return local

    @property
    def routes(self) -> list[BaseRoute]:
        return self.embedded.routes

    def transport(self, settings: ProviderSettings) -> httpx2.AsyncBaseTransport | None:
        # In-process: same routes, no socket, and none of the ~40 ms Nagle stall that
        # Streamlit's listening socket adds to kept-alive loopback calls.
        return self.embedded.transport if settings.served_here and self.in_process else None

    def before_login(
        self, settings: ProviderSettings, app_base: str, redirect_uri: str, post_logout_uri: str
    ) -> None:
        """Register this origin's URIs with the embedded provider's client, for a few origins
        only: each distinct Host would otherwise add a URI and a provider client, forever."""
        if not settings.served_here:
            return
        if not is_loopback_url(app_base):
            raise ConfigError(
                "The development provider only works on localhost: it logs anyone in without a password."
            )
        if app_base not in self._origins:
            if len(self._origins) >= MAX_DEV_ORIGINS:
                raise ConfigError(
                    f"The development provider was reached at {MAX_DEV_ORIGINS} different addresses "
                    "already; open the app at one of them, or set [auth] base_url to the one you use."
                )
            self._origins.add(app_base)
        register = self.embedded.client_registrar(
            settings.client_id, str(settings.client_secret), self.client_name
        )
        register(redirect_uri, post_logout_uri)

    # --- for pages: what the embedded provider saw and which faults it injects ----------------
    @property
    def mount_path(self) -> str:
        """Where the provider is served on the server, with a trailing slash (``/idp/``, or
        ``/app/idp/`` under the sub-path ``/app``)."""
        return self.embedded.path.rstrip("/") + "/"

    def journal(self, *, state: str | None, code_fingerprint: str | None) -> list[dict[str, object]]:
        """The provider's own log of one login, joined by its ``state`` and code fingerprint."""
        journal = self.embedded.server.journal
        found = {}
        for key, value in (("state", state), ("code_fingerprint", code_fingerprint)):
            if value:
                found |= {e.id: e.as_dict() for e in journal.entries(**{key: value})}
        return list(found.values())

    def faults_on(self) -> frozenset[str]:
        """The fault switches that are on."""
        return self.embedded.server.faults.active()

    def set_faults(self, names: set[str]) -> None:
        """Turn on exactly ``names``."""
        self.embedded.server.faults.set(names)
