"""Problems by name: the one factory behind ``descentlab solve`` and the studies.

``build(name, **params)`` makes a problem from plain values (what a command line or a TOML
file holds); ``check_params(name, params)`` checks and completes those values without
building anything (no data is read), so that a bad value is reported before any work.

=================  =====================================================================
name               parameters (default)
=================  =====================================================================
``logistic``       ``data`` (a dataset name or a LIBSVM file path; required), ``reg``
``least-squares``  ("l2"; or "l1", "elasticnet", "none"), ``lam`` ("1/n": one over the
                   number of samples, or a number >= 0; 0 with reg "none"), ``l1_ratio``
                   (elastic net only, in [0, 1]), ``positive_class`` (one vs rest),
                   ``fit_intercept`` (false)
``quadratic``      ``dim`` (50), ``kappa`` (100: condition number, L = 1, mu = 1/kappa),
                   ``seed`` (0): ``Quadratic.with_condition_number``
``pl-example``     ``x0`` (3.0): x^2 + 3 sin^2 x (seed 004)
=================  =====================================================================
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .._validation import check_int, check_positive, did_you_mean
from ..data import KNOWN_DATASETS, load_libsvm, resolve_dataset
from ..errors import DescentlabError
from .base import Problem
from .linear import LeastSquares, Logistic
from .toy import PLExample, Quadratic

#: marks a parameter without a default
REQUIRED = object()
#: lam = one over the number of samples
ONE_OVER_N = "1/n"

_LINEAR = {"data": REQUIRED, "reg": "l2", "lam": ONE_OVER_N, "l1_ratio": None,
           "positive_class": None, "fit_intercept": False}
#: name -> its parameters and their defaults
PROBLEM_PARAMS: dict[str, dict[str, Any]] = {
    Logistic.loss_name: dict(_LINEAR),
    LeastSquares.loss_name: dict(_LINEAR),
    Quadratic.name: {"dim": 50, "kappa": 100.0, "seed": 0},
    PLExample.name: {"x0": 3.0},
}
REGS = ("l2", "l1", "elasticnet", "none")


def problem_names() -> list[str]:
    """The names ``build`` accepts."""
    return list(PROBLEM_PARAMS)


def _number(where: str, value, what: str = "a finite number") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value):
        raise DescentlabError(f"{where}: expected {what}, got {value!r}")
    return float(value)


def check_params(name: str, params: dict, *, where: str = "problem") -> dict:
    """``params`` of problem ``name`` checked and completed with the defaults (no data read).

    Errors name ``where`` and the key: "<where>.lam: expected ..., got ...".
    """
    if name not in PROBLEM_PARAMS:
        raise DescentlabError(f"{where}.name: unknown problem {name!r}"
                              f"{did_you_mean(name, PROBLEM_PARAMS)}; known problems are "
                              f"{', '.join(PROBLEM_PARAMS)}, or "
                              f"'module:Class' for your own Problem subclass")
    accepted = PROBLEM_PARAMS[name]
    unknown = [k for k in params if k not in accepted]
    if unknown:
        key = unknown[0]
        raise DescentlabError(f"{where}.{key}: unknown parameter of {name!r}"
                              f"{did_you_mean(key, accepted)}; accepted are "
                              f"{', '.join(accepted)}")
    out = {**accepted, **params}
    missing = [k for k, v in out.items() if v is REQUIRED]
    if missing:
        raise DescentlabError(f"{where}.{missing[0]}: required for {name!r}, got none "
                              f"(e.g. {missing[0]} = \"a9a\")")
    if name in (Logistic.loss_name, LeastSquares.loss_name):
        if out["reg"] in (None, "none") and "lam" not in params:
            out["lam"] = 0.0
        return _check_linear(out, where)
    if name == Quadratic.name:
        out["dim"] = check_int(f"{where}.dim", out["dim"], minimum=2)
        kappa = check_positive(f"{where}.kappa", out["kappa"])
        if kappa < 1:
            raise DescentlabError(f"{where}.kappa: expected a condition number >= 1, got {kappa!r}")
        out["kappa"] = kappa
        out["seed"] = check_int(f"{where}.seed", out["seed"], minimum=0)
        return out
    out["x0"] = _number(f"{where}.x0", out["x0"])
    return out


def _check_linear(out: dict, where: str) -> dict:
    data = out["data"]
    if not isinstance(data, str) or not data.strip():
        raise DescentlabError(f"{where}.data: expected a dataset name "
                              f"({', '.join(KNOWN_DATASETS)}) or a LIBSVM file path, got "
                              f"{data!r}")
    try:
        resolve_dataset(data)  # a clear error now if it does not exist
    except DescentlabError as exc:
        raise type(exc)(f"{where}.{exc}") from None
    reg = out["reg"]
    if reg is None:
        reg = "none"
    if reg not in REGS:
        raise DescentlabError(f"{where}.reg: expected one of {', '.join(map(repr, REGS))}, "
                              f"got {reg!r}{did_you_mean(reg, REGS)}")
    out["reg"] = reg
    lam = out["lam"]
    if isinstance(lam, str):
        if lam.replace(" ", "") != ONE_OVER_N:
            raise DescentlabError(f"{where}.lam: expected a number >= 0 or \"1/n\", got {lam!r}")
        lam = ONE_OVER_N
    else:
        lam = check_positive(f"{where}.lam", lam, strict=False)
    if reg == "none":
        if lam == ONE_OVER_N or lam:
            raise DescentlabError(f"{where}.lam: expected no lam (or 0) with reg \"none\", got "
                                  f"{lam!r}; set reg = \"l2\", \"l1\" or \"elasticnet\" to "
                                  f"regularize")
    out["lam"] = lam
    ratio = out["l1_ratio"]
    if reg == "elasticnet":
        if ratio is None:
            raise DescentlabError(f"{where}.l1_ratio: expected a number in [0, 1] with reg "
                                  f"\"elasticnet\", got none")
        ratio = _number(f"{where}.l1_ratio", ratio, "a number in [0, 1]")
        if not 0 <= ratio <= 1:
            raise DescentlabError(f"{where}.l1_ratio: expected a number in [0, 1], got {ratio!r}")
        out["l1_ratio"] = ratio
    elif ratio is not None:
        raise DescentlabError(f"{where}.l1_ratio: only used with reg \"elasticnet\", got "
                              f"{ratio!r} with reg {reg!r}")
    if out["positive_class"] is not None:
        out["positive_class"] = _number(f"{where}.positive_class", out["positive_class"],
                                        "a finite label")
    if not isinstance(out["fit_intercept"], bool):
        raise DescentlabError(f"{where}.fit_intercept: expected true or false, got "
                              f"{out['fit_intercept']!r}")
    return out


def build(name: str, *, where: str = "problem", **params) -> Problem:
    """The problem ``name`` with ``params`` (see the module docstring), checked first."""
    params = check_params(name, params, where=where)
    if name == Quadratic.name:
        return Quadratic.with_condition_number(params["dim"], params["kappa"], params["seed"])
    if name == PLExample.name:
        return PLExample(params["x0"])
    cls = Logistic if name == Logistic.loss_name else LeastSquares
    reg = None if params["reg"] == "none" else params["reg"]
    lam = params["lam"]
    if reg is None:
        lam = 0.0
    elif lam == ONE_OVER_N:
        lam = 1.0 / load_libsvm(params["data"])[0].shape[0]
    return cls.from_libsvm(params["data"], reg=reg, lam=lam, l1_ratio=params["l1_ratio"],
                           positive_class=params["positive_class"],
                           fit_intercept=params["fit_intercept"])


__all__ = ["ONE_OVER_N", "PROBLEM_PARAMS", "REQUIRED", "build", "check_params",
           "did_you_mean", "problem_names"]
