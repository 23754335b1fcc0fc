"""Timing helpers shared by the benchmark's sections: medians, p95 by nearest rank, rows."""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Stats:
    samples: tuple[float, ...]  # milliseconds

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank

    def row(self, label: str, digits: int = 1) -> str:
        return (
            f"  {label:<44} median {self.median:8.{digits}f} ms   p95 {self.p95:8.{digits}f} ms"
            f"   (n={len(self.samples)})"
        )


def time_calls(call: Callable[[], object], n: int, warmup: int = 200) -> Stats:
    for _ in range(min(warmup, n)):
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return Stats(tuple(samples))


def progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"
