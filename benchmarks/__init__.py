"""Benchmarks: numbers to print, never to assert on. See ``benchmarks/README.md``."""
