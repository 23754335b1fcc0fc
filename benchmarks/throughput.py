"""Logins per second with C concurrent clients, each a fresh browser per login, failures counted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2


@dataclass(frozen=True)
class Throughput:
    clients: int
    logins: int
    failures: int
    seconds: float
    first_failure: str = ""

    @property
    def per_second(self) -> float:
        return self.logins / self.seconds

    def row(self, label: str) -> str:
        return (
            f"  {label:<44} {self.per_second:7.1f} logins/s   ({self.logins} logins in {self.seconds:.1f} s,"
            f" failures: {self.failures}{'; first: ' + self.first_failure if self.first_failure else ''})"
        )


def logins_per_second(login: Callable[[httpx2.Client], float], clients: int, each: int) -> Throughput:
    """``clients`` threads, each with its own kept-alive connection, ``each`` logins apiece."""
    failures: list[str] = []
    done = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def run() -> None:
        with httpx2.Client(timeout=20) as browser:
            barrier.wait()
            for _ in range(each):
                try:
                    login(browser)
                except Exception as error:  # counted and shown: the benchmark must not hide one
                    with lock:
                        failures.append(f"{type(error).__name__}: {str(error)[:120]}")
                else:
                    with lock:
                        done[0] += 1

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return Throughput(
        clients, done[0], len(failures), time.perf_counter() - started, failures[0] if failures else ""
    )
