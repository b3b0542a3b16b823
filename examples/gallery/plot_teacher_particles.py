"""
Particles of a two-layer network converge to a teacher
======================================================

A ReLU teacher :math:`y = \\sum_{k=1}^{4} a^*_k\\,\\mathrm{relu}(b^*_k\\cdot x)` in
:math:`d = 2`, and students :math:`h(x) = \\frac1m\\sum_j a_j\\,\\mathrm{relu}(b_j\\cdot x)` of
widths 5, 20 and 100 trained by one-pass SGD with the scaling of the published Figure 2
(seed 002, Bach and Chizat 2022). Right: the particles :math:`|a_j|\\,b_j` at the end, and
the teacher's neurons :math:`|a^*_k|\\,b^*_k` (stars): the wide networks put particles on
every teacher neuron; the narrow one can get stuck. All three widths train as one batched
array program (:func:`descentlab.particles.train`).
"""

import matplotlib.pyplot as plt
import numpy as np

from descentlab.data.teacher import Teacher
from descentlab.particles import FreshSamples, ParticleBatch, published_sgd, seeded, train

widths = (5, 20, 100)
teacher = Teacher.draw(m0=4, dim=2, rng=seeded(0, 0))
batch = ParticleBatch.init(widths, 2, lambda s, r: seeded(0, 1, s, r))
data = FreshSamples(teacher, seeded(0, 2), batch_size=100)
steps = 20_000
result = train(batch, data, published_sgd(lr=0.002, batch_size=100), steps,
               record_at=np.geomspace(1, steps, 40).astype(int))
for m, loss in zip(widths, result.loss[-1, 0], strict=True):
    print(f"width {m:3d}: loss {loss:.2g} on the last batch")

fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
for r, m in enumerate(widths):
    left.loglog(result.record_steps[1:], result.loss[1:, 0, r], label=f"m = {m}")
left.set(xlabel="SGD step", ylabel="loss on the batch", title="training loss")
left.legend()
final = result.batch
for r, m in enumerate(widths):
    j = slice(final.starts[r], final.starts[r + 1])
    pts = np.abs(final.a[0, j])[:, None] * final.b[0, j]
    right.scatter(pts[:, 0], pts[:, 1], s=8, alpha=0.6, label=f"m = {m}")
star = np.abs(teacher.a)[:, None] * teacher.b
right.scatter(star[:, 0], star[:, 1], marker="*", s=200, c="k", label="teacher")
right.set(aspect="equal", title="particles |a_j| b_j after training")
right.legend(fontsize=8)
plt.show()
