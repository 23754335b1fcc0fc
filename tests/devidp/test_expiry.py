"""What the provider forgets, and when (devidp/store.py): codes, tokens, device codes and its
own login sessions leave its memory once they expire, so a long-running provider does not grow
with every login ever made. The clock is the provider's own, stepped by the test.

Not test_store.py: test modules share one namespace, and tests/auth has that name.
"""

from __future__ import annotations

import httpx2
from relying_party import SteppedClockConfig, authorize, sign_in

from devidp.store import SWEEP_INTERVAL, Store

DAY = 24 * 3600
KINDS = ("codes", "redeemed_codes", "tokens", "by_refresh", "devices", "device_grants", "sessions")


def held(store: Store) -> dict[str, int]:
    return {kind: len(getattr(store, f"_{kind}")) for kind in KINDS}


def start_device(idp_url: str) -> dict[str, str]:
    response = httpx2.post(
        f"{idp_url}/device_authorization", data={"client_id": "demo-cli", "scope": "openid"}
    )
    assert response.status_code == 200
    return response.json()


def test_expired_codes_tokens_devices_and_sessions_are_swept(start_idp, rp):
    """After every lifetime has passed, the next write leaves only itself in the store."""
    config = SteppedClockConfig(code_ttl=60, device_code_ttl=300, access_token_ttl=600, refresh_token_ttl=DAY)
    idp = start_idp(config)
    app = rp("demo-spa")
    sign_in(idp.url, app)  # a redeemed code, a token with its refresh token, a login session
    authorize(idp.url, app)  # a code never redeemed, and another session
    start_device(idp.url)
    store = idp.server.store
    assert held(store) == {
        "codes": 1, "redeemed_codes": 1, "tokens": 1, "by_refresh": 1, "devices": 1, "device_grants": 0,
        "sessions": 2,
    }  # fmt: skip

    config.advance(config.session_ttl + DAY)
    start_device(idp.url)
    assert held(store) == dict.fromkeys(KINDS, 0) | {"devices": 1}


def test_what_still_lives_is_kept(start_idp, rp):
    """Past the code's lifetime but within the refresh token's, the token and what guards it stay:
    the redeemed code still revokes the family if replayed (RFC 6749 §4.1.2)."""
    config = SteppedClockConfig(code_ttl=60, access_token_ttl=600, refresh_token_ttl=DAY)
    idp = start_idp(config)
    app = rp("demo-spa")
    login = sign_in(idp.url, app)
    authorize(idp.url, app)
    config.advance(SWEEP_INTERVAL + 600)  # the codes and the access token have expired
    start_device(idp.url)
    left = held(idp.server.store)
    assert left["codes"] == 0 and left["tokens"] == 1 and left["redeemed_codes"] == 1
    refreshed = app.refresh_token(f"{idp.url}/token", refresh_token=login.token["refresh_token"])
    assert "access_token" in refreshed


def test_a_login_session_lasts_session_ttl() -> None:
    """A provider session older than session_ttl is gone: the person picks a persona again."""
    now = [1_800_000_000]
    store = Store(lambda: now[0], session_ttl=3600)
    session = store.open_session("alice-sub")
    now[0] += 3599
    assert store.session(session.sid) == session
    now[0] += 1
    assert store.session(session.sid) is None


def test_sweeps_run_at_most_once_per_interval() -> None:
    """A burst of writes costs one sweep per SWEEP_INTERVAL, not one per write."""
    now = [1_800_000_000]
    store = Store(lambda: now[0], session_ttl=10)
    for _ in range(3):
        store.open_session("alice-sub")
    now[0] += SWEEP_INTERVAL
    store.open_session("alice-sub")  # a sweep is due: the three have expired
    assert held(store)["sessions"] == 1
    now[0] += 11
    store.open_session("alice-sub")  # within SWEEP_INTERVAL of the last sweep: nothing swept yet
    assert held(store)["sessions"] == 2
    now[0] += SWEEP_INTERVAL
    store.open_session("alice-sub")
    assert held(store)["sessions"] == 1
