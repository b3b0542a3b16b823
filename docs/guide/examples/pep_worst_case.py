"""Tight worst cases with performance estimation: GD against its closed form and its
textbook bound, and the best constant step (which is not 1/L)."""

from __future__ import annotations

import numpy as np

from descentlab.theory import gd_convex_bound, pep

L = 3.0
# GD at step 1/L on L-smooth convex functions, ||x0 - x*||^2 <= 1: F(x_N) - F* after N steps
N = np.arange(1, 6)
worst = pep.worst_case_curve("gd", L=L, n_steps=5)
closed_form = L / (4 * N + 2)                  # Drori and Teboulle (2014), tight
textbook = gd_convex_bound(N, L, 1.0)          # L R^2 / (2N)
print("N  PEP         closed form  textbook")
for row in zip(N, worst, closed_form, textbook, strict=True):
    print("{}  {:.8f}  {:.8f}   {:.8f}".format(*row))
np.testing.assert_allclose(worst, closed_form, rtol=1e-4)
assert np.all(worst < textbook)                # the textbook bound is ~2x loose

# the tight worst case as a function of the constant step at N = 5
steps = np.array([1.0, 1.5, 1.7, 1.9]) / L
at = [pep.worst_case("gd", L=L, step=h, n_steps=5) for h in steps]
print("h L:", steps * L, "PEP:", np.round(at, 5))
assert min(at) < at[0]                         # a longer step than 1/L is better

# Nesterov's convex variant as descentlab runs it: tight value vs 2 L R^2 / (N + 1)^2
nesterov = pep.worst_case("nesterov", L=L, n_steps=5, variant="convex")
print(f"Nesterov N = 5: PEP {nesterov:.5f}, textbook {2 * L / 36:.5f}")
assert nesterov <= 2 * L / 36
