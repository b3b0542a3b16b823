"""
A non-convex function that satisfies PL
=======================================

:math:`f(x) = x^2 + 3\\sin^2 x` is not convex (:math:`f''(\\pi/2) = -4`) but satisfies the
Polyak-Lojasiewicz inequality :math:`\\|f'(x)\\|^2 \\ge 2\\alpha (f(x) - f^*)` (seed 004:
:math:`\\alpha = 1/32`; measured here on a grid: 0.1755). With :math:`\\beta = 8` its
smoothness, GD with step :math:`1/\\beta` contracts :math:`f - f^*` by at least
:math:`1 - \\alpha/\\beta` per step from every starting point.
"""

import matplotlib.pyplot as plt
import numpy as np

import descentlab as dl
from descentlab.problems import PLExample
from descentlab.theory import pl_constant

grid = np.linspace(-10, 10, 20001)
alpha = pl_constant(PLExample(), grid).value
beta = 8.0
print(f"PL constant on the grid: {alpha:.4f} (seed: 1/32 = {1 / 32:.4f})")

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
x = np.linspace(-6, 6, 1001)
left.plot(x, x ** 2 + 3 * np.sin(x) ** 2, label="f")
left.plot(x, (2 * x + 3 * np.sin(2 * x)) ** 2 / 2, label="|f'|^2 / 2")
left.set(xlabel="x", ylim=(0, 60), title="f and its PL ratio's numerator")
left.legend()
for x0 in (0.5, 2.2, -6.0, 10.0):
    trace = dl.run(PLExample(x0), dl.get_method("gd", step=1 / beta), budget_calls=60,
                   record="linear", n_records=60)
    k, gap = trace.df["iteration"], trace.df["subopt"]
    (line,) = right.semilogy(k, gap, label=f"x0 = {x0:g}")
    right.semilogy(k, gap.iloc[0] * (1 - alpha / beta) ** k, "--", color=line.get_color(), lw=1)
right.set(xlabel="iteration", ylabel="f - f*", ylim=(1e-16, 1e3),
          title="GD, step 1/8 (dashed: (1 - alpha/beta)^k)")
right.legend(fontsize=8)
plt.show()
