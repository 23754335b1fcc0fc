"""The Playground's authorization requests: parameters chosen by hand, checked before sending.

A playground login is an ordinary login (``flow.py``: the same state, PKCE S256 and nonce,
the same callback checks) whose authorization request carries the extra parameters a person
picked, and whose outcome is kept as a short-lived result instead of becoming the session,
unless they asked for that: ``start_playground`` starts it for ``PURPOSE``, and the
``PlaygroundFinisher`` an app registers for that purpose finishes it. Nothing here knows about
Starlette or Streamlit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from .callback import Checked
from .config_keys import MODULE_PARAMETERS
from .errors import LoginError, PlaygroundRequestError, TokenValidationError
from .flow import Authenticator, Finished, Outcome, safe_next
from .notices import Notices
from .pending import PendingLogin
from .trace import Trace, masked_params

PURPOSE = "playground"  # the purpose its logins are started for and finished by

# The response modes the callback can receive: a GET with a query, or a POST form.
RESPONSE_MODES = ("query", "form_post")
PROMPTS = ("none", "login", "consent", "select_account")  # OIDC Core §3.1.2.1
MAX_EXTRA = 20
MAX_VALUE = 2048
FORM_FIELDS = ("scope", "prompt", "max_age", "login_hint", "acr_values", "claims", "response_mode", "extra")


@dataclass(frozen=True, kw_only=True)
class PlaygroundRequest:
    """An authorization request built by hand: the provider, the parameters added to the
    module's own, and whether the login, if it succeeds, replaces the session."""

    provider: str
    params: Mapping[str, str] = field(default_factory=dict)
    replace_session: bool = False
    form: Mapping[str, str] = field(default_factory=dict)  # as typed, to fill the form again

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> PlaygroundRequest:
        """Read and check the Playground's form; raises ``PlaygroundRequestError`` saying why.

        Fields: ``provider``; ``scope``, ``prompt``, ``max_age``, ``login_hint``,
        ``acr_values``, ``claims``, ``response_mode`` (empty: not sent); ``extra``, one
        ``name=value`` per line; ``replace`` ("1": a successful login becomes the session).
        """
        provider = form.get("provider", "").strip()
        if not provider:
            raise PlaygroundRequestError("Choose a provider.")
        params: dict[str, str] = {}
        for name in FORM_FIELDS[:-1]:
            value = " ".join(form.get(name, "").split()) if name != "claims" else form.get(name, "").strip()
            if value:
                params[name] = value
        for line_number, line in enumerate(form.get("extra", "").splitlines(), 1):
            if not line.strip():
                continue
            name, sep, value = line.partition("=")
            name = name.strip()
            if not sep or not name:
                raise PlaygroundRequestError(
                    f"Extra parameters, line {line_number}: write `name=value`, not {line.strip()[:60]!r}."
                )
            if name.lower() in {given.lower() for given in params}:  # as check_params: in any case
                raise PlaygroundRequestError(f"`{name}` is given twice; it has its own field or line.")
            params[name] = value.strip()
        if len(params) > MAX_EXTRA:
            raise PlaygroundRequestError(f"At most {MAX_EXTRA} parameters.")
        check_params(params)
        return cls(
            provider=provider,
            params=params,
            replace_session=form.get("replace") == "1",
            form={k: form.get(k, "") for k in ("provider", *FORM_FIELDS)},
        )


def with_result(next_path: str, result_id: str) -> str:
    """The Playground page's path with the id of the result to show."""
    return f"{next_path}{'&' if '?' in next_path else '?'}{urlencode({'result': result_id})}"


def check_params(params: Mapping[str, str]) -> None:
    """Refuse what would weaken the login or cannot come back to it, with the reason.

    Names are compared in any case: RFC 6749 §3.1 makes them case-sensitive, but a server that
    reads them case-insensitively would take ``STATE=`` for ``state``."""
    lowered: dict[str, str] = {}
    for name, value in params.items():
        key = name.lower()
        if key in lowered:
            raise PlaygroundRequestError(f"`{name}` is given twice; it has its own field or line.")
        lowered[key] = value
        if key in MODULE_PARAMETERS:
            raise PlaygroundRequestError(f"`{name}` cannot be set here: {MODULE_PARAMETERS[key]}.")
        if key.startswith("code_challenge"):
            raise PlaygroundRequestError(
                f"`{name}` cannot be set here: {MODULE_PARAMETERS['code_challenge']}."
            )
        if len(value) > MAX_VALUE or len(name) > 64:
            raise PlaygroundRequestError(f"`{name[:64]}` is too long (at most {MAX_VALUE} characters).")
    params = lowered  # the checks below read each parameter however it was spelt
    mode = params.get("response_mode")
    if mode is not None and mode not in RESPONSE_MODES:
        raise PlaygroundRequestError(
            f"`response_mode={mode}` cannot come back to this app: its callback takes "
            + " or ".join(f"`{m}`" for m in RESPONSE_MODES)
            + " (OAuth 2.0 Multiple Response Type Encoding Practices §2.1; Form Post Response Mode §2)."
        )
    prompt = params.get("prompt", "").split()
    if unknown := [p for p in prompt if p not in PROMPTS]:
        raise PlaygroundRequestError(
            f"`prompt` takes {', '.join(PROMPTS)} (OIDC Core §3.1.2.1), not {' '.join(unknown)!r}."
        )
    if "none" in prompt and len(prompt) > 1:
        raise PlaygroundRequestError(
            "`prompt=none` cannot be combined with other values (OIDC Core §3.1.2.1)."
        )
    max_age = params.get("max_age")
    # ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and "٣" (which int()
    # reads as 3, and a provider may not).
    if max_age is not None and not (max_age.isascii() and max_age.isdigit()):
        raise PlaygroundRequestError(
            f"`max_age` is a number of seconds, 0 or more (OIDC Core §3.1.2.1), not {max_age!r}."
        )
    if "claims" in params:
        try:
            claims = json.loads(params["claims"])
        except ValueError as error:
            raise PlaygroundRequestError(f"`claims` is not JSON (OIDC Core §5.5): {error}.") from error
        if not isinstance(claims, dict) or not set(claims) <= {"userinfo", "id_token"}:
            raise PlaygroundRequestError(
                "`claims` is a JSON object with `userinfo` and/or `id_token` members (OIDC Core §5.5), "
                'e.g. {"id_token": {"email": {"essential": true}}}.'
            )


def playground_record(
    pending: PendingLogin,
    provider: str,
    *,
    params: Mapping[str, str],
    trace: Trace,
    checked: Checked | None = None,
    refused: LoginError | None = None,
    replaced: bool = False,
) -> dict[str, object]:
    """A Playground login's outcome as the page shows it, every token masked: what was sent,
    what came back, the token exchange, the validation report and the trace."""
    sent = next((s.url for s in trace.steps if s.kind == "redirect"), None)
    report = (
        checked.report if checked else refused.report if isinstance(refused, TokenValidationError) else None
    )
    record: dict[str, object] = {
        "provider": provider,
        "at": int(time.time()),
        "passed": refused is None,
        "replaced": replaced,
        "params": dict(pending.params),
        "form": _form(pending),
        "authorization_url": sent,
        "response": masked_params(params),  # the code is masked: it is single-use, yet a secret
        "report": report.as_dict() if report else None,
        "trace": trace.as_dict(),
    }
    if checked is not None:
        record |= {
            "token_response": masked_params(checked.tokens),
            "claims": checked.claims,
            "userinfo": checked.userinfo,
        }
    if refused is not None:
        failed = refused.report.first_failure if isinstance(refused, TokenValidationError) else None
        record |= {
            "error": refused.error,
            "check": f"{refused.error}/{failed.name}" if failed else refused.error,
            "description": refused.description[:1000],
        }
    return record


def _form(pending: PendingLogin) -> dict[str, str]:
    form = pending.extra.get("form")
    return {str(k): str(v) for k, v in form.items()} if isinstance(form, Mapping) else {}


async def start_playground(
    auth: Authenticator,
    request: PlaygroundRequest,
    *,
    origin: str,
    next_path: str | None,
    binding_cookie: str,
    session_id: str,
) -> str:
    """A login with the Playground's parameters added to the module's own (which they cannot
    override: ``check_params``). Its callback runs every check of a login, then keeps the
    outcome for session ``session_id`` to read, and replaces that session only if
    ``request.replace_session`` (``PlaygroundFinisher``)."""
    check_params(request.params)
    extra: dict[str, object] = {"form": dict(request.form), "owner": auth.sessions.notices.owner(session_id)}
    if request.replace_session:
        extra["replace_session"] = True
    return await auth.start_for(
        PURPOSE,
        request.provider,
        origin=origin,
        binding_cookie=binding_cookie,
        added=request.params,
        extra=extra,
        # Stored, unlike a login's: only a logged-in session starts one (a CSRF-checked POST),
        # whose stored parameters and form outweigh it anyway; kept here, one code path.
        next_path=safe_next(next_path),
    )


async def playground_url(auth: Authenticator, request: PlaygroundRequest, *, origin: str) -> str:
    """The URL ``start_playground`` would send (``Authenticator.authorization_url``): a preview."""
    check_params(request.params)
    return await auth.authorization_url(request.provider, origin=origin, added=request.params)


class PlaygroundFinisher:
    """Finishes Playground logins: the outcome, passed or refused, becomes a result for the
    session that started it (``Finished.result``); a passed one becomes the session only when
    it was asked to replace that one."""

    def __init__(self, notices: Notices) -> None:
        self.notices = notices

    def finish(self, outcome: Outcome) -> Finished:
        pending, name = outcome.pending, outcome.provider
        owner = str(pending.extra.get("owner", ""))
        if outcome.refused is not None or not pending.extra.get("replace_session"):
            record = playground_record(
                pending,
                name,
                params=outcome.params,
                trace=outcome.trace,
                checked=outcome.checked,
                refused=outcome.refused,
            )
            return self._kept(pending, owner, record, refused=outcome.refused)
        assert outcome.new_session is not None  # a passed callback's
        session = outcome.new_session()
        record = playground_record(
            pending, name, params=outcome.params, trace=outcome.trace, checked=outcome.checked, replaced=True
        )
        return replace(self._kept(pending, self.notices.owner(session.id), record), session=session)

    def _kept(
        self,
        pending: PendingLogin,
        owner: str,
        record: Mapping[str, object],
        *,
        refused: LoginError | None = None,
    ) -> Finished:
        result_id = self.notices.save_playground_result(owner, record)
        return Finished(
            session=None,
            next_path=with_result(pending.next_path, result_id),
            result=result_id,
            refused=refused,
        )
