"""The JWT inspector's one way out to the network: a GET for a JSON document, bounded.

A pasted token or URL makes this server send a request, so (issue 10's red-team pass):

- the host name is resolved once, and the connection goes to the address that was
  checked: DNS rebinding answers the HTTP client's own second lookup differently;
- only globally routable addresses are reached (``is_public``), plus the URL prefixes
  the caller names in ``Reach.also`` (this app's own development provider). Loopback,
  private, link-local, shared (100.64.0.0/10, where cloud metadata lives), multicast, and
  reserved or deprecated IPv6 addresses are refused before anything is sent;
- the body is read as a stream, and refused past ``Reach.max_bytes``;
- one wall-clock deadline covers the lookup, the connection, the headers and the body;
- every network failure reads the same, so the answers cannot map which ports are open.

Redirects are not followed: a 3xx is an answer like any other that is not 200.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx2

from .untrusted import code

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]

# RFC 6598's shared address space: carrier-grade NAT, and 100.100.100.200 is a cloud
# metadata service. ``is_global`` already excludes it; it is named because the red team used it.
SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
# IPv6 global unicast (RFC 4291 §2.4; IANA's IPv6 address space registry): everything outside is
# reserved, local or multicast. Python 3.11's `is_global` says yes to some of it: ::a.b.c.d
# (IPv4-compatible, RFC 4291 §2.5.5.1, deprecated), 64:ff9b:1::/48 (local-use NAT64, RFC 8215,
# translated by a gateway of this network), fec0::/10 (site-local, RFC 3879), 5f00::/16 (SRv6, RFC 9602).
GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
# Inside 2000::/3 or IPv4, what the IANA special-purpose registries list as not globally reachable
# and Python 3.11's `is_global` misses.
NOT_GLOBAL = (
    ipaddress.IPv6Network("3fff::/20"),  # documentation (RFC 9637)
    ipaddress.IPv4Network("192.88.99.0/24"),  # 6to4 relay anycast (RFC 7526, deprecated)
)
DEFAULT_PORTS = {"https": 443, "http": 80}
# Lookups run here, so the deadline also bounds a slow resolver (asyncio.run would wait for
# its default executor's threads; it never waits for these).
_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inspector-lookup")


class FetchError(Exception):
    """Nothing usable was fetched. The message says why in markdown, values quoted."""


def is_public(address: IPAddress) -> bool:
    """Whether a request from this server may go to ``address``: globally routable unicast.

    An IPv6 address that carries an IPv4 one (mapped, 6to4, NAT64) is judged by that one.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if embedded is not None:
            return is_public(embedded)
    if address.is_multicast:  # `is_global` counts global-scope multicast in
        return False
    if isinstance(address, ipaddress.IPv6Address) and address not in GLOBAL_UNICAST:
        return False
    return (
        address.is_global
        and address not in SHARED_ADDRESS_SPACE
        and not any(address in network for network in NOT_GLOBAL if network.version == address.version)
    )


def system_resolver(host: str) -> list[str]:
    """The addresses ``host`` resolves to, in the system's order of preference."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def loopback_prefixes(port: int, path: str) -> tuple[str, ...]:
    """``path`` on this machine's loopback addresses at ``port``: where an app's own routes are."""
    return (f"http://127.0.0.1:{port}{path}", f"http://[::1]:{port}{path}")


@dataclass(frozen=True, kw_only=True)
class Reach:
    """Where a fetch may go, how much it may read, and for how long.

    ``also`` lists URL prefixes beyond the public internet, each with an IP-literal host
    (``http://127.0.0.1:8501/idp/``): a URL under one may be fetched from that address
    and port, whatever name it uses. ``verify`` is the TLS context that checks the
    certificate (None: the default CA bundle).
    """

    also: tuple[str, ...] = ()
    max_bytes: int = 1_000_000
    deadline: float = 5.0
    resolve: Resolver = system_resolver
    verify: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        for prefix in self.also:
            ipaddress.ip_address(httpx2.URL(prefix).host)  # ValueError for a name

    def allows(self, url: httpx2.URL, address: IPAddress) -> bool:
        if is_public(address):
            return True
        port = url.port or DEFAULT_PORTS[url.scheme]
        for prefix in map(httpx2.URL, self.also):
            if (
                prefix.scheme == url.scheme
                and ipaddress.ip_address(prefix.host) == address
                and (prefix.port or DEFAULT_PORTS[prefix.scheme]) == port
                and url.path.startswith(prefix.path)
            ):
                return True
        return False


def get_json(url: str, what: str, reach: Reach) -> dict[str, object]:
    """GET ``url`` within ``reach``: the JSON object it answers, or a FetchError saying why not.

    Blocking: it runs an event loop of its own, so call it from a thread without one (as
    Streamlit's script thread is); the deadline is enforced by cancelling, not by timeouts.
    """
    try:
        target = httpx2.URL(url)
    except httpx2.InvalidURL as error:
        raise FetchError(f"The {what} URL {code(url)} is not a URL.") from error
    if target.scheme not in DEFAULT_PORTS or not target.host:
        raise FetchError(f"The {what} URL must be an absolute https:// URL: {code(url)}.")
    body = asyncio.run(_fetch(target, what, reach))
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise FetchError(f"The {what} at {code(url)} is not JSON.") from error
    if not isinstance(data, dict):
        raise FetchError(f"The {what} at {code(url)} is not a JSON object.")
    return data


async def _fetch(target: httpx2.URL, what: str, reach: Reach) -> bytes:
    try:
        async with asyncio.timeout(reach.deadline):
            addresses = await _lookup(target, reach)
            if refused := [a for a in addresses if not reach.allows(target, a)]:
                raise FetchError(
                    f"Refusing to fetch the {what} from {code(target.host)}: "
                    f"{'an internal address' if len(refused) == 1 else 'internal addresses'}, "
                    "not the public internet. Paste the keys instead."
                )
            return await _get(target, addresses, what, reach)
    except (TimeoutError, OSError, UnicodeError, httpx2.HTTPError) as error:  # UnicodeError: IDNA
        # The same words for a closed port, an open one that is not HTTP, a silent one, a
        # failed lookup and a bad certificate: nothing here may tell them apart.
        raise FetchError(
            f"Nothing usable answered for the {what} at {code(target)} within {reach.deadline:g} s. "
            "Check the URL, or paste the keys instead."
        ) from error


async def _lookup(target: httpx2.URL, reach: Reach) -> list[IPAddress]:
    host = target.raw_host.decode("ascii")
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    found = await asyncio.get_running_loop().run_in_executor(_LOOKUPS, reach.resolve, host)
    if not found:
        raise OSError(f"{host} has no address")
    return [ipaddress.ip_address(address) for address in found]


async def _get(target: httpx2.URL, addresses: list[IPAddress], what: str, reach: Reach) -> bytes:
    """Connect to a checked address itself, naming the host in Host and in TLS's SNI (which
    is also the name the certificate is verified against), so no second lookup happens."""
    headers = {"Host": target.netloc.decode("ascii"), "Accept": "application/json"}
    headers["Accept-Encoding"] = "identity"  # the cap counts the bytes that arrive
    name = target.raw_host.decode("ascii")
    extensions = {} if _is_address(name) else {"sni_hostname": name}
    failed: list[httpx2.ConnectError] = []
    # No proxy from the environment (trust_env): a proxy would look the name up again.
    verify = reach.verify or True
    async with httpx2.AsyncClient(trust_env=False, timeout=reach.deadline, verify=verify) as client:
        for address in addresses:  # in the resolver's order, each one already checked
            pinned = target.copy_with(host=str(address))
            request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
            try:
                response = await client.send(request, stream=True)
            except httpx2.ConnectError as error:
                failed.append(error)
                continue
            try:
                return await _body(response, code(target), what, reach.max_bytes)
            finally:
                await response.aclose()
    raise failed[-1]


async def _body(response: httpx2.Response, shown: str, what: str, max_bytes: int) -> bytes:
    if response.status_code != 200:
        raise FetchError(f"The {what} at {shown} answered HTTP {response.status_code}.")
    too_big = FetchError(f"The {what} at {shown} is larger than {max_bytes:,} bytes: refused.")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise FetchError(f"The {what} at {shown} came compressed ({code(encoding)}) though asked not to.")
    declared = response.headers.get("content-length", "")
    # ASCII digits only (str.isdigit() takes "²", which int() refuses); h11 refuses such a header
    # first today, but this line should not depend on which HTTP parser runs underneath.
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > max_bytes):
        raise too_big
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > max_bytes:
            raise too_big
    return bytes(body)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
