"""The benchmark still runs end to end: a change to the app or the provider that breaks one of
its login paths (it drives ours, st.login's and the replicas' store) fails here, not on the
next person who wants numbers. Its figures are not asserted: this machine is shared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_every_section_with_no_failed_login() -> None:
    """A short run (2 logins, 100 lookups) prints all six sections and no failed login."""
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_login", "--logins", "2", "--lookups", "100"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    for section in range(1, 7):
        assert f"\n{section}. " in run.stdout, run.stdout
    assert run.stdout.count("failures: 0") == 2, run.stdout
    assert "st.login, `streamlit run`, warm" in run.stdout
