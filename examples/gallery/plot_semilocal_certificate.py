"""
The semilocal PL certificate of a toy network
=============================================

The scalar network :math:`H(a, w) = a\\,w` fitted to :math:`y^*` (seed 003): the Jacobian of
:math:`H` has smallest singular value :math:`|a|`, at least :math:`|a_0|/2` on the ball of
radius :math:`r = |a_0|/2` around :math:`(a_0, 0)`. On that ball the loss is PL, and the
certificate guarantees that gradient flow and GD started at the centre stay in the ball and
converge linearly. The certificate holds only when :math:`|a_0|` is large enough for the
initial loss (here :math:`a_0 = 3`, not 1 or 2); GD converges in every case. The figure
shows GD's trajectory in the :math:`(a, \\|w\\|)` plane and the certified ball.
"""

import matplotlib.pyplot as plt
import numpy as np

import descentlab as dl
from descentlab.problems import ScalarNetwork
from descentlab.theory.semilocal import scalar_network_certificate

y_star = np.array([1.0, 0.5])
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
for a0 in (1.0, 2.0, 3.0):
    problem = ScalarNetwork(y_star, a0=a0)
    cert = scalar_network_certificate(problem)
    trace = dl.run(problem, "gd", budget_calls=200, record="linear", n_records=200,
                   metrics=lambda p, x: {"a": x[0], "w_norm": np.linalg.norm(x[1:])})
    print(f"a0 = {a0:g}: r = {cert.r:g}, certificate holds: {cert.holds}, "
          f"GD certified to stay inside: {cert.gd_inside}")
    (line,) = left.plot(trace.df["a"], trace.df["w_norm"], label=f"a0 = {a0:g}")
    t = np.linspace(0, 2 * np.pi, 200)
    r = abs(a0) / 2
    left.plot(a0 + r * np.cos(t), r * np.sin(t), ":", color=line.get_color())
    right.semilogy(trace.df["iteration"], trace.df["value"], color=line.get_color(),
                   label=f"a0 = {a0:g}, L = {problem.L:.1f}")
left.set(xlabel="a", ylabel="||w||", aspect="equal", title="GD paths and the certified balls")
left.legend(fontsize=8)
right.set(xlabel="iteration", ylabel="loss", title="linear convergence (step 1/L)")
right.legend(fontsize=8)
plt.show()
