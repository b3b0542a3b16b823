"""
SAGA, SVRG and SGD on a9a, in oracle calls
==========================================

L2-regularized logistic regression on a9a (:math:`n = 32561`, :math:`\\lambda = 10^{-4}`).
The variance-reduced methods converge linearly in oracle calls (seed 000:
:math:`(n + \\kappa)\\log 1/\\varepsilon`) with their default steps
(computed from the constants of the problem); SGD with its default decreasing step stalls
at the noise level. The x axis is in epochs (:math:`n` oracle calls each); the y axis is the
relative suboptimality against the certified optimum.
"""

import matplotlib.pyplot as plt

import descentlab as dl
from descentlab.problems import Logistic

problem = Logistic.from_libsvm("a9a", reg="l2", lam=1e-4)
x_star, f_star = problem.solution()        # certified optimum (scipy, ||grad|| <= 1e-10)

fig, ax = plt.subplots(figsize=(6, 4))
for name in ("saga", "svrg", "sgd"):
    trace = dl.run(problem, name, budget_epochs=8, tol=1e-10, n_records=60, seed=0)
    epochs = trace.df["oracle_calls"] / problem.n
    ax.semilogy(epochs, trace.df["rel_subopt"], label=str(trace.meta["method"]["name"]))
    print(f"{name:5s} rel. subopt {trace.final('rel_subopt'):.2e} after "
          f"{trace.final('oracle_calls') / problem.n:.1f} epochs, {trace.final('time_s'):.2f} s")
ax.set(xlabel="epochs (n oracle calls)", ylabel="(F - F*) / |F*|", title="a9a, L2, lam = 1e-4")
ax.legend()
plt.show()
