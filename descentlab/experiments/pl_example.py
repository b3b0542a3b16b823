"""The PL example of seed 004: f(x) = x^2 + 3 sin^2 x is non-convex but PL.

Seed 004 ("The Polyak-Lojasiewicz (PL) condition"): L satisfies PL with parameter alpha if
||grad L(u)||^2 >= 2 alpha (L(u) - L_opt) for all u; "the function L(x) = x^2 + 3 sin^2 x ...
is non-convex upon inspection, but nonetheless satisfies the PL condition with constant
alpha = 1/32"; and the theorem: if L is beta-smooth and PL with alpha, GD with step 1/beta
gives L(w_{t+1}) - L_opt <= (1 - alpha/beta)(L(w_t) - L_opt). (The seed's proof writes
L(w_{t+1}) - L_opt on the right of its penultimate inequality where L(w_t) - L_opt is meant:
the descent lemma gives L(w_{t+1}) <= L(w_t) - ||grad L(w_t)||^2 / (2 beta) and PL at w_t
turns it into the stated contraction.)

Closed forms: f'(x) = 2x + 3 sin 2x, f''(x) = 2 + 6 cos 2x, so f'' < 0 where cos 2x < -1/3
(min f'' = -4 at x = pi/2 + k pi: non-convex) and beta = max f'' = 8 (at x = k pi); f* = 0 at
x = 0, its only critical point (f'(x) = 0 iff sin 2x = -2x/3: for 0 < |2x| <= 3 < pi the two
sides have opposite signs, and for |2x| > 3 the right side exceeds 1 in absolute value).

What is computed (``descentlab.theory``):

* alpha = min over a grid of [-R, R] of f'(x)^2 / (2 f(x)) (``pl_constant``), then refined by
  a bounded scalar minimization around the grid minimizer. A grid minimum is an upper
  estimate of the infimum; the infimum over |x| > R is bounded below in closed form:
  |f'(x)| >= 2|x| - 3 and f(x) <= x^2 + 3 give f'^2 / (2 f) >= (2|x| - 3)^2 / (2 (x^2 + 3)),
  increasing for |x| >= 3/2 and equal to (2R - 3)^2 / (2 (R^2 + 3)) at |x| = R (0.81 for
  R = 10); when this tail bound exceeds the grid minimum, the grid minimum is the global one
  up to the grid resolution (which the refinement removes). Result: alpha = 0.17553 at
  x = +-2.2017, well above the seed's 1/32 = 0.03125.
* beta = the largest f'' over the grid (``smoothness`` by Hessian-vector products) = 8.
* f'' < 0 somewhere (``strong_convexity`` on the grid: the smallest f'').
* GD with step 1/beta from several x0: every step contracts f - f* by at most
  1 - alpha/beta (steps where f - f* < 1e-12 (f(x0) - f*) are rounding and skipped), and the
  smallest PL ratio met along each trajectory (``pl_constant_from_trace``) is >= alpha
  (up to the grid resolution: 1e-9 relative).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import optimize

from ..errors import DescentlabError
from ..methods import get_method
from ..problems import PLExample
from ..run import run
from ..theory import (
    linear_bound,
    pl_constant,
    pl_constant_from_trace,
    plot_with_bound,
    smoothness,
    strong_convexity,
)
from .base import Claim, Experiment, Int, Items, Real

SEED_ALPHA = 1.0 / 32.0


def pl_ratio_1d(x):
    """f'(x)^2 / (2 f(x)) for f = x^2 + 3 sin^2 x (closed form, numpy)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (2 * x + 3 * np.sin(2 * x)) ** 2 / (2 * (x * x + 3 * np.sin(x) ** 2))


def tail_bound(R: float) -> float:
    """(2R - 3)^2 / (2 (R^2 + 3)): a lower bound of the PL ratio for |x| >= R >= 3/2."""
    return (2 * R - 3) ** 2 / (2 * (R * R + 3))


@dataclass(frozen=True)
class Config:
    radius: float = 10.0
    grid_points: int = 200001
    x0s: tuple[float, ...] = (0.5, 2.2, 3.0, -6.0, 10.0)
    iters: int = 200
    plot_points: int = 4001


class PLExampleExperiment(Experiment):
    name = "pl-example"
    title = "f(x) = x^2 + 3 sin^2 x: non-convex, PL, and GD converges linearly"
    source = "004 (NYU Foundations of Deep Learning, ch. 4: 'The Polyak-Lojasiewicz condition')"
    description = ("The PL constant of x^2 + 3 sin^2 x computed on a grid (vs the seed's 1/32), "
                   "its non-convexity, and GD with step 1/beta contracting by 1 - alpha/beta.")
    Config = Config
    presets = {"quick": Config(),
               "paper": Config(radius=50.0, grid_points=2000001,
                               x0s=(0.5, 1.0, 2.2, 3.0, -6.0, 10.0, 30.0, -50.0), iters=400)}
    # sizes: a few arrays of grid_points floats (the paper preset has 2 10^6 + 1)
    limits = {"radius": Real(0.0, 1e4, lo_open=True), "grid_points": Int(3, 20_000_001),
              # x0 = 0 is the minimizer: GD would have nothing to contract
              "x0s": Items(Real(-1e6, 1e6, nonzero=True)), "iters": Int(1, 10**6),
              "plot_points": Int(2, 10**6)}

    def constraints(self, config):
        if config.grid_points % 2 == 0:
            raise DescentlabError(f"grid_points: expected an odd number (x = 0, where f'' = "
                                  f"beta = 8, must be a grid point), got {config.grid_points}")

    def tasks(self, config):
        tasks = [{"kind": "landscape", "radius": float(config.radius),
                  "grid_points": int(config.grid_points), "plot_points": config.plot_points}]
        tasks += [{"kind": "gd", "x0": float(x0), "iters": int(config.iters)}
                  for x0 in config.x0s]
        return tasks

    @staticmethod
    def _constants(radius: float, grid_points: int) -> dict:
        """alpha (grid + refinement), beta and min f'' on the grid (an odd number of points
        symmetric about 0, so that x = 0, where f'' = beta = 8, is a grid point)."""
        problem = PLExample()
        grid = np.linspace(-radius, radius, grid_points)
        est = pl_constant(problem, grid)
        x_grid = float(est.argmin[0])
        h = 2 * radius / (grid_points - 1)
        res = optimize.minimize_scalar(pl_ratio_1d, bounds=(x_grid - h, x_grid + h),
                                       method="bounded", options={"xatol": 1e-12})
        alpha = min(float(res.fun), est.value)
        beta = smoothness(problem, points=grid[:, None]).value
        curv = strong_convexity(problem, points=grid[:, None])
        return {"alpha_grid": est.value, "alpha": alpha, "x_alpha": float(res.x),
                "beta": beta, "min_f2": curv.value, "x_min_f2": float(curv.argext[0]),
                "tail": tail_bound(radius)}

    def run_task(self, task):
        if task["kind"] == "landscape":
            c = self._constants(task["radius"], task["grid_points"])
            x = np.linspace(-task["radius"], task["radius"], task["plot_points"])
            df = pd.DataFrame({"kind": "landscape", "x": x,
                               "f": x * x + 3 * np.sin(x) ** 2,
                               "f2": 2 + 6 * np.cos(2 * x), "ratio": pl_ratio_1d(x)})
            for key, value in c.items():
                df[key] = value
            for col in ("x0", "k", "gap", "trace_alpha"):
                df[col] = np.nan
            return df
        problem = PLExample(task["x0"])
        step = 1.0 / problem.L  # 1/beta = 1/8 (beta is measured by the landscape task)
        trace = run(problem, get_method("gd", step=step), budget_calls=task["iters"],
                    record="linear", n_records=task["iters"])
        tr = trace.df
        df = pd.DataFrame({"kind": "gd", "k": tr["iteration"].astype(float),
                           "gap": tr["subopt"]})
        df["x0"] = task["x0"]
        df["trace_alpha"] = pl_constant_from_trace(trace).value
        df["step"] = step
        return df

    # ------------------------------------------------------------------ claims
    def check(self, results, config):
        c = results[results["kind"] == "landscape"].iloc[0]
        alpha, beta = float(c["alpha"]), float(c["beta"])
        steps_used = results.loc[results["kind"] == "gd", "step"].unique()
        claims = [
            Claim("f is not convex", "f'' < 0 somewhere (closed form: min f'' = -4 at pi/2)",
                  f"min f'' = {c['min_f2']:.4f} at x = {c['x_min_f2']:.4f}",
                  bool(c["min_f2"] < 0)),
            Claim("smoothness beta, and GD's step 1/beta",
                  "beta = max f'' = 8 (closed form); GD runs with step 1/beta",
                  f"beta = {beta:.6f} (Hessian-vector products on the grid); steps used "
                  f"{', '.join(f'{s:g}' for s in steps_used)}",
                  bool(abs(beta - 8.0) <= 1e-9
                       and np.allclose(steps_used, 1.0 / beta, rtol=1e-12))),
            Claim("PL constant at least the seed's 1/32",
                  f"alpha = min f'^2/(2 f) >= 1/32 = {SEED_ALPHA:.5f}",
                  f"alpha = {alpha:.6f} at x = {c['x_alpha']:+.4f} (grid of {config.grid_points} "
                  f"points on [-{config.radius:g}, {config.radius:g}]: {c['alpha_grid']:.6f})",
                  bool(alpha >= SEED_ALPHA)),
            Claim("the grid covers the infimum",
                  "tail bound (2R - 3)^2/(2(R^2 + 3)) for |x| >= R exceeds the grid minimum",
                  f"tail bound {c['tail']:.4f} vs alpha {alpha:.4f}",
                  bool(c["tail"] > alpha)),
        ]
        rho = 1.0 - alpha / beta
        for x0, g in results[results["kind"] == "gd"].groupby("x0"):
            gap = g.sort_values("k")["gap"].to_numpy()
            keep = gap[:-1] > 1e-12 * gap[0]
            steps = gap[1:][keep] / gap[:-1][keep]
            worst = float(steps.max()) if steps.size else np.nan
            claims.append(Claim(
                f"GD from x0 = {x0:g}: linear convergence at least 1 - alpha/beta",
                f"every step (f_k+1 - f*)/(f_k - f*) <= 1 - alpha/beta = {rho:.5f} "
                f"(with the seed's alpha = 1/32: {1 - SEED_ALPHA / beta:.5f})",
                f"max = {worst:.5f} over {steps.size} steps; f - f* = {gap[-1]:.2g} after "
                f"{len(gap) - 1} steps", bool(np.isfinite(worst) and worst <= rho)))
            ta = float(g["trace_alpha"].iloc[0])
            claims.append(Claim(
                f"GD from x0 = {x0:g}: PL ratio along the trajectory",
                f"min over the records of ||grad f||^2/(2(f - f*)) >= alpha = {alpha:.5f}",
                f"{ta:.5f}", bool(ta >= alpha * (1 - 1e-9))))
        return claims

    # ----------------------------------------------------------------- figures
    def plot(self, results, config):
        land = results[results["kind"] == "landscape"].sort_values("x")
        c = land.iloc[0]
        alpha, beta = float(c["alpha"]), float(c["beta"])
        fig, axes = plt.subplots(1, 3, figsize=(14, 4.0), constrained_layout=True)
        x = land["x"].to_numpy()
        ax = axes[0]
        ax.plot(x, land["f"], color="C0", label="f(x) = x^2 + 3 sin^2 x")
        ax2 = ax.twinx()
        ax2.plot(x, land["f2"], color="C3", lw=0.8, label="f''(x) = 2 + 6 cos 2x")
        ax2.axhline(0, color="C3", lw=0.5, ls=":")
        ax2.set_ylabel("f''(x)", color="C3")
        neg = land["f2"].to_numpy() < 0
        ax.fill_between(x, 0, 1, where=neg, transform=ax.get_xaxis_transform(), color="C3",
                        alpha=0.12, lw=0, label="f'' < 0 (non-convex)")
        lim = min(config.radius, 6.0)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(0, lim * lim + 4)
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        ax.set_title("the landscape (zoom on [-6, 6])", fontsize=10)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper center")

        ax = axes[1]
        ax.semilogy(x, land["ratio"], color="C0", label="f'(x)^2 / (2 f(x))")
        ax.axhline(alpha, color="C2", ls="--", label=f"alpha = {alpha:.4f} (computed)")
        ax.axhline(SEED_ALPHA, color="C1", ls="--", label="1/32 (seed 004)")
        ax.axhline(2.0, color="0.5", ls=":", lw=0.8, label="limit 2 as |x| -> inf")
        ax.plot([c["x_alpha"], -c["x_alpha"]], [alpha, alpha], "o", color="C2", ms=4)
        ax.set_xlabel("x")
        ax.set_ylabel("PL ratio")
        ax.set_title("PL ratio: its minimum is the PL constant", fontsize=10)
        ax.legend(fontsize=7)

        ax = axes[2]
        for i, (x0, g) in enumerate(results[results["kind"] == "gd"].groupby("x0")):
            g = g.sort_values("k")
            gap = g["gap"].to_numpy()
            keep = gap > 1e-16 * max(gap[0], 1.0)
            end = len(gap) if keep.all() else int(np.argmin(keep)) + 1
            k = g["k"].to_numpy()[:end]
            plot_with_bound(ax, k, np.maximum(gap[:end], 1e-16),
                            linear_bound(k, alpha, beta, gap[0]), label=f"x0 = {x0:g}",
                            bound_label="(1 - alpha/beta)^k (f0 - f*)" if i == 0 else "_",
                            color=f"C{i}")
        ax.set_yscale("log")
        ax.set_xlabel("iteration k (GD, step 1/beta = 1/8)")
        ax.set_ylabel("f(x_k) - f*")
        ax.set_title("GD: measured (solid) vs the PL bound (dashed)", fontsize=10)
        ax.legend(fontsize=7)
        return {"pl": fig}


__all__ = ["Config", "PLExampleExperiment", "pl_ratio_1d", "tail_bound"]
