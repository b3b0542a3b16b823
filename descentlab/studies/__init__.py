"""Studies: compare any methods (a user's own included) on any problems, in one call.

``study(spec_or_path, out=...)`` reads a study file (TOML, see ``spec``), checks it and
every cell of its grid (``grid``, ``execute.prepare``) before any work, computes F* once per
problem (cached on disk), runs every cell problem x method x hyperparameters x step x seed
as a task of the resumable sweep of ``reproduce`` (``descentlab.sweep``: OUT/tasks/<key>.parquet,
only missing cells recomputed after a crash, ``force`` recomputes), and writes into OUT:

* ``results.parquet``: one row per recorded point (study, problem, problem_label,
  problem_params (JSON), method, method_label, method_params (JSON), step_label, step (the
  resolved number), seed, iteration, oracle_calls, epochs, time_s, value, subopt,
  rel_subopt, grad_norm (gradient-mapping norm), dist_to_opt, stop_reason, no_progress) and
  the ``prov_*`` provenance columns; ``descentlab results OUT --sql`` queries it;
* ``summary.csv`` (the best step of each method per problem, cost to each target, the
  columns it wins) and ``steps.csv`` (every step), see ``summary``;
* ``study-<problem>.png``, see ``figures``;
* ``study.toml`` (the study file) and ``checks.json`` (kind "study": what ``descentlab
  report`` shows: figures, summary, the study file, problem constants, timings, provenance).

An OUT holds one study or one experiment: the sweep's name is ``study:<name>``, so
``reproduce`` refuses a study's OUT and a study refuses an experiment's (``force`` replaces).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import DescentlabError
from ..executors import Executor, make_executor
from ..experiments.outdir import check_out, check_path, prepare_out
from ..provenance import environment
from ..store import CHECKS_FILE, RESULTS_FILE, write_results
from ..sweep import SweepResult, run_sweep
from .execute import VERSION, Prepared, StudyRunner, prepare
from .figures import study_figures
from .grid import method_cells, problem_cells, tasks
from .spec import StudySpec, load, parse, to_toml
from .summary import summary_table

STUDY_FILE = "study.toml"
SUMMARY_FILE = "summary.csv"
STEPS_FILE = "steps.csv"
PREFIX = "study:"


@dataclass
class StudyResult:
    """What ``run_study`` returns."""

    spec: StudySpec
    results: pd.DataFrame
    summary: pd.DataFrame
    steps: pd.DataFrame
    prepared: Prepared
    sweep: SweepResult
    files: list[Path] = field(default_factory=list)
    timings: dict = field(default_factory=dict)


def _spec(spec_or_path) -> StudySpec:
    if isinstance(spec_or_path, StudySpec):
        return spec_or_path
    if isinstance(spec_or_path, dict):
        return parse(spec_or_path)
    if isinstance(spec_or_path, (str, os.PathLike)):
        return load(spec_or_path)
    raise DescentlabError(f"spec_or_path: expected a study file path, a dict or a StudySpec, "
                          f"got {type(spec_or_path).__name__}")


def run_study(spec_or_path, out=None, *, executor: Executor | None = None, force: bool = False,
              progress: str | None = None, all_steps: bool = False,
              arg: str = "out") -> StudyResult:
    """Run a study on ``executor`` (default serial); see the module docstring."""
    import matplotlib.pyplot as plt

    spec = _spec(spec_or_path)
    name = PREFIX + spec.name
    out = check_path(out, arg=arg) if out is not None else None
    if out is not None:
        check_out(out, name, force=force, arg=arg)
    t0 = time.perf_counter()
    problems, methods = problem_cells(spec), method_cells(spec)
    prepared = prepare(spec, problems, methods)
    runner = StudyRunner(name, str(spec.folder), {p.key: prepared.f_stars[p.key]
                                                  for p in problems})
    grid = tasks(spec, problems, methods, prepared.digests)
    if out is not None:
        prepare_out(out, name, force=force, arg=arg)
    t1 = time.perf_counter()
    sweep = run_sweep(runner, grid, out, executor, force=force, progress=progress)
    results = sweep.frame()
    t2 = time.perf_counter()
    summary, steps = summary_table(results, spec.targets)
    figures = study_figures(results, steps, prepared.constants, prepared.resolved,
                            all_steps=all_steps)
    res = StudyResult(spec, results, summary, steps, prepared, sweep)
    try:
        if out is not None:
            res.files.append(write_results(sweep, out / RESULTS_FILE))
            summary.to_csv(out / SUMMARY_FILE, index=False)
            steps.to_csv(out / STEPS_FILE, index=False)
            (out / STUDY_FILE).write_text(spec.source, encoding="utf-8")
            res.files += [out / SUMMARY_FILE, out / STEPS_FILE, out / STUDY_FILE]
            for key, fig in figures.items():
                path = out / f"study-{key}.png"
                fig.savefig(path, dpi=100)
                res.files.append(path)
    finally:
        for fig in figures.values():
            plt.close(fig)
    res.timings = {"prepare_s": t1 - t0, "run_s": t2 - t1,
                   "summary_and_plot_s": time.perf_counter() - t2,
                   "task_wall_s": sweep.summary()["task_wall_s"]}
    if out is not None:
        checks = {"experiment": name, "kind": "study", "title": f"Study {spec.name}",
                  "description": spec.description, "source": "study file",
                  "version": VERSION, "config": {**spec.stop(), "seeds": list(spec.seeds),
                                                 "targets": list(spec.targets),
                                                 "record": spec.record,
                                                 "n_records": spec.n_records,
                                                 "all_steps": all_steps},
                  "claims": [], "passed": True, "timings": res.timings,
                  "sweep": sweep.summary(),
                  "figures": [p.name for p in res.files if p.suffix == ".png"],
                  "files": [p.name for p in res.files if p.suffix in (".csv", ".toml")],
                  "summary": json.loads(summary.to_json(orient="records")),
                  "targets": list(spec.targets),
                  "problems": list(prepared.constants.values()),
                  "study_file": STUDY_FILE, "environment": environment()}
        (out / CHECKS_FILE).write_text(json.dumps(checks, indent=2, default=str))
        res.files.append(out / CHECKS_FILE)
    return res


def study(spec_or_path, out=None, *, jobs: int | None = None, backend: str | None = None,
          address: str | None = None, force: bool = False, progress: str | None = None,
          all_steps: bool = False) -> pd.DataFrame:
    """Run a study and return its results (one row per recorded point).

    ``spec_or_path``: a study file (TOML), or the same content as a dict. ``out``: the
    output directory (resumable; without it nothing is written). ``backend``: "serial"
    (default without ``jobs``), "local" (loky processes, default with ``jobs``) or "dask"
    (``address`` of a scheduler, or a LocalCluster). ``progress``: None, "auto", "bar",
    "log" or "quiet". ``all_steps``: the figures show every step, not only the best.
    """
    if backend is None:
        backend = "dask" if address is not None else "serial" if jobs is None else "local"
    spec = _spec(spec_or_path)
    with make_executor(backend, jobs=jobs, address=address) as executor:
        return run_study(spec, out, executor=executor, force=force, progress=progress,
                         all_steps=all_steps).results


__all__ = ["StudyResult", "StudySpec", "load", "parse", "run_study", "study", "to_toml"]
