"""
Lazy training versus feature learning
=====================================

A two-layer network :math:`h(x) = \\frac{\\alpha}{m}\\sum_j a_j\\,\\sigma(b_j\\cdot x)` with the
loss divided by :math:`\\alpha^2` (Chizat, Oyallon and Bach 2019; seeds 003 and 000). As the
scale :math:`\\alpha` grows, the parameters move less and less
(:math:`\\sup_t\\|x_\\alpha(t) - x_0\\| \\sim 1/\\alpha`: the *lazy* regime, where the network
behaves like its linearization, at distance :math:`\\sim 1/\\alpha^2`); at small
:math:`\\alpha` the features move (the *active* regime). This script runs the ``lazy``
experiment with fewer scales than its quick preset.
"""

import matplotlib.pyplot as plt

from descentlab.experiments import get_experiment

exp = get_experiment("lazy")
config = exp.config("quick", alphas=(1.0, 4.0, 16.0, 64.0), steps=1000, n_records=100)
results = exp.run(config)
for claim in exp.check(results, config):
    print("PASS" if claim.passed else "FAIL", claim.name, "|", claim.measured)
figures = exp.plot(results, config)
plt.show()
