"""The latency proxy the race tests use: ``benchmarks/latency_proxy.py``, re-exported here so
the tests keep importing it from the suite while the benchmarks, which may not import from
``tests/``, share the one implementation."""

from benchmarks.latency_proxy import LatencyProxy

__all__ = ["LatencyProxy"]
