"""Imports every experiment module so that each registers itself."""

from . import (  # noqa: F401
    complexity,
    pl_example,
    quadratic_rates,
    rates,
    semilocal_pl,
)
