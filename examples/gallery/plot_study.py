"""
A study: accelerated against plain gradient methods in one call
===============================================================

A study compares methods on problems over a grid of steps and seeds (see the user guide's
*Studies* page; ``descentlab study FILE.toml --out OUT`` does the same from the shell). Here:
GD at two steps, heavy ball, Nesterov and FISTA on a quadratic with condition number 1000.
The figure shows each method at its best step (median over seeds), the textbook bound
dashed and the tight PEP worst case dotted.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import descentlab as dl

spec = {
    "name": "accelerated-vs-plain",
    "budget_epochs": 300,
    "seeds": [0],
    "targets": [1e-3, 1e-8],
    "record": "linear",
    "n_records": 100,
    "problems": [{"name": "quadratic", "dim": 100, "kappa": 1000.0}],
    "methods": [{"name": "gd", "step": ["theory", "x1.9"]},
                {"name": "heavy-ball"},
                {"name": "nesterov"},
                {"name": "fista", "restart": "none"}],
}
with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp) / "study"
    results = dl.study(spec, out=out)
    summary = (out / "summary.csv").read_text()
    image = plt.imread(next(out.glob("study-*.png")))

print(summary)
print(f"{len(results)} recorded points")
fig, ax = plt.subplots(figsize=(10, 3.8))
ax.imshow(image)
ax.set_axis_off()
plt.show()
