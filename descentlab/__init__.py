"""descentlab: a laboratory for first-order optimization in machine learning."""

from .errors import (
    DatasetNotFoundError,
    DescentlabError,
    DescentlabWarning,
    DivergenceError,
    NoProgressWarning,
    SolutionError,
)
from .methods import get_method
from .provenance import package_version
from .run import Stop, run
from .trace import Trace

__version__ = package_version()


def __getattr__(name: str):
    """``descentlab.study`` (imported on first use: it brings matplotlib and the sweeps)."""
    if name == "study":
        from .studies import study

        return study
    raise AttributeError(f"module 'descentlab' has no attribute {name!r}")


__all__ = ["DatasetNotFoundError", "DescentlabError", "DescentlabWarning", "DivergenceError",
           "NoProgressWarning", "SolutionError", "Stop", "Trace", "__version__", "get_method",
           "run", "study"]
