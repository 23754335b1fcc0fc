"""Every trace step the dashboard explains links to a notebook that exists."""

from pathlib import Path

from dashboard.steps import NOTEBOOKS, explain

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
