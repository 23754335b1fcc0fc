"""The Profile page's "Who let you in" (dashboard/admission.py): the rules that held, in words,
and the roles, each a code span whatever a provider put in it."""

from __future__ import annotations

from dashboard.admission import RULES, admitted_by_lines, roles_line
from streamlit_authlib_login._core.rules import RULES as RULE_KEYS


def test_every_rule_has_words_and_each_admitting_rule_gets_a_line():
    """allowed_domains and allowed_groups: two lines, each the rule as code and what it admits."""
    assert set(RULES) == set(RULE_KEYS)
    lines = admitted_by_lines("allowed_domains and allowed_groups", "Google")
    assert lines == [
        f"` allowed_domains `: {RULES['allowed_domains']}",
        f"` allowed_groups `: {RULES['allowed_groups']}",
    ]


def test_no_rules_says_anyone_with_an_account_at_the_provider_may_come_in():
    """An empty admitted_by is a provider without rules, named as text (no markup from its label)."""
    assert admitted_by_lines("", "Dev *provider*") == [
        "No rules: anyone with an account at this provider (Dev \\*provider\\*)."
    ]


def test_roles_are_code_spans_that_no_backtick_closes():
    """A role holding markup and backticks (a provider's claim) stays one code span each."""
    assert roles_line([]) == "none"
    assert (
        roles_line(["admin", "x` ![i](http://h/i.png) `y"]) == "` admin `, `` x` ![i](http://h/i.png) `y ``"
    )
