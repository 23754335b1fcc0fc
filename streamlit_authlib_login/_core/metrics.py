"""What an operator's Prometheus reads at ``GET /auth/metrics``: logins, logouts and refreshes by
outcome, how long logins take, the session store's errors and, where the store can say it
cheaply, how many sessions are live.

Each ``Authenticator`` has its own ``Metrics`` in a registry of its own, never
``prometheus_client``'s global one: two apps (or the tests' many) in one process count apart.
Counters start at zero with the process, so several replicas' add up in Prometheus
(``sum by (outcome) (rate(auth_logins_total[5m]))``), each replica scraped at its own address.

Labels stay few whatever a client sends: ``provider`` is a configured provider's name (``-``
for a request naming none), ``outcome`` is ``ok`` or the failed check's code (``errors.py``),
``not_allowed/<rule>`` for the access rule that refused (``rules.RULES``). Never the person.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .errors import ConfigError, LoginError, NotAllowed, ProviderError

# The text format (0.0.4) every Prometheus reads; these names need none of 1.0.0's escaping.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OK = "ok"
UNKNOWN = "-"  # the provider of a request that names none configured here
# Seconds from a login's start to its session: a person at the provider's login page takes
# seconds to minutes, and a pending login lives 10 minutes at most (RFC 9700 §4.7).
LOGIN_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# RFC 6750 §2.1: what ``Authorization: Bearer <token>`` can carry (b64token).
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MIN_TOKEN = 32


def outcome_of(error: LoginError) -> str:
    """The ``outcome`` label of a failure: its code, with the rule for ``NotAllowed`` and the one
    provider code that ends a login's refreshes (RFC 6749 §5.2 ``invalid_grant``); any other
    provider code is the provider's to choose, so it is left out."""
    if isinstance(error, NotAllowed):
        return f"{error.error}/{error.rule}"
    if isinstance(error, ProviderError) and error.code == "invalid_grant":
        return f"{error.error}/invalid_grant"
    return error.error


def parse_metrics_token(value: object) -> str | None:
    """``[auth] metrics_token``: the bearer token ``GET /auth/metrics`` asks for; None: no metrics."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) < MIN_TOKEN or not _B64TOKEN.fullmatch(value):
        # Its value is never repeated here: the message goes to the console.
        raise ConfigError(
            f"[auth] `metrics_token` must be a random string of at least {MIN_TOKEN} letters, digits "
            "or -._~+/ (what an `Authorization: Bearer` header carries, RFC 6750 §2.1): "
            '`python -c "import secrets; print(secrets.token_urlsafe(32))"`.'
        )
    return value


class _Store:
    """What the store says at scrape time: its errors, and its live sessions where it can count them."""

    def __init__(self, errors: Callable[[], int], active: Callable[[], int | None]) -> None:
        self._errors = errors
        self._active = active

    def collect(self) -> Iterator[Metric]:
        errors = CounterMetricFamily(
            "auth_store_errors",
            "Times the session store failed to answer (StoreUnavailable: Redis down, slow or full).",
        )
        errors.add_metric([], self._errors())
        yield errors
        active = self._active()
        if active is not None:  # a store that cannot count cheaply (Redis) leaves it out
            gauge = GaugeMetricFamily(
                "auth_sessions_active", "Live sessions in the session store (all replicas sharing it)."
            )
            gauge.add_metric([], active)
            yield gauge


class Metrics:
    """The counters of one app; ``render`` is the scrape's body."""

    def __init__(
        self,
        providers: Iterable[str],
        *,
        store_errors: Callable[[], int] = lambda: 0,
        active_sessions: Callable[[], int | None] = lambda: None,
    ) -> None:
        """``providers``: the configured names; ``store_errors`` and ``active_sessions`` are
        asked at each scrape (``SessionManager.store_errors``, ``SessionManager.count_active``)."""
        self.providers = tuple(providers)
        self.registry = CollectorRegistry()
        self._logins = Counter(
            "auth_logins",
            "Logins, by provider and outcome: ok, or the failed check (not_allowed/<rule>: the access "
            "rule that refused).",
            ("provider", "outcome"),
            registry=self.registry,
        )
        self._logouts = Counter(
            "auth_logouts", "Logouts, by provider.", ("provider",), registry=self.registry
        )
        self._refreshes = Counter(
            "auth_refreshes",
            "Token refreshes sent to the provider, by provider and outcome: ok, or the failed check.",
            ("provider", "outcome"),
            registry=self.registry,
        )
        self._login_seconds = Histogram(
            "auth_login_seconds",
            "Seconds from a login's start to its session, to the second (a login's start is kept in "
            "whole seconds).",
            buckets=LOGIN_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_Store(store_errors, active_sessions))
        for name in self.providers:  # a rate() needs a first sample: each provider's start at 0
            self._logins.labels(name, OK)
            self._logouts.labels(name)
            self._refreshes.labels(name, OK)

    def provider(self, name: str | None) -> str:
        """The ``provider`` label: a configured name, else ``-`` (a URL can name anything)."""
        return name if name in self.providers else UNKNOWN

    def login(self, provider: str | None, outcome: str, *, seconds: float | None = None) -> None:
        """One login that ended: ``ok`` (``seconds`` since it started) or refused (``outcome_of``)."""
        self._logins.labels(self.provider(provider), outcome).inc()
        if seconds is not None:
            self._login_seconds.observe(max(seconds, 0.0))

    def logout(self, provider: str | None) -> None:
        self._logouts.labels(self.provider(provider)).inc()

    @contextmanager
    def refreshing(self, provider: str) -> Iterator[None]:
        """Count the refresh the block sends to the provider: ``ok`` if it ends without an error,
        else the ``LoginError``'s outcome (another exception: ``login_failed``)."""
        try:
            yield
        except LoginError as error:
            self._refreshes.labels(self.provider(provider), outcome_of(error)).inc()
            raise
        except Exception:
            self._refreshes.labels(self.provider(provider), LoginError.error).inc()
            raise
        self._refreshes.labels(self.provider(provider), OK).inc()

    def refusals(self) -> dict[tuple[str, str], int]:
        """Logins and refreshes the access rules refused, per (provider, rule), since this process
        started: the Admin page's count, read from the counters above."""
        counts: dict[tuple[str, str], int] = {}
        prefix = NotAllowed.error + "/"
        for counter in (self._logins, self._refreshes):
            for metric in counter.collect():
                for sample in metric.samples:
                    outcome = sample.labels.get("outcome", "")
                    if sample.name.endswith("_total") and outcome.startswith(prefix) and sample.value:
                        key = (sample.labels["provider"], outcome.removeprefix(prefix))
                        counts[key] = counts.get(key, 0) + int(sample.value)
        return counts

    def render(self) -> bytes:
        """The Prometheus text format of every metric. It may ask the store (``auth_sessions_active``):
        call it off the event loop (``SessionManager.run``)."""
        return generate_latest(self.registry)
