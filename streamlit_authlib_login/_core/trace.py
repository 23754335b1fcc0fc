"""The login trace: every HTTP exchange and check of one login, secrets masked.

Recorded through httpx event hooks on the provider client, so nothing the
app sends or receives escapes it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx2

from .records import rebuild, rebuild_all

SECRET_KEYS = frozenset({"client_secret", "password", "cookie_secret"})
TOKEN_KEYS = frozenset(
    {
        "code",
        "code_verifier",
        "access_token",
        "refresh_token",
        "id_token",
        "id_token_hint",
        "token",
        "device_code",
        "client_assertion",
    }
)
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


def mask(value: str) -> str:
    """A token as prefix…suffix: enough to recognise it, not enough to use it."""
    return value if len(value) <= 12 else f"{value[:6]}…{value[-4:]}"


def fingerprint(value: str) -> str:
    """Same as the dev provider's journal: joins our trace with its log by ``code``."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def masked_params(params: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in params.items():
        if key in SECRET_KEYS:
            out[key] = "••••••"
        elif key in TOKEN_KEYS and isinstance(value, str):
            out[key] = mask(value)
        elif isinstance(value, Mapping):
            out[key] = masked_params(value)
        else:
            out[key] = value
    return out


def shown_params(params: Mapping[str, object], limit: int) -> str:
    """``params`` masked, as a JSON object of about ``limit`` characters at most, and always valid
    JSON however much was sent: a long value is cut (ending in "…"), and the parameters past
    the limit are counted under the key "…" instead of shown."""
    shown: dict[str, object] = {}
    masked = masked_params(params)
    for index, (key, value) in enumerate(masked.items()):
        cut = value[: limit // 4] + "…" if isinstance(value, str) and len(value) > limit // 4 else value
        if len(json.dumps({**shown, key[: limit // 4]: cut}, ensure_ascii=False)) > limit:
            shown["…"] = f"{len(masked) - index} more parameter(s) left out"
            break
        shown[key[: limit // 4]] = cut
    return json.dumps(shown, ensure_ascii=False)


def masked_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    masked = masked_params(dict(parse_qsl(parts.query)))
    query = urlencode({key: str(value) for key, value in masked.items()}, safe="…•")
    return urlunsplit(parts._replace(query=query))


def masked_body(body: bytes, content_type: str) -> object:
    text = body.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            data = json.loads(text)
        except ValueError:
            return text[:2000]
        return masked_params(data) if isinstance(data, dict) else data
    if "x-www-form-urlencoded" in content_type:
        return masked_params(dict(parse_qsl(text)))
    return text[:2000]


def masked_headers(headers: httpx2.Headers) -> dict[str, str]:
    out = {}
    for key, value in headers.items():
        if key.lower() in SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            # Basic credentials are the client secret itself (RFC 6749 §2.3.1): show none of it.
            shown = mask(rest) if rest and scheme.lower() != "basic" else "••••••"
            out[key] = f"{scheme} {shown}" if rest else shown
        else:
            out[key] = value
    return out


@dataclass(frozen=True, kw_only=True)
class Step:
    """One thing that happened during the login."""

    kind: str  # "redirect", "callback", "http", "check"
    title: str
    at: float
    duration_ms: float | None = None
    method: str | None = None
    url: str | None = None
    status: int | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: object = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: object = None
    passed: bool | None = None
    detail: str = ""
    by: str = "app"  # who made a check: "app", or "provider" (PKCE, RFC 7636 §4.6)


@dataclass
class Trace:
    """The steps of one login, in order. Mutable while the login runs; stored after."""

    steps: list[Step] = field(default_factory=list)
    state: str | None = None
    code_fingerprint: str | None = None
    _started: dict[int, float] = field(default_factory=dict, repr=False)

    def add(self, kind: str, title: str, **fields: object) -> None:
        self.steps.append(rebuild(Step, {**fields, "kind": kind, "title": title, "at": time.time()}))

    def check(self, title: str, passed: bool, detail: str, *, by: str = "app") -> None:
        """A check and its outcome; ``by`` names who made it (the provider, for PKCE)."""
        self.add("check", title, passed=passed, detail=detail, by=by)

    # httpx event hooks ---------------------------------------------------------------
    async def on_request(self, request: httpx2.Request) -> None:
        self._started[id(request)] = time.perf_counter()

    async def on_response(self, response: httpx2.Response) -> None:
        await response.aread()
        request = response.request
        started = self._started.pop(id(request), time.perf_counter())
        self.add(
            "http",
            _title(request),
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            method=request.method,
            url=masked_url(str(request.url)),
            status=response.status_code,
            request_headers=masked_headers(request.headers),
            request_body=masked_body(request.content, request.headers.get("content-type", "")),
            response_headers=masked_headers(response.headers),
            response_body=masked_body(response.content, response.headers.get("content-type", "")),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Trace:
        state, code, steps = data.get("state"), data.get("code_fingerprint"), data.get("steps")
        return cls(
            steps=rebuild_all(Step, steps),
            state=str(state) if state is not None else None,
            code_fingerprint=str(code) if code is not None else None,
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state,
            "code_fingerprint": self.code_fingerprint,
            "steps": [asdict(s) for s in self.steps],
        }


# A request's own name for its step (an httpx request extension): the provider client says which
# call is the profile API's, whatever its path (Strava's /api/v3/athlete).
TITLE = "trace_title"
PROFILE = "Userinfo / profile"


def _title(request: httpx2.Request) -> str:
    if named := request.extensions.get(TITLE):
        return str(named)
    path = request.url.path
    if path.endswith("openid-configuration") or "oauth-authorization-server" in path:
        return "Discovery document"
    if "jwks" in path or path.endswith("/certs") or path.endswith("/keys"):
        return "Provider's signing keys (JWKS)"
    if "token" in path and request.method == "POST":
        return "Token request"
    if "userinfo" in path or path.endswith("/user") or path.endswith("/me"):
        return PROFILE
    if "revoke" in path:
        return "Token revocation"
    return f"{request.method} {path}"
