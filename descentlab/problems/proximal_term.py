"""F(x) + kappa ||x - center||^2 / 2: the proximal-point subproblem of Catalyst.

Catalyst (Lin, Mairal, Harchaoui 2015) minimizes approximately, at outer step k,
h_k(x) = F(x) + kappa ||x - y_{k-1}||^2 / 2, which is (mu + kappa)-strongly convex and
(L + kappa)-smooth. Every component f_i gets the same quadratic term.
"""

from __future__ import annotations

import numpy as np

from .base import Problem


class ProximalTerm(Problem):
    """``base`` plus kappa ||x - center||^2 / 2 (added to the smooth part and to every f_i)."""

    def __init__(self, base: Problem, kappa: float, center: np.ndarray):
        self.base, self.kappa = base, float(kappa)
        self.center = np.asarray(center, dtype=base.dtype)
        self.n, self.dim, self.dtype = base.n, base.dim, base.dtype
        self.nonsmooth, self.convex = base.nonsmooth, base.convex
        self.name = f"{base.name}+prox-term"

    def _extra(self, x):
        r = x - self.center
        return 0.5 * self.kappa * float(r @ r)

    def value(self, x):
        return self.base.value(x) + self._extra(x)

    def smooth_value(self, x):
        return self.base.smooth_value(x) + self._extra(x)

    def grad(self, x):
        return self.base.grad(x) + self.kappa * (x - self.center)

    def batch_grad(self, x, idx):
        return self.base.batch_grad(x, idx) + self.kappa * (x - self.center)

    def prox(self, x, step):
        return self.base.prox(x, step)

    def component_smoothness(self):
        L_i = self.base.component_smoothness()
        return None if L_i is None else L_i + self.kappa

    def linear_view(self):
        """The base's view with the ridge kappa and the shift -kappa center of every f_i."""
        view = getattr(self, "_view", None)
        if view is None:
            base = self.base.linear_view()
            view = self._view = None if base is None else \
                base.with_proximal_term(self.kappa, self.center)
        return view

    def csc_arrays(self):
        """The base's columns (the proximal term adds no entry to X)."""
        return self.base.csc_arrays()

    @property
    def L(self):
        return self.base.L + self.kappa

    @property
    def L_max(self):
        return self.base.L_max + self.kappa

    @property
    def mu(self):
        return self.base.mu + self.kappa
