"""The session store in Redis, for several replicas of one app behind a load balancer.

The same verbs and bytes as ``SQLiteStore``: values arrive encrypted and keys HMAC'd
(``sealing.py``), so Redis and its dumps see neither tokens nor usable session ids.
Expiry is Redis's own (every key is written with a TTL, ``SET ... PX``), so nothing needs
sweeping; ``pop`` is ``GETDEL`` (Redis 6.2+), one atomic command: of two replicas racing
with the same ``state``, one gets the pending login and the other nothing.

Redis down or slow: each step of a call (connect, handshake, command) waits at most a socket
timeout (``TIMEOUT``), then the call raises ``StoreUnavailable`` (pages and routes show an error
page for it). A timeout is never retried, only a connection error is, once and at once
(``_retry``): a Redis that accepts connections and never answers costs a call one ``TIMEOUT``,
never a multiple of it, so a page or route answers within about that (a cluster with every node
hung is the exception: ``_Cluster``). After a failure, calls fail at once for ``BACKOFF``
seconds instead of each waiting out the timeout (in the store's threads, never on the server's
event loop: ``sessions.py``), then try again: the app recovers when Redis answers, without a
restart. The log gets one line when Redis goes away and one when it is back.

Redis refusing a write is not Redis gone: full at ``maxmemory`` under ``noeviction`` (OOM), a
read-only replica, a failed snapshot (MISCONF) all answer at once with an error reply. That
write raises ``StoreUnavailable`` (no new login can start), but nothing backs off: reads, and
with them every existing session, go on being served. The log gets one line when writes start
being refused and one when a write is accepted again.

A Redis Cluster needs nothing new in the configuration: the URL names any one of its nodes. The
first call asks that node ``INFO cluster``; with ``cluster_enabled:1`` (or, where INFO is not
allowed, at the first ``MOVED`` reply) the store switches to redis-py's ``RedisCluster``, with the
same timeouts, retry, back-off and log lines. Every operation names one key, or a lock and its
wake-up list, which share a hash slot (``_released``), so each runs whole on the one master that
owns that slot: ``GETDEL`` keeps ``state`` single-use and ``SET NX`` keeps the lock exclusive, as
on one node. A cluster with no master for a slot (a failover under way) is Redis gone, with the
back-off.

A lock's waiter does not poll (``wait_released``): the release pushes a token onto a list beside
the lock, in the same script, and the waiter ``BLPOP``s it. The token outlives the release by
``2 × timeout``, so a release between a waiter's failed ``SET NX`` and its ``BLPOP`` still wakes
it; the list keeps one token, so a stale one (a release no one waited for) costs a waiter one
extra try at most. One token wakes one waiter (the longest blocked); the lock is then that
waiter's, and its release wakes the next. A holder that dies pushes nothing: waits are capped
(``BLPOP``'s timeout, half the socket timeout), and the try after one finds the lease run out.
So does a token lost to a waiter that was cancelled while its ``BLPOP`` ran: the others see that
release at their cap, and the next release wakes one again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import NoReturn, TypeVar, cast
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.exceptions import (
    ClusterDownError,
    MovedError,
    RedisClusterException,
    RedisError,
    ResponseError,
    SlotNotCoveredError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from .errors import StoreUnavailable
from .eventlog import event

log = logging.getLogger(__name__)
T = TypeVar("T")

TIMEOUT = 1.0  # seconds per connect and per reply; a call waits out at most one (_retry)
BACKOFF = 1.0  # seconds during which calls fail at once after a failure
PREFIX = "auth:"  # namespace in a Redis database that may hold other things
# Compare-and-delete, atomic in Redis: a lock's owner releases only its own lock; and the wake-up
# token for its waiters, on KEYS[2] (one token kept, for ARGV[2] ms). Once the DEL has written,
# Redis lets the script's later writes through even at maxmemory: a release is never half done.
_DELETE_IF = (
    "if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end "
    "redis.call('del', KEYS[1]) "
    "redis.call('rpush', KEYS[2], 1) redis.call('ltrim', KEYS[2], -1, -1) "
    "redis.call('pexpire', KEYS[2], ARGV[2]) return 1"
)
# Compare-and-swap, atomic in Redis (a script runs alone): write ARGV[2] for ARGV[3] ms only
# while the key holds ARGV[1]. An expired key reads as nil, so it never matches.
_SWAP = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0"
)


def redacted(url: str) -> str:
    """``url`` with its password masked: safe for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:" if parts.username else ":"
    netloc = f"{user}***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def _retry() -> Retry:
    """One retry, at once, of a connection error only: a connection dropped since its last use
    (Redis restarted, an idle connection cut) fails at once, and a new one answers. Not of a
    timeout, which redis-py's ``Retry`` retries by default: that one has cost ``TIMEOUT`` already,
    a Redis that did not answer in ``TIMEOUT`` will not a moment later, and since redis-py retries
    inside a reconnect too, a hung Redis cost up to four timeouts a call (4 s a page)."""
    return Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


class _Cluster(RedisCluster):
    """redis-py's cluster client, retrying as ``_retry`` does: once, with the slot map read
    again, after a connection error or a slot without a master (a master gone since the last
    call); never after a timeout, which it retries by default (2 s a call with one master hung).
    It reads the slot map again after a timeout all the same, from each node in turn until one
    answers: with every node hung, a call waits one timeout more per node (7 s with six)."""

    ERRORS_ALLOW_RETRY = (RedisConnectionError, ClusterDownError, SlotNotCoveredError)


def _ms(ttl: float) -> int:
    return max(1, int(ttl * 1000))  # PX must be positive; a ttl of 0 means "already expired"


class RedisStore:
    """A KeyValueStore in Redis, shared by every replica that names the same URL.

    ``url`` is redis-py's: ``redis://[[user]:password@]host:port/db``, ``rediss://`` for TLS.
    """

    def __init__(self, url: str, *, timeout: float = TIMEOUT, prefix: str = PREFIX) -> None:
        self.url = redacted(url)
        self._prefix = prefix
        self._url = url
        self._timeout = timeout
        self._client: redis.Redis | RedisCluster = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=_retry(),
            health_check_interval=30,
        )
        self._delete_if = self._client.register_script(_DELETE_IF)
        self._swap = self._client.register_script(_SWAP)
        self._detected = False  # whether the URL's node was asked if it is a cluster node
        self._detecting = threading.Lock()
        self._state = threading.Lock()
        self._down_until = 0.0
        self._down = False
        self._refusing = False  # writes answered with an error reply (OOM...) since the last accepted
        self._errors = 0  # StoreUnavailable raised: ``CountsErrors``, auth_store_errors_total

    def _call(self, command: Callable[[], T], *, write: bool = False) -> T:
        """``command``, or ``StoreUnavailable``; ``write``: a command Redis may refuse for want
        of memory, whose success ends a spell of refused writes."""
        if time.monotonic() < self._down_until:
            self._count_error()
            raise StoreUnavailable(self._unavailable())
        try:
            if not self._detected:
                self._detect()
            try:
                result = command()
            except MovedError:
                if isinstance(self._client, RedisCluster):
                    raise  # the cluster client follows MOVED itself: this one is its last word
                self._use_cluster()  # a cluster node that would not answer INFO
                result = command()
        except (ClusterDownError, RedisClusterException) as error:
            self._unreachable(error)  # no master for a slot: a failover under way, or the cluster lost
        except ResponseError as error:
            # Redis answered: it is there, and reads still work, so no back-off.
            with self._state:
                first, self._refusing = not self._refusing, True
            if first:
                log.error(
                    "session store refused a write: %s (%s: %s); new logins show an error until it "
                    "accepts writes again (at maxmemory under noeviction: raise maxmemory, or look "
                    "for a flood of /auth/ requests); existing sessions are still served",
                    self.url,
                    type(error).__name__,
                    str(error)[:200],
                    extra=event("store_refusing_writes", check=type(error).__name__),
                )
            self._count_error()
            raise StoreUnavailable(self._refused()) from None
        except RedisError as error:
            self._unreachable(error)
        if self._down:
            with self._state:
                back, self._down = self._down, False
            if back:
                log.warning("session store reachable again: %s", self.url, extra=event("store_reachable"))
        if write and self._refusing:
            with self._state:
                accepted, self._refusing = self._refusing, False
            if accepted:
                log.warning(
                    "session store accepts writes again: %s", self.url, extra=event("store_accepting_writes")
                )
        return result

    def _unreachable(self, error: Exception) -> NoReturn:
        with self._state:
            self._down_until = time.monotonic() + BACKOFF
            first, self._down = not self._down, True
        if first:
            log.error(
                "session store unreachable: %s (%s: %s); logins and pages show an error until "
                "it answers, then recover by themselves",
                self.url,
                type(error).__name__,
                str(error)[:200],
                extra=event("store_unreachable", check=type(error).__name__),
            )
        self._count_error()
        raise StoreUnavailable(self._unavailable()) from None

    def _count_error(self) -> None:
        with self._state:
            self._errors += 1

    def unavailable_count(self) -> int:
        """``CountsErrors``: how many calls raised ``StoreUnavailable`` (the back-off's included)."""
        return self._errors

    def _detect(self) -> None:
        """Once, at the first call that reaches Redis: switch to the cluster client if the
        URL's node is a cluster node. Raises what the node's answer raises (then asks again)."""
        with self._detecting:
            if self._detected:
                return
            try:
                cluster = self._client.info("cluster").get("cluster_enabled") == 1
            except ResponseError:
                cluster = False  # INFO not allowed to this user: a MOVED reply tells instead
            if cluster:
                self._switch()
            self._detected = True

    def _use_cluster(self) -> None:
        with self._detecting:
            if not isinstance(self._client, RedisCluster):  # another thread may have switched
                self._switch()

    def _switch(self) -> None:
        """The cluster client, from the same URL, timeouts and retry; it learns the slot map
        from the URL's node (CLUSTER SLOTS) and follows MOVED and failovers by itself."""
        cluster = _Cluster.from_url(
            self._url,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            # one retry (of what _Cluster retries), after the client re-read the slot map: a master
            # gone since the last call. (health_check_interval is not passed: RedisCluster drops it
            # for its node clients.)
            retry=_retry(),
        )
        self._delete_if = cluster.register_script(_DELETE_IF)
        self._swap = cluster.register_script(_SWAP)
        single, self._client = self._client, cluster
        single.close()

    def _refused(self) -> str:
        return (
            "The session store (Redis) refused to store this login (it is full, or read-only), so "
            "no new login can start right now; existing sessions still work. Try again later; the "
            "operator's log names the cause."
        )

    def _unavailable(self) -> str:
        return (
            "The session store (Redis) is not answering, so no login or session can be checked "
            "right now. Try again in a moment; the operator's log names the cause."
        )

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless Redis answers."""
        self._call(self._client.ping)

    def put(self, key: str, value: bytes, ttl: float) -> None:
        self._call(lambda: self._client.set(self._prefix + key, value, px=_ms(ttl)), write=True)

    def get(self, key: str) -> bytes | None:
        return cast(bytes | None, self._call(lambda: self._client.get(self._prefix + key)))

    def pop(self, key: str) -> bytes | None:
        return cast(bytes | None, self._call(lambda: self._client.getdel(self._prefix + key)))

    def delete(self, key: str) -> None:
        self._call(lambda: self._client.delete(self._prefix + key))

    def add(self, key: str, value: bytes, ttl: float) -> bool:
        return bool(
            self._call(lambda: self._client.set(self._prefix + key, value, px=_ms(ttl), nx=True), write=True)
        )

    def delete_if(self, key: str, value: bytes) -> None:
        name = self._prefix + key
        wake = [name, self._released(name)]
        self._call(lambda: self._delete_if(keys=wake, args=[value, _ms(2 * self._timeout)]))

    def wait_released(self, key: str, timeout: float) -> bool:
        """``WaitsForRelease``: ``BLPOP`` the lock's wake-up list, for ``timeout`` seconds but at
        most half the socket timeout. redis-py reads a blocking command's reply under the same
        socket timeout as any other (``blpop`` is a plain ``execute_command``, redis-py 8.1), so
        the other half is left for the round trip."""
        seconds = round(min(timeout, self._timeout / 2), 3)
        if seconds < 0.01:  # BLPOP counts whole milliseconds, and a timeout of 0 blocks for ever
            time.sleep(max(seconds, 0.0))  # no burst of tries in a deadline's last milliseconds
            return False
        released = self._released(self._prefix + key)
        return self._call(lambda: self._client.blpop([released], seconds)) is not None

    def _released(self, name: str) -> str:
        """The wake-up list of the lock ``name``: in ``name``'s hash slot, so that one script may
        write both on a Redis Cluster, and under the prefix, where an ACL's key pattern
        (``~auth:*``) allows it. A name without braces hashes whole, so a list whose hash tag is
        that whole name hashes the same (the lock's key stays as older releases wrote it); a
        name with a hash tag keeps it. Keys here are ``kind:hex`` (``sealing.py``): no braces."""
        start = name.find("{")
        if start == -1 and "}" not in name:
            return f"{self._prefix}{{{name}}}:released"
        if start != -1 and name.find("}", start) > start + 1:
            return name + ":released"
        raise ValueError(f"no hash slot to share with a key of unpaired braces: {name!r}")

    def swap(self, key: str, old: bytes, new: bytes, ttl: float) -> bool:
        return bool(
            self._call(lambda: self._swap(keys=[self._prefix + key], args=[old, new, _ms(ttl)]), write=True)
        )

    def close(self) -> None:
        self._client.close()
