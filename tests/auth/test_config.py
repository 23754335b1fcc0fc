"""load_config: st.login's secrets layout, the dev-provider default, env overrides, clear errors."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from streamlit_authlib_login._core.config import AuthConfig, load_config
from streamlit_authlib_login._core.errors import ConfigError
from streamlit_authlib_login._core.presets import PRESETS
from streamlit_authlib_login._devmode import DEV_MODE, throwaway_apple_key

SECRET = "a-cookie-secret-of-at-least-32-characters"
GOOGLE = {
    "client_id": "google-id",
    "client_secret": "google-secret",
    "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
    "client_kwargs": {"scope": "openid email", "prompt": "select_account"},
}


def load(auth: object, environ: dict[str, str] | None = None, *, local_dir: Path) -> AuthConfig:
    return load_config({"auth": auth}, environ or {}, local_dir=local_dir, dev_mode=DEV_MODE)


def test_no_provider_means_the_dev_provider_only(tmp_path: Path) -> None:
    """With no [auth] at all, the embedded dev provider is the one provider (plus its emulations)."""
    config = load_config({}, {}, local_dir=tmp_path, dev_mode=DEV_MODE)
    dev, *emulated = config.providers
    # Each preset's twin, and Strava's: a provider known only by its endpoints (endpoints.py).
    assert {p.name for p in emulated} == {f"emulated-{name}" for name in [*PRESETS, "strava"]}
    assert all(p.served_here and p.client_secret == dev.client_secret for p in emulated)
    no_twins = load_config({"auth": {"emulated_providers": False}}, {}, local_dir=tmp_path, dev_mode=DEV_MODE)
    assert no_twins.providers[1:] == ()
    assert dev.name == "dev" and dev.served_here
    assert dev.server_metadata_url == "/idp/.well-known/openid-configuration"
    assert "openid" in dev.scope.split() and "offline_access" in dev.scope.split()
    assert dev.client_secret and len(dev.client_secret) >= 32
    assert config.store_path == tmp_path / "sessions.sqlite3"


def test_streamlit_login_layout_configures_a_provider(tmp_path: Path) -> None:
    """An [auth.google] table as st.login reads it gives a provider, and switches the dev one off."""
    config = load(
        {"cookie_secret": SECRET, "redirect_uri": "http://localhost:8501/oauth2callback", "google": GOOGLE},
        local_dir=tmp_path,
    )
    (google,) = config.providers  # redirect_uri is st.login's, not a provider
    assert google.name == "google" and not google.served_here
    assert google.client_id == "google-id" and google.client_secret == "google-secret"
    assert google.server_metadata_url == GOOGLE["server_metadata_url"]
    assert google.scope == "openid email"
    # The preset's own parameters stay; client_kwargs override them.
    assert google.authorize_params == {"access_type": "offline", "prompt": "select_account"}
    assert config.cookie_secret == SECRET


def test_dev_provider_can_be_kept_beside_real_ones(tmp_path: Path) -> None:
    """[auth] dev_provider = true keeps the dev provider next to configured ones."""
    config = load({"cookie_secret": SECRET, "dev_provider": True, "google": GOOGLE}, local_dir=tmp_path)
    assert [p.name for p in config.providers][:2] == ["google", "dev"]


def test_public_client_without_secret_is_allowed(tmp_path: Path) -> None:
    """A provider without client_secret is a public client (PKCE only)."""
    table = {k: v for k, v in GOOGLE.items() if k != "client_secret"}
    (google,) = load({"cookie_secret": SECRET, "google": table}, local_dir=tmp_path).providers
    assert google.client_secret is None


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"client_id": None}, "client_id"),
        ({"client_id": ""}, "client_id"),
        ({"server_metadata_url": None}, "server_metadata_url"),
        (
            {"server_metadata_url": "http://idp.example.com/.well-known/openid-configuration"},
            "server_metadata_url",
        ),
        ({"client_kwargs": "scope=openid"}, "client_kwargs"),
    ],
    ids=["no-client-id", "empty-client-id", "no-metadata-url", "plain-http-metadata", "kwargs-not-a-table"],
)
def test_broken_provider_table_names_the_key(tmp_path: Path, change: dict[str, object], key: str) -> None:
    """A broken [auth.x] stops start-up with one message naming the table and the key."""
    table = {k: v for k, v in {**GOOGLE, **change}.items() if v is not None}
    with pytest.raises(ConfigError) as caught:
        load({"cookie_secret": SECRET, "x": table}, local_dir=tmp_path)
    assert "[auth.x]" in caught.value.description
    assert f"`{key}`" in caught.value.description


def test_loopback_http_metadata_url_is_allowed(tmp_path: Path) -> None:
    """A provider on loopback (a local Keycloak, say) may use plain http."""
    table = {
        **GOOGLE,
        "server_metadata_url": "http://127.0.0.1:8080/realms/x/.well-known/openid-configuration",
    }
    config = load({"cookie_secret": SECRET, "kc": table}, local_dir=tmp_path)
    assert config.providers[0].server_metadata_url.startswith("http://127.0.0.1")


@pytest.mark.parametrize(
    ("auth", "words"),
    [
        ("not a table", "must be a table"),
        ({"cookie_secret": "short"}, "at least 32 characters"),
        ({"cookie_secret": SECRET, "base_url": "app.example.com"}, "`base_url`"),
    ],
)
def test_broken_auth_table_is_explained(tmp_path: Path, auth: object, words: str) -> None:
    """A broken [auth] table is a ConfigError saying what to fix."""
    with pytest.raises(ConfigError, match=words):
        load(auth, local_dir=tmp_path)


def test_missing_cookie_secret_is_generated_and_kept(tmp_path: Path) -> None:
    """Without cookie_secret one is generated into the local dir, private, and reused next start."""
    local = tmp_path / ".local"
    first = load_config({}, {}, local_dir=local)
    path = local / "cookie_secret"
    assert path.read_text() == first.cookie_secret and len(first.cookie_secret) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_config({}, {}, local_dir=local).cookie_secret == first.cookie_secret


# Run in a child process: audit hooks cannot be removed, and the umask is the whole process's.
WATCH_LOCAL_DIR = """
import json, os, stat, sys
from pathlib import Path
from streamlit_authlib_login._core.config import load_config

local, seen, busy = Path(sys.argv[1]), [], False

def look(event, args):
    # At every audited step (open, mkdir, chmod, link, remove...), note the mode of all there is.
    global busy
    if busy or not local.is_dir():
        return
    busy = True
    try:
        seen.append([".", stat.S_IMODE(local.stat().st_mode)])
        for entry in os.scandir(local):
            seen.append([entry.name, stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)])
    finally:
        busy = False

sys.addaudithook(look)
os.umask(0)  # the loosest umask there is: only the code's own modes protect anything
secret = load_config({}, {}, local_dir=local).cookie_secret
print(json.dumps({"seen": seen, "secret": secret}))
"""


def test_the_generated_cookie_secret_is_never_readable_by_others(tmp_path: Path) -> None:
    """Even under umask 0, .local/ is 0700 and the secret 0600 from the moment each exists."""
    local = tmp_path / ".local"
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-c", WATCH_LOCAL_DIR, str(local)]
    run = subprocess.run(command, cwd=root, capture_output=True, text=True, check=True)
    report = json.loads(run.stdout)
    seen = {(name, mode) for name, mode in report["seen"]}
    assert any(name == "cookie_secret" for name, _ in seen), "the probe never saw the secret file"
    assert {(name, oct(mode)) for name, mode in seen if mode & 0o077} == set()
    assert stat.S_IMODE(local.stat().st_mode) == 0o700
    assert (local / "cookie_secret").read_text() == report["secret"]
    # no draft left behind; the .gitignore keeps the secret out of an app's git (local_dir.py)
    assert sorted(p.name for p in local.iterdir()) == [".gitignore", "cookie_secret"]


def test_given_cookie_secret_writes_nothing_locally(tmp_path: Path) -> None:
    """A configured cookie_secret is used as is, and no local file is made."""
    config = load({"cookie_secret": SECRET}, local_dir=tmp_path / ".local")
    assert config.cookie_secret == SECRET
    assert not (tmp_path / ".local" / "cookie_secret").exists()


def test_environment_overrides_secrets(tmp_path: Path) -> None:
    """AUTH_COOKIE_SECRET, AUTH_BASE_URL and AUTH_<NAME>_CLIENT_ID/SECRET win over secrets.toml."""
    environ = {
        "AUTH_COOKIE_SECRET": "an-environment-cookie-secret-of-32-chars",
        "AUTH_BASE_URL": "https://app.example.com/",
        "AUTH_GOOGLE_CLIENT_ID": "env-id",
        "AUTH_GOOGLE_CLIENT_SECRET": "env-secret",
    }
    config = load({"cookie_secret": SECRET, "google": GOOGLE}, environ, local_dir=tmp_path)
    assert config.cookie_secret == environ["AUTH_COOKIE_SECRET"]
    assert config.base_url == "https://app.example.com"
    (google,) = config.providers
    assert (google.client_id, google.client_secret) == ("env-id", "env-secret")


def test_environment_can_supply_a_missing_client_id(tmp_path: Path) -> None:
    """A client_id kept out of secrets.toml can come from the environment alone."""
    table = {k: v for k, v in GOOGLE.items() if k != "client_id"}
    config = load(
        {"cookie_secret": SECRET, "google": table}, {"AUTH_GOOGLE_CLIENT_ID": "env-id"}, local_dir=tmp_path
    )
    assert config.providers[0].client_id == "env-id"


def test_dev_provider_refused_for_a_public_base_url(tmp_path: Path) -> None:
    """The passwordless dev provider cannot be configured for a non-loopback base_url."""
    with pytest.raises(ConfigError, match="development provider"):
        load({"cookie_secret": SECRET, "base_url": "https://app.example.com"}, local_dir=tmp_path)
    with pytest.raises(ConfigError, match="development provider"):
        load({"cookie_secret": SECRET}, {"AUTH_BASE_URL": "http://10.0.0.5:8501"}, local_dir=tmp_path)


def test_dev_provider_allowed_for_a_loopback_base_url(tmp_path: Path) -> None:
    """base_url on localhost or 127.0.0.1 keeps the dev provider."""
    for base in ("http://localhost:8501", "http://127.0.0.1:8501", "http://[::1]:8501"):
        config = load({"cookie_secret": SECRET, "base_url": base}, local_dir=tmp_path)
        assert config.dev_provider_enabled


def test_real_provider_with_public_base_url_is_fine(tmp_path: Path) -> None:
    """A public base_url with a real provider (and no dev provider) loads."""
    config = load(
        {"cookie_secret": SECRET, "base_url": "https://app.example.com", "google": GOOGLE}, local_dir=tmp_path
    )
    assert not config.dev_provider_enabled


def test_auth_dev_table_is_reserved(tmp_path: Path) -> None:
    """[auth.dev] is the embedded provider's name and cannot be configured."""
    with pytest.raises(ConfigError, match=r"\[auth.dev\] is reserved"):
        load({"cookie_secret": SECRET, "dev": GOOGLE}, local_dir=tmp_path)


def test_provider_lookup_by_name(tmp_path: Path) -> None:
    """config.provider(name) finds a configured provider, and None for others."""
    config = load({"cookie_secret": SECRET, "google": GOOGLE}, local_dir=tmp_path)
    assert config.provider("google").client_id == "google-id"
    assert config.provider("nosuch") is None


# --- presets ----------------------------------------------------------------------------------
def test_a_preset_needs_only_client_id_and_secret(tmp_path: Path) -> None:
    """[auth.github] with two keys is a whole provider: endpoints, scopes and quirks come from the preset."""
    config = load(
        {"cookie_secret": SECRET, "github": {"client_id": "id", "client_secret": "s"}}, local_dir=tmp_path
    )
    github = config.provider("github")
    assert github is not None and github.preset is PRESETS["github"] and not github.is_oidc
    assert github.scope == "read:user user:email" and github.label == "GitHub"


def test_a_preset_under_another_name_and_a_self_hosted_gitlab(tmp_path: Path) -> None:
    """`preset = "gitlab"` with `base_url` points discovery at the self-hosted instance."""
    table = {
        "preset": "gitlab",
        "client_id": "id",
        "client_secret": "s",
        "base_url": "https://git.example.org/",
    }
    work = load({"cookie_secret": SECRET, "work": table}, local_dir=tmp_path).provider("work")
    assert work is not None and work.preset is PRESETS["gitlab"]
    assert work.server_metadata_url == "https://git.example.org/.well-known/openid-configuration"


def test_unknown_preset_and_missing_secret_are_named(tmp_path: Path) -> None:
    """A typo in `preset`, or an OAuth-only provider without a secret, stops with words."""
    with pytest.raises(ConfigError, match="`preset` 'gitlub' is unknown"):
        load({"cookie_secret": SECRET, "x": {"preset": "gitlub", "client_id": "id"}}, local_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"\[auth.github\] needs `client_secret`"):
        load({"cookie_secret": SECRET, "github": {"client_id": "id"}}, local_dir=tmp_path)


def test_apple_reads_its_key_file(tmp_path: Path) -> None:
    """Apple needs team_id, key_id and the .p8 key (a path, or inline); each is named when missing."""
    key = tmp_path / "AuthKey.p8"
    key.write_text(throwaway_apple_key().private_key)
    table = {"client_id": "com.example.web", "team_id": "T1", "key_id": "K1", "private_key_path": str(key)}
    apple = load({"cookie_secret": SECRET, "apple": table}, local_dir=tmp_path).provider("apple")
    assert apple is not None and apple.apple_key is not None and apple.apple_key.team_id == "T1"
    with pytest.raises(ConfigError, match="`team_id`"):
        load({"cookie_secret": SECRET, "apple": {**table, "team_id": ""}}, local_dir=tmp_path)
    with pytest.raises(ConfigError, match="is not a readable file"):
        load(
            {"cookie_secret": SECRET, "apple": {**table, "private_key_path": "/nope.p8"}}, local_dir=tmp_path
        )


# --- st.login's own layout, key by key -------------------------------------------------------
def test_st_logins_single_provider_form_is_the_default_provider(tmp_path: Path) -> None:
    """client_id, client_secret and server_metadata_url in [auth] itself: st.login()'s provider,
    recognised as Google by its discovery URL; redirect_uri names the app's public URL."""
    auth = {"redirect_uri": "https://app.example/oauth2callback", "cookie_secret": SECRET, **GOOGLE}
    config = load(auth, local_dir=tmp_path)
    [default] = config.providers
    assert default.name == "default" and default.preset.name == "google" and default.label == "Google"
    assert default.client_id == "google-id" and default.authorize_params["prompt"] == "select_account"
    assert config.redirect_uri == "https://app.example/oauth2callback"
    assert config.base_url == "https://app.example"
    assert config.st_login_provider("default") is default


def test_provider_names_with_a_dash_and_their_environment_overrides(tmp_path: Path) -> None:
    """st.login allows `-` in names (not `_`); the environment names them with `_`."""
    table = {
        "client_id": "file-id",
        "server_metadata_url": "https://sso.example/.well-known/openid-configuration",
    }
    config = load({"my-corp": table}, {"AUTH_MY_CORP_CLIENT_ID": "env-id"}, local_dir=tmp_path)
    assert config.provider("my-corp").client_id == "env-id"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("auth", "words"),
    [
        ({"redirect_uri": "http://localhost:8501/callback"}, "with the path /oauth2callback"),
        ({"redirect_uri": "/oauth2callback"}, "absolute URL"),
        ({"expose_tokens": ["id", "refresh"]}, '"id", "access" or a list'),
        ({"google": {**GOOGLE, "refresh_token_url": "https://x"}}, "`refresh_token_url` is not supported"),
        ({"google": {**GOOGLE, "client_kwargs": {"timeout": 3}}}, "client_kwargs `timeout` is not supported"),
        ({"google": {**GOOGLE, "client_kwargs": {"code_challenge_method": "plain"}}}, 'must be "S256"'),
        ({"google": {**GOOGLE, "client_kwargs": {"response_type": "token"}}}, "must be code"),
        ({"google": {**GOOGLE, "client_kwargs": {"state": "fixed"}}}, "`state` cannot be set: the module"),
        ({"google": {**GOOGLE, "client_kwargs": {"code_challenge": "x"}}}, "`code_challenge` cannot be set"),
        ({"google": {**GOOGLE, "clientid": "typo"}}, "[auth.google] `clientid` is not a setting"),
        ({"cookie_secert": SECRET}, "[auth] `cookie_secert` is not a setting"),
        ({**GOOGLE, "default": GOOGLE}, "both would be the provider st.login() logs in with"),
    ],
    ids=["callback-path", "relative", "expose-refresh", "refresh-token-url", "timeout", "plain-pkce",
         "implicit", "fixed-state", "own-challenge", "typo-in-provider", "typo-in-auth", "two-defaults"],
)  # fmt: skip
def test_what_st_login_accepts_but_this_module_cannot_honour_stops_the_start(
    tmp_path: Path, auth: dict[str, object], words: str
) -> None:
    """Each names the key, and why, instead of being silently ignored."""
    with pytest.raises(ConfigError) as raised:
        load(auth, local_dir=tmp_path)
    assert words in raised.value.description


def test_keys_of_auth_this_module_does_not_use_are_left_to_the_app(tmp_path: Path) -> None:
    """An st.login app's own lists in [auth] (st.login ignores them) no longer stop the start:
    the config names them, for the one start-up line that says so."""
    auth = {"cookie_secret": SECRET, "admins": ["a@example.com"], "allowed_users": ["b"], "google": GOOGLE}
    config = load(auth, local_dir=tmp_path)
    assert config.app_keys == ("admins", "allowed_users")
    assert [p.name for p in config.providers] == ["google"]


@pytest.mark.parametrize(
    ("key", "meant"),
    [("cookie_secrte", "cookie_secret"), ("allowed_email", "allowed_emails"), ("base_uri", "base_url"),
     ("Session_Store", "session_store"), ("role", "roles")],
)  # fmt: skip
def test_a_near_miss_of_a_known_key_still_stops_the_start(tmp_path: Path, key: str, meant: str) -> None:
    """One or two edits from a key this module uses: a typo, named with the key that was meant."""
    with pytest.raises(ConfigError) as raised:
        load({"cookie_secret": SECRET, key: "x"}, local_dir=tmp_path)
    assert f"[auth] `{key}` is not a setting this login module knows; did you mean `{meant}`?" in (
        raised.value.description
    )


def test_st_logins_client_kwargs_that_mean_something_here_are_honoured(tmp_path: Path) -> None:
    """scope, authorization request parameters, and the token endpoint's client authentication."""
    kwargs = {"scope": "openid email", "prompt": "consent", "hd": "example.com", "max_age": 300,
              "token_endpoint_auth_method": "client_secret_post",
              "code_challenge_method": "S256"}  # fmt: skip
    [google] = load({"google": {**GOOGLE, "client_kwargs": kwargs}}, local_dir=tmp_path).providers
    assert google.scope == "openid email" and google.token_auth_method == "client_secret_post"
    assert {
        "prompt": "consent",
        "hd": "example.com",
        "max_age": "300",
    }.items() <= google.authorize_params.items()
    assert "code_challenge_method" not in google.authorize_params


def test_expose_tokens_and_st_login_names_in_development_mode(tmp_path: Path) -> None:
    """expose_tokens as st.login takes it; st.login() and st.login("github") find the dev
    provider and its GitHub twin when nothing real is configured."""
    config = load({"expose_tokens": "id"}, local_dir=tmp_path)
    assert config.expose_tokens == ("id",)
    assert config.st_login_provider("default").name == "dev"  # type: ignore[union-attr]
    assert config.st_login_provider("github").name == "emulated-github"  # type: ignore[union-attr]
    assert config.st_login_provider("okta") is None


# --- the session store ---------------------------------------------------------------------
def test_sqlite_is_the_default_session_store(tmp_path: Path) -> None:
    """No session_store: the SQLite file in the local directory."""
    config = load({"cookie_secret": SECRET, "google": GOOGLE}, local_dir=tmp_path)
    assert config.session_store is None and config.store_path == tmp_path / "sessions.sqlite3"


def test_a_redis_session_store_and_its_environment_override(tmp_path: Path) -> None:
    """[auth] session_store names Redis; AUTH_SESSION_STORE wins over it."""
    auth = {"cookie_secret": SECRET, "session_store": "redis://10.0.0.5:6379/2", "google": GOOGLE}
    assert load(auth, local_dir=tmp_path).session_store == "redis://10.0.0.5:6379/2"
    env = {"AUTH_SESSION_STORE": "rediss://:pw@redis.internal:6380/0"}
    assert load(auth, env, local_dir=tmp_path).session_store == "rediss://:pw@redis.internal:6380/0"


def test_a_session_store_that_is_not_redis_is_refused_without_echoing_it(tmp_path: Path) -> None:
    """Only redis:// and rediss:// are stores; the message never repeats a password."""
    auth = {"cookie_secret": SECRET, "session_store": "postgres://u:hunter2@db/x", "google": GOOGLE}
    with pytest.raises(ConfigError, match="must be a redis:// or rediss:// URL") as error:
        load(auth, local_dir=tmp_path)
    assert "hunter2" not in error.value.description


def test_replicas_must_share_a_given_cookie_secret(tmp_path: Path) -> None:
    """With Redis, a cookie secret generated per machine would make each replica's sessions
    unreadable to the others: it must be given, and nothing is written locally."""
    with pytest.raises(ConfigError, match="the same on every replica"):
        load({"session_store": "redis://localhost:6379/0", "google": GOOGLE}, local_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_the_embedded_dev_provider_cannot_serve_replicas(tmp_path: Path) -> None:
    """The embedded provider's memory is per process: with a shared store, say what to do instead."""
    auth = {"cookie_secret": SECRET, "session_store": "redis://localhost:6379/0"}
    with pytest.raises(ConfigError, match="Run it once, stand-alone") as error:
        load(auth, local_dir=tmp_path)
    assert "python -m devidp --port 9000" in error.value.description
    assert "server_metadata_url" in error.value.description


def test_tcp_nodelay_is_on_unless_switched_off(tmp_path: Path) -> None:
    """The Nagle fix is on by default; `tcp_nodelay = false` exists to measure its effect."""
    assert load({"cookie_secret": SECRET}, local_dir=tmp_path).tcp_nodelay is True
    assert load({"cookie_secret": SECRET, "tcp_nodelay": False}, local_dir=tmp_path).tcp_nodelay is False


def test_a_metrics_token_its_environment_override_and_no_metrics_without_one(tmp_path: Path) -> None:
    """No metrics_token: None (GET /auth/metrics answers 404); AUTH_METRICS_TOKEN wins over
    [auth]'s; the token stays out of the config's repr."""
    token = "m" * 40
    assert load({"cookie_secret": SECRET}, local_dir=tmp_path).metrics_token is None
    config = load({"cookie_secret": SECRET, "metrics_token": token}, local_dir=tmp_path)
    assert config.metrics_token == token and token not in repr(config)
    env = {"AUTH_METRICS_TOKEN": "e" * 32}
    assert (
        load({"cookie_secret": SECRET, "metrics_token": token}, env, local_dir=tmp_path).metrics_token
        == "e" * 32
    )


@pytest.mark.parametrize(
    "token", ["short-token", "a token with spaces and more than 32 chars", "é" * 40, 12345678901234567890]
)
def test_a_weak_or_unsendable_metrics_token_is_refused_without_echoing_it(
    tmp_path: Path, token: object
) -> None:
    """At least 32 characters of what a Bearer header carries (RFC 6750 §2.1); never repeated."""
    with pytest.raises(ConfigError, match=r"\[auth\] `metrics_token` must be a random string") as error:
        load({"cookie_secret": SECRET, "metrics_token": token}, local_dir=tmp_path)
    assert str(token) not in error.value.description


def test_log_format_is_text_unless_json(tmp_path: Path) -> None:
    """`log_format = "json"` turns the console lines into JSON objects; anything else is named."""
    assert load({"cookie_secret": SECRET}, local_dir=tmp_path).log_format == "text"
    assert load({"cookie_secret": SECRET, "log_format": "json"}, local_dir=tmp_path).log_format == "json"
    with pytest.raises(ConfigError, match=r'\[auth\] `log_format` must be "text" \(the default\) or "json"'):
        load({"cookie_secret": SECRET, "log_format": "JSON-lines"}, local_dir=tmp_path)
