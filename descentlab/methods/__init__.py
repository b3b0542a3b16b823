"""How it is minimized: methods as frozen dataclasses of hyperparameters (``base``), one
module per family (``gradient``, ``accelerated``, ``sgd``, ``adaptive``, ``variance_reduced``,
``coordinate``, ``quasi_newton``, ``langevin``), index draws in ``sampling``. A new method is a
class in its family's module plus one entry in ``METHODS``."""

from __future__ import annotations

import dataclasses

from .._validation import did_you_mean
from ..errors import DescentlabError
from .accelerated import FISTA, Catalyst, HeavyBall, Katyusha, Nesterov
from .adaptive import AdaGrad, Adam, RMSProp
from .auto import Auto
from .base import Method, State, iterations_for, proximal_methods
from .coordinate import CD, ProxNewton
from .dual import MISO, SDCA
from .gradient import GD, ProximalGradient
from .langevin import Langevin
from .quasi_newton import LBFGS, OWLQN, NewtonCG, QNing
from .sgd import SGD
from .variance_reduced import LSVRG, SAG, SAGA, SARAH, STORM, SVRG, SpiderBoost

#: registry: name -> method class
METHODS: dict[str, type[Method]] = {
    cls.name: cls for cls in (GD, HeavyBall, Nesterov, ProximalGradient, FISTA,
                              SAG, SAGA, SVRG, LSVRG, SARAH, Catalyst, SGD, Adam, AdaGrad,
                              RMSProp, STORM, SpiderBoost, Katyusha, Langevin,
                              CD, ProxNewton,
                              SDCA, MISO,
                              LBFGS, OWLQN, NewtonCG, QNing, Auto)
}
ALIASES = {"heavyball": "heavy-ball", "hb": "heavy-ball", "agd": "nesterov",
           "prox-grad": "ista", "proximal-gradient": "ista", "l-svrg": "lsvrg",
           "loopless-svrg": "lsvrg", "spider": "spiderboost", "l-katyusha": "katyusha",
           "ula": "langevin", "coordinate-descent": "cd", "proxnewton": "prox-newton",
           "prox-sdca": "sdca",
           "l-bfgs": "lbfgs", "owl-qn": "owlqn", "newtoncg": "newton-cg", "tron": "newton-cg"}


def get_method(name: str, **hyperparameters) -> Method:
    """Build a registered method by name, e.g. ``get_method("fista", restart=None)``."""
    if not isinstance(name, str):
        raise DescentlabError(f"method: expected a method name, got {name!r}")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in METHODS:
        hint = did_you_mean(key, [*METHODS, *ALIASES])
        raise DescentlabError(f"method: unknown method {name!r}{hint}; known methods are "
                              f"{', '.join(sorted(METHODS))}")
    cls = METHODS[key]
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(hyperparameters) - fields
    if unknown:
        listed = ", ".join(k + did_you_mean(k, fields) for k in sorted(unknown))
        raise DescentlabError(f"{key}: unknown hyperparameter(s) {listed}; valid ones are "
                              f"{', '.join(sorted(fields)) or 'none'}")
    return cls(**hyperparameters)


__all__ = ["CD", "Auto", "FISTA", "GD", "LBFGS", "LSVRG", "METHODS", "MISO", "OWLQN", "SAG", "SAGA",
           "SARAH", "SDCA", "SGD", "STORM", "SVRG", "NewtonCG", "QNing",
           "AdaGrad", "Adam", "Catalyst", "HeavyBall", "Katyusha", "Langevin", "Method", "Nesterov",
           "ProxNewton", "ProximalGradient", "RMSProp", "SpiderBoost", "State", "get_method",
           "iterations_for", "proximal_methods"]
