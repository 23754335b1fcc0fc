"""The inspector's way out to the network (dashboard/fetch.py), against real loopback servers:
which addresses it reaches, that it connects where it checked, and how little it reads and waits."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dashboard.fetch import FetchError, Reach, get_json, is_public, loopback_prefixes
from dashboard.inspector import InspectError, discover, keys_from_url
from devidp import serve

JWKS = json.dumps({"keys": []}).encode()


@dataclass
class Seen:
    """What a loopback server saw: one entry per connection, the bytes it received."""

    connections: list[bytes] = field(default_factory=list)
    sent: int = 0


Handler = Callable[[socket.socket, Seen], None]


@contextmanager
def tcp_server(handler: Handler, host: str = "127.0.0.1", port: int = 0) -> Iterator[tuple[int, Seen]]:
    """A real TCP server on ``host``; ``handler`` answers each connection in a thread of its own."""
    seen = Seen()
    listener = socket.create_server((host, port))
    listener.settimeout(0.1)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve_one(conn: socket.socket) -> None:
        with conn, suppress(OSError):  # OSError: the client hung up, as a refused fetch does
            handler(conn, seen)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=serve_one, args=(conn,), daemon=True)
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1], seen
    finally:
        stop.set()
        acceptor.join()
        listener.close()
        for thread in threads:
            thread.join(timeout=5)


def read_head(conn: socket.socket, seen: Seen) -> bytes:
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    seen.connections.append(head)
    return head


def answer(body: bytes, *, extra: bytes = b"") -> Handler:
    def handle(conn: socket.socket, seen: Seen) -> None:
        read_head(conn, seen)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        conn.sendall(head + extra + b"Connection: close\r\n\r\n" + body)

    return handle


def allowing(port: int, host: str = "127.0.0.1", **settings: object) -> Reach:
    """A Reach that lets this test reach its own loopback server, as the app lets its dev provider."""
    shown = f"[{host}]" if ":" in host else host
    return Reach(also=(f"http://{shown}:{port}/",), **settings)  # type: ignore[arg-type]


# --- which addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "100.100.100.200",  # a cloud metadata service, in RFC 6598 shared space
        "100.64.0.1",
        "169.254.169.254",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "127.0.0.2",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",  # multicast: is_global says True
        "192.0.2.1",
        "198.18.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "ff02::1",  # multicast: is_global says True
        "ff0e::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254: is_global says True
        "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254: is_global says True
        "2001:db8::1",
        # What Python 3.11's `is_global` calls global, and the IANA special-purpose registries do not:
        "::127.0.0.1",  # IPv4-compatible (RFC 4291 §2.5.5.1, deprecated): no route says where it goes
        "::a9fe:a9fe",
        "::8.8.8.8",
        "::ffff:0:7f00:1",  # IPv4-translated (RFC 6145)
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 (RFC 8215): translated by a gateway of this network
        "64:ff9b:1::808:808",
        "fec0::1",  # site-local (RFC 3879, deprecated)
        "3fff::1",  # documentation (RFC 9637)
        "5f00::1",  # SRv6 SIDs (RFC 9602)
        "192.88.99.1",  # 6to4 relay anycast (RFC 7526, deprecated)
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    """Loopback, private, link-local, shared, reserved and multicast, and IPv6 wrappings of them."""
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.215.14",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",  # wrappings of a public IPv4 address: judged by it
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_globally_routable_addresses_are_allowed(address: str) -> None:
    """The public internet is where an issuer's keys live."""
    assert is_public(ipaddress.ip_address(address))


def test_python_already_counts_shared_space_as_not_global() -> None:
    """Verified, not assumed: `is_global` excludes 100.64.0.0/10; fetch.py names it anyway."""
    assert not ipaddress.ip_address("100.100.100.200").is_global
    assert not ipaddress.ip_address("100.100.100.200").is_private  # why the old check let it through


@pytest.mark.parametrize(
    "url",
    [
        "https://100.100.100.200/latest/meta-data",
        "https://169.254.169.254/latest/meta-data",
        "https://10.1.2.3/jwks.json",
        "https://[fd00::1]/k",
        "https://[::ffff:a9fe:a9fe]/k",
    ],
)
def test_internal_urls_are_refused_before_any_request(url: str) -> None:
    """An address literal is judged as it is: refused without a connection attempt."""
    with pytest.raises(InspectError, match="an internal address"):
        keys_from_url(url)


def test_loopback_is_refused_unless_allowed_and_only_under_the_allowed_prefix() -> None:
    """Any port of this machine was reachable: now only what ``also`` names, and nothing else."""
    with tcp_server(answer(JWKS)) as (port, seen):
        with pytest.raises(FetchError, match="an internal address"):
            get_json(f"http://127.0.0.1:{port}/idp/jwks.json", "JWKS", Reach())
        own = Reach(also=loopback_prefixes(port, "/idp/"))
        with pytest.raises(FetchError, match="an internal address"):
            get_json(f"http://127.0.0.1:{port}/auth/me", "JWKS", own)
        assert seen.connections == []
        assert get_json(f"http://localhost:{port}/idp/jwks.json", "JWKS", own) == {"keys": []}
        assert len(seen.connections) == 1


def test_the_dev_provider_is_reachable_through_its_own_prefix() -> None:
    """Against the real provider: refused by default, fetched when its prefix is allowed."""
    with serve() as idp:
        with pytest.raises(InspectError, match="an internal address"):
            discover(idp.url)
        port = int(idp.url.rsplit(":", 1)[1])
        reach = Reach(also=loopback_prefixes(port, "/"))
        metadata = discover(idp.url, reach)
        assert [k.kid for k in keys_from_url(str(metadata["jwks_uri"]), reach)] == [
            idp.server.keys.active_kid
        ]


# --- resolved once, connected where checked ----------------------------------------------------------


def test_the_connection_goes_to_the_address_that_was_checked() -> None:
    """DNS rebinding: the name resolves to an allowed address once, to another after. One lookup
    is made, the request reaches the first address, and nothing reaches the second."""
    lookups: list[str] = []

    def rebinding(host: str) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["127.0.0.2"]

    with (
        tcp_server(answer(JWKS)) as (port, checked),
        tcp_server(answer(b"{}"), "127.0.0.2", port) as (_, other),
    ):
        reach = Reach(also=(f"http://127.0.0.1:{port}/",), resolve=rebinding)
        assert get_json(f"http://rebind.test:{port}/jwks.json", "JWKS", reach) == {"keys": []}
    assert lookups == ["rebind.test"]
    assert other.connections == []
    (head,) = checked.connections
    assert f"\r\nhost: rebind.test:{port}\r\n".encode() in head.lower()  # the name, not the address


def test_each_checked_address_is_tried_in_turn() -> None:
    """``localhost`` may resolve to ::1 first while the server listens on 127.0.0.1 only."""
    with tcp_server(answer(JWKS)) as (port, seen):
        reach = Reach(also=loopback_prefixes(port, "/"), resolve=lambda host: ["::1", "127.0.0.1"])
        assert get_json(f"http://localhost:{port}/jwks.json", "JWKS", reach) == {"keys": []}
    assert len(seen.connections) == 1


Signer = tuple[x509.Name, ec.EllipticCurvePrivateKey]


def certificate(
    name: str, issuer: Signer | None = None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A key and a certificate for ``name``, signed by ``issuer`` (self-signed CA when None)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer_name, signer_key = issuer or (subject, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return key, builder.sign(signer_key, hashes.SHA256())


def tls_server_context(name: str, ca: Signer, tmp_path: Path) -> ssl.SSLContext:
    key, cert = certificate(name, ca)
    (tmp_path / "leaf.pem").write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem")
    return context


def over_tls(context: ssl.SSLContext, handler: Handler, names: list[str | None]) -> Handler:
    """``handler`` behind TLS; records the name each client asked for (SNI)."""
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,func-returns-value]

    def handle(conn: socket.socket, seen: Seen) -> None:
        with context.wrap_socket(conn, server_side=True) as tls:
            handler(tls, seen)

    return handle


@pytest.mark.parametrize("served_for", ["jwks.test", "other.test"])
def test_tls_goes_to_the_checked_address_but_verifies_the_name(tmp_path: Path, served_for: str) -> None:
    """Connected to 127.0.0.1, TLS still sends and verifies the name: SNI is jwks.test, and a
    certificate for another name fails like any network failure."""
    ca_key, ca_cert = certificate("Test CA")
    ca = (ca_cert.subject, ca_key)
    trusted = ssl.create_default_context(cadata=ca_cert.public_bytes(serialization.Encoding.PEM).decode())
    names: list[str | None] = []
    server = over_tls(tls_server_context(served_for, ca, tmp_path), answer(JWKS), names)
    with tcp_server(server) as (port, _):
        reach = Reach(
            also=(f"https://127.0.0.1:{port}/",), resolve=lambda host: ["127.0.0.1"], verify=trusted
        )
        url = f"https://jwks.test:{port}/jwks.json"
        if served_for == "jwks.test":
            assert get_json(url, "JWKS", reach) == {"keys": []}
        else:
            with pytest.raises(FetchError, match="Nothing usable answered"):
                get_json(url, "JWKS", reach)
    assert names == ["jwks.test"]


def test_a_name_that_resolves_to_a_refused_address_sends_nothing() -> None:
    """First answer internal: refused, and no second lookup lands it on the loopback server."""
    lookups: list[str] = []

    def rebinding(host: str) -> list[str]:
        lookups.append(host)
        return ["10.9.9.9"] if len(lookups) == 1 else ["127.0.0.1"]

    with tcp_server(answer(JWKS)) as (port, seen):
        reach = Reach(also=(f"http://127.0.0.1:{port}/",), resolve=rebinding)
        with pytest.raises(FetchError, match="an internal address"):
            get_json(f"http://rebind.test:{port}/jwks.json", "JWKS", reach)
    assert lookups == ["rebind.test"]
    assert seen.connections == []


def test_one_internal_address_among_several_refuses_the_name() -> None:
    """A name with a public and an internal address is refused as a whole."""
    reach = Reach(resolve=lambda host: ["8.8.8.8", "169.254.169.254"])
    with pytest.raises(FetchError, match="an internal address"):
        get_json("https://mixed.test/jwks.json", "JWKS", reach)


# --- how long, how much ----------------------------------------------------------------------------


def drip(after_head: bool) -> Handler:
    """A server that sends its answer one byte every half second, from the status line or after it."""

    def handle(conn: socket.socket, seen: Seen) -> None:
        read_head(conn, seen)
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b'{"keys": ['
        if after_head:
            conn.sendall(head)
            head = b""
        for byte in head + b" " * 100_000:
            conn.sendall(bytes([byte]))
            time.sleep(0.5)

    return handle


@pytest.mark.parametrize("after_head", [False, True], ids=["dripped-head", "dripped-body"])
def test_one_deadline_covers_connect_headers_and_body(after_head: bool) -> None:
    """A byte every 0.5 s keeps every read under its timeout; the whole fetch still ends at the deadline."""
    with tcp_server(drip(after_head)) as (port, _):
        started = time.monotonic()
        with pytest.raises(FetchError, match="Nothing usable answered"):
            get_json(f"http://127.0.0.1:{port}/jwks.json", "JWKS", allowing(port, deadline=1.5))
        assert time.monotonic() - started < 2.5


def endless(conn: socket.socket, seen: Seen) -> None:
    """No Content-Length, and 300 MB of JSON-looking bytes if anyone reads them."""
    read_head(conn, seen)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    chunk = b'{"keys": [' + b" " * 65_526
    while seen.sent < 300_000_000:
        conn.sendall(chunk)
        seen.sent += len(chunk)


def test_a_body_past_one_megabyte_is_refused_while_streaming() -> None:
    """The answer is read as it arrives and dropped past the cap, not read whole into memory."""
    with tcp_server(endless) as (port, seen):
        with pytest.raises(FetchError, match="larger than 1,000,000 bytes"):
            get_json(f"http://127.0.0.1:{port}/jwks.json", "JWKS", allowing(port))
        time.sleep(0.2)
    assert seen.sent < 20_000_000  # the cap plus what the socket buffers held, not 300 MB


def test_a_declared_length_past_the_cap_is_refused_before_the_body() -> None:
    """Content-Length: 300 MB is refused on the headers."""

    def declares(conn: socket.socket, seen: Seen) -> None:
        read_head(conn, seen)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 300000000\r\n\r\n{")
        time.sleep(1)

    with tcp_server(declares) as (port, _):
        started = time.monotonic()
        with pytest.raises(FetchError, match="larger than"):
            get_json(f"http://127.0.0.1:{port}/jwks.json", "JWKS", allowing(port))
        assert time.monotonic() - started < 0.9


def test_a_compressed_answer_is_refused() -> None:
    """Identity was asked for; a gzip answer could be a bomb the byte count never sees."""
    gzipped = answer(b"\x1f\x8b not really", extra=b"Content-Encoding: gzip\r\n")
    with tcp_server(gzipped) as (port, _), pytest.raises(FetchError, match="came compressed"):
        get_json(f"http://127.0.0.1:{port}/jwks.json", "JWKS", allowing(port))


# --- one message for every network failure ------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def silent(conn: socket.socket, seen: Seen) -> None:
    read_head(conn, seen)
    time.sleep(2)


def not_http(conn: socket.socket, seen: Seen) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
    read_head(conn, seen)


def hangs_up(conn: socket.socket, seen: Seen) -> None:
    seen.connections.append(b"")


def failure_text(port: int, **settings: object) -> str:
    with pytest.raises(FetchError) as refused:
        get_json(f"http://127.0.0.1:{port}/jwks.json", "JWKS", allowing(port, **settings))
    return str(refused.value).replace(str(port), "PORT")


def test_closed_and_open_ports_read_the_same() -> None:
    """Closed, silent, not HTTP, or hanging up: one sentence, no exception names, nothing to map ports by."""
    texts = {"closed": failure_text(closed_port(), deadline=1.0)}
    for name, handler in [("silent", silent), ("not http", not_http), ("hangs up", hangs_up)]:
        with tcp_server(handler) as (port, _):
            texts[name] = failure_text(port, deadline=1.0)
    assert len(set(texts.values())) == 1, texts
    (text,) = set(texts.values())
    assert text.startswith("Nothing usable answered for the JWKS at ` http://127.0.0.1:PORT/jwks.json `")
    assert "Error" not in text and "errno" not in text.lower() and "refused" not in text.lower()


def test_a_failed_lookup_reads_the_same_too() -> None:
    """A name that does not resolve says what a closed port says."""

    def nowhere(host: str) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(FetchError) as failed:
        get_json("https://nowhere.test/jwks.json", "JWKS", Reach(resolve=nowhere))
    assert str(failed.value) == (
        "Nothing usable answered for the JWKS at ` https://nowhere.test/jwks.json ` within 5 s. "
        "Check the URL, or paste the keys instead."
    )
