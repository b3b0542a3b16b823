"""The output directory of ``reproduce``: who is in it, and can we write there.

An OUT holds one experiment: OUT/checks.json names it (written last), and every task file
OUT/tasks/<key>.parquet names its experiment in its metadata (so a sweep killed before
checks.json is still recognised). Before any task runs, ``reproduce`` checks

* that OUT holds no other experiment (results, checks and report would silently show only
  the second one, next to stale figures of the first); with ``force`` the other
  experiment's files are deleted first (its results.parquet, checks.json, figures and task
  files; nothing else), and an OUT that holds the subdirectories of ``reproduce all`` is
  refused whatever ``force`` says;
* that OUT and OUT/tasks can be created and written (a temporary file is written and
  removed in each), so that no finished task is lost to a permission error.

Errors are :class:`DescentlabError` messages starting with the argument's name (``out``
for the API, ``--out`` for the command line).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import DescentlabError
from ..store import CHECKS_FILE, RESULTS_FILE
from ..sweep import META_KEY, TASKS_DIR

FIGURE_SUFFIXES = (".png", ".gif")


def _checks(directory: Path) -> dict | None:
    """OUT/checks.json as a dict, or None when missing or unreadable."""
    try:
        checks = json.loads((directory / CHECKS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return checks if isinstance(checks, dict) else None


def _task_experiment(path: Path) -> str | None:
    """The experiment named in a task file's metadata (None if unreadable)."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
        meta = json.loads(raw) if raw is not None else None
    except (OSError, ValueError, pa.ArrowException):
        return None
    name = meta.get("experiment") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def _task_files(directory: Path) -> list[Path]:
    tasks = directory / TASKS_DIR
    return sorted(tasks.glob("*.parquet")) if tasks.is_dir() else []


def experiments_in(directory: str | os.PathLike) -> set[str]:
    """Names of the experiments whose files are in ``directory`` (checks.json, task files)."""
    directory = Path(directory)
    if not directory.is_dir():
        return set()
    names = set()
    checks = _checks(directory)
    if checks is not None and isinstance(checks.get("experiment"), str):
        names.add(checks["experiment"])
    names.update(n for n in map(_task_experiment, _task_files(directory)) if n is not None)
    return names


def _subdirectory_experiments(directory: Path) -> list[str]:
    """Subdirectories holding an experiment (the layout of ``reproduce all``)."""
    if not directory.is_dir():
        return []
    return sorted(d.parent.name for d in directory.glob(f"*/{CHECKS_FILE}")) + sorted(
        d.parent.name for d in directory.glob(f"*/{TASKS_DIR}")
        if not (d.parent / CHECKS_FILE).exists())


def check_path(out, *, arg: str = "out") -> Path:
    """``out`` as a Path; an empty string (which would mean the current directory) is refused."""
    if isinstance(out, str) and not out.strip():
        raise DescentlabError(f"{arg}: expected a directory path, got {out!r}")
    if not isinstance(out, (str, os.PathLike)):
        raise DescentlabError(f"{arg}: expected a directory path, got {type(out).__name__}")
    return Path(out)


def check_out(out: str | os.PathLike, name: str, *, force: bool = False, arg: str = "out",
              layout: str = "one") -> None:
    """Refuse an OUT that holds another experiment (unless ``force``) or is not a directory.

    ``layout="one"``: OUT receives experiment ``name``; ``layout="all"``: OUT receives
    one subdirectory per experiment (``name`` is then unused). No side effect.
    """
    out = check_path(out, arg=arg)
    force_hint = "--force" if arg.startswith("--") else "force=True"
    if out.exists() and not out.is_dir():
        raise DescentlabError(f"{arg}: expected a directory, got the file {str(out)!r}")
    if layout == "all":
        held = experiments_in(out)
        if held:
            raise DescentlabError(
                f"{arg}: {str(out)!r} holds the results of {', '.join(sorted(held))}, and "
                f"'all' writes one subdirectory per experiment there; choose another "
                f"directory")
        return
    nested = _subdirectory_experiments(out)
    if nested:
        raise DescentlabError(
            f"{arg}: {str(out)!r} holds one subdirectory per experiment ({', '.join(nested)}:"
            f" the layout of 'reproduce all'); write {name} to {str(out / name)!r} or another "
            f"directory")
    others = experiments_in(out) - {name}
    if others and not force:
        raise DescentlabError(
            f"{arg}: {str(out)!r} holds the results of {', '.join(sorted(others))}; write "
            f"{name} to another directory, or add {force_hint} to delete them and replace them "
            f"with {name}")


def remove_other_experiments(out: str | os.PathLike, name: str) -> list[Path]:
    """Delete the files of experiments other than ``name`` in OUT; returns what was deleted.

    Only files that descentlab writes are touched: checks.json and results.parquet when
    checks.json names another experiment (or is missing while other task files exist), the
    figures it lists and the files named ``<other>-*.png`` / ``.gif``, and the task files
    whose metadata names another experiment; a study's summary tables and study file (listed
    under "files" in its checks.json) too.
    """
    out = Path(out)
    others = experiments_in(out) - {name}
    if not others:
        return []
    removed = []
    checks = _checks(out)
    listed = [Path(f).name for key in ("figures", "files")
              for f in (checks or {}).get(key, []) if isinstance(f, str)]
    if checks is None or checks.get("experiment") != name:
        for file_name in (CHECKS_FILE, RESULTS_FILE, *listed):
            removed += _unlink(out / file_name)
    for other in others:
        for suffix in FIGURE_SUFFIXES:
            for path in out.glob(f"{other}-*{suffix}"):
                if not path.name.startswith(f"{name}-"):
                    removed += _unlink(path)
    for path in _task_files(out):
        if _task_experiment(path) in others:
            removed += _unlink(path)
    return removed


def _unlink(path: Path) -> list[Path]:
    if path.suffix not in (*FIGURE_SUFFIXES, ".json", ".parquet", ".csv", ".toml") \
            or not path.is_file():
        return []
    path.unlink()
    return [path]


def make_writable(out: str | os.PathLike, *, arg: str = "out") -> Path:
    """Create OUT and OUT/tasks, write (then remove) a temporary file in each, and check
    that OUT/checks.json and OUT/results.parquet, if present, are writable files."""
    out = Path(out)
    for directory in (out, out / TASKS_DIR):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".descentlab-write-test-"):
                pass
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            if isinstance(exc, (FileExistsError, NotADirectoryError)):
                reason = "a file is in the way: expected a directory"
            raise DescentlabError(f"{arg}: cannot write into {str(directory)!r} ({reason}); "
                                  f"choose a writable directory") from None
    for path in (out / CHECKS_FILE, out / RESULTS_FILE):  # replaced at the end of the run
        if path.exists() and (not path.is_file() or not os.access(path, os.W_OK)):
            raise DescentlabError(f"{arg}: {str(path)!r} exists and cannot be replaced "
                                  f"(expected a writable file); remove it or choose another "
                                  f"directory")
    return out


def prepare_out(out: str | os.PathLike, name: str, *, force: bool = False,
                arg: str = "out") -> list[Path]:
    """:func:`check_out`, then (``force``) delete another experiment's files, then
    :func:`make_writable`; returns the deleted files."""
    check_out(out, name, force=force, arg=arg)
    removed = remove_other_experiments(out, name) if force else []
    make_writable(out, arg=arg)
    return removed


__all__ = ["check_out", "check_path", "experiments_in", "make_writable",
           "prepare_out", "remove_other_experiments"]
