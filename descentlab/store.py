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

``query(paths, sql)`` runs SQL (DuckDB) over the results of one or several output
directories, exposed as a view named ``results`` (columns matched by name across
experiments, missing ones NULL, plus ``prov_source``: the results file of each row).
A directory may hold ``results.parquet`` itself or experiment subdirectories that do (as
written by ``descentlab reproduce all``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import DescentlabError
from .sweep import SweepResult, canonical_json

RESULTS_FILE = "results.parquet"
VIEW = "results"
PROV_PREFIX = "prov_"


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


def find_results(paths: Sequence[str | os.PathLike]) -> list[Path]:
    """The results files of output directories (OUT/results.parquet or OUT/*/results.parquet;
    a path to a Parquet file is taken as is)."""
    if not paths:
        raise DescentlabError("OUT: expected at least one output directory")
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_file() and p.suffix == ".parquet":
            found.append(p)
        elif (p / RESULTS_FILE).is_file():
            found.append(p / RESULTS_FILE)
        elif p.is_dir() and (sub := sorted(p.glob(f"*/{RESULTS_FILE}"))):
            found.extend(sub)
        elif not p.exists():
            raise DescentlabError(f"OUT: {str(p)!r} does not exist")
        else:
            raise DescentlabError(f"OUT: no {RESULTS_FILE} in {str(p)!r} or its "
                                  f"subdirectories; run `descentlab reproduce ... --out {p}` "
                                  f"first")
    return found


def connect(paths: Sequence[str | os.PathLike]):
    """A DuckDB connection (in memory) with the view ``results`` over the results files."""
    import duckdb

    files = [str(f.resolve()) for f in find_results(paths)]
    con = duckdb.connect()
    listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    con.execute(f"CREATE VIEW {VIEW} AS SELECT * EXCLUDE (filename), filename AS prov_source "
                f"FROM read_parquet([{listing}], union_by_name = true, filename = true)")
    return con


def default_sql(con) -> str:
    """SELECT of the result columns (no provenance), with the experiment name first."""
    names = [row[0] for row in con.execute(f"DESCRIBE {VIEW}").fetchall()]
    shown = ["prov_experiment"] + [n for n in names if not n.startswith(PROV_PREFIX)]
    cols = ", ".join('"' + n.replace('"', '""') + '"' for n in shown)
    return f"SELECT {cols} FROM {VIEW}"


def query(paths: Sequence[str | os.PathLike], sql: str | None = None, *,
          csv: str | os.PathLike | None = None,
          parquet: str | os.PathLike | None = None) -> pd.DataFrame | Path:
    """Run ``sql`` (default: every result column) over the view ``results`` of ``paths``.

    Returns the DataFrame, or writes it to ``csv`` / ``parquet`` and returns that path.
    """
    import duckdb

    if csv is not None and parquet is not None:
        raise DescentlabError("output: give --csv or --parquet, not both")
    con = connect(paths)
    try:
        try:
            relation = con.sql(sql or default_sql(con))
        except duckdb.Error as exc:
            raise DescentlabError(f"--sql: {exc}") from None
        if relation is None:
            raise DescentlabError(f"--sql: expected a query that returns rows, got {sql!r}")
        target = csv if csv is not None else parquet
        if target is None:
            return relation.df()
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if csv is not None:
                relation.write_csv(str(target), header=True)
            else:
                relation.write_parquet(str(target))
        except duckdb.Error as exc:
            raise DescentlabError(f"--sql: {exc}") from None
        return target
    finally:
        con.close()


__all__ = ["RESULTS_FILE", "VIEW", "connect", "find_results", "query", "result_columns",
           "results_table", "write_results"]
