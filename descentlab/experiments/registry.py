"""Registry of the reproduced experiments.

Experiments register themselves with the :func:`register` class decorator when their
module is imported: the built-in ones through ``_load_all``, others through plugin modules
named in the environment variable ``DESCENTLAB_PLUGINS`` (comma-separated module names,
importable from ``sys.path``), which are imported the first time the registry is read.
Worker processes of a sweep need those modules importable too.
"""

from __future__ import annotations

import importlib
import os
import re

from ..errors import DescentlabError

EXPERIMENTS: dict = {}
PLUGINS_ENV = "DESCENTLAB_PLUGINS"


def register(cls):
    """Class decorator adding an Experiment subclass to the registry."""
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


def _load() -> None:
    from . import _load_all  # noqa: F401  (fills the registry)

    load_plugins()


def get_experiment(name: str):
    """An instance of the registered experiment ``name``."""
    _load()
    if name not in EXPERIMENTS:
        raise DescentlabError(f"experiment: unknown experiment {name!r}; known experiments "
                              f"are {', '.join(sorted(EXPERIMENTS)) or 'none'}")
    return EXPERIMENTS[name]()


def experiment_names() -> list[str]:
    _load()
    return sorted(EXPERIMENTS)
