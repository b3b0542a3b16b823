"""
Diagonal linear networks: from L2 to L1
=======================================

:math:`\\theta = u\\odot u - v\\odot v` trained by gradient descent from
:math:`u = v = \\alpha\\mathbf{1}` on an underdetermined sparse regression (seed 000, idea 3;
Woodworth et al. 2020). Every run interpolates the data; which interpolator it reaches
depends on the scale :math:`\\alpha` of the initialisation: the minimum-:math:`\\ell_2` one
for large :math:`\\alpha`, the minimum-:math:`\\ell_1` (sparse) one as
:math:`\\alpha \\to 0`, and in between exactly the gradient flow's limit
:math:`2\\alpha^2\\sinh(X^\\top\\nu)`. This script runs the ``diagonal-nets`` experiment on a
shorter grid of :math:`\\alpha` than its quick preset.
"""

import matplotlib.pyplot as plt

from descentlab.experiments import get_experiment

exp = get_experiment("diagonal-nets")
config = exp.config("quick", alphas=(1e-3, 1e-2, 0.1, 1.0, 3.0), gd_iterations=20_000,
                    compare_iterations=20_000, sgd_repeats=1)
results = exp.run(config)
for claim in exp.check(results, config):
    print("PASS" if claim.passed else "FAIL", claim.name, "|", claim.measured)
figures = exp.plot(results, config)
plt.show()
