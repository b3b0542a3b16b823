"""Theory instruments: rate fits (more instruments arrive with the theory issue)."""

from .rates import LinearRateFit, fit_linear_rate

__all__ = ["LinearRateFit", "fit_linear_rate"]
