"""``python -m devidp --port 9000``: the development provider on its own.

One stand-alone provider is what several app replicas share (the one embedded in each app
keeps its codes and tokens in that process's memory). Register the app as a client, like at
a real provider's console::

    python -m devidp --port 9000 --client my-app:my-secret \\
        --redirect-uri https://app.example/auth/callback/corp

Its redirect URIs are also its post-logout redirect URIs (the app sends the callback URI
there). The secret on the command line is visible to local users: this provider logs
anyone in without a password anyway.
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from .config import Client, ProviderConfig, demo_clients
from .routes import create_app
from .runner import check_bind_host
from .server import DevAuthorizationServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devidp", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--fixed-time", type=int, help="freeze the clock at this Unix time")
    parser.add_argument("--client", metavar="ID:SECRET", help="register a confidential client")
    parser.add_argument(
        "--redirect-uri", action="append", default=[], metavar="URI", help="the client's (repeatable)"
    )
    args = parser.parse_args()
    clients = demo_clients()
    if args.client:
        client_id, _, secret = args.client.partition(":")
        if not client_id or not secret or not args.redirect_uri:
            parser.error("--client needs ID:SECRET and at least one --redirect-uri")
        uris = tuple(args.redirect_uri)
        clients += (
            Client(
                client_id=client_id,
                client_secret=secret,
                name=client_id,
                redirect_uris=uris,
                post_logout_redirect_uris=uris,
            ),
        )
    config = ProviderConfig(
        clients=clients,
        allow_non_loopback=os.environ.get("DEVIDP_ALLOW_NON_LOOPBACK") == "1",
        fixed_time=args.fixed_time,
    )
    try:
        check_bind_host(args.host, config)
    except RuntimeError as error:
        parser.exit(2, f"{error}\n")
    print(f"Development OpenID provider: http://{args.host}:{args.port}/.well-known/openid-configuration")
    uvicorn.run(
        create_app(DevAuthorizationServer(config)),
        host=args.host,
        port=args.port,
        log_level="warning",
        proxy_headers=False,  # as devidp/runner.py: the guards judge the connection, not X-Forwarded-*
    )


if __name__ == "__main__":
    main()
