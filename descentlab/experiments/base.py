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
* optionally ``extra_files(results, config, out_dir) -> list[Path]`` (animations, ...).
"""

from __future__ import annotations

import dataclasses
import typing
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from ..errors import DescentlabError
from ..executors import Executor, SerialExecutor


@dataclass(frozen=True)
class Claim:
    """One statement of the source, with what was measured and whether it held."""

    name: str
    expected: str
    measured: str
    passed: bool

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


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

    def config(self, preset: str = "quick", **overrides) -> Any:
        """The preset's Config with ``overrides`` applied (values checked against the types)."""
        if preset not in self.presets:
            raise DescentlabError(f"preset: {self.name} has presets "
                                  f"{', '.join(self.presets)}, got {preset!r}")
        base = self.presets[preset]
        if not overrides:
            return base
        return dataclasses.replace(base, **_coerce_overrides(base, overrides, self.name))

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


def _coerce_overrides(base, overrides: dict, experiment: str) -> dict:
    """Convert override values (possibly strings from the CLI) to the fields' types."""
    fields = {f.name: f for f in dataclasses.fields(base)}
    hints = typing.get_type_hints(type(base))
    out = {}
    for key, value in overrides.items():
        if key not in fields:
            raise DescentlabError(f"config: {experiment} has no setting {key!r}; settings are "
                                  f"{', '.join(fields)}")
        current = getattr(base, key)
        out[key] = _coerce(key, value, current, hints.get(key))
    return out


def _coerce(key: str, value, current, hint):
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if isinstance(current, tuple) or typing.get_origin(hint) is tuple:
            items = [t for t in text.strip("()[]").split(",") if t.strip()]
            elem = type(current[0]) if current else str
            return tuple(_scalar(elem, t.strip()) for t in items)
        return _scalar(type(current), text)
    except ValueError:
        raise DescentlabError(f"config: {key}={value!r} is not a valid "
                              f"{type(current).__name__}") from None


def _scalar(kind: type, text: str):
    if kind is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    if kind is int:
        return int(float(text)) if float(text).is_integer() else int(text)
    if kind is float:
        return float(text)
    return text
