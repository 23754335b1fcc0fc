"""A newcomer's path through the dashboard, in a real Chromium, for each dev persona."""

from __future__ import annotations

import json
import re
import time

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboard.claims import ACCESS_TOKEN_MEANINGS, MEANINGS
from dashboard.claims import HEADER_MEANINGS as MEANINGS_OF_HEADER
from devidp import PERSONAS, Persona

BY_NAME = {p.username: p for p in PERSONAS}
BOX_WIDTHS = "cells => cells.map(c => c.getBoundingClientRect().width)"
# Lines of text in a cell: its content's height over its line height.
LINES = (
    "c => { const s = getComputedStyle(c); const r = document.createRange(); r.selectNodeContents(c);"
    " return Math.round(r.getBoundingClientRect().height / parseFloat(s.lineHeight)) }"
)
# Every cell's content fits its cell: nothing runs over the next column or is cut off inside.
NOTHING_SPILLS = (
    "t => [...t.querySelectorAll('td, td *')]"
    ".every(e => !e.clientWidth || e.scrollWidth <= e.clientWidth + 1)"
)
NOT_SCROLLED_INSIDE = (
    "t => { const box = t.closest('[data-testid=stTable]'); return box.scrollHeight <= box.clientHeight + 1 }"
)


def as_shown(value: str) -> str:
    """What a page holds for a provider's ``value``: an invisible word joiner after `http` and before
    `@`, so GFM makes no link of a URL or an email (dashboard/untrusted.py; none has `www.`)."""
    return value.replace("http", "http\u2060").replace("@", "\u2060@")


def log_in(page: Page, app_url: str, persona: Persona, start: str = "/") -> None:
    """From a logged-out page: the login page, the provider's persona list, consent, back."""
    page.goto(app_url + start)
    page.get_by_role("link", name=re.compile("Log in with Development provider")).click()
    # Playwright sends a pattern as /source/: a "/" in a name must be escaped for it.
    start = re.escape(persona.name[:40]).replace("/", r"\/")
    page.get_by_role("button", name=re.compile("^" + start)).click()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(re.escape(app_url)))


def visit(page: Page, app_url: str, path: str, heading: str) -> None:
    page.goto(f"{app_url}/{path}")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_newcomer_logs_in_visits_every_page_and_logs_out(page: Page, app_url: str) -> None:
    """Alice logs in, sees her login from every angle, reloads, and logs out."""
    alice = BY_NAME["alice"]
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)  # logged out: no other pages
    log_in(page, app_url, alice)
    expect(page.get_by_role("heading", name=f"Hello, {alice.name}")).to_be_visible()
    expect(page.get_by_text("Logged in with Development provider since", exact=False)).to_be_visible()
    # The header holds the viewer's menu only: no "Deploy" button (client.toolbarMode = "viewer").
    expect(page.get_by_test_id("stMainMenu")).to_be_visible()
    expect(page.get_by_test_id("stAppDeployButton")).to_have_count(0)
    nav = page.get_by_test_id("stSidebarNav")
    for label in ("Home", "Profile", "ID token", "Tokens", "Login trace", "Try a fault", "JWT inspector"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()

    visit(page, app_url, "profile", "Profile")
    expect(page.get_by_text(as_shown(f"{alice.email} — ✅ verified"))).to_be_visible()
    expect(page.get_by_text(alice.sub).first).to_be_visible()
    # This app has no allowed_* rules; her token's roles claim (the groups scope) makes her admin.
    expect(page.get_by_role("heading", name="Who let you in")).to_be_visible()
    expect(
        page.get_by_text("No rules: anyone with an account at this provider (Development provider).")
    ).to_be_visible()
    expect(page.locator("p", has_text="Roles:").locator("code")).to_have_text(list(alice.roles))

    visit(page, app_url, "id-token", "ID token")
    expect(page.get_by_text("Trusted", exact=False).first).to_be_visible()
    for check in ("signature", "aud", "nonce", "at_hash"):
        expect(page.get_by_role("table", name="Validation report")).to_contain_text(check)
    expect(page.get_by_text("■ header")).to_be_visible()
    # Whole tables, long text wrapped in place: every meaning reads to its end, nothing scrolls inside.
    claims = page.get_by_role("table", name="Claims")
    expect(claims.get_by_text(MEANINGS["sub"][0], exact=True)).to_be_visible()
    expect(
        page.get_by_role("table", name="JWT header").get_by_text(MEANINGS_OF_HEADER["kid"])
    ).to_be_visible()
    assert claims.evaluate(NOT_SCROLLED_INSIDE)
    # Values as the token carries them, JSON: not Python's True and ['staff', 'admins'].
    expect(claims).to_contain_text('["staff", "admins"]')
    verified = claims.get_by_role("row").filter(
        has=page.get_by_role("cell", name="email_verified", exact=True)
    )
    expect(verified).to_contain_text("true")
    expect(claims).not_to_contain_text("True")
    expect(
        page.get_by_role("img", name=re.compile(r"^Timeline of the ID token: .*iat · issued"))
    ).to_be_visible()
    for moment in ("auth_time · you logged in", "now", "exp · ID token expires", "access token expires"):
        expect(
            page.get_by_role("img", name=re.compile(f"^Timeline of the ID token: .*{moment}"))
        ).to_be_visible()

    # Before the refresh below: a refreshed ID token carries no nonce (OIDC Core §12.2).
    visit(page, app_url, "inspector", "JWT inspector")
    page.get_by_role("button", name="Use my ID token").click()
    expect(page.get_by_role("heading", name="Claims", exact=True)).to_be_visible()
    page.get_by_role("button", name="Fetch the issuer's keys").click()
    expect(page.get_by_text("The signature verifies with key", exact=False)).to_be_visible()
    expect(page.get_by_text("All checks pass, with the keys the issuer", exact=False)).to_be_visible()
    expect(page.get_by_label("The nonce you sent (optional)")).to_have_value(re.compile(r"^[\w-]{20,}$"))
    page.get_by_text("Raw JSON: header and payload").click()
    expect(page.get_by_test_id("stJson").first).to_contain_text("RS256")
    versus = page.get_by_test_id("stDataFrame").last
    expect(versus).to_contain_text("userinfo")
    expect(versus).to_contain_text("only in ID token")

    visit(page, app_url, "tokens", "Tokens")
    expect(page.get_by_text("Access token (", exact=False)).to_be_visible()
    # The access token is the API's: its `aud` is explained as RFC 9068 does, not as an ID token's.
    access_claims = page.get_by_role("table", name="Claims")
    expect(access_claims).to_contain_text(ACCESS_TOKEN_MEANINGS["aud"][0])
    expect(access_claims).not_to_contain_text(MEANINGS["aud"][0])
    page.get_by_role("button", name="Introspect").click()
    expect(page.get_by_text("active ✅", exact=False)).to_be_visible()
    page.get_by_role("button", name="Refresh now").click()
    expect(page.get_by_text("Refreshed 1 time(s)", exact=False)).to_be_visible()
    # The introspection shown is of the token held now, not of the one the refresh replaced.
    held = page.get_by_text(re.compile(r"^Fingerprint \w{8}:")).inner_text()[12:20]
    expect(page.get_by_text(f"of the access token {held}: active ✅")).to_be_visible()
    page.get_by_text("refresh token", exact=True).click()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Revoking the refresh token answered HTTP 200")).to_be_visible()
    expect(page.get_by_text(re.compile(r"of the refresh token \w{8}: inactive ❌"))).to_be_visible()

    visit(page, app_url, "trace", "Login trace")
    expect(page.get_by_role("img", name="Sequence diagram of the login")).to_be_visible()
    expect(page.locator("p", has_text="Checked by the provider:")).to_contain_text("PKCE verifier")
    expect(page.locator("p", has_text="Checked by this app:")).to_contain_text("iss in the callback")
    expect(page.get_by_text(re.compile(r"Token request — POST → 200"))).to_be_visible()
    page.get_by_text(re.compile(r"Token request — POST → 200")).click()
    expect(page.get_by_test_id("stJson").get_by_text('"Bearer"').first).to_be_visible()  # the body, opened
    expect(page.get_by_text("Both sides", exact=False)).to_be_visible()
    joined = page.get_by_test_id("stDataFrame").first
    expect(joined).to_contain_text("passed")
    expect(joined).not_to_contain_text("None")
    expect(joined).not_to_contain_text("`")
    page.get_by_text(re.compile(r"^\d+\. Callback: the provider sends the browser back")).click()
    expect(page.get_by_text("The callback's parameters", exact=False)).to_be_visible()
    issuer = page.get_by_test_id("stJson").get_by_text(f'"{app_url}/idp"').filter(visible=True)
    expect(issuer).to_have_count(1)  # the callback's iss, as JSON: the only one open
    page.get_by_text(re.compile(r"^\d+\. PKCE verifier checked by the provider")).click()
    page.get_by_role("link", name="Learn it step by step: notebooks/03_pkce.ipynb").click()
    expect(page.get_by_role("heading", name=re.compile("PKCE")).first).to_be_visible()

    visit(page, app_url, "providers", "Providers")
    expect(page.get_by_text(f"{app_url}/auth/callback/dev").first).to_be_visible()
    expect(page.get_by_text("An OpenID Connect provider built on Authlib", exact=False)).to_be_visible()
    expect(page.get_by_text("Any standards OpenID Connect provider", exact=False)).to_have_count(0)
    # Every provider here runs inside the app: registered already, so no "Register at" instruction.
    expect(page.get_by_text("Runs inside this app", exact=False).first).to_be_visible()
    expect(page.get_by_text("Register at", exact=False)).to_have_count(0)
    expect(
        page.get_by_text("With the real Google you register the client yourself", exact=False)
    ).to_be_visible()

    page.reload()
    expect(page.get_by_role("heading", name="Providers")).to_be_visible()  # still logged in

    visit(page, app_url, "", f"Hello, {alice.name}")
    page.get_by_role("button", name="Log out").click()
    expect(
        page.get_by_text("You are signed out", exact=False).or_(page.get_by_text("You are logged out"))
    ).to_be_visible()
    assert page.context.request.get(f"{app_url}/auth/me").status == 401


def test_an_admin_finds_the_admin_page_in_the_sidebar_and_opens_it(page: Page, app_url: str) -> None:
    """Alice's token carries the role `admin`: the sidebar lists Admin, and it opens on its content."""
    log_in(page, app_url, BY_NAME["alice"])
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin").click()
    page.wait_for_url(f"{app_url}/admin")
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    expect(page.locator("p", has_text="Your roles:").locator("code", has_text="admin")).to_be_visible()
    providers = page.get_by_test_id("stDataFrame")
    expect(providers).to_contain_text("Development provider")
    expect(providers).to_contain_text("anyone with an account there")  # this app has no allowed_* rules
    expect(page.get_by_test_id("stAlert").filter(has_text="Not allowed")).to_have_count(0)


def test_someone_without_the_role_sees_no_admin_page_in_the_sidebar_nor_at_its_url(
    page: Page, app_url: str
) -> None:
    """Bob (a viewer) opens /admin, logs in, and is back there: it says he is not allowed, naming
    the role, instead of showing the page or Streamlit's "page not found"; his sidebar has no Admin."""
    log_in(page, app_url, BY_NAME["bob"], start="/admin")
    page.wait_for_url(f"{app_url}/admin")
    refusal = page.get_by_test_id("stAlert").filter(has_text="Not allowed")
    expect(refusal).to_contain_text("this is only for the role “admin”, which your account does not have")
    expect(page.get_by_role("heading", name="Admin")).to_have_count(0)
    expect(page.get_by_text("Your roles:", exact=False)).to_have_count(0)
    expect(page.get_by_text("Page not found", exact=False)).to_have_count(0)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Providers")).to_be_visible()  # the sidebar is drawn, ...
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)  # ... without Admin


@pytest.mark.parametrize("username", ["bob", "jiwoo", "noemail", "longname"])
def test_each_persona_sees_their_own_profile_and_claims(page: Page, app_url: str, username: str) -> None:
    """Each persona's name, email status and claims show as that persona has them."""
    persona = BY_NAME[username]
    log_in(page, app_url, persona, start="/profile")
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    expect(page.get_by_text(persona.name[:60], exact=False).first).to_be_visible()
    if persona.email is None:
        expect(page.get_by_text("none released", exact=False)).to_be_visible()
    elif persona.email_verified:
        expect(page.get_by_text(as_shown(f"{persona.email} — ✅ verified"))).to_be_visible()
    else:
        expect(page.get_by_text("not verified", exact=False)).to_be_visible()
    visit(page, app_url, "id-token", "ID token")
    expect(page.get_by_role("table", name="Claims")).to_contain_text(persona.sub)


def test_hostile_claims_show_as_text_and_nothing_is_loaded_or_read(page: Page, app_url: str) -> None:
    """Mallory's markup shows as the characters she typed; her images never load; her `picture`,
    a file path on the server, is not read (st.image would read it and fail on it)."""
    mallory = BY_NAME["mallory"]
    planted: list[str] = []
    page.on("request", lambda request: planted.append(request.url) if ":1/" in request.url else None)
    log_in(page, app_url, mallory)
    expect(page.get_by_role("heading", name=as_shown(f"Hello, {mallory.name}"))).to_be_visible()
    visit(page, app_url, "profile", "Profile")
    # Below the picture: st.image on the path would have read /etc/passwd and died on it here.
    expect(page.get_by_role("heading", name=as_shown(mallory.name), exact=True)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_text(as_shown(f"Locale: {mallory.locale}"), exact=True)).to_be_visible()
    groups = page.locator("p", has_text="Groups:")
    for group in mallory.groups:
        expect(groups.locator("code", has_text=group)).to_have_count(1)
    expect(page.get_by_text("not a web URL, so not shown", exact=False)).to_be_visible()
    main = page.get_by_test_id("stMain")
    expect(main.locator("img")).to_have_count(0)  # no planted image, no file turned into a data: URI
    visit(page, app_url, "", as_shown(f"Hello, {mallory.name}"))
    expect(main.locator("img")).to_have_count(0)
    assert planted == []


def test_a_gated_url_opened_logged_out_returns_there_after_login(page: Page, app_url: str) -> None:
    """Opening /tokens logged out shows the login page, and the login comes back to /tokens."""
    page.goto(f"{app_url}/tokens")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    log_in(page, app_url, BY_NAME["alice"], start="/tokens")
    page.wait_for_url(f"{app_url}/tokens")
    expect(page.get_by_role("heading", name="Tokens")).to_be_visible()


def test_a_fault_switched_on_is_refused_by_the_named_check(
    page: Page, app_url: str, pytestconfig: pytest.Config
) -> None:
    """With `wrong_aud` on, logging in again lands on the login page naming the `aud` check, in a
    report that reads at 1280 px, with times as dates and the way back to Try a fault."""
    log_in(page, app_url, BY_NAME["alice"])
    try:
        visit(page, app_url, "faults", "Try a fault")
        page.get_by_text("wrong_aud —", exact=False).click()
        page.get_by_role("button", name="Switch it on").click()
        # A refresh meets the fault too (OIDC Core §12.2): its error replaces the older introspection.
        visit(page, app_url, "tokens", "Tokens")
        page.get_by_role("button", name="Introspect").click()
        expect(page.get_by_text("active ✅", exact=False)).to_be_visible()
        page.get_by_role("button", name="Refresh now").click()
        expect(page.get_by_test_id("stAlert").filter(has_text="The refresh failed")).to_contain_text("aud")
        expect(page.get_by_text("active ✅", exact=False)).to_have_count(0)
        expect(page.get_by_text("Introspection (RFC 7662)", exact=False)).to_have_count(0)
        visit(page, app_url, "faults", "Try a fault")
        page.get_by_role("link", name="Log in again with the faulty provider").click()
        page.get_by_role("button", name="Allow").click()
        expect(
            page.get_by_text(re.compile(r"the ID token's\s*aud\s*is not this app's client id")).first
        ).to_be_visible()
        expect(page.get_by_text("The login was refused", exact=False)).to_be_visible()
        report = page.get_by_role("table", name="Validation report")
        expect(report).to_contain_text("some-other-client")
        # Readable at Playwright's 1280 px, sidebar open: no column squeezed to a word a line.
        assert page.viewport_size == {"width": 1280, "height": 720}
        headers = report.locator("thead th")
        widths = dict(zip(headers.all_inner_texts(), headers.evaluate_all(BOX_WIDTHS), strict=True))
        assert all(widths[c] >= 120 for c in ("expected", "actual", "spec", "why it failed")), widths
        assert widths["check"] >= 70, widths
        assert report.evaluate(NOTHING_SPILLS), "a value runs out of its cell, or is cut off in it"
        reason = report.get_by_role("cell", name=re.compile("is not this app's client id"))
        assert reason.evaluate(LINES) <= 2  # "the ID token's aud is not this app's client id"
        # A moment is a date, not only seconds since 1970.
        exp = report.get_by_role("row").filter(has=page.get_by_role("cell", name="exp", exact=True))
        expect(exp).to_contain_text(
            re.compile(r"\d{10} = 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in \d+ (min|h)\)")
        )
        page.set_viewport_size({"width": 1280, "height": 1400})  # Streamlit scrolls inside its own pane
        page.screenshot(
            path=pytestconfig.rootpath / "test-artifacts" / "screenshots" / "refused-login-1280.png"
        )
        page.set_viewport_size({"width": 1280, "height": 720})
        # Alice's session is untouched, and the page says so; Try a fault is one click away.
        expect(page.get_by_text("You are already logged in", exact=False)).to_have_count(0)
        expect(
            page.get_by_text("You are still logged in with your earlier session", exact=False)
        ).to_be_visible()
        expect(page.get_by_role("link", name="Back to Try a fault")).to_have_attribute(
            "href", re.compile(r"(^|/)faults$")
        )
        # Locked out by a fault: the login page says which is on, and switches it off right there.
        banner = page.get_by_test_id("stAlert").filter(has_text="misbehaves on purpose")
        expect(banner).to_contain_text("wrong_aud switched on")
        page.get_by_role("button", name="Switch all faults off").click()
        expect(page.get_by_text("misbehaves on purpose", exact=False)).to_have_count(0)
        page.get_by_role("link", name=re.compile("Log in with Development provider")).click()
        page.get_by_role("button", name="Allow").click()
        expect(page.get_by_role("heading", name="Try a fault")).to_be_visible()  # where it started
        expect(page.get_by_text("No fault is on", exact=False)).to_be_visible()
    finally:
        httpx2.post(f"{app_url}/idp/faults", json={"faults": []}, timeout=5)


@pytest.mark.parametrize(
    "preset",
    ["google", "github", "facebook", "microsoft", "apple", "gitlab", "discord", "kakao", "naver", "strava"],
)
def test_each_real_provider_shape_logs_in_from_the_login_page(page: Page, app_url: str, preset: str) -> None:
    """From the login page, the emulated twin of each provider logs Alice in and lands on home
    (Strava's: a provider no preset knows, configured by its endpoints)."""
    page.goto(f"{app_url}/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_text("Try a real provider's shape, offline", exact=False).click()
    label = {"microsoft": "Microsoft", "github": "GitHub", "gitlab": "GitLab"}.get(preset, preset.title())
    link = page.get_by_role("link", name=re.compile(rf"Log in with {label} \(emulated\)"))
    link.click()
    try:
        page.wait_for_url(re.compile(r"/idp/"), timeout=5_000)
    except PlaywrightTimeoutError:
        # Known flake (about 1 run in 30, also before this suite's changes): the click on a link
        # inside the just-opened expander sometimes does not navigate. A person clicks again.
        link.click()
    expect(page.get_by_text(f"Emulating {label}", exact=False).first).to_be_visible()
    page.get_by_role("button", name=re.compile("^Alice Anderson")).click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, Alice"))).to_be_visible()
    expect(page.get_by_text(f"Logged in with {label} (emulated)", exact=False)).to_be_visible()
    visit(page, app_url, "profile", "Profile")
    if preset == "strava":  # no email from Strava: the athlete as its API answered, mapped by profile_map
        expect(page.get_by_text("none released", exact=False)).to_be_visible()
        expect(page.get_by_text("/api/v3/athlete", exact=False).first).to_be_visible()
        return
    expect(page.get_by_text(as_shown("alice@example.com"), exact=False).first).to_be_visible()
    if preset == "github":  # the raw answers are the API's: email_verified is the app's own addition
        expect(page.get_by_test_id("stJson").first).to_be_visible()
        for answer in page.get_by_test_id("stJson").all():
            expect(answer).not_to_contain_text("email_verified")


def no_horizontal_overflow(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def test_long_names_and_a_4kb_token_do_not_overflow(page: Page, app_url: str) -> None:
    """A 300-character name in five scripts and a 4 KB pasted token stay inside the page."""
    longname = BY_NAME["longname"]
    log_in(page, app_url, longname, start="/profile")
    expect(page.get_by_text(longname.name[:60], exact=False).first).to_be_visible()
    assert no_horizontal_overflow(page)
    visit(page, app_url, "inspector", "JWT inspector")
    key = RSAKey.generate_key(2048, private=True)
    claims = {"iss": "https://idp.example", "sub": "x" * 200, "roles": ["r" * 40] * 60, "exp": 1}
    big = jwt.encode({"alg": "RS256", "kid": "k" * 80}, claims, key)
    assert len(big) > 4096
    page.get_by_role("textbox", name="JWT").fill(big)
    page.keyboard.press("Control+Enter")
    expect(
        page.get_by_text("Expired: `exp` is in the past.", exact=False)
        .or_(page.get_by_text("Expired:", exact=False))
        .first
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Claims", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert no_horizontal_overflow(page)
    page.get_by_role("textbox", name="JWT").fill("not.a.jwt" + "!" * 5000)
    page.keyboard.press("Control+Enter")
    # A sentence, not a traceback.
    expect(page.get_by_text("The header is not base64url-encoded JSON", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)

    # Make a token of one's own: sign it with a new RS256 key (with no discovery document, RS256 is
    # the one algorithm the checks accept), then verify it with that key's JWKS.
    page.get_by_text("Make and sign a token", exact=False).click()
    page.get_by_test_id("stRadio").get_by_text("RS256", exact=True).click()
    now = int(time.time())
    forged = {"iss": "https://accounts.google.com", "aud": "some-other-client", "sub": "me", "iat": now}
    page.get_by_label("Payload (JSON)").fill(json.dumps({**forged, "exp": now + 600}))
    # Committed first: a click that also blurs the text area can be lost to the rerun the blur starts.
    page.get_by_label("Payload (JSON)").press("Control+Enter")
    page.get_by_role("button", name="Sign").click()
    expect(page.get_by_role("table", name="JWT header")).to_contain_text("typ")  # the new token's
    jwks = page.get_by_test_id("stCode").filter(has_text='"keys"').inner_text()
    page.get_by_text("Pasted JWKS / JWK / PEM").click()
    page.get_by_role("textbox", name="Keys").fill(jwks)
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text("The signature verifies with key", exact=False)).to_be_visible()
    # A key made a moment ago verifies a token naming Google: every check passes, and the page
    # says whose keys those are and that they prove nothing about the issuer.
    page.get_by_label(re.compile("^Your client id")).fill("some-other-client")
    page.keyboard.press("Enter")
    verdict = page.get_by_test_id("stAlert").filter(has_text="The checks pass, with the keys you pasted")
    expect(verdict).to_contain_text("prove nothing about the issuer")
    expect(verdict).to_contain_text("nonce was not checked")
    expect(page.get_by_text("All checks pass", exact=False)).to_have_count(0)
    report = page.get_by_role("table", name="Validation report")
    expect(report).to_contain_text("valid with the keys you pasted")
    expect(report).not_to_contain_text("provider's")


def test_a_second_login_can_switch_to_another_persona(page: Page, app_url: str) -> None:
    """Logged in as Alice, a new login offers "Use another persona" at consent, and Bob comes back."""
    log_in(page, app_url, BY_NAME["alice"])
    page.goto(f"{app_url}/login")
    page.get_by_role("link", name=re.compile("Log in with Development provider")).click()
    expect(page.get_by_text("Signed in as Alice Anderson", exact=False)).to_be_visible()
    page.get_by_role("link", name="Use another persona").click()
    expect(page.get_by_role("heading", name="Choose an account")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Bob Brown")).click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="Hello, Bob Brown")).to_be_visible()


def test_home_refreshes_the_tokens_in_place(page: Page, app_url: str) -> None:
    """The home page's refresh control gets new tokens and comes back home."""
    log_in(page, app_url, BY_NAME["alice"])
    page.get_by_role("button", name="Refresh tokens").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Hello, Alice"))).to_be_visible()
    assert page.context.request.get(f"{app_url}/auth/me").json()["tokens"]["refresh_count"] == 1


def test_the_playground_sends_a_hand_built_request_and_shows_what_came_back(page: Page, app_url: str) -> None:
    """Alice sends prompt=login with her own scopes, signs in again as Bob, and lands back on the
    Playground with the report and the trace, still logged in as herself."""
    log_in(page, app_url, BY_NAME["alice"])
    visit(page, app_url, "playground", "Playground")
    page.get_by_label("scope").fill("openid profile")
    page.get_by_label("scope").press("Enter")
    page.get_by_test_id("stMultiSelect").click()
    page.get_by_role("option", name="login", exact=True).click()
    page.keyboard.press("Escape")
    sent = page.get_by_test_id("stCode").filter(has_text="/idp/authorize?")
    expect(sent).to_contain_text("prompt=login")
    expect(sent).to_contain_text("scope=openid+profile")
    parameters = page.get_by_role("table", name="Authorization request parameters")
    expect(parameters).to_contain_text("sign in again")
    expect(parameters).to_contain_text("the module (always)")
    page.get_by_role("button", name="Send to the provider").click()
    page.get_by_role("button", name=re.compile("^Bob Brown")).click()  # prompt=login: the list again
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(r"/playground\?result="))
    expect(page.get_by_text("Every check passed", exact=False)).to_be_visible()
    expect(page.get_by_text("Your session is unchanged", exact=False)).to_be_visible()
    expect(page.get_by_role("table", name="Validation report")).to_contain_text("nonce")
    expect(page.get_by_role("table", name="Claims")).to_contain_text("bob")
    expect(page.get_by_role("img", name="Sequence diagram of the login")).to_be_visible()
    expect(page.locator("p", has_text="Checked by the provider:")).to_contain_text("PKCE verifier")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.set_viewport_size({"width": 1280, "height": 7000})  # Streamlit scrolls inside its own pane
    page.screenshot(path="/tmp/playground.png")
    assert page.context.request.get(f"{app_url}/auth/me").json()["profile"]["username"] == "alice"
