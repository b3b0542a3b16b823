"""Executors map an experiment's task function over its tasks.

An executor has one method, ``map(fn, tasks) -> list`` returning the results in the
order of the tasks. Every task is fully determined by its parameters (seed included), so
any executor gives the same results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol


class Executor(Protocol):
    def map(self, fn: Callable[[dict], Any], tasks: Iterable[dict]) -> list: ...


class SerialExecutor:
    """Runs the tasks one after the other in this process."""

    def map(self, fn, tasks):
        return [fn(task) for task in tasks]
