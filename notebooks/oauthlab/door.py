"""Notebook 12's stage: this project's login module with access rules, in-process, in front of
the embedded development provider and its offline twins, as ``app.py`` composes them in
development mode (``auth_routes`` over an ``Authenticator``, the provider at ``/idp``).

The rules are written as the secrets an app would hold. ``[auth]`` is read as it is; a table
named after a preset (``[auth.google]``, ``[auth.microsoft]``, ``[auth.github]``) gives its
rules and its ``client_kwargs.scope`` to that preset's twin, which stands in for the real
provider (a real app's table would also hold its ``client_id`` and ``client_secret``).
A visit is a whole login by one persona through a browser (a cookie jar): admitted with a
session, or refused by a rule, as the callback decides.
"""

from __future__ import annotations

import logging
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from html import unescape
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import httpx2
import pandas as pd
from starlette.applications import Starlette

from devidp import Embedded, embed
from streamlit_authlib_login._core.config import AuthConfig, load_config, with_rules
from streamlit_authlib_login._core.flow import Authenticator
from streamlit_authlib_login._core.presets import PRESETS
from streamlit_authlib_login._core.rules import parse_rules, startup_lines
from streamlit_authlib_login._core.sessions import SessionManager
from streamlit_authlib_login._core.store import MemoryStore
from streamlit_authlib_login._devmode import DEV_MODE, EMULATED_PREFIX, IDP_PATH, LocalProviders
from streamlit_authlib_login._routes import auth_routes

from .exchanges import hidden_fields

APP_URL = "http://localhost:8501"
NO_RULES = "no rules: anyone with an account there"
SHOWN = ("dev", "google", "microsoft", "github")
LOG = logging.getLogger("streamlit_authlib_login")


@dataclass(frozen=True)
class Visit:
    """One persona's login at one provider: admitted (with the rules that let them in, and
    their roles) or refused (the rule, and the page's words)."""

    persona: str
    provider: str
    admitted: bool
    admitted_by: str = ""
    roles: tuple[str, ...] = ()
    rule: str = ""
    reason: str = ""
    claims: Mapping[str, object] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        if self.admitted:
            return f"{self.persona} at {self.provider}: ADMITTED ({self.admitted_by or NO_RULES})"
        return f"{self.persona} at {self.provider}: REFUSED by {self.rule}\n  {self.reason}"


def visits_table(visits: list[Visit]) -> pd.DataFrame:
    """One row a visit: in or not, which rule decided, the roles the session holds."""
    rows = [
        {
            "persona": v.persona,
            "provider": v.provider,
            "comes in": "✓" if v.admitted else "✗",
            "decided by": (v.admitted_by or NO_RULES) if v.admitted else f"refused by {v.rule}",
            "roles": ", ".join(v.roles),
        }
        for v in visits
    ]
    return pd.DataFrame(rows).set_index(["persona", "provider"])


_provider: Embedded | None = None  # one embedded provider for every door: its keys are made once


def _config(secrets_toml: str) -> AuthConfig:
    """The secrets' config in development mode. A preset's table (``[auth.github]``) renames
    that preset's twin to the preset's name and gives it the table's rules and scope."""
    auth = dict(tomllib.loads(secrets_toml).get("auth", {}))
    twins = {k: auth.pop(k) for k in list(auth) if k in PRESETS and isinstance(auth[k], Mapping)}
    auth["cookie_secret"] = secrets.token_urlsafe(32)  # given: nothing is written under .local/
    config = load_config({"auth": auth}, {}, dev_mode=DEV_MODE)
    common = parse_rules("[auth]", auth)
    providers = []
    for settings in config.providers:
        preset = settings.name.removeprefix(EMULATED_PREFIX)
        if settings.name.startswith(EMULATED_PREFIX) and (table := twins.get(preset)) is not None:
            scope = dict(table.get("client_kwargs", {})).get("scope", settings.scope)
            settings = replace(settings, name=preset, scope=str(scope))
            settings = with_rules(settings, common, parse_rules(f"[auth.{preset}]", table))
        providers.append(settings)
    return replace(config, providers=tuple(providers))


class _Printed(logging.Handler):
    """The login module's log lines, printed where the notebook prints (its stdout, in order)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record))


class Door:
    """The login module with ``secrets_toml``'s rules; ``visit`` logs a persona in through it."""

    def __init__(self, secrets_toml: str = "") -> None:
        global _provider
        _provider = _provider or embed(IDP_PATH)
        self.config = _config(secrets_toml)
        sessions = SessionManager(MemoryStore(), self.config.cookie_secret, self.config.session)
        self.auth = Authenticator(self.config, sessions, local=LocalProviders(_provider))
        app = Starlette(routes=[*auth_routes(self.auth, login_page=None), *_provider.routes])
        self._transport = httpx2.ASGITransport(app=app)
        self.last_page = ""  # what the last refused person read
        # One line per refusal, as on the console of `streamlit run` (warnings and worse).
        self._log = _Printed(logging.WARNING)
        LOG.addHandler(self._log)

    def startup_log(self) -> str:
        """What the app's start-up log says of who each provider admits (names and sizes, not
        the lists), for the development provider and the three twins this notebook uses."""
        shown = [
            (p.name, p.access) for p in self.config.providers if p.name.removeprefix(EMULATED_PREFIX) in SHOWN
        ]
        return "\n".join(startup_lines(shown, ()))

    async def visit(self, persona: str, provider: str = "dev") -> Visit:
        """``persona`` logs in with ``provider`` (``dev``, or a preset's name for its twin).
        Admitted means the browser came back with a session (``/auth/me`` answers it)."""
        names = {p.name for p in self.config.providers}
        name = provider if provider in names else EMULATED_PREFIX + provider
        async with httpx2.AsyncClient(transport=self._transport, base_url=APP_URL) as browser:
            start = await browser.get(f"/auth/login/{name}", params={"next": "/"})
            landed = await _through_the_provider(browser, start.headers["location"], persona)
            me = await browser.get("/auth/me")
            if me.status_code == 200:
                session = me.json()
                return Visit(
                    persona,
                    provider,
                    True,
                    admitted_by=str(session["admitted_by"]),
                    roles=tuple(session["roles"]),
                    claims=session["claims"] or session["profile"],
                )
            failure = dict(parse_qsl(urlsplit(landed).query)).get("failure", "")
            record = self.auth.sessions.notices.failure(failure, browser.cookies.get("auth_login")) or {}
            self.last_page = (await browser.get(landed)).text
        check = str(record.get("check", ""))
        return Visit(persona, provider, False, rule=check.removeprefix("not_allowed/"),
                     reason=str(record.get("description", "")))  # fmt: skip

    def last_refusal_page(self) -> str:
        """The text of the page the last refused person was shown (``/auth/failed``)."""
        body = re.sub(r"(?s).*<body>|</body>.*", "", self.last_page)
        blocks = re.sub(r"</?(?:h1|p|div|a)\b[^>]*>", "\n", body)  # inline tags (code, strong) just go
        lines = (" ".join(line.split()) for line in unescape(re.sub(r"<[^>]+>", "", blocks)).splitlines())
        return "\n".join(line for line in lines if line)

    async def aclose(self) -> None:
        LOG.removeHandler(self._log)
        await self.auth.aclose()


async def _through_the_provider(browser: httpx2.AsyncClient, url: str, persona: str) -> str:
    """From the authorization URL back to the app, as a browser would: redirects, and the
    consent page where the provider asks (Google's twin always does, with prompt=consent).
    Returns where our callback sent the browser."""
    response = await browser.get(f"{url}&{urlencode({'login_hint': persona})}")
    for _ in range(5):
        if response.status_code == 200:  # the consent page: Allow
            fields = hidden_fields(response.text) | {"consent": "allow"}
            response = await browser.post(str(response.url), data=fields)
            continue
        location = urljoin(str(response.url), response.headers["location"])
        response = await browser.get(location)
        if urlsplit(location).path.startswith("/auth/callback/"):
            return response.headers["location"]
    raise RuntimeError(f"{persona} never came back to the app from {url}")


_open: list[Door] = []


async def open_door(secrets_toml: str = "") -> Door:
    """A new door with these rules (the previous one closed)."""
    await close_door()
    _open.append(Door(secrets_toml))
    return _open[-1]


async def close_door() -> None:
    while _open:
        await _open.pop().aclose()
