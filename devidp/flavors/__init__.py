"""Emulated real providers: the dev provider answering like Google, GitHub and others.

Every real endpoint ``https://HOST/PATH?QUERY`` has a twin
``{idp}/flavors/{flavor}/HOST/PATH?QUERY`` (``emulated_url``), served with the
real provider's paths, formats, claims and quirks, over the dev provider's
clients, personas, login page and keys. One module per provider:

    base.py      what every flavour shares (the rewrite, the delegation, the reshaping)
    twins.py     real URLs and their twins        state.py   codes and tokens per flavour
    errors.py    refusals, as data                apple.py   ... naver.py: the presets' providers
    strava.py    a provider no preset knows: the login's generic OAuth 2.0 provider meets it
    github_orgs.py, microsoft_accounts.py         who is in which organisation, team, tenant
"""

from __future__ import annotations

from .apple import Apple, AppleKey, register_apple_client
from .base import Flavor
from .discord import Discord
from .facebook import Facebook
from .github import GitHub
from .gitlab import GitLab
from .google import Google
from .kakao import Kakao
from .microsoft import Microsoft
from .naver import Naver
from .strava import Strava
from .twins import emulated_url

REGISTRY: dict[str, Flavor] = {
    flavor.name: flavor
    for flavor in (
        Google(),
        GitHub(),
        Facebook(),
        Microsoft(),
        Apple(),
        GitLab(),
        Discord(),
        Kakao(),
        Naver(),
        Strava(),
    )
}

FLAVORS: dict[str, str] = {name: flavor.description for name, flavor in REGISTRY.items()}

__all__ = ["FLAVORS", "REGISTRY", "AppleKey", "Flavor", "emulated_url", "register_apple_client"]
