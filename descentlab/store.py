"""The results store: ``OUT/results.parquet`` and DuckDB queries over output directories.

``write_results`` consolidates the tasks of a sweep into one Parquet file: the result
columns returned by the experiment's ``run_task`` (deterministic, bit-identical whichever
executor computed them), followed by provenance columns whose names start with ``prov_``:

=========================  ================================================================
prov_experiment            experiment name
prov_experiment_version    the experiment's code version (part of the task key)
prov_task_key              sha256 task key (the file OUT/tasks/<key>.parquet)
prov_task                  the task's parameters, seed included (canonical JSON)
prov_descentlab            descentlab version that computed the task
prov_git_commit            git commit of the source tree ("-dirty" if modified), or null
prov_python                Python version
prov_libraries             versions of the numerical libraries (JSON)
prov_machine               host, architecture and OS of the worker
prov_finished              UTC time the task finished (ISO 8601)
prov_wall_s                wall time of the task in seconds
=========================  ================================================================

``query(paths, sql)`` runs one SQL query (DuckDB) over the results of one or several output
directories, loaded into a table named ``results`` (columns matched by name across
experiments, missing ones NULL, plus ``prov_source``: the results file of each row).
A directory may hold ``results.parquet`` itself or experiment subdirectories that do (as
written by ``descentlab reproduce all``); a directory given twice (or with one of its files)
is read once.

A query cannot change anything on disk: once the table is loaded, DuckDB's file system
access is disabled and its configuration locked, and only a single ``SELECT`` (``WITH``,
``FROM``, ``VALUES``, ``DESCRIBE``, ``SUMMARIZE``, ...) is accepted. The ``--csv`` /
``--parquet`` exports are written by descentlab (pandas / pyarrow, temporary file then
``os.replace``), never onto the results, checks or task files they were computed from.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import DescentlabError
from .sweep import SweepResult, canonical_json

RESULTS_FILE = "results.parquet"
CHECKS_FILE = "checks.json"
TASKS_DIR = "tasks"
VIEW = "results"  # the name of the table the queries read
PROV_PREFIX = "prov_"


def printable(value) -> str:
    """``str(value)`` with the undecodable bytes of a file name (surrogate escapes, as in a
    non-UTF-8 path) written as ``\\xNN``, so that it can be stored, printed and encoded."""
    return str(value).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _prov_columns(sweep: SweepResult) -> Iterable[pa.Table]:
    for r in sweep.results:
        p, n = r.provenance, r.table.num_rows
        values = {
            "prov_experiment": sweep.experiment,
            "prov_experiment_version": sweep.version,
            "prov_task_key": r.key,
            "prov_task": canonical_json(r.task),
            "prov_descentlab": p.get("descentlab"),
            "prov_git_commit": p.get("git_commit"),
            "prov_python": p.get("python"),
            "prov_libraries": json.dumps(p.get("libraries", {}), sort_keys=True),
            "prov_machine": p.get("machine"),
            "prov_finished": p.get("finished"),
        }
        columns = {k: pa.array([v] * n, type=pa.string()) for k, v in values.items()}
        columns["prov_wall_s"] = pa.array([p.get("wall_s")] * n, type=pa.float64())
        yield pa.table(columns)


def results_table(sweep: SweepResult) -> pa.Table:
    """The result columns of every task with the ``prov_`` columns appended."""
    parts = []
    for r, prov in zip(sweep.results, _prov_columns(sweep), strict=True):
        table = r.table
        for name in prov.column_names:
            table = table.append_column(name, prov[name])
        parts.append(table)
    if not parts:
        return pa.table({})
    return pa.concat_tables(parts, promote_options="permissive")


def write_results(sweep: SweepResult, path: str | os.PathLike) -> Path:
    """Write :func:`results_table` to ``path`` (temporary file, then ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(results_table(sweep), tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def result_columns(df: pd.DataFrame) -> list[str]:
    """The deterministic columns of a results frame (all but ``prov_*``)."""
    return [c for c in df.columns if not str(c).startswith(PROV_PREFIX)]


def _unique(paths: Iterable[Path]) -> list[Path]:
    """``paths`` resolved (symbolic links, ``..``), each once, in their first order."""
    seen: dict[Path, None] = {}
    for p in paths:
        seen.setdefault(p.resolve(), None)
    return list(seen)


def out_files(p: Path, name: str) -> list[Path]:
    """The files ``name`` (results.parquet, checks.json) of one OUT argument: OUT/name, else
    OUT/*/name (the layout of ``descentlab reproduce all``); clear errors otherwise."""
    if not p.exists():
        raise DescentlabError(f"OUT: {str(p)!r} does not exist")
    if not p.is_dir():
        raise DescentlabError(f"OUT: expected an output directory, got the file {str(p)!r}")
    own = p / name
    if own.is_file():
        return [own]
    if own.exists():
        raise DescentlabError(f"OUT: expected {str(own)!r} to be a file, got a directory or a "
                              f"special file; rerun `descentlab reproduce ... --out {p}`")
    sub = sorted(f for f in p.glob(f"*/{name}") if f.is_file())
    if not sub:
        raise DescentlabError(f"OUT: no {name} in {str(p)!r} or its subdirectories; "
                              f"run `descentlab reproduce ... --out {p}` first")
    return sub


def _results_of(p: Path) -> list[Path]:
    """The results files of one OUT argument (see :func:`find_results`)."""
    if p.is_file():
        if p.suffix != ".parquet":
            raise DescentlabError(f"OUT: expected an output directory or a .parquet file, got "
                                  f"the file {str(p)!r}")
        return [p]
    return out_files(p, RESULTS_FILE)


def find_results(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The results files of output directories (OUT/results.parquet or OUT/*/results.parquet;
    a path to a Parquet file is taken as is), resolved, each file once."""
    if not paths:
        raise DescentlabError("OUT: expected at least one output directory")
    return _unique(f for raw in paths for f in _results_of(Path(raw)))


def _read_results(f: Path) -> pa.Table | None:
    """The rows of one results file with its ``prov_source`` column, or None when it holds
    no column (a sweep without tasks). Read through a file object: no glob, no partitioning
    is derived from the path (a directory named ``g*`` or ``k=1`` is just a name)."""
    try:
        with open(f, "rb") as fh:
            table = pq.ParquetFile(fh).read()
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise DescentlabError(f"OUT: {str(f)!r} is not a readable Parquet file ({exc}); "
                              f"rerun `descentlab reproduce` to rewrite it") from None
    if not table.num_columns:
        return None
    if "prov_source" in table.column_names:
        table = table.drop_columns(["prov_source"])
    return table.append_column("prov_source",
                               pa.array([printable(f)] * table.num_rows, type=pa.string()))


# after loading: no file, no extension, no Python variable (replacement scan) can be read,
# and no setting changed back
_LOCKDOWN = ("python_enable_replacements = false", "autoinstall_known_extensions = false",
             "autoload_known_extensions = false", "enable_external_access = false",
             "lock_configuration = true")


def connect(paths: Sequence[str | os.PathLike]):
    """A DuckDB connection (in memory) with the table ``results`` loaded from the results
    files (columns matched by name, DuckDB's UNION ALL BY NAME), then cut off from the file
    system (``enable_external_access = false``) with its configuration locked: a query can
    read the table, and no file."""
    import duckdb

    tables = [t for t in map(_read_results, find_results(paths)) if t is not None]
    con = duckdb.connect()
    try:
        if tables:
            names = [f"results_file_{i}" for i in range(len(tables))]
            for name, table in zip(names, tables, strict=True):
                con.register(name, table)
            union = " UNION ALL BY NAME ".join(f"SELECT * FROM {n}" for n in names)
            con.execute(f"CREATE TABLE {VIEW} AS {union}")
            for name in names:
                con.unregister(name)
        else:  # only sweeps without tasks: an empty table
            con.execute(f"CREATE TABLE {VIEW} (prov_experiment VARCHAR, prov_source VARCHAR)")
        for setting in _LOCKDOWN:
            con.execute(f"SET {setting}")
    except duckdb.Error as exc:
        con.close()
        raise DescentlabError(f"OUT: cannot combine the results files ({exc})") from None
    except BaseException:
        con.close()
        raise
    return con


def default_sql(con) -> str:
    """SELECT of the result columns (no provenance), with the experiment name first."""
    names = [row[0] for row in con.execute(f"DESCRIBE {VIEW}").fetchall()]
    shown = (["prov_experiment"] if "prov_experiment" in names else []) + \
        [n for n in names if not n.startswith(PROV_PREFIX)]
    cols = ", ".join('"' + n.replace('"', '""') + '"' for n in shown) or "*"
    return f"SELECT {cols} FROM {VIEW}"


def check_sql(sql: str) -> str:
    """``sql`` after checking that it is one read-only query (a DuckDB SELECT statement).

    COPY, EXPORT, ATTACH, INSTALL, LOAD, SET, PRAGMA, CALL, CREATE, DROP, INSERT, EXPLAIN,
    several statements, ... are refused: exports go through --csv / --parquet.
    """
    import duckdb

    if not isinstance(sql, str) or not sql.strip():
        raise DescentlabError(f"--sql: expected a SELECT query over the table '{VIEW}', "
                              f"got {sql!r}")
    with duckdb.connect() as con:
        try:
            statements = con.extract_statements(sql)
        except duckdb.Error as exc:
            raise DescentlabError(f"--sql: {exc}") from None
    kinds = [str(st.type).rsplit(".", 1)[-1] for st in statements]
    if kinds != ["SELECT"]:
        got = (f"{len(kinds)} statements ({', '.join(kinds)})" if len(kinds) != 1
               else f"a statement of type {kinds[0]}")
        raise DescentlabError(f"--sql: expected one read-only SELECT query over the table "
                              f"'{VIEW}' (SELECT, WITH, FROM, VALUES, DESCRIBE, SUMMARIZE), got "
                              f"{got}; to write the rows to a file use --csv or --parquet")
    return sql


def protected_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """(files, directories) that ``reproduce`` wrote into ``directory``, which no export or
    report may overwrite: results.parquet, checks.json and everything under tasks/."""
    return [directory / RESULTS_FILE, directory / CHECKS_FILE], [directory / TASKS_DIR]


def _cannot_write(option: str, target: Path, exc: OSError) -> DescentlabError:
    return DescentlabError(f"{option}: cannot write {str(target)!r} ({exc.strerror or exc})")


def _refuse_inputs(option: str, target: Path, files: Iterable[Path],
                   directories: Iterable[Path]) -> None:
    resolved = target.resolve()
    for f in files:
        f_res = f.resolve()
        same = resolved == f_res
        with contextlib.suppress(OSError):
            same = same or os.path.samefile(target, f)
        if same:
            raise DescentlabError(f"{option}: expected a file other than the results it is "
                                  f"computed from, got {str(target)!r} (that is "
                                  f"{str(f_res)!r}); choose another path")
    for d in directories:
        if resolved.is_relative_to(d.resolve()):
            raise DescentlabError(f"{option}: expected a path outside {str(d)!r} (task files "
                                  f"of a sweep), got {str(target)!r}; choose another path")
    if target.is_dir():
        raise DescentlabError(f"{option}: expected a file path, got the directory "
                              f"{str(target)!r}")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise DescentlabError(f"{option}: cannot write {str(target)!r}: {str(parent)!r} "
                                      f"is a file, not a directory")
            break


def check_output(option: str, target: str | os.PathLike, files: Iterable[Path],
                 directories: Iterable[Path] = ()) -> Path:
    """``target`` as a Path after checking it overwrites none of ``files``, lies in none of
    ``directories`` (compared after resolving symbolic links, and by inode for hard links)
    and is not a directory or below a file. Errors name ``option`` (``--csv``, ``-o``)."""
    target = Path(target)
    try:
        _refuse_inputs(option, target, files, directories)
    except OSError as exc:  # e.g. a file name too long
        raise _cannot_write(option, target, exc) from None
    return target


def write_output(option: str, target: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(path)`` to create ``target``: through a temporary file and ``os.replace``
    for a regular file, directly for a device or a pipe (``/dev/stdout``). Any OSError
    becomes a DescentlabError naming ``option``."""
    try:
        if target.exists() and not target.is_file():
            write(target)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name[:200]}.{os.getpid()}.tmp")  # <= 255 bytes
        try:
            write(tmp)
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    except OSError as exc:
        raise _cannot_write(option, target, exc) from None
    return target


def query(paths: Sequence[str | os.PathLike], sql: str | None = None, *,
          csv: str | os.PathLike | None = None,
          parquet: str | os.PathLike | None = None) -> pd.DataFrame | Path:
    """Run ``sql`` (default: every result column) over the table ``results`` of ``paths``.

    ``sql`` must be one SELECT query; it can read the table ``results`` and no file.
    Returns the DataFrame, or writes it to ``csv`` / ``parquet`` and returns that path
    (which must not be one of the results, checks or task files read).
    """
    import duckdb

    if csv is not None and parquet is not None:
        raise DescentlabError("output: give --csv or --parquet, not both")
    if sql is not None:
        check_sql(sql)
    files = find_results(paths)
    option, target = ("--csv", csv) if csv is not None else ("--parquet", parquet)
    if target is not None:
        protected = [protected_files(f.parent) for f in files]
        target = check_output(option, target, [*files, *(p for fs, _ in protected for p in fs)],
                              [d for _, ds in protected for d in ds])
    con = connect(files)
    try:
        try:
            relation = con.sql(sql or default_sql(con))
            if relation is None:  # pragma: no cover - check_sql admits only SELECT
                raise DescentlabError(f"--sql: expected a query that returns rows, got {sql!r}")
            rows = relation.df() if parquet is None else relation.to_arrow_table()
        except duckdb.PermissionException as exc:
            raise DescentlabError(f"--sql: a query reads only the table '{VIEW}', not files "
                                  f"({exc})") from None
        except duckdb.Error as exc:
            raise DescentlabError(f"--sql: {exc}") from None
    finally:
        con.close()
    if target is None:
        return rows
    if csv is not None:
        return write_output(option, target, lambda p: rows.to_csv(p, index=False))
    return write_output(option, target, lambda p: pq.write_table(rows, p))


__all__ = ["CHECKS_FILE", "RESULTS_FILE", "VIEW", "check_output", "check_sql", "connect",
           "find_results", "out_files", "printable", "protected_files", "query",
           "result_columns", "results_table", "write_output", "write_results"]
