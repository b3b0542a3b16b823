"""Registry of the reproduced experiments."""

from __future__ import annotations

from ..errors import DescentlabError

EXPERIMENTS: dict = {}


def register(cls):
    """Class decorator adding an Experiment subclass to the registry."""
    EXPERIMENTS[cls.name] = cls
    return cls


def get_experiment(name: str):
    """An instance of the registered experiment ``name``."""
    from . import _load_all  # noqa: F401  (fills the registry)

    if name not in EXPERIMENTS:
        raise DescentlabError(f"experiment: unknown experiment {name!r}; known experiments "
                              f"are {', '.join(sorted(EXPERIMENTS)) or 'none'}")
    return EXPERIMENTS[name]()


def experiment_names() -> list[str]:
    from . import _load_all  # noqa: F401

    return sorted(EXPERIMENTS)
