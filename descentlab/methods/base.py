"""The method interface (DESIGN.md, "Contracts").

A method is a dataclass whose fields are its hyperparameters (``None`` means "the default
the theory proves", computed from the problem's constants). It has

* ``init(problem, x0, rng) -> State``: resolve the defaults, validate, build the state;
* ``advance(state, calls) -> State``: run until about ``calls`` more oracle calls have
  been spent (whole iterations; a full gradient costs ``problem.n`` calls).

The state carries the problem, the current point ``x`` (the point that is evaluated and
reported), the counters and the resolved hyperparameters (``params``).
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._validation import check_positive
from ..errors import DescentlabError
from ..problems.base import Problem


@dataclass(eq=False)
class State:
    """What a method carries between calls of ``advance``."""

    problem: Problem
    x: np.ndarray
    iteration: int = 0
    calls: int = 0
    params: dict[str, Any] = field(default_factory=dict)


class Method(ABC):
    """Base class of the optimization methods (subclasses are dataclasses)."""

    #: registry name
    name: ClassVar[str] = "method"
    #: the hyperparameter to lower when a run diverges
    step_param: ClassVar[str] = "step"
    #: whether the method handles a non-smooth term through the prox
    handles_prox: ClassVar[bool] = False
    #: whether the method samples (Langevin) rather than minimizes: its objective fluctuates
    #: at the temperature's level, so a run is not flagged for ending above F(x0)
    samples: ClassVar[bool] = False

    def __post_init__(self):
        for f in dataclasses.fields(self):
            if f.name in ("step", "lr") and getattr(self, f.name) is not None:
                setattr(self, f.name, check_positive(f"{self.name}: {f.name}",
                                                     getattr(self, f.name)))

    @abstractmethod
    def init(self, problem: Problem, x0: np.ndarray, rng: np.random.Generator) -> State:
        """Resolve default hyperparameters on ``problem`` and return the initial state."""

    @abstractmethod
    def advance(self, state: State, calls: int) -> State:
        """Advance by about ``calls`` oracle calls (at least one iteration)."""

    # ----------------------------------------------------------------- helpers
    def hyperparameters(self) -> dict[str, Any]:
        """The dataclass fields as given by the user (None = theory default)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def _check_problem(self, problem: Problem) -> None:
        if problem.nonsmooth and not self.handles_prox:
            from . import METHODS

            proximal = ", ".join(sorted(k for k, c in METHODS.items() if c.handles_prox))
            raise DescentlabError(
                f"{self.name}: the problem has a non-smooth term (e.g. reg='l1'); use a "
                f"method that applies its prox: {proximal}")

    def __str__(self) -> str:
        given = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in self.hyperparameters().items() if v is not None)
        return f"{self.name}({given})"


def iterations_for(calls: int, cost: int) -> int:
    """Number of whole iterations of ``cost`` oracle calls that spend about ``calls``."""
    return max(1, math.ceil(calls / cost))
