"""``python -m devidp --port 9000``: the development provider on its own."""

from __future__ import annotations

import argparse
import os

import uvicorn

from .config import ProviderConfig
from .routes import create_app
from .runner import check_bind_host
from .server import DevAuthorizationServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devidp", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--fixed-time", type=int, help="freeze the clock at this Unix time")
    args = parser.parse_args()
    config = ProviderConfig(
        allow_non_loopback=os.environ.get("DEVIDP_ALLOW_NON_LOOPBACK") == "1",
        fixed_time=args.fixed_time,
    )
    try:
        check_bind_host(args.host, config)
    except RuntimeError as error:
        parser.exit(2, f"{error}\n")
    print(f"Development OpenID provider: http://{args.host}:{args.port}/.well-known/openid-configuration")
    uvicorn.run(
        create_app(DevAuthorizationServer(config)), host=args.host, port=args.port, log_level="warning"
    )


if __name__ == "__main__":
    main()
