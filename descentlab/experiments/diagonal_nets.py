"""Implicit bias of diagonal linear networks (seed 000, "Idea 3"; Woodworth et al. 2020;
Pesme, Pillaud-Vivien, Flammarion 2021).

**Setting.** An underdetermined sparse regression: x_i ~ N(0, I_d), i < n, n < d, theta*
with k entries +-1, y = X theta* (``descentlab.problems.diagonal.sparse_regression``). The
predictor is the diagonal network theta = u * u - v * v, trained on
F(u, v) = (1/n) sum_i (x_i . theta - y_i)^2 / 2 from u = v = alpha 1 (theta(0) = 0) by the
library's own ``GD`` and ``SGD`` methods on the ``DiagonalNetwork`` problem.

**References**, computed independently of the dynamics: the minimum-L1 interpolator (linear
program, scipy HiGHS), the minimum-L2 interpolator (pseudo-inverse), and the exact limit of
the gradient flow for the given alpha, the minimizer of Q_alpha among interpolators
(Woodworth et al. 2020; dual Newton, ``implicit_bias_interpolator``).

**Alpha sweep** (task kind "gd"): GD with step ``gd_step`` / L (L the problem's curvature
estimate) for ``gd_iterations`` iterations, for alpha on a log grid. Measured at the end:
relative distances ||theta - theta_ref|| / ||theta_ref|| to the three references, the
training loss, the recovered support (coordinates with |theta_j| > ``support_threshold``
max_j |theta_j|) against supp(theta*), and the test error E(x . (theta - theta*))^2 =
||theta - theta*||^2 (exact for isotropic Gaussian inputs).

**SGD vs GD** (task kind "sgd-vs-gd"): at alpha = ``compare_alpha``, GD and SGD with batches
of one sample and the *same* step gamma = ``compare_step`` / L_1, L_1 = 4 max_i sum_j
|theta_L1,j| x_ij^2 the largest one-sample Hessian eigenvalue at the balanced point of the
sparse solution (u_j^2 = theta_j^+, v_j^2 = theta_j^-), a large step as in Pesme et al.
(their effect grows with the step). SGD's index draws are averaged over ``sgd_repeats``
seeds per data seed. Each step multiplies u_j v_j by 1 - 4 gamma^2 g_j^2; stochastic g_j
are larger, so SGD ends at a smaller *effective* alpha, sqrt(mean_j u_j v_j) (reported).

**Checks.** (1) small alpha (<= ``small_alpha``): rel. distance to the min-L1 interpolator
<= ``tol_l1`` for every seed (the flow's limit approaches the L1 solution only like
1/log(1/alpha): on paper seed 3 it is still 5.8% away at alpha = 1e-3, while GD is 0.4% from
that limit, hence ``small_alpha`` = 2.2e-4 in the paper preset); (2) large alpha (>=
``large_alpha``): rel. distance to the min-L2 interpolator <= ``tol_l2``; (3) every run ends
at the flow's limit for its alpha: rel. distance to the Q_alpha interpolator <= ``tol_flow``
(GD with a small step tracks the flow); (4) support recovered exactly at small alpha, and at
large alpha the support is not sparse (> 2 k coordinates above threshold); (5) the test
error at the smallest alpha is below ``tol_l1``^2 ||theta*||^2 and at the largest alpha
within 5% of the min-L2 interpolator's; (6) along the sweep the distance to L1 grows and the
distance to L2 shrinks with alpha (Spearman rank correlation >= 0.9 in absolute value, seed-
averaged curves); (7) SGD ends closer to the sparse solution than GD: mean over SGD seeds of
the rel. distance to L1 below GD's, for every data seed, and (8) all runs interpolate (final
loss <= ``tol_loss``).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ..errors import DescentlabError
from ..methods import GD, SGD
from ..particles import KEY_TEACHER, KEY_TRAIN, seeded
from ..problems.diagonal import (
    DiagonalNetwork,
    implicit_bias_interpolator,
    min_l1_interpolator,
    min_l2_interpolator,
    sparse_regression,
)
from ..run import run
from .base import SEEDS, Claim, Experiment, Int, Items, Real

MIN_RANK_CORRELATION = 0.9


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def make_data(task: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, theta*) of a task's data seed."""
    return sparse_regression(task["n"], task["d"], task["k"], seeded(task["seed"], KEY_TEACHER))


def sparse_curvature(X: np.ndarray, theta: np.ndarray) -> float:
    """L_1 = 4 max_i sum_j |theta_j| x_ij^2: largest one-sample Hessian eigenvalue at the
    balanced point (u^2, v^2) = (theta^+, theta^-) of an interpolator theta."""
    return 4.0 * float(np.max((X * X) @ np.abs(theta)))


#: the columns ``_measure`` records
MEASURES = ("loss", "rel_l1", "rel_l2", "rel_flow", "test_error", "support_size",
            "support_exact", "alpha_eff")


def _measure(problem, z, refs, theta_star, threshold) -> dict:
    theta = problem.theta(z)
    u, v = problem.split(z)
    big = np.abs(theta) > threshold * np.max(np.abs(theta))
    true = theta_star != 0
    return {"loss": problem.value(z), "rel_l1": _rel(theta, refs["l1"]),
            "rel_l2": _rel(theta, refs["l2"]), "rel_flow": _rel(theta, refs["flow"]),
            "test_error": float(np.sum((theta - theta_star)
                                                                          ** 2)),
            "support_size": int(big.sum()), "support_exact": bool(np.array_equal(big, true)),
            "alpha_eff": float(np.sqrt(max(np.mean(u * v), 0.0)))}


def _train(problem, method, iterations: int, seed, n_records: int, refs, theta_star,
           threshold) -> pd.DataFrame:
    """Run ``method`` for ``iterations`` iterations, measuring at geometric checkpoints."""
    cost = problem.n if isinstance(method, GD) else method.batch_size
    marks = np.unique(np.geomspace(1, iterations, n_records).astype(np.int64))
    trace = run(problem, method, record=marks * cost, seed=seed,
                reference=False, metrics=lambda problem, z: _measure(problem, z, refs,
                                                                     theta_star, threshold))
    df = trace.df[["iteration", *MEASURES]].copy()
    df["final"] = np.arange(len(df)) == len(df) - 1
    return df


@dataclass(frozen=True)
class Config:
    alphas: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
    seeds: tuple[int, ...] = (0,)
    n: int = 40
    d: int = 100
    k: int = 5
    gd_step: float = 1.0
    gd_iterations: int = 30000
    compare_alpha: float = 0.1
    compare_step: float = 1.0
    compare_iterations: int = 60000
    sgd_repeats: int = 3
    n_records: int = 40
    support_threshold: float = 0.1
    small_alpha: float = 1e-3
    large_alpha: float = 3.0
    tol_l1: float = 0.05
    tol_l2: float = 0.01
    tol_flow: float = 0.05
    tol_loss: float = 1e-5


class DiagonalNets(Experiment):
    name = "diagonal-nets"
    title = "Diagonal linear networks: small alpha -> min L1, large alpha -> min L2; SGD sparser"
    source = ("000 (Idea 3: diagonal linear networks; Woodworth et al. 2020, "
              "Pesme et al. 2021)")
    description = ("theta = u*u - v*v on an underdetermined sparse regression, GD from "
                   "u = v = alpha over a log grid of alpha: distance to the min-L1 (linear "
                   "program) and min-L2 (pseudo-inverse) interpolators, to the flow's exact "
                   "limit, support and test error; SGD vs GD at the same alpha and step.")
    Config = Config
    presets = {"quick": Config(),
               "paper": Config(alphas=tuple(float(a) for a in np.geomspace(1e-4, 10.0, 16)),
                               seeds=(0, 1, 2, 3, 4), gd_iterations=100000, small_alpha=2.2e-4,
                               compare_iterations=100000, sgd_repeats=10, n_records=60)}
    # sizes: n x d designs, a linear program and a Newton dual of size n
    limits = {"alphas": Items(Real(0.0, 1e3, lo_open=True)), "seeds": SEEDS,
              "n": Int(1, 2000), "d": Int(2, 20_000), "k": Int(1, 20_000),
              "gd_step": Real(0.0, 10.0, lo_open=True), "gd_iterations": Int(1, 10**7),
              "compare_alpha": Real(0.0, 1e3, lo_open=True),
              "compare_step": Real(0.0, 10.0, lo_open=True),
              "compare_iterations": Int(1, 10**7), "sgd_repeats": Int(1, 1000),
              "n_records": Int(1, 10**4),
              "support_threshold": Real(0.0, 1.0, lo_open=True, hi_open=True),
              "small_alpha": Real(0.0, lo_open=True), "large_alpha": Real(0.0, lo_open=True),
              "tol_l1": Real(0.0, lo_open=True), "tol_l2": Real(0.0, lo_open=True),
              "tol_flow": Real(0.0, lo_open=True), "tol_loss": Real(0.0, lo_open=True)}

    def constraints(self, config):
        if config.n >= config.d:
            raise DescentlabError(f"n: expected fewer samples than d = {config.d} (an "
                                  f"underdetermined regression has many interpolators), "
                                  f"got {config.n}")
        if config.k > config.d:
            raise DescentlabError(f"k: expected at most d = {config.d} non-zeros, "
                                  f"got {config.k}")
        if config.small_alpha >= config.large_alpha:
            raise DescentlabError(f"small_alpha: expected a value below large_alpha = "
                                  f"{config.large_alpha:g}, got {config.small_alpha:g}")

    def tasks(self, config):
        common = {"n": config.n, "d": config.d, "k": config.k, "n_records": config.n_records,
                  "support_threshold": config.support_threshold}
        out = [{"kind": "gd", "alpha": float(a), "seed": int(s), "step_rel": config.gd_step,
                "iterations": config.gd_iterations, **common}
               for s in config.seeds for a in config.alphas]
        out += [{"kind": "sgd-vs-gd", "alpha": float(config.compare_alpha), "seed": int(s),
                 "step_rel": config.compare_step, "iterations": config.compare_iterations,
                 "repeats": config.sgd_repeats, **common} for s in config.seeds]
        return out

    def run_task(self, task):
        X, y, theta_star = make_data(task)
        alpha = task["alpha"]
        problem = DiagonalNetwork(X, y, alpha)
        refs = {"l1": min_l1_interpolator(X, y), "l2": min_l2_interpolator(X, y),
                "flow": implicit_bias_interpolator(X, y, alpha)}
        th = task["support_threshold"]
        runs = []
        if task["kind"] == "gd":
            step = task["step_rel"] / problem.L
            runs.append(("gd", 0, GD(step=step), 0))
        else:
            step = task["step_rel"] / sparse_curvature(X, refs["l1"])
            runs.append(("gd", 0, GD(step=step), 0))
            runs += [("sgd", r, SGD(step=step, batch_size=1),
                      seeded(task["seed"], KEY_TRAIN, r)) for r in range(task["repeats"])]
        frames = []
        for method_name, rep, method, seed in runs:
            df = _train(problem, method, task["iterations"], seed, task["n_records"], refs,
                        theta_star, th)
            df["method"], df["repeat"] = method_name, rep
            frames.append(df)
        df = pd.concat(frames, ignore_index=True)
        df["kind"], df["alpha"], df["seed"], df["step"] = task["kind"], alpha, task["seed"], step
        df["l1_test_error"] = float(np.sum((refs["l1"] - theta_star) ** 2))
        df["l2_test_error"] = float(np.sum((refs["l2"] - theta_star) ** 2))
        df["theta_star_sq"] = float(np.sum(theta_star ** 2))
        df["k"] = task["k"]
        return df

    # ------------------------------------------------------------------ analysis
    @staticmethod
    def finals(results: pd.DataFrame, kind: str) -> pd.DataFrame:
        return results[(results["kind"] == kind) & results["final"]].reset_index(drop=True)

    def check(self, results, config):
        claims = []
        sweep = self.finals(results, "gd")
        small = sweep[sweep["alpha"] <= config.small_alpha]
        large = sweep[sweep["alpha"] >= config.large_alpha]
        claims.append(Claim(
            "small alpha -> min-L1 interpolator",
            f"||theta_GD - theta_L1|| / ||theta_L1|| <= {config.tol_l1:g} for alpha <= "
            f"{config.small_alpha:g} (linear program, scipy HiGHS)",
            f"max {small['rel_l1'].max():.3e} over {len(small)} runs",
            bool(len(small) and small["rel_l1"].max() <= config.tol_l1)))
        claims.append(Claim(
            "large alpha -> min-L2 interpolator",
            f"||theta_GD - theta_L2|| / ||theta_L2|| <= {config.tol_l2:g} for alpha >= "
            f"{config.large_alpha:g} (pseudo-inverse)",
            f"max {large['rel_l2'].max():.3e} over {len(large)} runs",
            bool(len(large) and large["rel_l2"].max() <= config.tol_l2)))
        claims.append(Claim(
            "GD ends at the flow's implicit-bias limit for every alpha",
            f"||theta_GD - theta_Q_alpha|| / ||theta_Q_alpha|| <= {config.tol_flow:g} "
            "(theta_Q_alpha = 2 alpha^2 sinh(X^T nu), Woodworth et al. 2020)",
            f"max {sweep['rel_flow'].max():.3e} over {len(sweep)} runs",
            bool(sweep["rel_flow"].max() <= config.tol_flow)))
        claims.append(Claim(
            "support: exact at small alpha, dense at large alpha",
            f"supp(theta_GD) = supp(theta*) for alpha <= {config.small_alpha:g}; more than 2k "
            f"coordinates above {config.support_threshold:g} max|theta| for alpha >= "
            f"{config.large_alpha:g}",
            f"exact in {int(small['support_exact'].sum())}/{len(small)} small-alpha runs; "
            f"support sizes {sorted(set(large['support_size'].astype(int)))} at large alpha "
            f"(k = {int(sweep['k'].iloc[0])})",
            bool(len(small) and small["support_exact"].all()
                 and (large["support_size"] > 2 * large["k"]).all())))
        lo = sweep[sweep["alpha"] == sweep["alpha"].min()]
        hi = sweep[sweep["alpha"] == sweep["alpha"].max()]
        lo_ok = bool((lo["test_error"] <= config.tol_l1**2 * lo["theta_star_sq"]).all())
        hi_rel = (hi["test_error"] / hi["l2_test_error"] - 1).abs()
        claims.append(Claim(
            "test error: ~0 at small alpha, the min-L2 interpolator's at large alpha",
            f"||theta - theta*||^2 <= {config.tol_l1:g}^2 ||theta*||^2 at alpha = "
            f"{lo['alpha'].iloc[0]:g}; within 5% of ||theta_L2 - theta*||^2 at alpha = "
            f"{hi['alpha'].iloc[0]:g}",
            f"{lo['test_error'].max():.3e} (||theta*||^2 = {lo['theta_star_sq'].iloc[0]:g}); "
            f"{hi['test_error'].mean():.3f} vs {hi['l2_test_error'].mean():.3f}",
            lo_ok and bool((hi_rel <= 0.05).all())))
        curve = sweep.groupby("alpha")[["rel_l1", "rel_l2"]].mean().reset_index()
        r1 = float(spearmanr(curve["alpha"], curve["rel_l1"])[0])
        r2 = float(spearmanr(curve["alpha"], curve["rel_l2"])[0])
        claims.append(Claim(
            "transition along alpha",
            f"Spearman(alpha, dist to L1) >= {MIN_RANK_CORRELATION} and Spearman(alpha, dist "
            f"to L2) <= -{MIN_RANK_CORRELATION} (seed-averaged)",
            f"{r1:.3f} and {r2:.3f} over {len(curve)} alphas",
            bool(r1 >= MIN_RANK_CORRELATION and r2 <= -MIN_RANK_CORRELATION)))
        comp = self.finals(results, "sgd-vs-gd")
        per_seed = []
        for seed, g in comp.groupby("seed"):
            gd = float(g.loc[g["method"] == "gd", "rel_l1"].iloc[0])
            sgd = g.loc[g["method"] == "sgd", "rel_l1"]
            per_seed.append((seed, gd, float(sgd.mean()), float(sgd.std(ddof=0)), len(sgd)))
        txt = "; ".join(f"seed {s}: GD {a:.3f}, SGD {b:.3f} +- {c:.3f} ({r} runs)"
                        for s, a, b, c, r in per_seed)
        claims.append(Claim(
            "SGD ends closer to the sparse solution than GD (Pesme et al. 2021)",
            f"at alpha = {config.compare_alpha:g}, same step: mean over SGD seeds of "
            "||theta - theta_L1|| / ||theta_L1|| < GD's, for every data seed",
            txt, bool(per_seed and all(b < a for _, a, b, _, _ in per_seed))))
        worst = float(results.loc[results["final"], "loss"].max())
        claims.append(Claim(
            "every run interpolates", f"final training loss <= {config.tol_loss:g}",
            f"max {worst:.2e}", bool(worst <= config.tol_loss)))
        return claims

    def plot(self, results, config):
        figs = {}
        sweep = self.finals(results, "gd")
        curve = sweep.groupby("alpha").agg(
            rel_l1=("rel_l1", "mean"), rel_l2=("rel_l2", "mean"), rel_flow=("rel_flow", "max"),
            test=("test_error", "mean"), l2_test=("l2_test_error", "mean"),
            support=("support_size", "mean"), exact=("support_exact", "mean")).reset_index()
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
        ax = axes[0]
        ax.loglog(curve["alpha"], curve["rel_l1"], "o-", label="to min-L1 interpolator (LP)")
        ax.loglog(curve["alpha"], curve["rel_l2"], "s-", label="to min-L2 interpolator (pinv)")
        ax.loglog(curve["alpha"], curve["rel_flow"], "^:", label="to flow limit Q_alpha (max)")
        ax.set_xlabel("alpha (initialisation u = v = alpha)")
        ax.set_ylabel("||theta_GD - theta_ref|| / ||theta_ref||")
        ax.set_title("implicit bias of GD: L1 (rich) -> L2 (kernel)")
        ax.legend(fontsize=8)
        ax = axes[1]
        ax.semilogx(curve["alpha"], curve["support"], "o-", label="support size (mean)")
        ax.axhline(sweep["k"].iloc[0], color="k", ls="--", lw=1, label="k = |supp theta*|")
        ax2 = ax.twinx()
        ax2.semilogx(curve["alpha"], curve["exact"], "s:", color="C2", label="exact recovery")
        ax2.set_ylim(-0.05, 1.05)
        ax2.set_ylabel("fraction of seeds with exact support", color="C2")
        ax.set_xlabel("alpha")
        ax.set_ylabel(f"# |theta_j| > {config.support_threshold:g} max|theta|")
        ax.set_title("recovered support")
        ax.legend(fontsize=8, loc="center left")
        ax = axes[2]
        ax.loglog(curve["alpha"], curve["test"] + 1e-16, "o-", label="GD")
        ax.axhline(curve["l2_test"].mean(), color="C1", ls="--", label="min-L2 interpolator")
        ax.set_xlabel("alpha")
        ax.set_ylabel("test error ||theta - theta*||^2")
        ax.set_title("test error (isotropic Gaussian inputs)")
        ax.legend(fontsize=8)
        figs["alpha_sweep"] = fig

        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
        seed0 = results[(results["kind"] == "gd") & (results["seed"] == results["seed"].min())]
        cmap = plt.get_cmap("viridis")
        alphas = sorted(seed0["alpha"].unique())
        for i, a in enumerate(alphas):
            g = seed0[seed0["alpha"] == a]
            c = cmap(i / max(len(alphas) - 1, 1))
            axes[0].loglog(g["iteration"].clip(lower=1), g["loss"] + 1e-30, color=c,
                           label=f"alpha = {a:.2g}")
            axes[1].semilogx(g["iteration"].clip(lower=1), g["rel_l1"], color=c)
        axes[0].set_ylabel("training loss")
        axes[1].set_ylabel("||theta - theta_L1|| / ||theta_L1||")
        for ax in axes:
            ax.set_xlabel("GD iteration")
        axes[0].legend(fontsize=7, ncol=2)
        axes[0].set_title("GD trajectories (first seed)")
        figs["trajectories"] = fig

        comp = results[results["kind"] == "sgd-vs-gd"]
        if len(comp):
            fig, ax = plt.subplots(figsize=(6, 4.2), constrained_layout=True)
            s0 = comp[comp["seed"] == comp["seed"].min()]
            for (meth, rep), g in s0.groupby(["method", "repeat"]):
                ax.semilogx(g["iteration"].clip(lower=1), g["rel_l1"],
                            color="C0" if meth == "gd" else "C3",
                            lw=2 if meth == "gd" else 0.8,
                            label=meth.upper() if rep == 0 else None)
            ax.set_xlabel("iteration")
            ax.set_ylabel("||theta - theta_L1|| / ||theta_L1||")
            ax.set_title(f"SGD vs GD, alpha = {config.compare_alpha:g}, same step "
                         f"(seed {int(s0['seed'].iloc[0])})")
            ax.legend()
            figs["sgd_vs_gd"] = fig
        return figs


__all__ = ["Config", "DiagonalNets", "make_data", "sparse_curvature"]
