"""The dev provider, running in the notebook's own process for as long as the notebook needs it."""

from __future__ import annotations

from contextlib import ExitStack

import pandas as pd
import requests

import devidp

# One provider per notebook: a module-level stack lets a re-run of the first cell stop the
# previous provider instead of leaking a server thread and a port.
_running = ExitStack()


def start_provider(config: devidp.ProviderConfig | None = None) -> devidp.RunningProvider:
    """Start the dev provider on a free loopback port; it runs until ``stop_provider()``."""
    stop_provider()
    return _running.enter_context(devidp.serve(config))


def stop_provider() -> None:
    """Stop the provider ``start_provider()`` started, if any."""
    _running.close()


def provider_log(idp: devidp.RunningProvider, since: int = 0) -> pd.DataFrame:
    """What the provider saw (its own journal, already masked), with its spec warnings."""
    entries = requests.get(f"{idp.url}/log", params={"since": since}, timeout=5).json()["entries"]
    rows = [
        {
            "id": e["id"],
            "request": f"{e['method']} {e['path']}",
            "status": e["status"],
            "warnings": "\n".join(e["warnings"]),
        }
        for e in entries
        if e["path"] != "/log"  # reading the journal is not part of the flow being shown
    ]
    return pd.DataFrame(rows, columns=["id", "request", "status", "warnings"]).set_index("id")
