"""Every trace step the dashboard explains links to a notebook that exists."""

from pathlib import Path

from dashboard.steps import NOTEBOOKS, explain, profile_answers
from streamlit_authlib_login._core.trace import Step

ROOT = Path(__file__).parents[2]


def test_every_linked_notebook_exists():
    """A renamed notebook would leave the Login trace page pointing at nothing."""
    missing = [name for name in NOTEBOOKS.values() if not (ROOT / "notebooks" / f"{name}.ipynb").exists()]
    assert missing == []


def test_steps_of_a_login_are_explained_with_their_notebook():
    """The token request is explained and points at the authorization-code notebook."""
    text, notebook = explain("Token request")
    assert "trades the code" in text
    assert notebook == "notebooks/02_authorization_code_flow.ipynb"
    assert explain("something else") == ("", None)
    # The admission's check (streamlit_authlib_login/_core/admission.py) points at notebook 12.
    text, notebook = explain("admitted by the app's access rules")
    assert "allowed_*" in text and notebook == "notebooks/12_authorization.ipynb"


def test_profile_answers_are_the_api_responses_as_sent():
    """The profile API's own answers, in order, and nothing the app fetched for other reasons."""
    steps = [
        Step(
            kind="http", title="Token request", method="POST", url="https://x/token", response_body={}, at=0
        ),
        Step(
            kind="http",
            title="Userinfo / profile",
            method="GET",
            url="https://x/user",
            response_body={"id": 1},
            at=0,
        ),
        Step(
            kind="http",
            title="GET /user/emails",
            method="GET",
            url="https://x/user/emails",
            response_body=[],
            at=0,
        ),
        Step(kind="http", title="Provider's signing keys (JWKS)", method="GET", url="https://x/jwks", at=0),
    ]
    assert profile_answers(steps) == [("https://x/user", {"id": 1}), ("https://x/user/emails", [])]
