"""Where a request really came from, behind a proxy that terminates TLS: the proxies the
operator names (``[auth] trusted_proxies``) and what their ``X-Forwarded-*`` headers say.

A request's own connection says its peer, its scheme and (in ``Host``) its host. A proxy in
front replaces all three with its own, and says the browser's in headers. Anyone can send those
headers, so they count only when the connection's peer is a proxy the operator named; nobody is
named by default, loopback included (a same-host proxy is named like any other, and any other
local process may connect to the app too). ``[auth] base_url``, when set, wins over all of it.

Only ``X-Forwarded-Proto``, ``-Host`` and ``-For`` are read, never ``Forwarded`` (RFC 7239):
they are what nginx, Caddy, Traefik and the Kubernetes ingresses send, and a proxy overwrites
only the family it sets, passing the other through from the client untouched. Reading both
would let a client speak through a trusted proxy in the family that proxy does not set.

Of a header a chain of proxies has made a list, the last value counts: the one the trusted peer
itself added. ``X-Forwarded-For`` is read from the right past the trusted proxies, as each
appends the address it saw (MDN's "X-Forwarded-For", *Selecting an IP address*).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
KEY = "trusted_proxies"
# The ASGI scope key where the app's server keeps a request's own connection (its client and
# scheme) before uvicorn rewrites them from X-Forwarded-* (``_streamlit.internals`` says why).
CONNECTION_SCOPE_KEY = "streamlit_authlib_login.connection"
FORWARDING_HEADERS = ("x-forwarded-proto", "x-forwarded-host", "x-forwarded-for", "forwarded")
# RFC 9110 §7.2 Host: uri-host [ ":" port ], with uri-host a reg-name, IPv4 or [IPv6] (RFC 3986
# §3.2.2); no userinfo, path or spaces, which would make another URL of a redirect URI.
_HOST = re.compile(r"(?:[A-Za-z0-9\-._~]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


@dataclass(frozen=True)
class TrustedProxies:
    """The networks whose connections may say where a request came from."""

    networks: tuple[Network, ...] = ()

    def __contains__(self, host: object) -> bool:
        address = _address(host)
        return address is not None and any(address in network for network in self.networks)

    def __bool__(self) -> bool:
        return bool(self.networks)


@dataclass(frozen=True)
class Connection:
    """A request as its own connection has it: the peer's address, the scheme, the Host header."""

    peer: str | None
    scheme: str
    host: str


@dataclass(frozen=True)
class Public:
    """A request as the browser made it: the public scheme and host, the client's address, and
    whether forwarding headers were there but not believed (their sender is not trusted)."""

    scheme: str
    host: str
    client: str | None
    ignored: bool = False

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}"


def parse_trusted_proxies(value: object) -> TrustedProxies:
    """``[auth] trusted_proxies``: a list of IP addresses and networks (CIDR), or one of them
    in a string (``AUTH_TRUSTED_PROXIES`` separates them with commas)."""
    if value is None:
        return TrustedProxies()
    entries = [e.strip() for e in value.split(",")] if isinstance(value, str) else value
    if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
        raise ConfigError(
            f'[auth] `{KEY}` must be a list of IP addresses or networks, like ["127.0.0.1", '
            f'"10.0.0.0/8"] (got {value!r}).'
        )
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError:
            raise ConfigError(
                f"[auth] `{KEY}` entry {entry!r} is no IP address or network: write an address "
                '("10.0.0.5") or a network with its prefix length ("10.0.0.0/8"), host bits zero.'
            ) from None
    return TrustedProxies(tuple(networks))


def forwarded_headers(headers: Mapping[str, str]) -> bool:
    """Whether a request carries any header a proxy says the browser's request with."""
    return any(name in headers for name in FORWARDING_HEADERS)


def public(connection: Connection, headers: Mapping[str, str], trusted: TrustedProxies) -> Public:
    """The request as the browser made it: the connection's own values, with those a trusted
    proxy's ``X-Forwarded-Proto``, ``-Host`` and ``-For`` replace. A value that is not one
    (a scheme other than http or https, a host with a path, an address that is none) is
    passed over, and the connection's stands."""
    if connection.peer not in trusted:
        return Public(connection.scheme, connection.host, connection.peer, forwarded_headers(headers))
    proto = _last(headers.get("x-forwarded-proto", "")).lower()
    host = _last(headers.get("x-forwarded-host", ""))
    return Public(
        proto if proto in ("http", "https") else connection.scheme,
        host if _HOST.fullmatch(host) else connection.host,
        _client(headers.get("x-forwarded-for", ""), connection.peer, trusted),
    )


def _last(value: str) -> str:
    return value.rsplit(",", 1)[-1].strip()


def _client(forwarded_for: str, peer: str | None, trusted: TrustedProxies) -> str | None:
    client = peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if _address(hop) is None:
            break  # no address: nothing left of it is worth more than the last hop we believed
        client = hop
        if hop not in trusted:
            break
    return client


def _address(host: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(str(host))
    except ValueError:
        return None
    # An IPv4 peer of a dual-stack listener arrives as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address
