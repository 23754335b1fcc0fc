"""What an operator watches (streamlit_authlib_login/_core/metrics.py, _routes/monitoring.py):
``GET /auth/metrics`` behind its bearer token, counting real logins, refusals, logouts and
refreshes against the development provider; ``GET /auth/health`` with a real Redis up, down and
hung; the counts of two apps in one process kept apart."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import pytest
from login_harness import (
    COOKIE_SECRET,
    BuildApp,
    LoginApp,
    dev_config,
    through_the_provider,
)
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.redis_process import RedisServer
from devidp import DevAuthorizationServer
from devidp.personas import BY_SUB, BY_USERNAME
from streamlit_authlib_login._core.config import AuthConfig, load_config
from streamlit_authlib_login._core.redis_store import TIMEOUT, RedisStore
from streamlit_authlib_login._core.store import SQLiteStore
from streamlit_authlib_login._devmode import DEV_MODE
from streamlit_authlib_login._routes import csrf_token
from tests.latency_proxy import LatencyProxy

TOKEN = "metrics-token-0123456789abcdefghijklmnopqrstuvwxyz"
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def with_token(config: AuthConfig | None = None) -> AuthConfig:
    return replace(config or dev_config(), metrics_token=TOKEN)


def with_dev(tmp_path: Path, **auth: object) -> AuthConfig:
    """load_config with the development provider alone, the metrics token and these [auth] keys."""
    secrets = {
        "auth": {"cookie_secret": COOKIE_SECRET, "emulated_providers": False, "metrics_token": TOKEN, **auth}
    }
    return load_config(secrets, {}, local_dir=tmp_path, dev_mode=DEV_MODE)


def sample(name: str, **labels: str) -> str:
    return name + "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


async def scrape(app: LoginApp) -> dict[str, float]:
    """Every sample of ``GET /auth/metrics``, read by Prometheus's own parser, by ``sample(...)``."""
    response = await app.browser().get("/auth/metrics", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        sample(s.name, **s.labels): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def csrf(session_id: str) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_token(COOKIE_SECRET, session_id)}


# --- the token ----------------------------------------------------------------------------------
async def test_metrics_answer_their_bearer_token_only(
    build_app: BuildApp, caplog: pytest.LogCaptureFixture
) -> None:
    """No token configured: 404. Configured: 401 with a Bearer challenge (invalid_token for a
    wrong one, RFC 6750 §3.1) and one log line without the token; the token: 200."""
    assert (await build_app().browser().get("/auth/metrics", headers=BEARER)).status_code == 404
    app = build_app(config=with_token())
    browser = app.browser()
    with caplog.at_level(logging.INFO, logger="streamlit_authlib_login"):
        missing = await browser.get("/auth/metrics")
        wrong = await browser.get("/auth/metrics", headers={"Authorization": f"Bearer {TOKEN[:-1]}x"})
        basic = await browser.get("/auth/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        odd = await browser.get(
            "/auth/metrics", headers={"Authorization": "Bearer \u00e9t\u00e9".encode("utf-8")}
        )
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="auth-metrics"'
    assert wrong.status_code == basic.status_code == odd.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Bearer realm="auth-metrics", error="invalid_token"'
    assert "auth_logins_total" not in wrong.text + basic.text
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("streamlit_authlib_login")]
    assert len(lines) == 4 and all(line.startswith("metrics refused: ") for line in lines)
    assert not any(TOKEN[:20] in line for line in lines)
    assert (await browser.get("/auth/metrics", headers=BEARER)).status_code == 200


# --- logins, logouts ----------------------------------------------------------------------------
async def test_a_login_and_a_logout_are_counted_and_the_login_timed(
    build_app: BuildApp, tmp_path: Path
) -> None:
    """A login: ok, one observation of its time, one live session in SQLite (a login started and
    not finished is none); a logout: counted, and no live session. Another app in the same
    process counts its own."""
    app = build_app(config=with_token(), store=SQLiteStore(tmp_path / "sessions.sqlite3"))
    other = build_app(config=with_token())
    before = await scrape(app)
    assert before[sample("auth_logins_total", provider="dev", outcome="ok")] == 0
    assert before[sample("auth_login_seconds_count")] == 0
    assert before[sample("auth_sessions_active")] == 0
    assert before[sample("auth_store_errors_total")] == 0
    browser = app.browser()
    await app.start(app.browser())  # a pending login is not a session
    session_id = await app.logged_in(browser)
    after = await scrape(app)
    assert after[sample("auth_logins_total", provider="dev", outcome="ok")] == 1
    assert after[sample("auth_login_seconds_count")] == 1
    # In-process the provider answers at once; the start is kept in whole seconds (metrics.py).
    assert after[sample("auth_login_seconds_bucket", le="1.0")] == 1
    assert after[sample("auth_sessions_active")] == 1
    assert (await other.browser().get("/auth/me")).status_code == 401
    assert (await scrape(other))[sample("auth_logins_total", provider="dev", outcome="ok")] == 0

    await browser.post("/auth/logout", headers=csrf(session_id))
    done = await scrape(app)
    assert done[sample("auth_logouts_total", provider="dev")] == 1
    assert done[sample("auth_sessions_active")] == 0


async def test_refused_logins_count_the_check_that_failed(
    build_app: BuildApp, idp: DevAuthorizationServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A forged state, an access rule, a bad ID token and an unknown provider each count under
    their check, one count per "login refused" log line; a provider named in the URL but not
    configured is "-", so a client cannot add labels. The Admin page's count reads the rule's."""
    app = build_app(idp, config=with_dev(tmp_path, allowed_domains=["example.com"]))
    with caplog.at_level(logging.INFO, logger="streamlit_authlib_login"):
        await app.browser().get("/auth/callback/dev", params={"code": "c", "state": "never-issued"})
        await app.browser().get("/auth/callback/nobody", params={"code": "c", "state": "never-issued"})
        await app.browser().get("/auth/login/no-such-provider")
        browser = app.browser()
        refused = await through_the_provider(app, browser, await app.start(browser), "bob")
        assert refused.status_code == 303
        await app.set_faults("wrong_aud")
        browser = app.browser()
        assert (await app.login(browser)).status_code == 303
    counts = await scrape(app)
    logins = {k: v for k, v in counts.items() if k.startswith("auth_logins_total{") and v}
    assert logins == {
        sample("auth_logins_total", provider="dev", outcome="state_mismatch"): 1,
        sample("auth_logins_total", provider="-", outcome="state_mismatch"): 1,
        sample("auth_logins_total", provider="-", outcome="unknown_provider"): 1,
        sample("auth_logins_total", provider="dev", outcome="not_allowed/allowed_domains"): 1,
        sample("auth_logins_total", provider="dev", outcome="id_token_invalid"): 1,
    }
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("login refused: ")]
    assert len(lines) == sum(logins.values())
    providers = {k.split("provider=")[1].split(",")[0].rstrip("}") for k in counts if "provider=" in k}
    assert providers == {"dev", "-"}  # the configured one, and "-" for whatever else a URL named
    assert counts[sample("auth_login_seconds_count")] == 0
    assert app.auth.metrics.refusals() == {("dev", "allowed_domains"): 1}


# --- refreshes ----------------------------------------------------------------------------------
async def test_refreshes_are_counted_by_how_the_provider_answered(
    build_app: BuildApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ok once for a burst of two (the second answers with the first's tokens); a refresh token
    the provider revoked: provider_error/invalid_grant; a person the rules no longer admit:
    not_allowed/<rule>, which the Admin page's count shows too."""
    app = build_app(config=with_dev(tmp_path, allowed_groups=["admins"]))
    browser = app.browser()
    session_id = await app.logged_in(browser)
    for _ in range(2):
        assert (await browser.post("/auth/refresh", headers=csrf(session_id))).status_code == 200

    revoked = app.browser()
    revoked_id = await app.logged_in(revoked)
    session = app.auth.sessions.load(revoked_id)
    assert session is not None and session.tokens.refresh_token
    dev = app.auth.config.provider("dev")
    assert dev is not None and dev.client_secret
    answer = await app.browser().post(
        "/idp/revoke",
        data={"token": session.tokens.refresh_token, "token_type_hint": "refresh_token"},
        auth=(dev.client_id, dev.client_secret),
    )
    assert answer.status_code == 200
    assert (await revoked.post("/auth/refresh", headers=csrf(revoked_id))).status_code == 400

    dropped = app.browser()
    dropped_id = await app.logged_in(dropped)
    alice = BY_USERNAME["alice"]
    monkeypatch.setitem(BY_SUB, alice.sub, replace(alice, groups=("staff",)))  # the directory changes
    assert (await dropped.post("/auth/refresh", headers=csrf(dropped_id))).status_code == 401

    counts = await scrape(app)
    refreshes = {k: v for k, v in counts.items() if k.startswith("auth_refreshes_total{") and v}
    assert refreshes == {
        sample("auth_refreshes_total", provider="dev", outcome="ok"): 1,
        sample("auth_refreshes_total", provider="dev", outcome="provider_error/invalid_grant"): 1,
        sample("auth_refreshes_total", provider="dev", outcome="not_allowed/allowed_groups"): 1,
    }
    assert app.auth.metrics.refusals() == {("dev", "allowed_groups"): 1}


# --- the store: health and errors ----------------------------------------------------------------
async def test_health_and_store_errors_with_redis_up_and_down(
    build_app: BuildApp, own_redis: RedisServer
) -> None:
    """Redis up: /auth/health 200 ok, no error counted, no session gauge (Redis cannot count
    cheaply). Redis stopped: 503 unavailable, with nothing more said; each call that raised
    StoreUnavailable is counted, and a login it stopped counts under that check."""
    store = RedisStore(own_redis.url)
    app = build_app(config=with_token(), store=store)
    browser = app.browser()
    up = await browser.get("/auth/health")
    assert (up.status_code, up.text, up.headers["cache-control"]) == (200, "ok", "no-store")
    counts = await scrape(app)
    assert counts[sample("auth_store_errors_total")] == 0
    assert not any(k.startswith("auth_sessions_active") for k in counts)

    own_redis.stop()
    down = await browser.get("/auth/health")
    assert (down.status_code, down.text) == (503, "unavailable")
    assert (await browser.get("/auth/login/dev")).status_code == 303  # to the login page, which says so
    counts = await scrape(app)  # the scrape itself needs no Redis
    assert counts[sample("auth_store_errors_total")] == store.unavailable_count() == 2
    assert counts[sample("auth_logins_total", provider="dev", outcome="session_store_unavailable")] == 1
    store.close()


async def test_health_answers_within_the_stores_timeout_when_redis_hangs(
    build_app: BuildApp, shared_redis: RedisServer
) -> None:
    """A Redis that accepts connections and answers nothing: 503 after the store's own timeout
    (one, not retried), not a health check left hanging."""
    with LatencyProxy(shared_redis.port, delay=0.0) as proxy:
        store = RedisStore(f"redis://127.0.0.1:{proxy.port}/0", prefix="health:")
        app = build_app(store=store)
        assert (await app.browser().get("/auth/health")).status_code == 200
        proxy.hold()
        started = time.monotonic()
        response = await app.browser().get("/auth/health")
        assert (response.status_code, response.text) == (503, "unavailable")
        assert time.monotonic() - started < 1.5 * TIMEOUT
        proxy.release()
        store.close()
