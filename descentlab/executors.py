"""Executors: where the tasks of a sweep run (DESIGN.md, "Scale-out").

An executor maps a function over a list of tasks (plain dicts) and offers two ways to get
the results back:

* ``as_completed(fn, tasks)`` yields ``(index, result)`` pairs in the order the tasks
  finish, so that the caller (``descentlab.sweep``) writes each result the moment it
  exists and a killed sweep loses only the tasks in flight;
* ``map(fn, tasks)`` returns the results in the order of the tasks.

Backends: :class:`SerialExecutor` (in this process), :class:`JoblibExecutor` (loky worker
processes on the cores of this machine) and :class:`DaskExecutor` (a Dask distributed
cluster, or a LocalCluster started on demand). Every task is fully determined by its
parameters (seed included), so every executor gives the same results.

Executors are context managers; ``close()`` releases their workers (a no-op except for a
Dask cluster the executor started itself).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from .errors import DescentlabError

BACKENDS = ("local", "joblib", "serial", "dask")


@runtime_checkable
class Executor(Protocol):
    """What ``descentlab.sweep`` needs from an executor."""

    def map(self, fn: Callable[[dict], Any], tasks: Sequence[dict]) -> list: ...

    def as_completed(self, fn: Callable[[dict], Any],
                     tasks: Sequence[dict]) -> Iterator[tuple[int, Any]]: ...

    def describe(self) -> str: ...


class _Base:
    """Shared behaviour: ``map`` in task order on top of ``as_completed``; context manager."""

    def map(self, fn: Callable[[dict], Any], tasks: Sequence[dict]) -> list:
        tasks = list(tasks)
        out: list = [None] * len(tasks)
        for index, result in self.as_completed(fn, tasks):
            out[index] = result
        return out

    def as_completed(self, fn, tasks) -> Iterator[tuple[int, Any]]:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover
        return type(self).__name__

    def close(self) -> None:
        """Release the workers (no-op by default)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialExecutor(_Base):
    """Runs the tasks one after the other in this process."""

    def as_completed(self, fn, tasks):
        for index, task in enumerate(tasks):
            yield index, fn(task)

    def describe(self) -> str:
        return "serial (in-process)"


_watching: int | None = None


def _exit_with(parent: int) -> None:
    """In a worker process: exit as soon as ``parent`` (the sweep) is gone.

    loky workers outlive a parent killed with SIGKILL and would go on computing tasks
    nobody will store; a daemon thread polls the parent pid and ends the worker instead.
    Runs as the workers' initializer (a worker still starting when the sweep is killed
    must not wait for a task, loky's idle timeout is 300 s) and again before each task; a
    worker whose parent is already gone exits at once (loky's default start method makes
    the workers children of the sweep, so another parent means the sweep died).
    """
    global _watching
    if _watching == parent or os.getpid() == parent:
        return
    if os.getppid() != parent:  # orphaned before it got here: the sweep was killed
        os._exit(1)
    _watching = parent

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="descentlab-parent-watch", daemon=True).start()


def _indexed(fn: Callable[[dict], Any], index: int, task: dict,
             parent: int | None = None) -> tuple[int, Any]:
    if parent is not None:
        _exit_with(parent)
    return index, fn(task)


class JoblibExecutor(_Base):
    """Runs the tasks in joblib's loky worker processes on this machine.

    ``n_jobs`` workers (default: all cores). Tasks are dispatched one at a time
    (``batch_size=1``) and returned as they finish, so each result can be stored at once.
    """

    def __init__(self, n_jobs: int | None = None):
        self.n_jobs = _check_jobs(n_jobs)

    def as_completed(self, fn, tasks):
        from joblib import Parallel, delayed

        tasks = list(tasks)
        if not tasks:
            return
        parent = os.getpid()
        parallel = Parallel(n_jobs=min(self.n_jobs, len(tasks)), backend="loky",
                            batch_size=1, pre_dispatch="2*n_jobs",
                            return_as="generator_unordered",
                            initializer=_exit_with, initargs=(parent,))
        yield from parallel(delayed(_indexed)(fn, i, task, parent)
                            for i, task in enumerate(tasks))

    def describe(self) -> str:
        return f"joblib/loky, {self.n_jobs} worker process{'es' if self.n_jobs > 1 else ''}"


class DaskExecutor(_Base):
    """Runs the tasks on a Dask distributed cluster.

    With ``address`` (``tcp://HOST:PORT`` of a running scheduler) it connects to that
    cluster; without, it starts a ``LocalCluster`` of ``n_workers`` worker processes
    (default: all cores) with one thread each, and shuts it down on ``close()``. The workers
    must be able to import descentlab (and the module defining the experiment).
    """

    #: seconds to wait for the scheduler at ``address``
    connect_timeout: float = 10.0

    def __init__(self, address: str | None = None, n_workers: int | None = None):
        if address is not None:
            from distributed.comm import get_address_host_port

            try:
                get_address_host_port(address)
            except ValueError as exc:
                raise DescentlabError(f"address: expected tcp://HOST:PORT of a Dask "
                                      f"scheduler, got {address!r} ({exc})") from None
        self.address = address
        self.n_workers = _check_jobs(n_workers)
        self._client = None
        self._cluster = None

    @property
    def client(self):
        """The ``distributed.Client`` (connects or starts the cluster on first use)."""
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError as exc:  # pragma: no cover - distributed is a dependency
                raise DescentlabError("backend: 'dask' needs the 'distributed' package "
                                      "(pip install 'dask[distributed]')") from exc
            if self.address is None:
                self._cluster = LocalCluster(n_workers=self.n_workers, threads_per_worker=1,
                                             processes=True, dashboard_address=None)
                self._client = Client(self._cluster)
            else:
                try:
                    self._client = Client(self.address, timeout=self.connect_timeout)
                except (OSError, TimeoutError) as exc:
                    raise DescentlabError(f"address: cannot connect to a Dask scheduler at "
                                          f"{self.address!r} ({exc})") from exc
                except Exception as exc:  # a server that does not speak Dask's protocol
                    raise DescentlabError(f"address: no Dask scheduler answers at "
                                          f"{self.address!r} ({type(exc).__name__}: "
                                          f"{str(exc)[:120]})") from exc
        return self._client

    def as_completed(self, fn, tasks):
        from distributed import as_completed

        tasks = list(tasks)
        if not tasks:
            return
        client = self.client
        futures = client.map(fn, tasks, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                result = future.result()
                future.release()
                yield index[future.key], result
        finally:
            client.cancel([f for f in futures if not f.done()])

    def describe(self) -> str:
        if self.address is not None:
            return f"dask, scheduler {self.address}"
        return f"dask, LocalCluster of {self.n_workers} worker processes"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _check_jobs(n: int | None) -> int:
    if n is None:
        return os.cpu_count() or 1
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise DescentlabError(f"jobs: expected a positive number of workers, got {n!r}")
    return n


def make_executor(backend: str = "local", jobs: int | None = None,
                  address: str | None = None) -> SerialExecutor | JoblibExecutor | DaskExecutor:
    """The executor of a backend name: local/joblib (default), serial or dask.

    ``jobs`` is the number of worker processes (joblib, and a Dask LocalCluster);
    ``address`` the scheduler of an existing Dask cluster (dask only).
    """
    backend = (backend or "local").lower()
    if backend not in BACKENDS:
        raise DescentlabError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if address is not None and backend != "dask":
        raise DescentlabError(f"address: applies to the dask backend only (got backend "
                              f"{backend!r}); use --backend dask --address tcp://HOST:PORT")
    if backend == "serial":
        _check_jobs(jobs)
        return SerialExecutor()
    if backend == "dask":
        return DaskExecutor(address=address, n_workers=jobs)
    return JoblibExecutor(n_jobs=jobs)


__all__ = ["BACKENDS", "DaskExecutor", "Executor", "JoblibExecutor", "SerialExecutor",
           "make_executor"]
