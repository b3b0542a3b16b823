"""The experiment contract (DESIGN.md, "Experiments").

An experiment reproduces one result of a seed document. It is a subclass of
:class:`Experiment` with

* ``Config``: a dataclass of its settings, and ``presets`` ({"quick": ..., "paper": ...});
* ``tasks(config) -> list[dict]``: the grid, each task a plain dict that fully determines
  its computation (seed included);
* ``run_task(task) -> DataFrame``: one task (a pure function of the dict);
* ``run(config, executor) -> DataFrame``: maps ``run_task`` over the tasks;
* ``plot(results, config) -> dict[name, Figure]`` and
  ``check(results, config) -> list[Claim]``: the figures and the claims of the source;
* optionally ``extra_files(results, config, out_dir) -> list[Path]`` (animations, ...);
* ``limits``: a rule per Config field (:class:`Int`, :class:`Real`, :class:`Choice`,
  :class:`Flag`, :class:`Items`; a field without one is checked against its type only) and
  optionally ``constraints(config)`` for the relations between fields. ``config()`` checks
  the whole configuration with :meth:`Experiment.validate` before any task exists, so a bad
  setting is one :class:`DescentlabError` naming it ("<field>: expected ..., got ...").
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import DescentlabError
from ..executors import Executor, SerialExecutor

#: the largest seed accepted (numpy's legacy seeds are 32-bit; pandas columns are int64)
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Claim:
    """One statement of the source, with what was measured and whether it held."""

    name: str
    expected: str
    measured: str
    passed: bool

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------ setting rules
class Rule:
    """What one Config field accepts: ``describe()`` for the message, ``normalize(value)``
    returns the value in its canonical type or raises ValueError."""

    def describe(self) -> str:  # pragma: no cover - every rule overrides it
        raise NotImplementedError

    def normalize(self, value):  # pragma: no cover
        raise NotImplementedError


def _bounds(lo, hi, lo_open: bool, hi_open: bool, fmt=repr) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{fmt(lo)}, {fmt(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {fmt(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {fmt(hi)}"
    return ""


@dataclass(frozen=True)
class Int(Rule):
    """An integer in [lo, hi] (a float with an integer value is accepted: 1e6)."""

    lo: int | None = 0
    hi: int | None = None

    def describe(self) -> str:
        return f"an integer {_bounds(self.lo, self.hi, False, False)}".rstrip()

    def normalize(self, value) -> int:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ValueError(value)
        if not isinstance(value, numbers.Integral):
            if not (math.isfinite(value) and float(value).is_integer()):
                raise ValueError(value)
        value = int(value)
        if (self.lo is not None and value < self.lo) or (self.hi is not None and value > self.hi):
            raise ValueError(value)
        return value


@dataclass(frozen=True)
class Real(Rule):
    """A finite number in the interval (lo, hi), each end open or closed; ``nonzero``
    excludes 0."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    nonzero: bool = False

    def describe(self) -> str:
        bounds = _bounds(self.lo, self.hi, self.lo_open, self.hi_open, fmt=lambda v: f"{v:g}")
        text = f"a finite number {bounds}".rstrip()
        return text + (" other than 0" if self.nonzero else "")

    def normalize(self, value) -> float:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ValueError(value)
        value = float(value)
        if not math.isfinite(value) or (self.nonzero and value == 0):
            raise ValueError(value)
        if self.lo is not None and (value < self.lo or (self.lo_open and value == self.lo)):
            raise ValueError(value)
        if self.hi is not None and (value > self.hi or (self.hi_open and value == self.hi)):
            raise ValueError(value)
        return value


@dataclass(frozen=True)
class Choice(Rule):
    """One of a fixed set of names."""

    options: tuple[str, ...]

    def __init__(self, options):
        object.__setattr__(self, "options", tuple(options))

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def normalize(self, value) -> str:
        if not isinstance(value, str) or value not in self.options:
            raise ValueError(value)
        return value


@dataclass(frozen=True)
class Text(Rule):
    """Any string."""

    def describe(self) -> str:
        return "a string"

    def normalize(self, value) -> str:
        if not isinstance(value, str):
            raise ValueError(value)
        return value


@dataclass(frozen=True)
class Flag(Rule):
    """A boolean (on the command line: true/false, yes/no, on/off, 1/0)."""

    def describe(self) -> str:
        return "true or false"

    def normalize(self, value) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(value)
        return bool(value)


@dataclass(frozen=True)
class Items(Rule):
    """A tuple of ``min_len``..``max_len`` values, each accepted by ``item``
    (on the command line: comma-separated)."""

    item: Rule
    min_len: int = 1
    max_len: int | None = None
    distinct: bool = False

    def describe(self) -> str:
        if self.max_len is None:
            size = "a non-empty list" if self.min_len == 1 else \
                f"a list of at least {self.min_len} values" if self.min_len else "a list"
        elif self.min_len == self.max_len:
            size = f"a list of {self.min_len} values"
        else:
            size = f"a list of {self.min_len} to {self.max_len} values"
        return f"{size}{', all distinct' if self.distinct else ''} (comma-separated), " \
               f"each {self.item.describe()}"

    def normalize(self, value) -> tuple:
        if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
            raise ValueError(value)
        items = tuple(self.item.normalize(v) for v in value)
        if len(items) < self.min_len or (self.max_len is not None and len(items) > self.max_len):
            raise ValueError(value)
        if self.distinct and len(set(items)) != len(items):
            raise ValueError(value)
        return items


#: one seed, and a list of seeds
SEED = Int(0, MAX_SEED)
SEEDS = Items(SEED)


def type_rule(hint) -> Rule | None:
    """The rule implied by a field's type alone (int, float, bool, str, tuple[X, ...])."""
    if hint is bool:
        return Flag()
    if hint is int:
        return Int(None)
    if hint is float:
        return Real()
    if hint is str:
        return Text()
    if typing.get_origin(hint) is tuple:
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        item = type_rule(args[0]) if len(args) == 1 else None
        return Items(item) if item is not None else None
    return None


def _show(value) -> str:
    return "an empty list" if isinstance(value, tuple) and not value else repr(value)


class Experiment(ABC):
    """Base class of the reproduced experiments (see the module docstring)."""

    name: ClassVar[str]
    title: ClassVar[str]
    #: seed document and place in it, e.g. "004 (Foundations of Deep Learning, ch. 4)"
    source: ClassVar[str]
    description: ClassVar[str] = ""
    Config: ClassVar[type]
    presets: ClassVar[dict[str, Any]]
    #: bump when the code changes what a task computes (keys cached task results)
    version: ClassVar[str] = "1"
    #: the rule of each Config field (fields not listed are checked against their type)
    limits: ClassVar[dict[str, Rule]] = {}

    def config(self, preset: str = "quick", **overrides) -> Any:
        """The preset's Config with ``overrides`` applied, checked by :meth:`validate`.

        Override values may be strings (from the command line): they are converted to the
        fields' types first ("1e6" for an int, "10,100" for a tuple, "yes" for a bool).
        """
        if not isinstance(preset, str) or preset not in self.presets:
            raise DescentlabError(f"preset: {self.name} has presets "
                                  f"{', '.join(self.presets)}, got {preset!r}")
        base = self.presets[preset]
        if overrides:
            base = dataclasses.replace(base, **_coerce_overrides(base, overrides, self))
        return self.validate(base)

    def rule(self, field_name: str, hint=None) -> Rule | None:
        """The rule of a Config field: ``limits``, else the one of its type."""
        return self.limits.get(field_name) or type_rule(hint)

    def validate(self, config) -> Any:
        """Check every field of ``config`` against its rule, then :meth:`constraints`.

        Raises :class:`DescentlabError` ("<field>: expected <what>, got <value>") on the
        first bad field; returns the config with its values in their canonical types
        (floats for float fields, tuples for lists).
        """
        if not dataclasses.is_dataclass(config) or isinstance(config, type):
            raise DescentlabError(f"config: expected a {self.name} Config dataclass, "
                                  f"got {type(config).__name__}")
        hints = typing.get_type_hints(type(config))
        changes = {}
        for f in dataclasses.fields(config):
            rule = self.rule(f.name, hints.get(f.name))
            if rule is None:
                continue
            value = getattr(config, f.name)
            try:
                new = rule.normalize(value)
            except (ValueError, TypeError):
                raise DescentlabError(f"{f.name}: expected {rule.describe()}, "
                                      f"got {_show(value)}") from None
            if type(new) is not type(value) or new != value:
                changes[f.name] = new
        if changes:
            config = dataclasses.replace(config, **changes)
        self.constraints(config)
        return config

    def constraints(self, config) -> None:
        """Relations between fields that the tasks rely on (raise DescentlabError naming
        the field). Default: none."""
        return None

    @abstractmethod
    def tasks(self, config) -> list[dict]:
        """The grid of tasks of ``config``."""

    @abstractmethod
    def run_task(self, task: dict) -> pd.DataFrame:
        """Compute one task."""

    def run(self, config, executor: Executor | None = None) -> pd.DataFrame:
        executor = executor or SerialExecutor()
        frames = executor.map(self.run_task, self.tasks(config))
        return pd.concat(frames, ignore_index=True)

    @abstractmethod
    def plot(self, results: pd.DataFrame, config) -> dict:
        """Figures keyed by a short name."""

    @abstractmethod
    def check(self, results: pd.DataFrame, config) -> list[Claim]:
        """The claims of the source, measured on ``results``."""

    def extra_files(self, results: pd.DataFrame, config, out_dir) -> list:
        """Files other than the figures (e.g. an animated GIF) written into ``out_dir``;
        PNG and GIF files among them are shown in the report. Default: none."""
        return []


def _coerce_overrides(base, overrides: dict, experiment: Experiment) -> dict:
    """Convert override values (possibly strings from the CLI) to the fields' types."""
    fields = {f.name: f for f in dataclasses.fields(base)}
    hints = typing.get_type_hints(type(base))
    out = {}
    for key, value in overrides.items():
        if key not in fields:
            raise DescentlabError(f"config: {experiment.name} has no setting {key!r}; settings "
                                  f"are {', '.join(fields)}")
        hint = hints.get(key)
        out[key] = _coerce(key, value, getattr(base, key), hint, experiment.rule(key, hint))
    return out


def _coerce(key: str, value, current, hint, rule: Rule | None):
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if isinstance(current, tuple) or typing.get_origin(hint) is tuple:
            items = [t for t in text.strip("()[]").split(",") if t.strip()]
            args = [a for a in typing.get_args(hint) if a is not Ellipsis]
            elem = args[0] if len(args) == 1 else type(current[0]) if current else str
            return tuple(_scalar(elem, t.strip()) for t in items)
        return _scalar(hint if hint in (bool, int, float, str) else type(current), text)
    except ValueError:
        what = rule.describe() if rule is not None else f"a {type(current).__name__}"
        raise DescentlabError(f"{key}: expected {what}, got {value!r}") from None


def _scalar(kind: type, text: str):
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    if kind is int:
        try:
            return int(text)
        except ValueError:
            number = float(text)  # 1e6
            if not number.is_integer():
                raise
            return int(number)
    if kind is float:
        return float(text)
    return text
