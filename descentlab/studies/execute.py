"""Running a study's cells: the problems and optima (parent), one task = one ``run`` (worker).

``prepare(spec)`` builds every problem of the grid, resolves every method x step on every
problem (a method that cannot handle a problem, e.g. a non-smooth problem without prox or
Katyusha with mu = 0, is an error here, before any task runs), and computes F* once per
problem, cached on disk (``descentlab.cache.memory("optima")``, keyed by the problem's name,
parameters and the sha256 of its data file or plugin module). ``StudyRunner.run_task`` runs
one cell with ``descentlab.run`` and the study's Stop and returns the recorded rows.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..cache import memory
from ..data import resolve_dataset
from ..errors import DescentlabError, DivergenceError, NoProgressWarning
from ..methods import METHODS, Method
from ..problems import Problem
from ..problems.factory import build
from ..run import Stop, run
from .grid import MethodCell, ProblemCell
from .plugins import add_folder, check_arguments, import_class, is_plugin, source_digest
from .spec import THEORY, label_of

#: bump when the code changes what a task computes (part of every task key)
VERSION = "1"


# ------------------------------------------------------------------ building cells
def load_problem(name: str, params: dict, folder=None, where: str = "problem") -> Problem:
    """The problem ``name`` ("logistic", ... or "module:Class") with ``params``."""
    if not is_plugin(name):
        return build(name, where=where, **params)
    cls = import_class(name, folder, base=Problem, where=f"{where}.name")
    check_arguments(cls, params, where)
    try:
        return cls(**params)
    except DescentlabError:
        raise
    except Exception as exc:
        raise DescentlabError(f"{where} ({name}): building it raised {type(exc).__name__}: "
                              f"{exc}") from None


def method_class(name: str, folder=None, where: str = "method") -> type[Method]:
    if is_plugin(name):
        return import_class(name, folder, base=Method, where=f"{where}.name")
    return METHODS[name]


def step_value(label, theory) -> float | None:
    """The numeric step of a step label given the theory's step (None: keep the default)."""
    if label == THEORY:
        return None
    if isinstance(label, str):
        k = float(label[1:])
        return theory * k if label[0] == "x" else theory / k
    return float(label)


def make_method(cls: type[Method], params: dict, step, problem: Problem) -> Method:
    """``cls(**params)`` with the step of label ``step`` set, resolved on ``problem``."""
    method = cls(**params)
    if step == THEORY:
        return method.resolve(problem)
    step_param = getattr(cls, "step_param", "step")
    theory = None
    if isinstance(step, str):
        theory = getattr(method.resolve(problem), step_param, None)
        if not isinstance(theory, (int, float)) or isinstance(theory, bool) \
                or not math.isfinite(theory) or theory <= 0:
            raise DescentlabError(f"step: {step!r} multiplies the theory's step of "
                                  f"{cls.__name__}, which has none ({step_param} = {theory!r} "
                                  f"after resolve); give numbers")
    return cls(**{**params, step_param: step_value(step, theory)}).resolve(problem)


def data_digest(name: str, params: dict) -> str:
    """sha256 of the problem's data file ('' for problems without one)."""
    data = params.get("data") if not is_plugin(name) else None
    if not isinstance(data, str):
        return ""
    h = hashlib.sha256()
    with open(resolve_dataset(data), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _solution(key: dict, problem: Problem) -> tuple:
    """problem.solution() (``key`` identifies the problem for the cache)."""
    return problem.solution()


def certified_optimum(key: dict, problem: Problem) -> tuple:
    """(x*, F*) of ``problem``, cached on disk under ``key`` (name, params, digests)."""
    cached = memory("optima").cache(_solution, ignore=["problem"])
    return cached(key, problem)


@dataclass
class Prepared:
    """What the parent computed before the tasks: problems, optima, constants, digests."""

    problems: dict[str, Problem] = field(default_factory=dict)
    f_stars: dict[str, float] = field(default_factory=dict)
    constants: dict[str, dict] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    #: (problem label, method label, step label) -> the resolved scalar hyperparameters
    resolved: dict[tuple, dict] = field(default_factory=dict)


def prepare(spec, problems: list[ProblemCell], methods: list[MethodCell]) -> Prepared:
    """Build the problems, check every method x step on each, compute the optima."""
    out = Prepared()
    for m in methods:
        if is_plugin(m.name):
            out.digests[m.name] = source_digest(m.cls)
    for p in problems:
        problem = load_problem(p.name, p.params, spec.folder, p.where)
        out.problems[p.key] = problem
        if is_plugin(p.name):
            out.digests[p.name] = source_digest(type(problem))
        else:
            out.digests[p.key] = data_digest(p.name, p.params)
        for m in methods:
            for step in m.steps:
                try:
                    method = make_method(m.cls, m.params, step, problem)
                    out.resolved[(p.label, m.label, label_of(step))] = {
                        k: v for k, v in method.hyperparameters().items()
                        if v is None or isinstance(v, (bool, int, float, str))}
                except DescentlabError as exc:
                    raise DescentlabError(f"{m.where} ({m.label}, step {step}) on {p.where} "
                                          f"({p.label}): {exc}") from None
                except Exception as exc:
                    raise DescentlabError(f"{m.where} ({m.label}, step {step}) on {p.where} "
                                          f"({p.label}): {type(exc).__name__}: {exc}") from None
    for p in problems:
        problem = out.problems[p.key]
        key = {"name": p.name, "params": p.params, "digest": out.digests.get(p.key) or
               out.digests.get(p.name, "")}
        try:
            x_star, f_star = certified_optimum(key, problem)
        except NotImplementedError:
            raise DescentlabError(f"{p.where} ({p.label}): {type(problem).__name__} has no "
                                  f"reference optimum (solution()); a study measures relative "
                                  f"suboptimality against it: implement _solve") from None
        out.f_stars[p.key] = float(f_star)
        x0 = problem.default_x0()
        gap0 = float(problem.value(x0)) - float(f_star)
        dist0_sq = float(np.sum((x0 - x_star) ** 2)) if x_star is not None else math.nan
        out.constants[p.label] = {
            "problem": p.label, "n": int(problem.n), "dim": int(problem.dim),
            "L": float(problem.L), "L_max": float(problem.L_max), "mu": float(problem.mu),
            "nonsmooth": bool(problem.nonsmooth), "convex": bool(problem.convex),
            "f_star": float(f_star), "gap0": gap0,
            "dist0_sq": dist0_sq}
    return out


# ---------------------------------------------------------------------------- tasks
@dataclass
class StudyRunner:
    """What ``run_sweep`` runs: ``run_task`` of one cell (pickled to the workers with the
    study's folder, for plugins, and the optima)."""

    name: str
    folder: str
    f_stars: dict[str, float]
    version: str = VERSION

    def run_task(self, task: dict) -> pd.DataFrame:
        add_folder(self.folder)
        p, m = task["problem"], task["method"]
        problem = load_problem(p["name"], p["params"], self.folder)
        key = json.dumps({"name": p["name"], "params": p["params"]}, sort_keys=True)
        cls = method_class(m["name"], self.folder)
        method = make_method(cls, m["params"], task["step"], problem)
        stop = Stop(**task["stop"])
        diverged = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoProgressWarning)
            try:
                trace = run(problem, method, stop, seed=task["seed"], f_star=self.f_stars[key],
                            record=task["record"], n_records=task["n_records"])
            except DivergenceError as exc:
                trace, diverged = exc.trace, True
        df = trace.df[["iteration", "oracle_calls", "epochs", "time_s", "value", "subopt",
                       "rel_subopt", "grad_norm", "dist_to_opt"]].copy()
        step_param = getattr(cls, "step_param", "step")
        step = getattr(method, step_param, None)
        step = float(step) if isinstance(step, (int, float)) and not isinstance(step, bool) \
            else math.nan
        given = {k: v for k, v in m["params"].items()}
        columns = {
            "study": task["study"], "problem": p["name"], "problem_label": task["problem_label"],
            "problem_params": json.dumps(p["params"], sort_keys=True),
            "method": m["name"], "method_label": task["method_label"],
            "method_params": json.dumps(given, sort_keys=True),
            "step_label": label_of(task["step"]), "step": step, "seed": int(task["seed"])}
        for i, (k, v) in enumerate(columns.items()):
            df.insert(i, k, v)
        df["stop_reason"] = trace.stop_reason if not diverged else "diverged"
        df["no_progress"] = trace.meta.get("no_progress") or ""
        return df.reset_index(drop=True)


__all__ = ["VERSION", "Prepared", "StudyRunner", "certified_optimum", "data_digest",
           "load_problem", "make_method", "method_class", "prepare", "step_value"]
