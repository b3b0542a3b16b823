"""The method interface (DESIGN.md, "Contracts"; jaxopt's ``init_state`` / ``update``).

A method is a frozen dataclass whose fields are its hyperparameters (``None`` means "the
default the theory proves", computed from the problem's constants). It has

* ``resolve(problem) -> Method``: a copy with every ``None`` hyperparameter replaced by its
  default on ``problem`` (1/L, 1/(3 L_max) for SAGA, ...), checked against the problem;

and, on the resolved method,

* ``init(problem, x0, rng) -> State``: the state at x0 (some methods spend oracle calls
  here, e.g. SAGA's first pass);
* ``advance(problem, state, rng, calls) -> State``: whole iterations until about ``calls``
  more oracle calls have been spent (at least one iteration; a full gradient costs
  ``problem.n``).

A state is a frozen dataclass: the point ``x`` that is evaluated and reported, the counters
``iteration`` and ``calls``, and the method's own named fields (SAGA's memory, FISTA's t and
y, ...). ``advance`` returns a new state (``dataclasses.replace``); arrays inside it may be
updated in place by the compiled loops, where that is the point. ``state.info()`` gives the
JSON-able scalars a Trace records (e.g. "path", "restarts"). The numpy Generator ``rng`` is
handed by the caller to ``init`` and to every ``advance``: a run is determined by its seed,
whatever the recording points.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Self

import numpy as np

from .._validation import check_positive
from ..errors import DescentlabError
from ..problems.base import Problem


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class State:
    """What every method carries between calls of ``advance``."""

    x: np.ndarray
    iteration: int = 0
    calls: int = 0
    #: the scalar fields that ``info`` reports
    reported: ClassVar[tuple[str, ...]] = ()

    def info(self) -> dict[str, Any]:
        """JSON-able scalars describing the state (recorded in the Trace metadata)."""
        return {key: getattr(self, key) for key in self.reported}

    def after(self, iterations: int, calls: int, **changes: Any) -> Self:
        """This state moved on by ``iterations`` that spent ``calls`` oracle calls."""
        return dataclasses.replace(self, iteration=self.iteration + iterations,
                                   calls=self.calls + calls, **changes)


class Method(ABC):
    """Base class of the optimization methods (subclasses are frozen dataclasses)."""

    #: registry name
    name: ClassVar[str] = "method"
    #: the hyperparameter to lower when a run diverges
    step_param: ClassVar[str] = "step"
    #: whether the method handles a non-smooth term through the prox
    handles_prox: ClassVar[bool] = False
    #: whether the method samples (Langevin) rather than minimizes: its objective fluctuates
    #: at the temperature's level, so a run is not flagged for ending above F(x0)
    samples: ClassVar[bool] = False

    def __post_init__(self) -> None:
        for name in ("step", "lr"):
            if getattr(self, name, None) is not None:
                self._set(**{name: check_positive(f"{self.name}: {name}", getattr(self, name))})

    def _set(self, **values: Any) -> None:
        """Store normalized hyperparameters in ``__post_init__`` (the dataclass is frozen)."""
        for key, value in values.items():
            object.__setattr__(self, key, value)

    def resolve(self, problem: Problem) -> Self:
        """This method with its defaults computed on ``problem``, checked against it."""
        self.check_problem(problem)
        return self

    @abstractmethod
    def init(self, problem: Problem, x0: np.ndarray, rng: np.random.Generator | None) -> State:
        """The initial state at ``x0`` (on a resolved method)."""

    @abstractmethod
    def advance(self, problem: Problem, state: State, rng: np.random.Generator | None,
                calls: int) -> State:
        """The state after about ``calls`` more oracle calls (at least one iteration)."""

    # ----------------------------------------------------------------- helpers
    def hyperparameters(self) -> dict[str, Any]:
        """The dataclass fields (as given, or as resolved by ``resolve``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def check_problem(self, problem: Problem) -> None:
        """Raise when the problem has a non-smooth term and the method applies no prox."""
        if problem.nonsmooth and not self.handles_prox:
            raise DescentlabError(
                f"{self.name}: the problem has a non-smooth term (e.g. reg='l1'); use a "
                f"method that applies its prox: {', '.join(proximal_methods())}")

    def __str__(self) -> str:
        given = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in self.hyperparameters().items() if v is not None)
        return f"{self.name}({given})"


def proximal_methods() -> list[str]:
    """Names of the registered methods that handle a non-smooth term through its prox."""
    from . import METHODS

    return sorted(name for name, cls in METHODS.items() if cls.handles_prox)


def iterations_for(calls: int, cost: int) -> int:
    """Number of whole iterations of ``cost`` oracle calls that spend about ``calls``."""
    return max(1, math.ceil(calls / cost))


def check_unit_interval(name: str, value, *, open_left: bool = False,
                        closed_right: bool = False) -> float:
    """A number in [0, 1) ((0, 1) with ``open_left``, ...1] with ``closed_right``)."""
    value = check_positive(name, value, strict=open_left)
    if value > 1.0 or (value == 1.0 and not closed_right):
        interval = ("(" if open_left else "[") + "0, 1" + ("]" if closed_right else ")")
        raise DescentlabError(f"{name}: expected a number in {interval}, got {value!r}")
    return value
