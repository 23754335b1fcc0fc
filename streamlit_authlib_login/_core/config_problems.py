"""Every mistake of a configuration at once, instead of one per restart.

``load_config`` checks each key inside ``problems.at(table, key)``: a ``ConfigError`` raised
there, by any ``parse_*``/``refuse_*`` check as it stands, becomes one ``Problem`` and the
loading goes on with a placeholder for that value, so that later keys and tables are checked
too. At the end ``problems.check(layout)`` raises one ``ConfigError`` that carries them all
(``problems``) and says them one a line (``description``), in the order the secrets file has
its tables and keys.

Two rules keep the list to real mistakes. A check that combines keys (an idle timeout longer
than the max age, a GitHub-only rule on another provider) runs only on keys that passed alone:
that is the caller's part. And a required key reported missing is left out when the same table
has a near miss of it (``client_secrte``), whose line, "did you mean `client_secret`?", says it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeVar

from .errors import ConfigError, Problem

T = TypeVar("T")


class Problems:
    """The problems found so far, each a ``Problem``; see the module docstring."""

    def __init__(self) -> None:
        self._found: list[Problem] = []

    def count(self, table: str | None = None) -> int:
        """How many were found: in ``table``, or in all."""
        return sum(1 for p in self._found if table is None or p.table == table)

    def add(self, table: str, key: str, line: str) -> None:
        self._record(Problem(table, key, line))

    @contextmanager
    def at(self, table: str, key: str = "") -> Iterator[None]:
        """Record a ``ConfigError`` raised in the block as a problem of ``table``'s ``key`` ("":
        the table as a whole); one that carries problems of its own adds each of them."""
        try:
            yield
        except ConfigError as error:
            for problem in error.problems or (Problem(table, key, error.description),):
                self._record(problem)

    def key_by_key(
        self,
        table: str,
        values: Mapping[str, object],
        parse: Callable[[Mapping[str, object]], T],
        *,
        key: str = "",
    ) -> list[T]:
        """``parse`` each entry of ``values`` alone (as ``{name: value}``), recording what it
        raises as a problem of ``key`` (default: the entry's own name); the results of the rest."""
        results = []
        for name, value in values.items():
            with self.at(table, key or name):
                results.append(parse({name: value}))
        return results

    def check(self, layout: Mapping[str, Iterable[str]]) -> None:
        """Raise one ``ConfigError`` naming every problem, if there is any. ``layout``: each
        table's keys as the secrets file has them, for the order of the lines."""
        if self._found:
            raise config_error(in_order(self._found, layout))

    def _record(self, problem: Problem) -> None:
        if problem not in self._found:
            self._found.append(problem)


def in_order(found: Sequence[Problem], layout: Mapping[str, Iterable[str]]) -> tuple[Problem, ...]:
    """``found`` in the file's order (tables, then keys; a missing key after those written),
    without a missing key whose near miss the same table has (see the module docstring)."""
    written = {table: list(keys) for table, keys in layout.items()}
    tables = list(written)
    meant = {(p.table, p.meant) for p in found if p.meant}
    kept = [p for p in found if (p.table, p.key) not in meant or p.key in written.get(p.table, ())]

    def place(problem: Problem) -> tuple[int, int]:
        keys = written.get(problem.table, [])
        return (
            tables.index(problem.table) if problem.table in written else len(tables),
            keys.index(problem.key) if problem.key in keys else len(keys),
        )

    return tuple(sorted(kept, key=place))


def config_error(problems: Sequence[Problem]) -> ConfigError:
    """One ``ConfigError`` for ``problems``: a single problem's line is its description as it
    stands; several are counted, then listed one a line."""
    if len(problems) == 1:
        description = problems[0].line
    else:
        lines = "\n".join(f"  - {p.line}" for p in problems)
        description = f"{len(problems)} problems in the login configuration, one a line:\n{lines}"
    return ConfigError(description, problems=tuple(problems))
