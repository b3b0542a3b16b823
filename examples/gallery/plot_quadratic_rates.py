"""
GD, heavy ball and Nesterov on a quadratic
==========================================

On :math:`F(x) = \\frac12 x^\\top A x - b^\\top x` with spectrum in :math:`[\\mu, L]` and
:math:`\\kappa = L/\\mu`, the distance to the optimum contracts per iteration by
:math:`1 - 1/\\kappa` for GD with step :math:`1/L`, by
:math:`(\\sqrt\\kappa - 1)/(\\sqrt\\kappa + 1)` for heavy ball with Polyak's tuning and by
:math:`1 - 1/\\sqrt\\kappa` for Nesterov's method (seed 004; Nesterov 2004, Thm 2.2.3). The
dashed lines are these rates, the solid ones the measured distances.
"""

import matplotlib.pyplot as plt
import numpy as np

import descentlab as dl
from descentlab.problems import Quadratic

kappa = 1000.0
problem = Quadratic.with_condition_number(200, kappa=kappa, seed=0)
rates = {"gd": 1 - 1 / kappa,
         "heavy-ball": (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1),
         "nesterov": 1 - 1 / np.sqrt(kappa)}

fig, ax = plt.subplots(figsize=(6, 4))
for name, rho in rates.items():
    trace = dl.run(problem, name, budget_calls=3000, record="linear", n_records=300)
    k, dist = trace.df["iteration"], trace.df["dist_to_opt"] / trace.df["dist_to_opt"].iloc[0]
    (line,) = ax.semilogy(k, dist, label=name)
    ax.semilogy(k, rho ** k, "--", color=line.get_color(), lw=1)
    print(f"{name:10s} step {trace.meta['method']['step']:.4g}, "
          f"||x - x*|| / ||x0 - x*|| = {dist.iloc[-1]:.2e} after {k.iloc[-1]} iterations")
ax.set(xlabel="iteration", ylabel="||x_k - x*|| / ||x_0 - x*||", ylim=(1e-14, 10),
       title=f"quadratic, kappa = {kappa:g}")
ax.legend()
plt.show()
