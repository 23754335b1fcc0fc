"""Text from a URL, a provider or a claim shows as its characters on every page, in a real Chromium:
never a link, an image, a heading or a script. Each public page is opened with hostile query
strings and compared with the same page opened with a plain value; Mallory, whose claims are
hostile, visits every page once logged in."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
from playwright.sync_api import Page, expect

from devidp import PERSONAS, Persona

MALLORY = next(p for p in PERSONAS if p.username == "mallory")
PLANTED = "127.0.0.1:1"  # nothing listens there: a request to it is a planted link or image loading
# Every markup a query string could try: CommonMark blocks and inlines, GFM autolinks, raw HTML,
# Streamlit's own directives and math, and line endings that would start new blocks.
HOSTILE = (
    f"x\n\n# Planted heading\n\nSetext\n===\n[a link](http://{PLANTED}/link) "
    f"![an image](http://{PLANTED}/image.png) <img src=http://{PLANTED}/raw.png> "
    f"<a href=http://{PLANTED}/raw>raw</a> <script>window.planted = 1</script> <h2>raw heading</h2> "
    f"http://{PLANTED}/autolink www.planted.example mallory@planted.example <http://{PLANTED}/angle> "
    ":red[red] :material/home: $x^2$ `tick` **bold**\r\n- item"
)
PLAIN = "plain"
# The login page reads these (views/login.py, streamlit_authlib_login/_streamlit's login_failure).
LOGIN_PARAMETERS = ("logged_out", "at", "failure", "unavailable", "next")
MARKUP = """root => ({
    links: [...root.querySelectorAll('a')].map(a => a.getAttribute('href')),
    images: [...root.querySelectorAll('img')].map(i => i.getAttribute('src')),
    headings: [...root.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => h.tagName),
    scripts: root.querySelectorAll('script').length,
    planted: window.planted === 1,
})"""
# Invisible, and no line may break at it: how dashboard/untrusted.py keeps GFM from autolinking.
WORD_JOINER = "\u2060"


def watch_planted(page: Page) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url) if PLANTED in request.url else None)
    return requests


def settled(page: Page) -> None:
    """Wait until the script run that drew the page has ended, so every element is on it."""
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


def login_page_markup(page: Page, url: str) -> dict[str, object]:
    page.goto(url)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_text("Choose a provider.")).to_be_visible()
    settled(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    return page.locator("body").evaluate(MARKUP)


def test_the_login_page_shows_every_query_parameter_as_text(page: Page, app_url: str) -> None:
    """Hostile values in every parameter the login page reads add no link, image, heading or script."""
    planted = watch_planted(page)
    login = f"{app_url}/login?"
    plain = login_page_markup(page, login + urlencode(dict.fromkeys(LOGIN_PARAMETERS, PLAIN)))
    hostile = login_page_markup(page, login + urlencode(dict.fromkeys(LOGIN_PARAMETERS, HOSTILE)))
    assert hostile == plain
    # The unknown provider a logout came back from is named, character for character, on one line.
    said = page.get_by_test_id("stAlert").filter(has_text="You are logged out").inner_text()
    assert "x # Planted heading Setext === [a link](" in said.replace(WORD_JOINER, "")
    assert planted == []


def test_the_app_root_with_hostile_parameters_draws_no_markup(page: Page, app_url: str) -> None:
    """The root URL, logged out, with the login page's parameters and more: the same page as plain ones."""
    planted = watch_planted(page)
    names = (*LOGIN_PARAMETERS, "result", "name", "page", "embed_options")
    plain = login_page_markup(page, f"{app_url}/?{urlencode(dict.fromkeys(names, PLAIN))}")
    hostile = login_page_markup(page, f"{app_url}/?{urlencode(dict.fromkeys(names, HOSTILE))}")
    assert hostile == plain
    assert planted == []


def refused_login(page: Page, app_url: str, said: str) -> str:
    """A login refused with the provider's ``error`` and ``error_description`` both ``said``: the
    callback a hostile (or impersonated) provider sends, with the real ``state`` of a login this
    browser started. Returns the failure record's id the app redirected to."""
    page.goto(f"{app_url}/auth/login/dev?next=/profile")
    page.wait_for_url(re.compile(r"/idp/"))
    state = parse_qs(urlsplit(page.url).query)["state"][0]
    issuer = httpx2.get(f"{app_url}/idp/.well-known/openid-configuration", timeout=5).json()["issuer"]
    query = urlencode({"error": said, "error_description": said, "state": state, "iss": issuer})
    page.goto(f"{app_url}/auth/callback/dev?{query}")
    page.wait_for_url(re.compile(r"/login\?.*failure="))
    return parse_qs(urlsplit(page.url).query)["failure"][0]


def test_a_refused_login_shows_the_providers_words_as_text(page: Page, app_url: str) -> None:
    """A provider's hostile error and description, on the login page and on /auth/failed, are text."""
    planted = watch_planted(page)
    explained: dict[str, dict[str, object]] = {}
    for name, said in (("plain", PLAIN), ("hostile", HOSTILE)):
        failure = refused_login(page, app_url, said)
        expect(page.get_by_text("The login was refused.")).to_be_visible()
        explained[name] = login_page_markup(page, page.url)
        if name == "hostile":
            refusal = page.get_by_test_id("stAlert").filter(has_text="The login was refused.").inner_text()
            assert "# Planted heading" in refusal.replace(WORD_JOINER, "")
        # The module's own page, for an app without a login page: plain HTML, every value escaped.
        page.goto(f"{app_url}/auth/failed?{urlencode({'failure': failure, 'next': said})}")
        expect(page.get_by_role("alert")).to_contain_text("The login was refused.")
        explained[f"{name} /auth/failed"] = page.locator("body").evaluate(MARKUP)
    assert explained["hostile"] == explained["plain"]
    assert explained["hostile /auth/failed"] == explained["plain /auth/failed"]
    assert planted == []


def log_in(page: Page, app_url: str, persona: Persona) -> None:
    """From the login page: the provider's persona list, consent, back home."""
    page.goto(f"{app_url}/login")
    page.get_by_role("link", name=re.compile("Log in with Development provider")).click()
    page.get_by_role("button", name=re.compile("^" + re.escape(persona.name[:7]))).click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, "))).to_be_visible()


# Each logged-in page: its path and the start of its title (streamlit_app.py; Notebooks has none).
LOGGED_IN_PAGES = {
    "": "Hello, ",
    "profile": "Profile",
    "id-token": "ID token",
    "tokens": "Tokens",
    "trace": "Login trace",
    "faults": "Try a fault",
    "playground": "Playground",
    "inspector": "JWT inspector",
    "providers": "Providers",
    "notebooks": "",
}


def shown(text: str) -> str:
    return text.replace(WORD_JOINER, "")


def test_mallorys_claims_are_text_on_every_page(page: Page, app_url: str) -> None:
    """Mallory's name, email, locale and groups show as she typed them, nowhere a link, image or heading."""
    planted = watch_planted(page)
    log_in(page, app_url, MALLORY)
    main = page.get_by_test_id("stMain")
    for path, title in LOGGED_IN_PAGES.items():
        page.goto(f"{app_url}/{path}")
        if title:
            expect(page.get_by_role("heading", name=re.compile("^" + re.escape(title)))).to_be_visible()
        if path == "inspector":  # her ID token, decoded: every claim in a table
            page.get_by_role("button", name="Use my ID token").click()
            expect(page.get_by_role("table", name="Claims")).to_be_visible()
        settled(page)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        markup = main.evaluate(MARKUP)
        links = [href for href in markup["links"] if PLANTED in href or href.startswith("mailto:")]
        assert links == [], (path, links)
        assert [src for src in markup["images"] if PLANTED in src] == [], path
        assert not markup["planted"]
        # Every link in the page's text is the app's own: a page, a heading's anchor, a spec.
        for link in main.locator("a").all():
            assert "mallory" not in shown(link.inner_text()).lower(), (path, link.inner_text())
        for heading in main.locator("h1, h2, h3, h4, h5, h6").all():
            words = shown(heading.inner_text())
            if "Mallory" in words or "Markup" in words:
                assert words in (f"Hello, {MALLORY.name}", MALLORY.name), (path, words)
        if path in ("", "profile"):
            expect(main.get_by_role("heading", name=re.compile("Mallory"))).to_have_count(1)
        if path == "profile":
            said = {line.split(":", 1)[0]: shown(line) for line in main.locator("p").all_inner_texts()}
            assert said["Email"].startswith(f"Email: {MALLORY.email} — ")
            assert said["Locale"] == f"Locale: {MALLORY.locale}"
        if path in ("id-token", "inspector"):
            claims = shown(page.get_by_role("table", name="Claims").inner_text())
            assert MALLORY.name in claims and MALLORY.email in claims
    assert planted == []
