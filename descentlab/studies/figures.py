"""The study's figures: per problem, rel_subopt against epochs and against time.

One line per method (at its best step, or every step with ``all_steps``): the median over
the seeds with a 10-90% quantile band (each seed's log10 rel_subopt interpolated at the
union of the seeds' records, inside that seed's range), log scale. Where
``descentlab.theory.bounds`` proves a bound for the method at the hyperparameters it ran
with, the bound (divided by max(|F*|, 1e-12), like rel_subopt) is drawn dashed in the same
colour on the epochs panel:

* gd / ista at step 1/L: (1 - mu/L)^k gap0 when mu > 0, else L ||x0 - x*||^2 / (2k) (convex);
* nesterov at step 1/L with its variant's momentum: 2 L ||x0 - x*||^2 / (k + 1)^2 (convex
  variant), (1 - sqrt(mu/L))^k (gap0 + mu ||x0 - x*||^2 / 2) (strongly convex variant);
* fista without restart at step 1/L: 2 L ||x0 - x*||^2 / (k + 1)^2;
* saga, uniform sampling, step 1/(3 L_max), smooth and mu > 0: (L/2) E||x_k - x*||^2 bound
  of Defazio et al. (2014), k = (epochs - 1) n iterations after the initial pass.

k counts iterations; a full-gradient iteration is one epoch.
"""

from __future__ import annotations

import math
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..theory import bounds  # noqa: E402

FLOOR = 1e-16


def _same(a, b) -> bool:
    return isinstance(a, (int, float)) and math.isclose(float(a), b, rel_tol=1e-9)


def theory_bound(method: str, hyper: dict, c: dict, epochs: np.ndarray) -> np.ndarray | None:
    """The bound on F - F* (None when the theory has none for these hyperparameters)."""
    L, mu, gap0, d0 = c["L"], c["mu"], c["gap0"], c["dist0_sq"]
    step = hyper.get("step")
    k = np.asarray(epochs, dtype=float)
    with np.errstate(all="ignore"):
        if method in ("gd", "ista") and _same(step, 1.0 / L):
            if mu > 0:
                return bounds.linear_bound(k, mu, L, gap0)
            if c.get("convex", True) and math.isfinite(d0):
                return bounds.gd_convex_bound(k, L, d0)
        if method == "nesterov" and _same(step, 1.0 / L) and math.isfinite(d0):
            if hyper.get("variant") == "convex" and hyper.get("momentum") is None:
                return bounds.nesterov_bound(k, L, d0)
            if hyper.get("variant") == "strongly-convex" and mu > 0 and _same(
                    hyper.get("momentum"), (math.sqrt(L / mu) - 1) / (math.sqrt(L / mu) + 1)):
                return bounds.nesterov_strongly_convex_bound(k, mu, L, gap0, d0)
        if method == "fista" and hyper.get("restart") is None and _same(step, 1.0 / L) \
                and math.isfinite(d0):
            return bounds.nesterov_bound(k, L, d0)
        if method == "saga" and hyper.get("sampling") == "uniform" and mu > 0 \
                and not c["nonsmooth"] and _same(step, 1.0 / (3.0 * c["L_max"])) \
                and math.isfinite(d0):
            n = c["n"]
            its = np.maximum(k - 1.0, 0.0) * n
            out = 0.5 * L * bounds.saga_bound(its, n, c["L_max"], mu, d0, gap0)
            return np.where(k >= 1.0, out, np.nan)
    return None


def _band(runs: list[tuple[np.ndarray, np.ndarray]]):
    """(x, median, q10, q90) of log10 y over runs, each interpolated inside its range."""
    xs = np.unique(np.concatenate([x for x, _ in runs]))
    grid = np.full((len(runs), xs.size), np.nan)
    for i, (x, y) in enumerate(runs):
        order = np.argsort(x, kind="stable")
        x, y = x[order], np.log10(np.maximum(y[order], FLOOR))
        inside = (xs >= x[0]) & (xs <= x[-1])
        grid[i, inside] = np.interp(xs[inside], x, y)
    keep = np.isfinite(grid).sum(axis=0) * 2 > len(runs)  # a majority of the seeds
    with np.errstate(all="ignore"):
        med = np.nanmedian(grid[:, keep], axis=0)
        lo, hi = np.nanquantile(grid[:, keep], [0.1, 0.9], axis=0)
    return xs[keep], 10 ** med, 10 ** lo, 10 ** hi


def slug(text: str) -> str:
    """A file-name-safe form of a label."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "problem"


def study_figures(results: pd.DataFrame, steps: pd.DataFrame, constants: dict,
                  resolved: dict, *, all_steps: bool = False) -> dict:
    """Figures keyed by problem slug. ``steps`` has the ``best`` column (summary);
    ``resolved[(problem, method, step_label)]`` the hyperparameters a cell ran with."""
    figures = {}
    for problem, rows in results.groupby("problem_label", sort=False):
        c = constants[problem]
        shown = steps[steps["problem_label"] == problem]
        if not all_steps:
            shown = shown[shown["best"]]
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for i, cell in enumerate(shown.itertuples()):
            color = colors[i % len(colors)]
            sel = rows[(rows["method_label"] == cell.method_label)
                       & (rows["step_label"] == cell.step_label)]
            label = f"{cell.method_label}, step {cell.step_label}" + \
                (f" = {cell.step:.3g}" if cell.step_label != f"{cell.step:g}"
                 and np.isfinite(cell.step) else "")
            for ax, x in zip(axes, ("epochs", "time_s"), strict=True):
                runs = [(g[x].to_numpy(float), g["rel_subopt"].to_numpy(float))
                        for _, g in sel.groupby("seed")]
                xs, med, lo, hi = _band(runs)
                ax.plot(xs, med, color=color, label=label if x == "epochs" else None)
                if len(runs) > 1:
                    ax.fill_between(xs, lo, hi, color=color, alpha=0.2, lw=0)
            hyper = resolved.get((problem, cell.method_label, cell.step_label), {})
            method = sel["method"].iloc[0]
            epochs = np.linspace(0.0, float(sel["epochs"].max()), 200)
            bound = theory_bound(method, hyper, c, epochs)
            if bound is not None and np.isfinite(bound).any():
                rel = bound / max(abs(c["f_star"]), 1e-12)
                ok = np.isfinite(rel) & (rel > FLOOR)
                axes[0].plot(epochs[ok], rel[ok], "--", color=color, lw=1.2,
                             label=f"bound ({cell.method_label})")
        for ax, xlabel in zip(axes, ("epochs (oracle calls / n)", "time (s)"), strict=True):
            ax.set_yscale("log")
            ax.set_xlabel(xlabel)
            ax.set_ylabel("(F - F*) / |F*|")
            ax.grid(alpha=0.3)
        axes[1].ticklabel_format(axis="x", style="sci", scilimits=(-2, 4))
        axes[0].legend(fontsize=7)
        ymin = max(FLOOR, float(np.nanmin(np.maximum(rows["rel_subopt"], FLOOR))) / 3)
        for ax in axes:
            lo, hi = ax.get_ylim()
            ax.set_ylim(max(lo, ymin), hi)
        fig.suptitle(f"{problem}: median over seeds, 10-90% band", fontsize=10)
        figures[slug(problem)] = fig
    return figures


__all__ = ["slug", "study_figures", "theory_bound"]
