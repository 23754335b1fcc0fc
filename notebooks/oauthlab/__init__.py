"""What the tutorial notebooks share: the dev provider, a printer of HTTP exchanges with
secrets masked, tables of tokens and claims, sequence diagrams, and the bridge to a real
provider (credentials from the environment, a browser, a loopback callback).

Protocol steps stay in the notebooks; only the plumbing lives here::

    provider    start_provider, stop_provider, provider_log
    exchanges   trace, hidden_fields (and show, watch)      masking: what they hide
    logins      log_in, poll_for_token, DEVICE_GRANT
    tables      claims_table, params_table, jwt_table, decode_jwt, validation_report, report_table
    diagrams    sequence
    loopback    serve_until, catch_redirect
    real        real_provider, real_login

Notebook 12 puts this project's login module, with access rules, in front of the dev provider
and its twins::

    door        open_door, close_door, visits_table

The attack lab (notebooks 10, 11) is imported as ``from oauthlab import attacks``:

    attacks     each attack against both clients, as an Outcome
    lab         two providers, browsers, our routes in-process, the back-channel attacker
    recipe      the blog's Flask recipe as the naive client, one check removable at a time
"""

from __future__ import annotations

import sys
from pathlib import Path

# The notebooks run with notebooks/ as their working directory and import the project's
# packages (auth, dashboard, devidp) too, which live one level up.
_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from streamlit_authlib_login._core.trace import mask  # noqa: E402

from .diagrams import sequence  # noqa: E402
from .door import close_door, open_door, visits_table  # noqa: E402
from .exchanges import hidden_fields, trace, watch  # noqa: E402
from .logins import DEVICE_GRANT, log_in, poll_for_token  # noqa: E402
from .loopback import catch_redirect, serve_until  # noqa: E402
from .provider import provider_log, start_provider, stop_provider  # noqa: E402
from .real import real_login, real_provider  # noqa: E402
from .tables import (  # noqa: E402
    claims_table,
    decode_jwt,
    jwt_table,
    params_table,
    report_table,
    validation_report,
)

# Exactly what the notebooks call as oauthlab.<name>.
__all__ = [
    "DEVICE_GRANT",
    "catch_redirect",
    "claims_table",
    "close_door",
    "decode_jwt",
    "hidden_fields",
    "jwt_table",
    "log_in",
    "mask",
    "open_door",
    "params_table",
    "poll_for_token",
    "provider_log",
    "real_login",
    "real_provider",
    "report_table",
    "sequence",
    "serve_until",
    "start_provider",
    "stop_provider",
    "trace",
    "validation_report",
    "visits_table",
    "watch",
]
