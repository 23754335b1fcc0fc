"""Short notes the store keeps for a page to read once: which providers have completed a login,
why a login was refused (for the browser it happened in), why a session was ended (for the
browser whose session it was), and a Playground login's outcome (for the session that sent it).
Each is sealed (``sealing.py``) and readable only by whom it is for.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

from .sealing import Sealing
from .store import KeyValueStore

PROVIDER_OK_TTL = 365 * 24 * 3600  # a provider that logged someone in once is set up
FAILURE_TTL = 300  # a failed login is explained once, right after it; anyone can cause one
ENDED_TTL = 300  # a session ended by the module is explained on the login page it lands on
PLAYGROUND_TTL = 600  # a Playground result is read right after its login, on that page


class Notices:
    """Provider-ok marks, failed-login records and Playground results."""

    def __init__(self, store: KeyValueStore, sealing: Sealing) -> None:
        self.store = store
        self.sealing = sealing

    # --- providers that have completed a login (no set-up help needed) -------------------
    def mark_provider_working(self, provider: str) -> None:
        key = self.sealing.key("provider-ok", provider)
        self.store.put(key, self.sealing.seal(key, {"provider": provider}), PROVIDER_OK_TTL)

    def provider_working(self, provider: str) -> bool:
        key = self.sealing.key("provider-ok", provider)
        return self.sealing.open(key, self.store.get(key)) is not None

    # --- failed logins, shown once on the login page, to the browser that got them ------------
    def save_failure(self, record: Mapping[str, object], binding_cookie: str) -> str:
        """Keep a refused login's record for ``FAILURE_TTL``, readable only with the binding
        cookie of the browser it happened in (``failure``): its link, shared or forged, shows
        nothing anywhere else."""
        failure_id = secrets.token_urlsafe(16)
        key = self.sealing.key("failure", failure_id)
        browser = self.sealing.binding(binding_cookie)
        self.store.put(key, self.sealing.seal(key, {**record, "browser": browser}), FAILURE_TTL)
        return failure_id

    def failure(self, failure_id: str, binding_cookie: str | None) -> dict[str, object] | None:
        """The record, only for the browser whose binding cookie it was saved with."""
        if not binding_cookie:
            return None
        key = self.sealing.key("failure", failure_id)
        record = self.sealing.open(key, self.store.get(key))
        if record is None or not hmac.compare_digest(
            str(record.pop("browser", "")), self.sealing.binding(binding_cookie)
        ):
            return None
        return record

    # --- sessions the module ended, explained to the browser that held them -------------------
    def save_ended(self, session_id: str, record: Mapping[str, object]) -> None:
        """Why the session ``session_id`` was ended (``renewal.py``), for ``ENDED_TTL``: the
        browser still sends that id in its cookie, so its login page can say why (``ended``)."""
        key = self.sealing.key("ended", session_id)
        self.store.put(key, self.sealing.seal(key, dict(record)), ENDED_TTL)

    def ended(self, session_id: str | None) -> dict[str, object] | None:
        """The record of the ended session ``session_id``: only its cookie's holder knows the id."""
        if not session_id:
            return None
        key = self.sealing.key("ended", session_id)
        return self.sealing.open(key, self.store.get(key))

    # --- Playground results, for the session that asked --------------------------------------
    def owner(self, session_id: str) -> str:
        """Names a session in a record without holding its id (which is a bearer credential)."""
        return self.sealing.binding("owner:" + session_id)

    def save_playground_result(self, owner: str, record: Mapping[str, object]) -> str:
        result_id = secrets.token_urlsafe(16)
        key = self.sealing.key("playground", result_id)
        self.store.put(key, self.sealing.seal(key, {**record, "owner": owner}), PLAYGROUND_TTL)
        return result_id

    def playground_result(self, result_id: str, session_id: str | None) -> dict[str, object] | None:
        """The result, only for the session it belongs to: a result id that leaked (a shared
        URL) shows nothing to anyone else."""
        if not session_id:
            return None
        key = self.sealing.key("playground", result_id)
        record = self.sealing.open(key, self.store.get(key))
        if record is None or not hmac.compare_digest(str(record.get("owner", "")), self.owner(session_id)):
            return None
        return record
