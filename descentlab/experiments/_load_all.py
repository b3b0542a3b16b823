"""Imports every experiment module so that each registers itself."""

from . import quadratic_rates  # noqa: F401
