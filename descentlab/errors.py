"""Errors raised by descentlab.

Every error that bad input can trigger is a ``ValueError`` subclass whose message names
the argument, what was expected and what was received, so that a user can fix the call
without reading the source.
"""

from __future__ import annotations


class DescentlabError(ValueError):
    """Base class of the input errors of descentlab."""


class DatasetNotFoundError(DescentlabError, FileNotFoundError):
    """A dataset name or path that does not resolve to a file."""


class DivergenceError(DescentlabError, ArithmeticError):
    """A run whose objective became NaN/Inf or grew far above its starting value.

    ``trace`` holds the records up to the divergence (a :class:`descentlab.Trace`).
    """

    def __init__(self, message: str, trace=None):
        super().__init__(message)
        self.trace = trace


class DescentlabWarning(UserWarning):
    """Base class of the warnings of descentlab."""


class NoProgressWarning(DescentlabWarning, RuntimeWarning):
    """A run that ended above its starting value F(x0), or never went below it.

    The rule is :func:`descentlab.run.progress_flag`; the Trace records it in
    ``meta["no_progress"]``.
    """


class SolutionError(RuntimeError):
    """The reference solver could not certify an optimum (e.g. unbounded problem)."""
