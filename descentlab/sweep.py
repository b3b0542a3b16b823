"""Sweeps: run an experiment's tasks on an executor, one result file per task, resumable.

A task is a JSON-able dict that fully determines its computation (seed included). Its key
is ``sha256(canonical JSON of {"experiment": name, "version": code version, "task": task})``
(keys sorted, no whitespace), so a task is identified by what it computes and a change of
the experiment's ``version`` invalidates its stored results.

Layout under the output directory ``OUT``::

    OUT/tasks/<key>.parquet     one per finished task: the deterministic result columns
                                returned by ``run_task``; the task, the key and the
                                provenance (versions, git commit, machine, wall time) in
                                the Parquet schema metadata (b"descentlab.task")

Each file is written by the parent process the moment its task finishes (to a temporary
name in the same directory, fsync'ed, then ``os.replace``), so a sweep killed even with
SIGKILL loses only the tasks in flight. Re-running the same sweep loads the finished tasks
and computes only the others (``force=True`` recomputes everything). A file that cannot be
read, fails its page checksums or does not carry its own key is reported with a
:class:`TaskFileWarning` and recomputed.

Each task runs with the BLAS thread pools limited to one thread (threadpoolctl), so that
its floating-point results are bit-identical whichever executor or machine runs it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import hashlib
import json
import math
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import DescentlabError
from .executors import Executor, SerialExecutor
from .provenance import environment

TASKS_DIR = "tasks"
META_KEY = b"descentlab.task"
TMP_SUFFIX = ".tmp"
TASK_BLAS_THREADS = 1


class TaskFileWarning(UserWarning):
    """A stored task result was unreadable or inconsistent and will be recomputed."""


# ----------------------------------------------------------------------------- keys
def _jsonable(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise DescentlabError(f"task: values must be JSON-able (numbers, strings, lists, dicts), "
                          f"got {type(obj).__name__}: {obj!r}")


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace (tuples become lists, numpy scalars numbers)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=True, default=_jsonable)


def task_key(experiment: str, version: str, task: dict) -> str:
    """sha256 hex digest of the canonical JSON of {experiment, version, task}."""
    if not isinstance(task, dict):
        raise DescentlabError(f"task: expected a dict of parameters, got {type(task).__name__}")
    payload = canonical_json({"experiment": experiment, "version": str(version), "task": task})
    return hashlib.sha256(payload.encode()).hexdigest()


# ------------------------------------------------------------------- running one task
@dataclass
class TaskOutput:
    """What a worker sends back: the task's table and where/how long it ran."""

    frame: pd.DataFrame
    provenance: dict


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def execute_task(fn: Callable[[dict], pd.DataFrame], task: dict) -> TaskOutput:
    """Run ``fn(task)`` with single-threaded BLAS; time it and record the provenance."""
    from threadpoolctl import threadpool_limits

    started = _now()
    t0 = time.perf_counter()
    try:
        with threadpool_limits(limits=TASK_BLAS_THREADS):
            frame = fn(task)
    except Exception as exc:
        exc.add_note(f"descentlab: while running task {canonical_json(task)}")
        raise
    wall = time.perf_counter() - t0
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"run_task must return a pandas DataFrame, got {type(frame).__name__} "
                        f"for task {canonical_json(task)}")
    prov = dict(environment())
    prov.update(worker=platform.node(), pid=os.getpid(), started=started, finished=_now(),
                wall_s=wall)
    return TaskOutput(frame, prov)


# ---------------------------------------------------------------------- task files
@dataclass
class TaskResult:
    """One task of a sweep: its key, parameters, result table and provenance."""

    key: str
    task: dict
    table: pa.Table
    provenance: dict
    cached: bool = False


class CorruptTaskFile(Exception):
    """Internal: a task file that must be recomputed (the message says why)."""


class TaskStore:
    """The per-task result files of one output directory (``OUT/tasks/<key>.parquet``)."""

    def __init__(self, out: str | os.PathLike):
        self.dir = Path(out) / TASKS_DIR

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.parquet"

    def load(self, key: str) -> tuple[pa.Table, dict]:
        """The table and metadata stored for ``key``; raises CorruptTaskFile if unusable."""
        path = self.path(key)
        try:
            table = pq.read_table(path, page_checksum_verification=True)
        except (OSError, pa.ArrowException) as exc:
            raise CorruptTaskFile(f"unreadable Parquet ({exc})") from exc
        metadata = dict(table.schema.metadata or {})
        raw = metadata.pop(META_KEY, None)
        try:
            meta = json.loads(raw) if raw is not None else None
        except ValueError as exc:
            raise CorruptTaskFile(f"invalid metadata ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("key") != key:
            raise CorruptTaskFile("metadata missing or for another task")
        if meta.get("rows") != table.num_rows:
            raise CorruptTaskFile(f"{table.num_rows} rows, metadata says {meta.get('rows')}")
        return table.replace_schema_metadata(metadata), meta

    def save(self, key: str, table: pa.Table, meta: dict) -> Path:
        """Write atomically: temporary file in the same directory, fsync, ``os.replace``."""
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        metadata = dict(table.schema.metadata or {})
        metadata[META_KEY] = canonical_json({**meta, "key": key, "rows": table.num_rows}).encode()
        tmp = self.dir / f".{key}.{os.getpid()}{TMP_SUFFIX}"
        try:
            with open(tmp, "wb") as fh:
                pq.write_table(table.replace_schema_metadata(metadata), fh,
                               write_page_checksum=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return path

    def discard(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def clean_temporaries(self) -> int:
        """Remove temporary files left by killed sweeps (those of live processes are kept)."""
        removed = 0
        if not self.dir.is_dir():
            return 0
        for tmp in self.dir.glob(f".*{TMP_SUFFIX}"):
            try:
                pid = int(tmp.name[:-len(TMP_SUFFIX)].rsplit(".", 1)[1])
            except (IndexError, ValueError):
                pid = None
            if pid is not None and pid != os.getpid() and _alive(pid):
                continue
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed += 1
        return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """The Arrow table of a task's DataFrame (no index; result columns must not be prov_*)."""
    reserved = [c for c in frame.columns if str(c).startswith("prov_")]
    if reserved:
        raise DescentlabError(f"run_task: column names starting with 'prov_' are reserved for "
                              f"provenance, got {reserved}")
    return pa.Table.from_pandas(frame, preserve_index=False)


# ------------------------------------------------------------------------ progress
class _Progress:
    """Silent progress (the interface)."""

    def start(self, total: int, cached: int, pending: int, executor: str) -> None: ...

    def advance(self) -> None: ...

    def close(self, summary: str) -> None: ...


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    return str(_dt.timedelta(seconds=round(seconds)))


class LogProgress(_Progress):
    """Plain log lines: a start line, lines as the sweep advances (at most every tenth of
    the tasks or every ``interval`` seconds; none with ``verbose=False``), a final line."""

    def __init__(self, label: str, stream: TextIO | None = None, verbose: bool = True,
                 interval: float = 10.0):
        self.label, self.stream, self.verbose, self.interval = label, stream, verbose, interval

    def _print(self, text: str) -> None:
        print(f"[{self.label}] {text}", file=self.stream or sys.stderr, flush=True)

    def start(self, total, cached, pending, executor):
        self.total, self.done, self.cached = total, cached, cached
        self.t0 = self.last = time.perf_counter()
        self.last_decile = -1
        self._print(f"{total} tasks: {cached} finished already, {pending} to run on {executor}")

    def advance(self):
        self.done += 1
        if not self.verbose:
            return
        now = time.perf_counter()
        decile = 10 * self.done // max(self.total, 1)
        if decile > self.last_decile or now - self.last >= self.interval:
            self.last, self.last_decile = now, decile
            elapsed = now - self.t0
            computed = self.done - self.cached
            remaining = self.total - self.done
            eta = elapsed / computed * remaining if computed else float("nan")
            self._print(f"{self.done}/{self.total} tasks done, elapsed {_hms(elapsed)}, "
                        f"ETA {_hms(eta)}")

    def close(self, summary):
        self._print(summary)


class BarProgress(_Progress):
    """A rich progress bar on stderr: tasks done / total, elapsed, ETA."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None

    def start(self, total, cached, pending, executor):
        import rich.progress as rp
        from rich.console import Console

        self.console = Console(stderr=True)
        self.console.print(f"[bold]{self.label}[/]: {total} tasks, {cached} finished already, "
                           f"{pending} to run on {executor}", highlight=False)
        self.bar = rp.Progress(rp.TextColumn(self.label), rp.BarColumn(),
                               rp.MofNCompleteColumn(), rp.TextColumn("tasks"),
                               rp.TimeElapsedColumn(), rp.TextColumn("ETA"),
                               rp.TimeRemainingColumn(), console=self.console)
        self.bar.start()
        self.task_id = self.bar.add_task(self.label, total=total, completed=cached)

    def advance(self):
        self.bar.advance(self.task_id)

    def close(self, summary):
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
            self.console.print(f"[bold]{self.label}[/]: {summary}", highlight=False)


def make_progress(mode: str | None, label: str) -> _Progress:
    """``None``: silent; ``"log"``: plain lines; ``"quiet"``: start and end lines only;
    ``"auto"``: a progress bar when stderr is a terminal, plain lines otherwise."""
    if mode is None or mode == "none":
        return _Progress()
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() else "log"
    if mode == "bar":
        return BarProgress(label)
    if mode in ("log", "quiet"):
        return LogProgress(label, verbose=mode == "log")
    raise DescentlabError(f"progress: expected None, 'auto', 'bar', 'log' or 'quiet', "
                          f"got {mode!r}")


# --------------------------------------------------------------------------- sweep
@dataclass
class SweepResult:
    """The tasks of a sweep in grid order (duplicates of a task removed) and counts."""

    experiment: str
    version: str
    results: list[TaskResult]
    computed: int
    cached: int
    corrupt: int
    wall_s: float
    executor: str
    out: Path | None = None
    keys: list[str] = field(default_factory=list)

    def table(self) -> pa.Table:
        """All result columns, the tasks concatenated in grid order."""
        if not self.results:
            return pa.table({})
        return pa.concat_tables([r.table for r in self.results], promote_options="permissive")

    def frame(self) -> pd.DataFrame:
        """:meth:`table` as a DataFrame (what ``check`` and ``plot`` receive)."""
        return self.table().to_pandas()

    def summary(self) -> dict:
        return {"tasks": len(self.results), "computed": self.computed, "cached": self.cached,
                "corrupt_recomputed": self.corrupt, "executor": self.executor,
                "wall_s": self.wall_s,
                "task_wall_s": sum(r.provenance.get("wall_s", 0.0) for r in self.results)}


def run_sweep(experiment, tasks: Sequence[dict], out: str | os.PathLike | None = None,
              executor: Executor | None = None, *, force: bool = False,
              progress: str | None = None) -> SweepResult:
    """Run ``experiment.run_task`` over ``tasks`` on ``executor``, storing each result.

    ``experiment`` needs ``name``, ``version`` and ``run_task``. With ``out``, finished
    tasks are read from ``OUT/tasks`` instead of recomputed (unless ``force``) and every
    new result is written there as soon as it arrives. Returns the results in grid order.
    """
    t0 = time.perf_counter()
    executor = executor or SerialExecutor()
    name, version = experiment.name, str(experiment.version)
    grid: dict[str, dict] = {}
    for task in tasks:
        grid.setdefault(task_key(name, version, task), task)
    keys = list(grid)
    store = TaskStore(out) if out is not None else None
    done: dict[str, TaskResult] = {}
    corrupt = 0
    if store is not None:
        store.clean_temporaries()
        for key in keys:
            if force or not store.path(key).exists():
                continue
            try:
                table, meta = store.load(key)
            except CorruptTaskFile as exc:
                corrupt += 1
                warnings.warn(f"{name}: task file {store.path(key)} is corrupt ({exc}); "
                              f"recomputing it", TaskFileWarning, stacklevel=2)
                store.discard(key)
                continue
            done[key] = TaskResult(key, grid[key], table, meta.get("provenance", {}), True)
    cached = len(done)
    pending = [k for k in keys if k not in done]
    reporter = make_progress(progress, name)
    reporter.start(len(keys), cached, len(pending), executor.describe())
    fn = functools.partial(execute_task, experiment.run_task)
    try:
        for index, output in executor.as_completed(fn, [grid[k] for k in pending]):
            key = pending[index]
            table = frame_to_table(output.frame)
            if store is not None:
                store.save(key, table, {"experiment": name, "version": version,
                                        "task": grid[key], "provenance": output.provenance})
            done[key] = TaskResult(key, grid[key], table, output.provenance, False)
            reporter.advance()
    finally:
        computed = len(done) - cached
        reporter.close(f"{len(done)}/{len(keys)} tasks done ({computed} computed, {cached} "
                       f"finished before) in {_hms(time.perf_counter() - t0)}")
    return SweepResult(name, version, [done[k] for k in keys], computed, cached, corrupt,
                       time.perf_counter() - t0, executor.describe(),
                       Path(out) if out is not None else None, keys)


__all__ = ["META_KEY", "TASKS_DIR", "SweepResult", "TaskFileWarning", "TaskOutput",
           "TaskResult", "TaskStore", "canonical_json", "execute_task", "make_progress",
           "run_sweep", "task_key"]
