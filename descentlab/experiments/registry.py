"""Registry of the reproduced experiments: a static name -> "module:Class" map.

The built-in experiments are listed in ``BUILTIN`` and imported only when asked for, so
the registry imports no experiment module and no experiment module imports the registry
(no import circle). To add an experiment: write ``descentlab/experiments/<name>.py`` with
an :class:`~descentlab.experiments.base.Experiment` subclass and add one line here.

Experiments outside the package register with :func:`register` from a plugin module named
in the environment variable ``DESCENTLAB_PLUGINS`` (comma-separated module names,
importable from ``sys.path``); the plugins are imported the first time the registry is
read. Worker processes of a sweep need those modules importable too.
"""

from __future__ import annotations

import importlib
import os
import re

from ..errors import DescentlabError

#: the built-in experiments: name -> "module:Class"
BUILTIN: dict[str, str] = {
    "complexity": "descentlab.experiments.complexity:Complexity",
    "diagonal-nets": "descentlab.experiments.diagonal_nets:DiagonalNets",
    "icm-fig2": "descentlab.experiments.icm_fig2:IcmFig2",
    "icm-fig3": "descentlab.experiments.icm_fig3:IcmFig3",
    "icm-fig5": "descentlab.experiments.icm_fig5:IcmFig5",
    "icm-fig6": "descentlab.experiments.icm_fig6:IcmFig6",
    "langevin": "descentlab.experiments.langevin:LangevinExperiment",
    "lazy": "descentlab.experiments.lazy:Lazy",
    "pep-tightness": "descentlab.experiments.pep_tightness:PEPTightness",
    "pl-example": "descentlab.experiments.pl_example:PLExampleExperiment",
    "quadratic-rates": "descentlab.experiments.quadratic_rates:QuadraticRates",
    "rates": "descentlab.experiments.rates:Rates",
    "semilocal-pl": "descentlab.experiments.semilocal_pl:SemilocalPL",
    "weakly-correlated": "descentlab.experiments.weakly_correlated:WeaklyCorrelated",
}
#: experiments registered at run time by plugins (name -> class); they shadow BUILTIN
EXPERIMENTS: dict[str, type] = {}
PLUGINS_ENV = "DESCENTLAB_PLUGINS"


def register(cls):
    """Add an Experiment subclass from outside the package (usable as a class decorator)."""
    EXPERIMENTS[cls.name] = cls
    return cls


def load_plugins() -> list[str]:
    """Import the modules named in ``$DESCENTLAB_PLUGINS``; returns their names."""
    names = [n for n in re.split(r"[,\s]+", os.environ.get(PLUGINS_ENV, "")) if n]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise DescentlabError(f"{PLUGINS_ENV}: cannot import plugin module {name!r} "
                                  f"({exc})") from exc
    return names


def experiment_class(name: str) -> type:
    """The class of experiment ``name`` (a plugin's, else the built-in one, imported now)."""
    load_plugins()
    if name in EXPERIMENTS:
        return EXPERIMENTS[name]
    if name not in BUILTIN:
        raise DescentlabError(f"experiment: unknown experiment {name!r}; known experiments "
                              f"are {', '.join(experiment_names())}")
    module, cls = BUILTIN[name].split(":")
    return getattr(importlib.import_module(module), cls)


def get_experiment(name: str):
    """An instance of the experiment ``name``."""
    return experiment_class(name)()


def experiment_names() -> list[str]:
    """Names of the built-in and plugin experiments, sorted."""
    load_plugins()
    return sorted(set(BUILTIN) | set(EXPERIMENTS))
