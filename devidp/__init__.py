"""An embedded OpenID Connect provider for development, built on Authlib.

It logs anyone in as one of a few demo personas, without a password, and only
on loopback unless told otherwise. ``devidp.flavors`` makes it answer like
Google, GitHub, Facebook, Microsoft, Apple, GitLab, Discord, Kakao and Naver.
"""

from .config import Client, ProviderConfig, demo_clients
from .embed import Embedded, embed
from .faults import FAULTS
from .personas import PERSONAS, Persona
from .routes import create_app, mount
from .runner import RunningProvider, serve
from .server import DevAuthorizationServer

__all__ = [
    "FAULTS",
    "PERSONAS",
    "Client",
    "DevAuthorizationServer",
    "Embedded",
    "Persona",
    "ProviderConfig",
    "RunningProvider",
    "create_app",
    "demo_clients",
    "embed",
    "mount",
    "serve",
]
