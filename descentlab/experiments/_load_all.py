"""Imports every experiment module so that each registers itself."""

from . import (  # noqa: F401
    complexity,
    diagonal_nets,
    icm_fig2,
    icm_fig3,
    icm_fig5,
    icm_fig6,
    langevin,
    lazy,
    pl_example,
    quadratic_rates,
    rates,
    semilocal_pl,
    weakly_correlated,
)
