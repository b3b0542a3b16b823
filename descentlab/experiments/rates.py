"""The rate hierarchy of seed 004: 1/sqrt(t), 1/t, 1/t^2, exp(-t), and SGD's T^(-1/4).

Seed 004 (NYU "Foundations of Deep Learning", ch. 4, "Gradient descent" ... "Stochastic
gradient descent") proves, for GD with step 1/beta (beta = L, the smoothness):

1. smooth:                min_{i<t} ||grad f(w_i)||^2 <= 2 beta (f(w_0) - f*) / t
                          ("GD reaches a point whose gradient norm is <~ sqrt(beta / t)");
2. smooth and convex:     f(w_t) - f* <= beta ||w_0 - w*||^2 / (2 t);
3. Nesterov (stated):     f(w_t) - f* = O(1/t^2); the bound drawn is 2 L ||x0 - x*||^2/(k+1)^2
                          (Nesterov 2004; Beck and Teboulle 2009);
4. strongly convex / PL:  f(w_t) - f* <= (1 - alpha/beta)^t (f(w_0) - f*), exp(-t);
5. SGD, smooth, E g = grad f, ||g|| <= G, constant step eta for T steps:
                          min_{t<T} E||grad f(w_t)||^2 <= (f(w_0) - f*)/(eta T) + beta eta G^2/2,
                          with eta ~ 1/sqrt(T): E||grad f|| <~ T^(-1/4).

One panel per statement, each with the measured curve (solid) and the bound (dashed):

* **smooth non-convex** ``CosineWells``: f(x) = (1/d) sum_j (1 - cos x_j)^2. f'' per coordinate
  is (2 + 2c - 4c^2)/d with c = cos x_j, in [-4/d, 2.25/d]: L = 4/d exactly (at x_j = pi), and
  f is non-convex (f'' = -4/d at x_j = pi). Its minimum f* = 0 at 0 is degenerate (quartic),
  so GD converges polynomially, x_t ~ t^(-1/2) and ||grad f|| ~ t^(-3/2): a power law faster
  than the worst-case t^(-1/2) of the bound (which is tight only for functions built for
  the horizon t). x0 uniform in (-3, 3)^d.
* **convex** ``DiagonalQuadratic``: f(x) = sum_i lambda_i (x_i - x*_i)^2 / 2 with
  lambda_i = i^(-2) and (x0 - x*)_i^2 = 1/i, i = 1..d. GD's gap sum_i lambda_i e_i^2 (1 -
  lambda_i)^(2t)/2 is a Riemann sum of an integral that decays exactly like 1/t (for
  t << d^2, where the smallest eigenvalue takes over): the 1/t of the bound is attained.
* **Nesterov** (convex variant, beta_k = (k - 1)/(k + 2), step 1/L) on the same quadratic.
* **strongly convex**: GD on ``Quadratic.with_condition_number(dim, kappa)`` (L = 1,
  mu = 1/kappa); the measured gap contracts by (1 - 1/kappa)^2 per step asymptotically.
* **PL**: GD on seed 004's f(x) = x^2 + 3 sin^2 x (``PLExample``, beta = 8), alpha = the PL
  constant computed on a grid covering the sublevel set {f <= f(x0)}
  (``descentlab.theory.pl_constant``; 0.1755 vs the seed's 1/32).
* **SGD** ``RobustRegression``: f(x) = (1/n) sum_i rho(a_i . x - y_i), rho(r) = r^2/(2(1 + r^2))
  (Geman-McClure): rho'' = (1 - 3 r^2)/(1 + r^2)^3 in [-1/4, 1], so f is smooth with
  L <= lambda_max(A^T A / n) and non-convex; |rho'| <= 3 sqrt(3)/16 so every stochastic
  gradient is bounded by G = (3 sqrt 3 / 16) max_i ||a_i||; f >= 0 so f(x0) - inf f <= f(x0).
  For each horizon T, SGD (batch 1) runs T steps with the constant step
  eta_T = sqrt(10) / (L sqrt(T)) (seed 004: eta = O(1/sqrt T); the constant keeps eta <= 1/L
  and the iterates in the basin of the robust loss; the bound holds for any eta, and the
  bound-optimal constant sqrt(2 f(x0)/(L G^2)) is tiny because G is a worst-case bound).
  E||grad f(w_t)||^2 is the mean over ``sgd_seeds`` runs at 50 records t in {0, T/50, ...}.
  The curve drawn is A_T = the average of that mean over the records with T/2 <= t < T:
  A_T >= min_{t<T} E||grad f(w_t)||^2, so A_T <= bound implies the theorem's statement, and
  unlike a minimum over noisy records A_T has a small Monte-Carlo error (the minimum over
  the records, also stored, is drawn dotted).

**Checks.** Every bound holds at every record (measured <= bound; the SGD one up to the
Monte-Carlo error of the mean over seeds, which the bound exceeds by orders of magnitude).
Fitted exponents respect the bounds: p(min||grad||) >= 1/2 (non-convex GD), p(gap) >= 1 - 0.05
(convex GD; 0.05 covers the lattice and cutoff corrections of the Riemann sum), p >= 2 - 0.1
(Nesterov; 0.1 for the oscillations of the momentum iterates), p(sqrt(A_T)) >= 1/4 - 0.05
(SGD; two disjoint sets of 8 seeds give exponents 0.255 and 0.263 on the quick grid, so 0.05
is several Monte-Carlo standard errors). Linear rates: the fitted contraction per iteration
is at most 1 - mu/L (strongly convex) and 1 - alpha/beta (PL, where moreover every single
step must contract by 1 - alpha/beta, the statement of the proof). Acceleration: Nesterov's
exponent exceeds GD's by at least 0.8 on
the same problem (theory: 2 vs 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..errors import DescentlabError
from ..methods import get_method
from ..problems import PLExample, Quadratic
from ..problems.toy import CosineWells, DiagonalQuadratic, RobustRegression
from ..run import run
from ..theory import (
    fit_linear_rate,
    fit_power_law,
    gd_convex_bound,
    gd_nonconvex_bound,
    linear_bound,
    nesterov_bound,
    pl_constant,
    plot_pep,
    plot_with_bound,
    running_min,
    sgd_nonconvex_bound,
    smoothness,
    strong_convexity,
)
from .base import SEED, SEEDS, Claim, Experiment, Int, Items, Real

PANELS = ("nonconvex", "convex", "nesterov", "strongly-convex", "pl", "sgd")
TITLES = {
    "nonconvex": "smooth non-convex: GD, min ||grad f|| ~ t^-1/2",
    "convex": "convex: GD, f - f* ~ 1/t",
    "nesterov": "convex: Nesterov, f - f* ~ 1/t^2",
    "strongly-convex": "strongly convex: GD, exp(-t)",
    "pl": "PL (x^2 + 3 sin^2 x): GD, exp(-t)",
    "sgd": "smooth non-convex: SGD, E||grad f|| ~ T^-1/4",
}
FLOOR = 1e-15
#: SGD's step eta_T = SGD_STEP_C / (L sqrt(T)) (<= 1/L from T = 10 on), and records per run
SGD_STEP_C = math.sqrt(10.0)
SGD_RECORDS = 50


# ---------------------------------------------------------------------- instances
def _robust_regression(n: int, d: int, seed: int) -> RobustRegression:
    """a_i ~ N(0, I_d), x_true ~ N(0, I_d / d), y = A x_true + 0.3 noise, 10% gross outliers
    (+- 5 to 10): the residuals at x0 = 0 are O(1), in the curved part of rho."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    x_true = rng.standard_normal(d) / math.sqrt(d)
    y = A @ x_true + 0.3 * rng.standard_normal(n)
    out = rng.random(n) < 0.1
    y[out] += rng.choice([-1.0, 1.0], out.sum()) * rng.uniform(5.0, 10.0, out.sum())
    return RobustRegression(A, y)


def convex_quadratic(dim: int) -> tuple[DiagonalQuadratic, np.ndarray]:
    """lambda_i = i^-2, (x0 - x*)_i = i^-1/2, x0 = 0."""
    i = np.arange(1, dim + 1, dtype=np.float64)
    x_star = 1.0 / np.sqrt(i)
    return DiagonalQuadratic(1.0 / i ** 2, x_star), np.zeros(dim)


# ------------------------------------------------------------------------ config
@dataclass(frozen=True)
class Config:
    nonconvex_dim: int = 20
    nonconvex_iters: int = 10000
    convex_dim: int = 1000
    convex_iters: int = 10000
    sc_dim: int = 50
    sc_kappa: float = 100.0
    pl_x0: float = 10.0
    pl_iters: int = 200
    sgd_n: int = 100
    sgd_d: int = 10
    sgd_horizons: tuple[int, ...] = (100, 300, 1000, 3000, 10000)
    sgd_seeds: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7)
    seed: int = 0
    fit_t_min: float = 30.0
    records: int = 200


def _frame(panel: str, t, measured, bound, **scalars) -> pd.DataFrame:
    df = pd.DataFrame({"panel": panel, "t": np.asarray(t, dtype=np.float64),
                       "measured": np.asarray(measured, dtype=np.float64),
                       "bound": np.asarray(bound, dtype=np.float64)})
    for key in ("L", "mu", "gap0", "dist0_sq", "alpha", "G", "step", "lam_min", "aux"):
        df[key] = float(scalars.get(key, np.nan))
    return df


class Rates(Experiment):
    name = "rates"
    title = "The rate hierarchy: 1/sqrt t, 1/t, 1/t^2, exp(-t), and SGD's T^-1/4"
    source = "004 (NYU Foundations of Deep Learning, ch. 4: GD theorems, the hierarchy, PL, " \
             "SGD)"
    description = ("GD on smooth non-convex, convex, strongly convex and PL problems, "
                   "Nesterov on a convex quadratic and SGD on a smooth non-convex finite sum, "
                   "each against the bound of seed 004; fitted exponents and rates.")
    Config = Config
    presets = {
        "quick": Config(),
        "paper": Config(nonconvex_dim=50, nonconvex_iters=100000, convex_dim=3000,
                        convex_iters=100000, sc_dim=200, sc_kappa=1000.0, pl_x0=30.0,
                        sgd_horizons=(100, 300, 1000, 3000, 10000, 30000, 100000),
                        sgd_seeds=tuple(range(16))),
    }
    # sizes: dense sc_dim x sc_dim and sgd_n x sgd_d matrices; |pl_x0| sets a grid of
    # 2 10^4 (|pl_x0| + 1) points; iteration counts at most 10^7
    limits = {"nonconvex_dim": Int(1, 10**6), "nonconvex_iters": Int(1, 10**7),
              "convex_dim": Int(1, 10**6), "convex_iters": Int(1, 10**7),
              "sc_dim": Int(2, 4096), "sc_kappa": Real(1.0, 1e6, lo_open=True),
              # x0 = 0 is the minimizer of x^2 + 3 sin^2 x
              "pl_x0": Real(-100.0, 100.0, nonzero=True), "pl_iters": Int(10, 10**6),
              "sgd_n": Int(1, 10**5), "sgd_d": Int(1, 1000),
              # the step sqrt(10)/(L sqrt T) is at most 1/L from T = 10 on
              "sgd_horizons": Items(Int(10, 10**7)), "sgd_seeds": SEEDS, "seed": SEED,
              "fit_t_min": Real(0.0, lo_open=True), "records": Int(50, 10**5)}

    def constraints(self, config):
        shortest = min(config.nonconvex_iters, config.convex_iters)
        if config.fit_t_min * 100 > shortest:
            raise DescentlabError(f"fit_t_min: expected at most 1/100 of the shortest run "
                                  f"(nonconvex_iters, convex_iters: {shortest}) so that the "
                                  f"power-law fits have records, got {config.fit_t_min:g}")

    def tasks(self, config):
        base = {"seed": config.seed, "records": config.records}
        tasks = [
            {**base, "panel": "nonconvex", "dim": config.nonconvex_dim,
             "iters": config.nonconvex_iters},
            {**base, "panel": "convex", "dim": config.convex_dim, "iters": config.convex_iters},
            {**base, "panel": "nesterov", "dim": config.convex_dim,
             "iters": config.convex_iters},
            {**base, "panel": "strongly-convex", "dim": config.sc_dim,
             "kappa": config.sc_kappa},
            {**base, "panel": "pl", "x0": config.pl_x0, "iters": config.pl_iters},
        ]
        tasks += [{**base, "panel": "sgd", "n": config.sgd_n, "d": config.sgd_d, "T": int(T),
                   "seeds": [int(s) for s in config.sgd_seeds]}
                  for T in config.sgd_horizons]
        return tasks

    def run_task(self, task):
        panel = task["panel"]
        if panel == "nonconvex":
            return self._nonconvex(task)
        if panel in ("convex", "nesterov"):
            return self._convex(task)
        if panel == "strongly-convex":
            return self._strongly_convex(task)
        if panel == "pl":
            return self._pl(task)
        if panel == "sgd":
            return self._sgd(task)
        raise DescentlabError(f"panel: unknown panel {panel!r}")

    # ---------------------------------------------------------------- panels
    @staticmethod
    def _nonconvex(task):
        d = task["dim"]
        x0 = np.random.default_rng(task["seed"]).uniform(-3.0, 3.0, d)
        problem = CosineWells(d, x0)
        trace = run(problem, "gd", budget_calls=task["iters"], n_records=task["records"])
        df = trace.df
        gap0 = float(df["subopt"].iloc[0])
        t = df["iteration"].to_numpy(dtype=float)
        # min_{i<t} ||grad f(x_i)||: the record at t is x_t, so the min over i < t uses the
        # records before it (a subset of the iterates: the measured min is >= the true one)
        g = df["grad_norm"].to_numpy()
        best_before = np.concatenate([[np.nan], running_min(g)[:-1]])
        bound = np.sqrt(gd_nonconvex_bound(t, problem.L, gap0))
        # non-convexity witness: the smallest Hessian eigenvalue at x = (pi, 0, ..., 0)
        witness = np.zeros(d)
        witness[0] = np.pi
        lam_min = strong_convexity(problem, points=witness[None, :]).value
        return _frame("nonconvex", t, best_before, bound, L=problem.L, gap0=gap0,
                      lam_min=lam_min)

    @staticmethod
    def _convex(task):
        problem, x0 = convex_quadratic(task["dim"])
        nesterov = task["panel"] == "nesterov"
        method = get_method("nesterov", variant="convex") if nesterov else get_method("gd")
        trace = run(problem, method, x0=x0, budget_calls=task["iters"],
                    n_records=task["records"])
        df = trace.df
        t = df["iteration"].to_numpy(dtype=float)
        dist0_sq = float(df["dist_to_opt"].iloc[0] ** 2)
        L = smoothness(problem, points=x0[None, :]).value  # = lambda_1 = 1 (power iteration)
        bound = nesterov_bound(t, L, dist0_sq) if nesterov else gd_convex_bound(t, L, dist0_sq)
        return _frame(task["panel"], t, df["subopt"], bound, L=L, mu=problem.mu,
                      gap0=float(df["subopt"].iloc[0]), dist0_sq=dist0_sq)

    @staticmethod
    def _strongly_convex(task):
        problem = Quadratic.with_condition_number(task["dim"], task["kappa"], task["seed"])
        iters = int(math.ceil(20 * task["kappa"]))
        trace = run(problem, "gd", budget_calls=iters, record="linear",
                    n_records=min(iters, 400))
        df = trace.df
        gap0 = float(df["subopt"].iloc[0])
        L, mu = smoothness(problem).value, strong_convexity(problem).value
        t = df["iteration"].to_numpy(dtype=float)
        return _frame("strongly-convex", t, df["subopt"], linear_bound(t, mu, L, gap0),
                      L=L, mu=mu, gap0=gap0)

    @staticmethod
    def _pl(task):
        problem = PLExample(task["x0"])
        reach = abs(task["x0"]) + 1.0
        grid = np.linspace(-reach, reach, int(2e4 * reach) + 1)
        alpha = pl_constant(problem, grid).value
        beta = smoothness(problem, points=grid[::10]).value
        trace = run(problem, get_method("gd", step=1.0 / beta), budget_calls=task["iters"],
                    record="linear", n_records=task["iters"])
        df = trace.df
        gap0 = float(df["subopt"].iloc[0])
        t = df["iteration"].to_numpy(dtype=float)
        return _frame("pl", t, df["subopt"], linear_bound(t, alpha, beta, gap0), L=beta,
                      mu=alpha, alpha=alpha, gap0=gap0)

    @staticmethod
    def _sgd(task):
        problem = _robust_regression(task["n"], task["d"], task["seed"])
        T = int(task["T"])
        x0 = np.zeros(problem.dim)
        f0 = problem.value(x0)  # >= f(x0) - inf f since f >= 0
        L, G = problem.L, problem.G
        step = SGD_STEP_C / (L * math.sqrt(T))
        sq = []
        for seed in task["seeds"]:
            trace = run(problem, get_method("sgd", step=step), x0=x0, budget_calls=T,
                        record="linear", n_records=SGD_RECORDS, seed=int(seed))
            sq.append(trace.df["grad_norm"].to_numpy() ** 2)
        t = trace.df["iteration"].to_numpy()
        mean_sq = np.mean(sq, axis=0)  # E||grad f(w_t)||^2, estimated by the mean over seeds
        best = float(np.min(mean_sq[t < T]))
        half = float(np.mean(mean_sq[(t >= T / 2) & (t < T)]))
        bound = float(sgd_nonconvex_bound(T, L, f0, G, step))
        far = 30.0 * np.ones(problem.dim)  # all residuals large: rho'' < 0 for every sample
        lam_min = strong_convexity(problem, points=far[None, :]).value
        df = _frame("sgd", [T], [math.sqrt(half)], [math.sqrt(bound)], L=L, gap0=f0, G=G,
                    step=step, lam_min=lam_min)
        df["aux"] = math.sqrt(best)
        return df

    # -------------------------------------------------------------- analysis
    @staticmethod
    def fits(results: pd.DataFrame, config) -> dict:
        """Fitted exponents (power laws) and contractions (linear) per panel."""
        out = {}
        for panel in ("nonconvex", "convex", "nesterov"):
            g = results[results["panel"] == panel]
            if g.empty:
                continue
            y = g["measured"].to_numpy()
            t = g["t"].to_numpy()
            ok = y > FLOOR * max(float(np.nanmax(y)), 1.0)
            out[panel] = fit_power_law(t[ok], y[ok], t_min=config.fit_t_min)
        g = results[results["panel"] == "sgd"].sort_values("t")
        if len(g) >= 2:
            out["sgd"] = fit_power_law(g["t"], g["measured"], min_points=2)
        for panel in ("strongly-convex", "pl"):
            g = results[results["panel"] == panel]
            if g.empty:
                continue
            rel = (g["measured"] / g["measured"].iloc[0]).to_numpy()
            out[panel] = fit_linear_rate(g["t"], rel, low=1e-13, high=1e-1, min_points=3)
        return out

    def check(self, results, config):
        claims = []
        fits = self.fits(results, config)
        for panel in PANELS:
            g = results[results["panel"] == panel]
            if g.empty:
                continue
            ok = np.isfinite(g["measured"]) & np.isfinite(g["bound"]) & (g["t"] > 0)
            gap = g["measured"][ok] > FLOOR * max(float(g["measured"].max()), 1.0)
            ratio = float((g["measured"][ok][gap] / g["bound"][ok][gap]).max())
            claims.append(Claim(f"{panel}: measured curve below the bound", _BOUND_TEXT[panel],
                                f"max measured/bound = {ratio:.3g} over {int(gap.sum())} "
                                "records", bool(ratio <= 1.0)))
        expect = {"nonconvex": (0.5, 0.0, "min_{i<t} ||grad f(x_i)||"),
                  "convex": (1.0, 0.05, "f(x_t) - f*"),
                  "nesterov": (2.0, 0.1, "f(x_k) - f*"),
                  "sgd": (0.25, 0.05, "sqrt(A_T), A_T = mean_{T/2<=t<T} E||grad f(w_t)||^2")}
        for panel, (p, tol, what) in expect.items():
            if panel not in fits:
                continue
            fit = fits[panel]
            claims.append(Claim(
                f"{panel}: fitted exponent respects the bound",
                f"{what} ~ t^-p with p >= {p:g}" + (f" - {tol:g}" if tol else ""),
                f"p = {fit.exponent:.3f} (fit on t in [{fit.t_first:g}, {fit.t_last:g}], "
                f"{fit.n_points} records)", bool(fit.exponent >= p - tol)))
        if "convex" in fits and "nesterov" in fits:
            gain = fits["nesterov"].exponent - fits["convex"].exponent
            claims.append(Claim("acceleration: Nesterov's exponent exceeds GD's",
                                "p(Nesterov) - p(GD) >= 0.8 (theory 2 - 1)",
                                f"{fits['nesterov'].exponent:.3f} - {fits['convex'].exponent:.3f}"
                                f" = {gain:.3f}", bool(gain >= 0.8)))
        for panel, name in (("strongly-convex", "1 - mu/L"), ("pl", "1 - alpha/beta")):
            g = results[results["panel"] == panel]
            if panel not in fits or g.empty:
                continue
            rho_theory = 1.0 - g["mu"].iloc[0] / g["L"].iloc[0]
            fit = fits[panel]
            claims.append(Claim(
                f"{panel}: linear rate", f"contraction per iteration <= {name} = "
                f"{rho_theory:.5f}",
                f"rho = {fit.rho:.5f} (fit on k in [{fit.k_first:g}, {fit.k_last:g}])",
                bool(fit.rho <= rho_theory)))
        g = results[results["panel"] == "pl"]
        if not g.empty:
            gap = g["measured"].to_numpy()
            keep = gap[:-1] > 1e-12 * gap[0]
            steps = gap[1:][keep] / gap[:-1][keep]
            worst = float(steps.max())
            alpha, beta = g["alpha"].iloc[0], g["L"].iloc[0]
            claims.append(Claim(
                "pl: every GD step contracts f - f* by 1 - alpha/beta",
                f"max_k (f_k+1 - f*)/(f_k - f*) <= 1 - alpha/beta = {1 - alpha / beta:.5f} "
                f"(alpha = {alpha:.4f} on a grid, seed: >= 1/32; beta = {beta:g})",
                f"max = {worst:.5f} over {int(keep.sum())} steps", bool(worst <= 1 - alpha / beta)))
        for panel in ("nonconvex", "sgd"):
            g = results[results["panel"] == panel]
            if g.empty:
                continue
            lam = float(g["lam_min"].iloc[0])
            claims.append(Claim(f"{panel}: the problem is non-convex",
                                "smallest Hessian eigenvalue < 0 somewhere",
                                f"lambda_min = {lam:.4g} at the witness point", bool(lam < 0)))
        return claims

    # ---------------------------------------------------------------- figure
    def plot(self, results, config):
        fits = self.fits(results, config)
        fig, axes = plt.subplots(2, 3, figsize=(14, 8.2), constrained_layout=True)
        ylabels = {"nonconvex": "min_{i<t} ||grad f(x_i)||", "convex": "f(x_t) - f*",
                   "nesterov": "f(x_k) - f*", "strongly-convex": "f(x_k) - f*",
                   "pl": "f(x_k) - f*", "sgd": "sqrt(mean_{T/2<=t<T} E||grad f(w_t)||^2)"}
        for ax, panel in zip(axes.flat, PANELS, strict=True):
            g = results[results["panel"] == panel].sort_values("t")
            if g.empty:
                ax.axis("off")
                continue
            t = g["t"].to_numpy()
            y = g["measured"].to_numpy()
            keep = ~(y <= FLOOR * max(float(np.nanmax(y)), 1.0))
            label = "measured"
            if panel in fits and hasattr(fits[panel], "exponent"):
                label += f" (fit p = {fits[panel].exponent:.2f})"
            elif panel in fits:
                label += f" (fit rho = {fits[panel].rho:.4f})"
            plot_with_bound(ax, t[keep], y[keep], g["bound"].to_numpy()[keep], label=label,
                            bound_label=_BOUND_TEXT[panel], color="C0",
                            marker="o" if panel == "sgd" else None, ms=4)
            if panel in ("convex", "nesterov"):
                _draw_pep(ax, panel, t, g["bound"].to_numpy())
            if panel == "sgd":
                ax.plot(t, g["aux"], ":", color="C0", lw=1,
                        label="sqrt(min_{t<T} E||grad f(w_t)||^2) (records)")
            if panel in ("strongly-convex", "pl"):
                ax.set_yscale("log")
                ax.set_xlabel("iteration k")
            else:
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xlabel("horizon T (SGD steps)" if panel == "sgd" else "iteration t")
            ax.set_ylabel(ylabels[panel])
            ax.set_title(TITLES[panel], fontsize=10)
            ax.grid(alpha=0.3, which="both")
            ax.legend(fontsize=7)
        fig.suptitle("Seed 004's hierarchy: measured (solid), the theorems' bounds (dashed), "
                     "the tight PEP worst cases (black dotted)")
        return {"hierarchy": fig}


#: the PEP curves (tight worst cases) are drawn for N = 1..PEP_STEPS
PEP_STEPS = 10


def _draw_pep(ax, panel: str, t: np.ndarray, bound: np.ndarray) -> None:
    """The PEP worst case of GD / Nesterov (convex variant, step 1/L) at N = 1..PEP_STEPS,
    scaled by L ||x0 - x*||^2 (read back from the bound: L R^2 / (2t), 2 L R^2 / (t+1)^2)."""
    from ..theory import pep

    i = int(np.argmax(t > 0))
    scale = bound[i] * 2 * t[i] if panel == "convex" else bound[i] * (t[i] + 1) ** 2 / 2
    method = "gd" if panel == "convex" else "nesterov"
    N = np.arange(1, PEP_STEPS + 1)
    curve = pep.worst_case_curve(method, L=1.0, n_steps=PEP_STEPS, variant="convex") \
        if method == "nesterov" else pep.worst_case_curve(method, L=1.0, n_steps=PEP_STEPS)
    plot_pep(ax, N, scale * curve, label=f"PEP worst case, N <= {PEP_STEPS} (tight)")


_BOUND_TEXT = {
    "nonconvex": "sqrt(2 L (f0 - f*) / t)",
    "convex": "L ||x0 - x*||^2 / (2t)",
    "nesterov": "2 L ||x0 - x*||^2 / (k+1)^2",
    "strongly-convex": "(1 - mu/L)^k (f0 - f*)",
    "pl": "(1 - alpha/beta)^k (f0 - f*)",
    "sgd": "sqrt(f0/(eta T) + L eta G^2/2), eta = sqrt(10)/(L sqrt T)",
}

__all__ = ["CosineWells", "Config", "DiagonalQuadratic", "Rates", "RobustRegression",
           "convex_quadratic"]
