"""Reproduced experiments: registry and the ``reproduce`` driver.

``reproduce(name, preset, out)`` runs an experiment, checks its claims and writes
OUT/results.parquet, OUT/<name>-<figure>.png, OUT/checks.json (claims, configuration,
timings, provenance).
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..provenance import environment
from .base import Claim, Experiment
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

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.claims)


def reproduce(name: str, preset: str = "quick", out=None, executor=None,
              overrides: dict | None = None) -> Reproduction:
    """Run experiment ``name`` with a preset (and overrides), check it, write OUT."""
    import matplotlib.pyplot as plt

    exp = get_experiment(name)
    config = exp.config(preset, **(overrides or {}))
    t0 = time.perf_counter()
    results = exp.run(config, executor)
    t1 = time.perf_counter()
    claims = exp.check(results, config)
    figures = exp.plot(results, config)
    t2 = time.perf_counter()
    rep = Reproduction(name, preset, config, results, claims,
                       timings={"run_s": t1 - t0, "check_and_plot_s": t2 - t1})
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        results.to_parquet(out / "results.parquet", index=False)
        rep.files.append(out / "results.parquet")
        for key, fig in figures.items():
            path = out / f"{name}-{key}.png"
            fig.savefig(path, dpi=120)
            rep.files.append(path)
        checks = {"experiment": name, "title": exp.title, "source": exp.source,
                  "description": exp.description, "preset": preset,
                  "config": dataclasses.asdict(config), "passed": rep.passed,
                  "claims": [c.to_dict() for c in claims], "timings": rep.timings,
                  "figures": [p.name for p in rep.files if p.suffix == ".png"],
                  "environment": environment()}
        (out / "checks.json").write_text(json.dumps(checks, indent=2, default=str))
        rep.files.append(out / "checks.json")
    for fig in figures.values():
        plt.close(fig)
    return rep


__all__ = ["EXPERIMENTS", "Claim", "Experiment", "Reproduction", "experiment_names",
           "get_experiment", "register", "reproduce"]
