"""Imports every experiment module so that each registers itself."""

from . import (  # noqa: F401
    complexity,
    icm_fig2,
    icm_fig3,
    lazy,
    pl_example,
    quadratic_rates,
    rates,
    semilocal_pl,
)
