"""The study file: TOML (``tomllib``) parsed and checked into frozen dataclasses.

Every key is checked without reading any data: an unknown key, problem, method or
hyperparameter is an error naming the key ("methods[1].stepp: ...") and listing what is
accepted (with difflib's "did you mean"); so is an empty grid axis, a step that is not
"theory", "xK", "/K" or a positive number, and a method hyperparameter its class refuses.
What needs the data (a method that cannot handle a problem) is checked by
``descentlab.studies.execute.prepare``, also before any task runs.

Format::

    name = "vr-on-logistic"          # required
    description = "..."              # optional
    budget_epochs = 50               # and/or budget_calls, time_limit, tol (default 100 epochs)
    seeds = [0, 1, 2]                # default [0]
    targets = [1e-4, 1e-8]           # relative suboptimality levels of the summary
    record = "geometric"             # or "linear", "epochs"; n_records = 50

    [[problems]]
    name = "logistic"                # see descentlab.problems.factory, or "module:Class"
    data = "a9a"
    lam = [1e-4, "1/n"]              # a list is a grid axis

    [[methods]]
    name = "saga"                    # a registered method (or alias), or "module:Class"
    step = ["theory", "x2", "/2", 0.05]
    sampling = "uniform"             # any other hyperparameter (a list is a grid axis)
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import math
import numbers
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._validation import did_you_mean
from ..errors import DescentlabError
from ..methods import ALIASES, METHODS, Method
from ..problems.base import Problem
from ..problems.factory import PROBLEM_PARAMS, check_params
from .plugins import check_arguments, import_class, is_plugin

TOP_KEYS = ("name", "description", "budget_epochs", "budget_calls", "time_limit", "tol",
            "seeds", "targets", "record", "n_records", "problems", "methods")
RECORDS = ("geometric", "linear", "epochs")
DEFAULT_TARGETS = (1e-2, 1e-4, 1e-6)
THEORY = "theory"


@dataclass(frozen=True)
class ProblemSpec:
    """One ``[[problems]]`` table: a problem name and its parameters (lists are axes)."""

    where: str
    name: str
    params: dict[str, Any]


@dataclass(frozen=True)
class MethodSpec:
    """One ``[[methods]]`` table: the class, its step labels and other hyperparameters."""

    where: str
    name: str
    cls: type
    steps: tuple  # "theory", "xK", "/K" or floats
    params: dict[str, Any]


@dataclass(frozen=True)
class StudySpec:
    """A checked study file."""

    name: str
    problems: tuple[ProblemSpec, ...]
    methods: tuple[MethodSpec, ...]
    seeds: tuple[int, ...] = (0,)
    targets: tuple[float, ...] = DEFAULT_TARGETS
    budget_epochs: float | None = None
    budget_calls: int | None = None
    time_limit: float | None = None
    tol: float | None = None
    record: str = "geometric"
    n_records: int = 50
    description: str = ""
    folder: Path = field(default_factory=Path.cwd)
    source: str = ""  # the TOML text (saved into OUT/study.toml)

    def stop(self) -> dict:
        """The keyword arguments of ``descentlab.Stop``."""
        epochs = self.budget_epochs
        if epochs is None and self.budget_calls is None and self.time_limit is None \
                and self.tol is None:
            epochs = 100.0
        return {"epochs": epochs, "calls": self.budget_calls, "tol": self.tol,
                "time_limit": self.time_limit}


def _err(key: str, expected: str, got) -> DescentlabError:
    return DescentlabError(f"{key}: expected {expected}, got {_show(got)}")


def _show(value) -> str:
    if isinstance(value, list) and not value:
        return "an empty list"
    return repr(value)


def _positive(key: str, value, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise _err(key, "a positive number" if not allow_zero else "a number >= 0", value)
    return float(value)


def _int(key: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _err(key, f"an integer >= {minimum}", value)
    return value


def _nonempty_list(key: str, value) -> list:
    if not isinstance(value, list) or not value:
        raise _err(key, "a non-empty list", value)
    return value


def _unknown(key: str, given, accepted) -> None:
    bad = [k for k in given if k not in accepted]
    if bad:
        k = bad[0]
        raise DescentlabError(f"{key + '.' if key else ''}{k}: unknown key"
                              f"{did_you_mean(k, accepted)}; accepted keys are "
                              f"{', '.join(accepted)}")


def _check_value(key: str, value) -> None:
    """A hyperparameter or problem value: scalar, or a non-empty list of scalars (an axis)."""
    scalar = (str, int, float, bool)
    if isinstance(value, list):
        if not value:
            raise DescentlabError(f"{key}: expected a value or a non-empty list of values (a "
                                  f"grid axis), got an empty list: the grid would be empty")
        for v in value:
            if not isinstance(v, scalar):
                raise _err(key, "a number, string or boolean in the list", v)
    elif not isinstance(value, scalar) or isinstance(value, datetime.date | datetime.time):
        raise _err(key, "a number, string, boolean or a list of them", value)


def combinations(params: dict) -> list[dict]:
    """The grid of ``params``: every list-valued entry is an axis (product, in order)."""
    keys = list(params)
    values = [v if isinstance(v, list) else [v] for v in params.values()]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


# ------------------------------------------------------------------------- problems
def _problem(i: int, table, folder: Path) -> ProblemSpec:
    where = f"problems[{i}]"
    if not isinstance(table, dict):
        raise _err(where, "a table ([[problems]])", table)
    name = table.get("name")
    if not isinstance(name, str) or not name:
        raise DescentlabError(f"{where}.name: expected a problem name "
                              f"({', '.join(PROBLEM_PARAMS)}) or 'module:Class', got {_show(name)}")
    params = {k: v for k, v in table.items() if k != "name"}
    for key, value in params.items():
        _check_value(f"{where}.{key}", value)
    if is_plugin(name):
        cls = import_class(name, folder, base=Problem, where=f"{where}.name")
        check_arguments(cls, params, where)
    else:
        if "data" in params:  # a relative path: next to the study file when it is there
            params["data"] = [_data_path(d, folder) for d in params["data"]] \
                if isinstance(params["data"], list) else _data_path(params["data"], folder)
        for combo in combinations(params):
            check_params(name, combo, where=where)
    return ProblemSpec(where, name, params)


def _data_path(data, folder: Path):
    if isinstance(data, str) and not os.path.isabs(data) and (folder / data).is_file():
        return str((folder / data).resolve())
    return data


# -------------------------------------------------------------------------- methods
def _method_class(where: str, name, folder: Path) -> tuple[str, type]:
    if not isinstance(name, str) or not name:
        raise DescentlabError(f"{where}.name: expected a method name or 'module:Class', got "
                              f"{_show(name)}")
    if is_plugin(name):
        return name, import_class(name, folder, base=Method, where=f"{where}.name")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in METHODS:
        raise DescentlabError(f"{where}.name: unknown method {name!r}"
                              f"{did_you_mean(key, [*METHODS, *ALIASES])}; known methods are "
                              f"{', '.join(sorted(METHODS))}, or 'module:Class' for your own "
                              f"Method subclass")
    return key, METHODS[key]


def step_label(key: str, value) -> str | float:
    """A step of the grid: "theory", "xK" / "/K" (K > 0) or a positive number."""
    expected = "\"theory\", \"xK\" or \"/K\" (K > 0: a multiple of the theory's step) or " \
               "a positive number"
    if isinstance(value, str):
        text = value.strip().lower()
        if text == THEORY:
            return THEORY
        if text[:1] in ("x", "*", "/"):
            try:
                k = float(text[1:])
            except ValueError:
                raise _err(key, expected, value) from None
            if not (math.isfinite(k) and k > 0):
                raise _err(key, expected, value)
            return f"{'/' if text[0] == '/' else 'x'}{k:g}"
        raise _err(key, expected, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value <= 0:
        raise _err(key, expected, value)
    return float(value)


def label_of(step) -> str:
    """The text of a step label ("theory", "x2", "/4", "0.05")."""
    return step if isinstance(step, str) else f"{step:g}"


def _method(i: int, table, folder: Path) -> MethodSpec:
    where = f"methods[{i}]"
    if not isinstance(table, dict):
        raise _err(where, "a table ([[methods]])", table)
    name, cls = _method_class(where, table.get("name"), folder)
    step_param = getattr(cls, "step_param", "step")
    fields = [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []
    params = {k: v for k, v in table.items() if k != "name"}
    accepted = ["name", "step", *[f for f in fields if f != "step"]]
    _unknown(where, params, accepted)
    if step_param != "step" and "step" in params and step_param in params:
        raise DescentlabError(f"{where}.step: given twice, as step and as {step_param} (the "
                              f"step of {name}); keep one")
    raw_steps = params.pop("step", params.pop(step_param, None) if step_param != "step"
                           else None)
    if raw_steps is not None and step_param not in fields:
        raise DescentlabError(f"{where}.step: {name} has no step-size hyperparameter "
                              f"{step_param!r}; its hyperparameters are "
                              f"{', '.join(fields) or 'none'}")
    if raw_steps is None:
        steps: tuple = (THEORY,)
    else:
        items = raw_steps if isinstance(raw_steps, list) else [raw_steps]
        if not items:
            raise DescentlabError(f"{where}.step: expected a step or a non-empty list of "
                                  f"steps, got an empty list: the grid would be empty")
        steps = tuple(dict.fromkeys(step_label(f"{where}.step", s) for s in items))
    for key, value in params.items():
        _check_value(f"{where}.{key}", value)
    for combo in combinations(params):
        try:
            cls(**combo)
        except DescentlabError as exc:
            raise DescentlabError(f"{where} ({name}): {exc}") from None
        except (TypeError, ValueError) as exc:
            raise DescentlabError(f"{where} ({name}): {type(exc).__name__}: {exc}") from None
    return MethodSpec(where, name, cls, steps, params)


# ---------------------------------------------------------------------------- study
def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise DescentlabError(f"study: cannot write {value!r} as TOML")


def to_toml(data: dict) -> str:
    """A study dict as TOML text (scalars, lists and the [[problems]] / [[methods]] tables)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, list)
             or not v or not isinstance(v[0], dict)]
    for key, value in data.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for table in value:
                lines += ["", f"[[{key}]]", *(f"{k} = {_toml_value(v)}"
                                              for k, v in table.items())]
    return "\n".join(lines) + "\n"


def parse(data: dict, *, folder: str | os.PathLike | None = None, source: str = "") -> StudySpec:
    """A checked :class:`StudySpec` from the parsed TOML ``data`` (plugins and relative data
    paths are looked up in ``folder``, default the current directory)."""
    folder = Path(folder if folder is not None else Path.cwd()).resolve()
    if not isinstance(data, dict):
        raise _err("study", "a table of keys", data)
    source = source or to_toml(data)
    _unknown("", data, TOP_KEYS)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _err("name", "a non-empty string naming the study", name)
    values: dict[str, Any] = {"name": name.strip()}
    if "description" in data:
        if not isinstance(data["description"], str):
            raise _err("description", "a string", data["description"])
        values["description"] = data["description"]
    for key in ("budget_epochs", "time_limit", "tol"):
        if key in data:
            values[key] = _positive(key, data[key])
    if "budget_calls" in data:
        values["budget_calls"] = _int("budget_calls", data["budget_calls"], 1)
    if "seeds" in data:
        seeds = _nonempty_list("seeds", data["seeds"])
        values["seeds"] = tuple(dict.fromkeys(_int("seeds", s, 0) for s in seeds))
    if "targets" in data:
        targets = _nonempty_list("targets", data["targets"])
        values["targets"] = tuple(sorted({_positive("targets", t) for t in targets},
                                         reverse=True))
    if "record" in data:
        if data["record"] not in RECORDS:
            raise _err("record", f"one of {', '.join(map(repr, RECORDS))}", data["record"])
        values["record"] = data["record"]
    if "n_records" in data:
        values["n_records"] = _int("n_records", data["n_records"], 2)
    for key in ("problems", "methods"):
        if key not in data:
            raise DescentlabError(f"{key}: required, got none (add at least one [[{key}]] "
                                  f"table)")
        _nonempty_list(key, data[key])
    problems = tuple(_problem(i, t, folder) for i, t in enumerate(data["problems"]))
    methods = tuple(_method(i, t, folder) for i, t in enumerate(data["methods"]))
    return StudySpec(problems=problems, methods=methods, folder=folder, source=source, **values)


def load(path: str | os.PathLike) -> StudySpec:
    """Read and check the study file ``path``."""
    path = Path(path)
    if not path.is_file():
        raise DescentlabError(f"STUDY: expected a study file (TOML), got {str(path)!r}, "
                              f"which {'is not a file' if path.exists() else 'does not exist'}")
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise DescentlabError(f"STUDY: cannot read {str(path)!r} ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise DescentlabError(f"STUDY: {str(path)!r} is not valid TOML ({exc})") from None
    return parse(data, folder=path.resolve().parent, source=text)


__all__ = ["DEFAULT_TARGETS", "THEORY", "MethodSpec", "ProblemSpec", "StudySpec",
           "combinations", "label_of", "load", "parse", "step_label", "to_toml"]
