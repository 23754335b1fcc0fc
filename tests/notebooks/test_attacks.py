"""The attack lab (issue 15) as a regression suite: every attack of notebooks 10 and 11 succeeds
against the naive client (the blog's recipe with the one check named removed) and is refused by
this project's login module, by the check named here. A defence of ``streamlit_authlib_login/``
that regresses fails one of these, without running the notebooks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notebooks.oauthlab import attacks
from notebooks.oauthlab.lab import Lab, lab_running


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with lab_running() as running:
        yield running


# attack: (the naive side, the refusing check our login names, words its description must hold)
LOGIN_ATTACKS = {
    "login CSRF": (attacks.login_csrf_naive, attacks.login_csrf_ours, "state_mismatch", "different browser"),
    "code injection": (
        attacks.code_injection_naive,
        attacks.code_injection_ours,
        "provider_error",
        "invalid_grant",
    ),
    "PKCE downgrade": (attacks.downgrade_naive, attacks.downgrade_ours, "provider_error", "code_challenge"),
    "mix-up": (attacks.mix_up_naive, attacks.mix_up_ours, "state_mismatch", "login with 'attacker'"),
}
TOKEN_CHECKS = {
    "replay": ["nonce"],
    "aud": ["aud"],
    "azp": ["aud", "azp"],
    "alg_none": ["alg", "signature"],
    "hs256": ["alg", "signature"],
}


@pytest.mark.parametrize("name", LOGIN_ATTACKS)
async def test_login_attack_falls_for_the_naive_client_and_is_refused_by_ours(lab, name):
    """Against the recipe the attack works; against our routes it fails, and the refusal names the check."""
    naive, ours, check, words = LOGIN_ATTACKS[name]
    assert naive(lab).succeeded
    outcome = await ours(lab)
    assert not outcome.succeeded
    assert (outcome.check, words in outcome.description) == (check, True), outcome


async def test_mix_up_with_a_shared_callback_is_refused_by_the_rfc_9207_iss_check(lab):
    """Where the callback URI alone cannot tell, the authorization response's `iss` does."""
    outcome = await attacks.mix_up_ours(lab, shared_callback=True)
    assert (outcome.succeeded, outcome.check) == (False, "issuer_mismatch")


async def test_pkce_downgrade_is_the_providers_to_stop(lab):
    """At a provider without RFC 9700 §4.8.2's check our client is fooled too: the notebook says so."""
    assert attacks.downgrade_naive(lab, provider_checks=True).succeeded is False
    assert (await attacks.downgrade_ours(lab, provider_checks=False)).succeeded


@pytest.mark.parametrize("kind", attacks.TOKEN_ATTACKS)
async def test_token_attack_falls_for_the_naive_client_and_is_refused_by_ours(lab, kind):
    """The recipe without its one check takes the attacker's ID token; our report fails the named checks."""
    assert attacks.token_naive(lab, kind).succeeded
    outcome = await attacks.token_ours(lab, kind)
    assert not outcome.succeeded
    assert outcome.check == f"id_token_invalid/{TOKEN_CHECKS[kind][0]}"
    assert outcome.report is not None
    assert [c.name for c in outcome.report.checks if not c.passed] == TOKEN_CHECKS[kind]


@pytest.mark.parametrize(
    ("attack", "removed"),
    [
        (attacks.login_csrf_naive, None),
        (attacks.code_injection_naive, None),
        (attacks.open_redirect_naive, None),
        (attacks.fixation_naive, None),
        *((lambda lab, kind=kind: attacks.token_naive(lab, kind, ""), "") for kind in attacks.TOKEN_ATTACKS),
    ],
)
def test_the_recipe_with_its_check_back_refuses(lab, attack, removed):
    """The control: put the removed check back and the naive client refuses too, so it is that check."""
    assert not (attack(lab) if removed == "" else attack(lab, removed)).succeeded


async def test_open_redirect_stays_on_this_site(lab):
    """next= pointing elsewhere works against the recipe; ours sends every such login to /."""
    assert attacks.open_redirect_naive(lab).succeeded
    outcome = await attacks.open_redirect_ours(lab)
    assert not outcome.succeeded
    assert outcome.result.endswith(": /, /, /")


async def test_session_fixation_needs_a_new_id_at_login(lab):
    """A planted session id gets the victim's login in the recipe without rotation; not in ours."""
    assert attacks.fixation_naive(lab).succeeded
    outcome = await attacks.fixation_ours(lab)
    assert not outcome.succeeded and "new id: True" in outcome.result


async def test_a_stolen_cookie_dies_with_our_logout_not_with_a_stateless_one(lab):
    """The recipe's and st.login's signed cookies outlive logout; our server-side session does not."""
    assert attacks.stolen_cookie_naive(lab).succeeded
    assert attacks.streamlit_cookie_after_logout().succeeded
    outcome = await attacks.stolen_cookie_ours(lab)
    assert not outcome.succeeded
    assert outcome.result == "before the victim's logout the copy was alice; after it, None"
