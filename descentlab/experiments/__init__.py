"""Reproduced experiments: registry and the ``reproduce`` driver.

``reproduce(name, preset, out, executor)`` expands the experiment's grid into tasks, runs
them as a resumable sweep (``descentlab.sweep``: one file per finished task under
OUT/tasks/, finished tasks are not recomputed unless ``force``), checks the claims and
writes OUT/results.parquet (result columns + ``prov_*`` provenance, ``descentlab.store``),
OUT/<name>-<figure>.png and OUT/checks.json (claims, configuration, timings, sweep counts,
provenance). Before any task runs, the configuration is checked (``Experiment.validate``)
and OUT is checked (``outdir``): it must hold no other experiment (``force`` deletes that
experiment's files first) and OUT, OUT/tasks must be writable.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..executors import Executor
from ..provenance import environment
from ..store import CHECKS_FILE, RESULTS_FILE, write_results
from ..sweep import SweepResult, run_sweep
from .base import Claim, Experiment
from .outdir import check_path, prepare_out
from .registry import EXPERIMENTS, experiment_names, get_experiment, register


@dataclass
class Reproduction:
    """What ``reproduce`` returns: results, claims, written files and timings."""

    experiment: str
    preset: str
    config: Any
    results: pd.DataFrame
    claims: list[Claim]
    files: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    sweep: SweepResult | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.claims)


def reproduce(name: str, preset: str = "quick", out=None, executor: Executor | None = None,
              overrides: dict | None = None, *, force: bool = False,
              progress: str | None = None) -> Reproduction:
    """Run experiment ``name`` with a preset (and overrides), check it, write OUT.

    The tasks run on ``executor`` (default: serial, in this process). With ``out``, each
    finished task is stored under OUT/tasks/ and reused by the next call (``force=True``
    recomputes; when OUT holds another experiment, ``force=True`` also deletes that
    experiment's files first, and without it that is an error). ``progress``: None
    (silent), "auto", "bar", "log" or "quiet" (see :func:`descentlab.sweep.make_progress`).
    """
    import matplotlib.pyplot as plt

    exp = get_experiment(name)
    config = exp.config(preset, **(overrides or {}))
    out = check_path(out) if out is not None else None
    if out is not None:
        prepare_out(out, exp.name, force=force)
    t0 = time.perf_counter()
    sweep = run_sweep(exp, exp.tasks(config), out, executor, force=force, progress=progress)
    results = sweep.frame()
    t1 = time.perf_counter()
    claims = exp.check(results, config)
    figures = exp.plot(results, config)
    t2 = time.perf_counter()
    summary = sweep.summary()
    rep = Reproduction(name, preset, config, results, claims,
                       timings={"run_s": t1 - t0, "check_and_plot_s": t2 - t1,
                                "task_wall_s": summary["task_wall_s"]},
                       sweep=sweep)
    try:
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            rep.files.append(write_results(sweep, out / RESULTS_FILE))
            for key, fig in figures.items():
                path = out / f"{name}-{key}.png"
                fig.savefig(path, dpi=120)
                rep.files.append(path)
            rep.files.extend(Path(f) for f in exp.extra_files(results, config, out))
            checks = {"experiment": name, "title": exp.title, "source": exp.source,
                      "description": exp.description, "preset": preset,
                      "version": str(exp.version),
                      "config": dataclasses.asdict(config), "passed": rep.passed,
                      "claims": [c.to_dict() for c in claims], "timings": rep.timings,
                      "sweep": summary,
                      "figures": [p.name for p in rep.files if p.suffix in (".png", ".gif")],
                      "environment": environment()}
            (out / CHECKS_FILE).write_text(json.dumps(checks, indent=2, default=str))
            rep.files.append(out / CHECKS_FILE)
    finally:
        for fig in figures.values():
            plt.close(fig)
    return rep


__all__ = ["EXPERIMENTS", "Claim", "Experiment", "Reproduction", "experiment_names",
           "get_experiment", "register", "reproduce"]
