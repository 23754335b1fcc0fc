"""Every mistake at once (streamlit_authlib_login/_core/config_problems.py through load_config):
one ConfigError names each problem of each table, one line each, in the file's order, with
"did you mean" for a misspelt key, and no line that is only a consequence of another."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamlit_authlib_login._core.config import AuthConfig, load_config
from streamlit_authlib_login._core.errors import ConfigError, Problem
from streamlit_authlib_login._devmode import DEV_MODE

SECRET = "a-cookie-secret-of-at-least-32-characters"
GOOGLE_DISCOVERY = "https://accounts.google.com/.well-known/openid-configuration"
NOT_A_DURATION = (
    '"30x", not a duration: write one like "30m", "8h", "7d" or "1h30m" (units d, h, m, s, largest first)'
)


def load(auth: object, tmp_path: Path) -> AuthConfig:
    return load_config({"auth": auth}, {}, local_dir=tmp_path, dev_mode=DEV_MODE)


def problems_of(auth: object, tmp_path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        load(auth, tmp_path)
    return raised.value


def misspelt(table: str, key: str, meant: str) -> str:
    return f"{table} `{key}` is not a setting this login module knows; did you mean `{meant}`?"


def test_many_mistakes_across_auth_and_two_provider_tables_are_named_in_one_error(tmp_path: Path) -> None:
    """[auth] and two provider tables with eight mistakes among good keys: one ConfigError lists
    all eight, table by table and key by key as the file has them, and carries them as data."""
    auth = {
        "cookie_secret": "short",
        "session_idle_timeout": "30x",
        "expose_tokens": ["refresh"],
        "google": {
            "client_id": "google-id",
            "client_secrte": "s",
            "session_max_age": "30s",
            "client_kwargs": {"scope": "openid email", "state": "fixed"},
        },
        "github": {
            "client_id": "github-id",
            "client_secret": "s",
            "allowed_orgs": [],
            "post_logout_redirect_uri": "/bye",
            "alowed_teams": ["org/admins"],
        },
    }
    error = problems_of(auth, tmp_path)
    lines = [
        "[auth] `cookie_secret` must be a random string of at least 32 characters.",
        f"[auth] `session_idle_timeout` is {NOT_A_DURATION}.",
        '[auth] `expose_tokens` must be "id", "access" or a list of them (got [\'refresh\']).',
        misspelt("[auth.google]", "client_secrte", "client_secret"),
        '[auth.google] `session_max_age` is "30s", under a minute: sessions would end between two '
        'reruns of a page. Write "1m" or more.',
        "[auth.google] client_kwargs `state` cannot be set: the module makes a fresh `state` for "
        "every login (CSRF, RFC 9700 §4.7.1).",
        "[auth.github] `allowed_orgs` is empty, which would admit nobody; leave it out to admit anyone.",
        "[auth.github] `post_logout_redirect_uri` must be an absolute http(s) URL registered at the "
        "provider (got '/bye').",
        misspelt("[auth.github]", "alowed_teams", "allowed_teams"),
    ]
    assert [p.line for p in error.problems] == lines
    assert error.description == "9 problems in the login configuration, one a line:\n" + "\n".join(
        f"  - {line}" for line in lines
    )
    assert [(p.table, p.key) for p in error.problems][3:5] == [
        ("[auth.google]", "client_secrte"),
        ("[auth.google]", "session_max_age"),
    ]
    assert error.problems[3].meant == "client_secret"
    assert not any(tmp_path.iterdir())  # a configuration that cannot start writes no cookie secret


def test_the_blog_posts_table_with_three_mistakes_names_all_three_at_once(tmp_path: Path) -> None:
    """The blog post's [auth.google] as a reader copies it, with three slips: all three in the
    first start's message, not one per restart."""
    google = {
        "client_id": "your_client_id",
        "client_secrte": "your_client_secret",
        "server_metdata_url": GOOGLE_DISCOVERY,
        "client_kwargs": {"scope": "openid email profile"},
        "session_max_age": 8,
    }
    error = problems_of({"cookie_secret": SECRET, "google": google}, tmp_path)
    assert error.description.splitlines() == [
        "3 problems in the login configuration, one a line:",
        f"  - {misspelt('[auth.google]', 'client_secrte', 'client_secret')}",
        f"  - {misspelt('[auth.google]', 'server_metdata_url', 'server_metadata_url')}",
        '  - [auth.google] `session_max_age` is 8: write a duration as a string with its unit, like "8s" '
        "if you meant 8 seconds.",
    ]


@pytest.mark.parametrize(
    ("key", "meant"),
    [("clientid", "client_id"), ("client_secrte", "client_secret"), ("Client_Secret", "client_secret"),
     ("server_metdata_url", "server_metadata_url"), ("post_logout_redirect_url", "post_logout_redirect_uri"),
     ("alowed_domains", "allowed_domains"), ("session_max_ages", "session_max_age")],
)  # fmt: skip
def test_a_near_miss_in_a_provider_table_suggests_the_key_meant(tmp_path: Path, key: str, meant: str) -> None:
    """One or two edits from a key of a provider table: "did you mean" names it."""
    google = {"client_id": "i", "client_secret": "s", key: "x"}
    error = problems_of({"cookie_secret": SECRET, "google": google}, tmp_path)
    assert error.problems == (Problem("[auth.google]", key, misspelt("[auth.google]", key, meant), meant),)


def test_an_unknown_key_far_from_every_setting_lists_the_known_ones(tmp_path: Path) -> None:
    """No near miss: the line lists what a provider table may hold instead."""
    google = {"client_id": "i", "client_secret": "s", "favourite_colour": "blue"}
    [problem] = problems_of({"cookie_secret": SECRET, "google": google}, tmp_path).problems
    assert problem.line.startswith(
        "[auth.google] `favourite_colour` is not a setting this login module knows; known: "
        "access_token_url, allowed_domains, "
    )
    assert not problem.meant


def test_a_required_key_is_not_reported_missing_beside_its_misspelling(tmp_path: Path) -> None:
    """GitHub needs a client secret; written `client_secrte`, the one line is the near miss, not
    also "needs `client_secret`". Missing with no near miss, the need is said."""
    github = {"client_id": "i", "client_secrte": "s"}
    error = problems_of({"cookie_secret": SECRET, "github": github}, tmp_path)
    assert [p.line for p in error.problems] == [misspelt("[auth.github]", "client_secrte", "client_secret")]
    oidc = {"client_id": "i", "server_metdata_url": "https://sso.example/.well-known/openid-configuration"}
    error = problems_of({"cookie_secret": SECRET, "corp": oidc, "github": {"client_id": "i"}}, tmp_path)
    assert [p.line for p in error.problems] == [
        misspelt("[auth.corp]", "server_metdata_url", "server_metadata_url"),
        "[auth.github] needs `client_secret`: GitHub has no public-client login.",
    ]


def test_a_typo_in_auth_and_a_shared_store_is_one_line(tmp_path: Path) -> None:
    """[auth] `cookie_secrte` with a Redis store: the near miss says it; the cookie secret a
    shared store needs is not reported missing beside it."""
    auth = {
        "cookie_secrte": SECRET,
        "session_store": "redis://localhost:6379/0",
        "google": {"client_id": "i"},
    }
    [problem] = problems_of(auth, tmp_path).problems
    assert problem.key == "cookie_secrte" and problem.meant == "cookie_secret"


def test_an_unknown_preset_adds_no_guesses_about_its_endpoints(tmp_path: Path) -> None:
    """`preset = "gitlub"`: its line, the table's other real mistake, and nothing that only
    follows from not knowing the provider (no "needs `server_metadata_url`")."""
    table = {"preset": "gitlub", "client_id": "i", "display_nam": "Work"}
    error = problems_of({"cookie_secret": SECRET, "work": table}, tmp_path)
    assert [p.key for p in error.problems] == ["preset", "display_nam"]
    assert error.problems[0].line.startswith("[auth.work] `preset` 'gitlub' is unknown; known: google, ")


def test_keys_are_combined_only_once_each_passed_alone(tmp_path: Path) -> None:
    """An idle timeout longer than a max age that is itself wrong is one problem (the max age),
    not two; two good keys that cannot work together are still named."""
    table = {"client_id": "i", "server_metadata_url": GOOGLE_DISCOVERY, "session_idle_timeout": "9d"}
    broken = problems_of({"cookie_secret": SECRET, "g": {**table, "session_max_age": "2x"}}, tmp_path)
    assert [p.key for p in broken.problems] == ["session_max_age"]
    clash = problems_of({"cookie_secret": SECRET, "g": {**table, "session_max_age": "2d"}}, tmp_path)
    assert [p.key for p in clash.problems] == ["session_idle_timeout"]
    assert "is longer than `session_max_age`" in clash.description


def test_a_check_across_keys_of_one_table_does_not_stop_the_others(tmp_path: Path) -> None:
    """A GitHub-only rule in Google's table (a check of the table as a whole), a typo in GitHub's
    and a bad role: all three named."""
    google = {"client_id": "i", "server_metadata_url": GOOGLE_DISCOVERY, "allowed_orgs": ["acme"]}
    github = {"client_id": "i", "client_secret": "s", "dispaly_name": "Code"}
    auth = {"cookie_secret": SECRET, "google": google, "github": github, "roles": {"admin": ["nobody"]}}
    error = problems_of(auth, tmp_path)
    assert [(p.table, p.key) for p in error.problems] == [
        ("[auth.google]", ""),
        ("[auth.github]", "dispaly_name"),
        ("[auth.roles]", "admin"),
    ]
    assert "`allowed_orgs` is a GitHub-only rule" in error.problems[0].line


def test_one_problem_is_its_own_line_and_a_good_configuration_raises_nothing(tmp_path: Path) -> None:
    """A single mistake reads as it always did; the collector costs a good configuration nothing."""
    error = problems_of({"cookie_secret": SECRET, "base_url": "app.example.com"}, tmp_path)
    line = "[auth] `base_url` must be an absolute http(s) URL (got 'app.example.com')."
    assert error.description == line and error.problems == (Problem("[auth]", "base_url", line),)
    config = load({"cookie_secret": SECRET, "google": {"client_id": "i", "client_secret": "s"}}, tmp_path)
    assert [p.name for p in config.providers] == ["google"]
