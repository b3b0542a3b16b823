"""The cells of a study: problem x method x hyperparameters x step x seed, as plain tasks.

A task is a JSON-able dict that determines its computation (``descentlab.sweep`` keys it):
the problem (name, parameters, the data file's sha256), the method (name, hyperparameters,
step label), the seed, the stopping rule, the recording points and the source digests of
the plugins it uses. The certified optimum F* is not in the task (it is computed once per
problem in the parent and handed to the runner), nor is the study file's folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .plugins import is_plugin
from .spec import MethodSpec, ProblemSpec, StudySpec, combinations


@dataclass(frozen=True)
class ProblemCell:
    """One problem of the grid (one combination of its parameters)."""

    where: str
    name: str
    params: dict
    label: str

    @property
    def key(self) -> str:
        """Identifies the problem among the study's (canonical JSON of name and params)."""
        return json.dumps({"name": self.name, "params": self.params}, sort_keys=True)


@dataclass(frozen=True)
class MethodCell:
    """One method of the grid (one combination of its hyperparameters other than the step)."""

    where: str
    name: str
    cls: type
    params: dict
    steps: tuple
    label: str


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and ("/" in value or "\\" in value) and value != "1/n":
        return Path(value).name
    return str(value)


def _label(base: str, params: dict) -> str:
    if not params:
        return base
    return f"{base}(" + ", ".join(f"{k}={_short(v)}" for k, v in params.items()) + ")"


def method_base_label(name: str, cls: type) -> str:
    """The method's name in tables and legends ("saga"; a plugin's ``name`` or class)."""
    if not is_plugin(name):
        return name
    own = getattr(cls, "name", "method")
    return own if own and own != "method" else cls.__name__


def problem_cells(spec: StudySpec) -> list[ProblemCell]:
    """Every problem of the grid, in the file's order (duplicates once)."""
    cells: dict[str, ProblemCell] = {}
    for p in spec.problems:
        for params in combinations(p.params):
            cell = _problem_cell(p, params)
            cells.setdefault(cell.key, cell)
    return list(cells.values())


def _problem_cell(p: ProblemSpec, params: dict) -> ProblemCell:
    base = p.name.split(":")[-1] if is_plugin(p.name) else p.name
    return ProblemCell(p.where, p.name, params, _label(base, params))


def method_cells(spec: StudySpec) -> list[MethodCell]:
    """Every method of the grid (hyperparameter combinations; the steps stay a list)."""
    cells: dict[str, MethodCell] = {}
    for m in spec.methods:
        for params in combinations(m.params):
            cell = _method_cell(m, params)
            cells.setdefault(cell.label, cell)
    return list(cells.values())


def _method_cell(m: MethodSpec, params: dict) -> MethodCell:
    varying = {k: v for k, v in params.items() if isinstance(m.params[k], list)}
    label = _label(method_base_label(m.name, m.cls), varying)
    return MethodCell(m.where, m.name, m.cls, params, m.steps, label)


def tasks(spec: StudySpec, problems: list[ProblemCell], methods: list[MethodCell],
          digests: dict[str, str]) -> list[dict]:
    """The tasks of the grid; ``digests`` maps a problem key or a plugin name to the sha256 of
    its data file or module source."""
    stop = spec.stop()
    out = []
    for p in problems:
        for m in methods:
            plugins = {name: digests[name] for name in (p.name, m.name) if is_plugin(name)}
            for step in m.steps:
                for seed in spec.seeds:
                    out.append({
                        "study": spec.name,
                        "problem": {"name": p.name, "params": p.params},
                        "problem_label": p.label, "data_sha256": digests.get(p.key, ""),
                        "method": {"name": m.name, "params": m.params},
                        "method_label": m.label, "step": step, "seed": seed, "stop": stop,
                        "record": spec.record, "n_records": spec.n_records,
                        "plugins": plugins})
    return out


__all__ = ["MethodCell", "ProblemCell", "method_base_label", "method_cells", "problem_cells",
           "tasks"]
