"""
Implicit bias of a two-layer network in 2D
==========================================

Figure 5 of seed 002 (Bach and Chizat 2022): a wide ReLU network trained by gradient descent
on a logistic-type loss for :math:`k^2 = 9` labelled disks in the plane. Training only the
output layer converges to the kernel max-margin classifier (a smooth boundary); training
both layers converges to a max-margin classifier in the variation norm, which uses a few
directions (a piecewise linear boundary). This script runs the ``icm-fig5`` experiment with
one training set, a smaller width and fewer steps than its quick preset, and draws its figure
with the experiment's own ``plot``.
"""

import matplotlib.pyplot as plt

from descentlab.experiments import get_experiment

exp = get_experiment("icm-fig5")
config = exp.config("quick", sets=1, width=300, steps=20_000, grid=41, n_test=500)
results = exp.run(config)
for claim in exp.check(results, config):
    print("PASS" if claim.passed else "FAIL", claim.name, "|", claim.measured)
figures = exp.plot(results, config)
plt.show()
