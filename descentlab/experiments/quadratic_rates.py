"""Linear rates of GD, heavy ball and Nesterov on quadratics (seed 004, seed 000).

On F(x) = x^T A x / 2 - b^T x with spectrum in [mu, L], kappa = L/mu, the distance to the
optimum contracts per iteration by (theory, step sizes of ``descentlab.methods``):

* GD, step 1/L:                          rho = 1 - 1/kappa (exact: max_i |1 - lambda_i/L|);
* heavy ball, Polyak's tuning:           rho = (sqrt kappa - 1)/(sqrt kappa + 1), asymptotic;
* Nesterov, beta = (sqrt kappa - 1)/(sqrt kappa + 1), step 1/L:  rho = 1 - 1/sqrt kappa
  (Nesterov 2004, Thm 2.2.3; on quadratics the iteration at lambda = mu has a double root
  at exactly 1 - 1/sqrt kappa, so this is also the asymptotic rate).

The measured factor is exp(slope) of log ||x_k - x*|| fitted where the relative distance is
in [1e-9, 1e-2]. Heavy ball and Nesterov have double roots (Jordan blocks), so the error
behaves like C k rho^k: over a fit window starting at k1 the slope of log k adds at most
1/k1, hence the allowance rho_measured <= rho exp(1/k1) (GD's iteration is symmetric and
gets no allowance beyond 1e-9 for rounding). The figure adds Nesterov's tight worst case over
quadratics with spectrum in [mu, L] (``descentlab.theory.pep``, F(x0) - F* <= 1) for the
first iterations, next to the textbook bound. The acceleration claim compares the
iterations GD and the accelerated methods need to reach relative distance 1e-6: theory
predicts a ratio of about sqrt(kappa); the claim asks for at least sqrt(kappa)/2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..methods import get_method
from ..problems import Quadratic
from ..run import run
from ..theory import fit_linear_rate, pep, plot_pep
from .base import SEEDS, Choice, Claim, Experiment, Int, Items, Real

METHOD_LABELS = {"gd": "GD", "heavy-ball": "heavy ball", "nesterov": "Nesterov"}
FIT_LOW, FIT_HIGH, TARGET = 1e-9, 1e-2, 1e-6
PLOT_FLOOR = 1e-15
#: the tight worst case over quadratics (PEP) is drawn for N = 1..PEP_STEPS
PEP_STEPS = 8
#: kappa >= 2 leaves every method a few iterations per decade of the fit window; the largest
#: kappa and dim keep a task within minutes and a dense dim x dim matrix within memory
MIN_KAPPA, MAX_KAPPA, MAX_DIM = 2.0, 1e6, 4096


def theory_factor(method: str, kappa: float) -> float:
    """Contraction factor of ||x_k - x*|| predicted for ``method`` at condition number kappa."""
    sk = math.sqrt(kappa)
    return {"gd": 1.0 - 1.0 / kappa,
            "heavy-ball": (sk - 1.0) / (sk + 1.0),
            "nesterov": 1.0 - 1.0 / sk}[method]


@dataclass(frozen=True)
class Config:
    kappas: tuple[float, ...] = (10.0, 100.0, 1000.0)
    dim: int = 50
    seeds: tuple[int, ...] = (0,)
    methods: tuple[str, ...] = ("gd", "heavy-ball", "nesterov")
    floor: float = 1e-11


class QuadraticRates(Experiment):
    name = "quadratic-rates"
    title = "Linear rates of GD, heavy ball and Nesterov on quadratics"
    source = "004 (NYU Foundations of Deep Learning, ch. 4: the rate hierarchy); 000 (acceleration)"
    description = ("Measured contraction per iteration of ||x_k - x*|| for GD (1 - 1/kappa), "
                   "heavy ball ((sqrt k - 1)/(sqrt k + 1)) and Nesterov (1 - 1/sqrt k) on "
                   "random quadratics with condition numbers kappa, against the theory.")
    Config = Config
    presets = {"quick": Config(),
               "paper": Config(kappas=(10.0, 100.0, 1000.0, 10000.0), dim=200,
                               seeds=(0, 1, 2))}
    limits = {"kappas": Items(Real(MIN_KAPPA, MAX_KAPPA)), "dim": Int(2, MAX_DIM),
              "seeds": SEEDS, "methods": Items(Choice(METHOD_LABELS)),
              # the runs stop near floor^1.3: below the 1e-6 of the acceleration claim
              "floor": Real(0.0, TARGET, lo_open=True)}

    def tasks(self, config):
        return [{"kappa": float(k), "method": m, "seed": int(s), "dim": config.dim,
                 "floor": config.floor}
                for k in config.kappas for m in config.methods for s in config.seeds]

    def run_task(self, task):
        problem = Quadratic.with_condition_number(task["dim"], task["kappa"], task["seed"])
        rho = theory_factor(task["method"], task["kappa"])
        iters = int(math.ceil(1.3 * math.log(task["floor"]) / math.log(rho))) + 50
        trace = run(problem, get_method(task["method"]), budget_calls=iters, record="linear",
                    n_records=min(iters, 600), seed=task["seed"])
        df = trace.df
        d0, gap0 = df["dist_to_opt"].iloc[0], df["subopt"].iloc[0]
        return pd.DataFrame({
            "kappa": task["kappa"], "method": task["method"], "seed": task["seed"],
            "iteration": df["iteration"], "rel_dist": df["dist_to_opt"] / d0,
            "rel_subopt": (df["subopt"] / gap0).clip(lower=0.0),
            "step": trace.meta["method"]["step"]})

    # ------------------------------------------------------------------ analysis
    @staticmethod
    def measured_factors(results: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for (kappa, method, seed), g in results.groupby(["kappa", "method", "seed"]):
            fit = fit_linear_rate(g["iteration"], g["rel_dist"], low=FIT_LOW, high=FIT_HIGH)
            hit = g.loc[g["rel_dist"] <= TARGET, "iteration"]
            rows.append({"kappa": kappa, "method": method, "seed": seed, "rho": fit.rho,
                         "k_first": fit.k_first, "k_last": fit.k_last,
                         "theory": theory_factor(method, kappa),
                         "iters_to_target": hit.iloc[0] if len(hit) else np.nan})
        return pd.DataFrame(rows)

    def check(self, results, config):
        fits = self.measured_factors(results)
        claims = []
        for _, r in fits.iterrows():
            allowance = 1e-9 if r["method"] == "gd" else 1.0 / r["k_first"]
            bound = r["theory"] * math.exp(allowance)
            claims.append(Claim(
                f"{METHOD_LABELS[r['method']]} rate, kappa={r['kappa']:g}, seed {r['seed']}",
                f"rho <= {r['theory']:.5f} (x {math.exp(allowance):.4f} allowance)",
                f"rho = {r['rho']:.5f} (fit on k in [{r['k_first']:g}, {r['k_last']:g}])",
                bool(r["rho"] <= bound)))
        for (kappa, seed), g in fits.groupby(["kappa", "seed"]):
            its = g.set_index("method")["iters_to_target"]
            if "gd" not in its:
                continue
            for m in ("heavy-ball", "nesterov"):
                if m not in its:
                    continue
                ratio = its["gd"] / its[m]
                claims.append(Claim(
                    f"acceleration of {METHOD_LABELS[m]}, kappa={kappa:g}, seed {seed}",
                    f"iterations(GD)/iterations({METHOD_LABELS[m]}) to 1e-6 >= "
                    f"sqrt(kappa)/2 = {math.sqrt(kappa) / 2:.2f}",
                    f"{its['gd']:.0f}/{its[m]:.0f} = {ratio:.2f}",
                    bool(ratio >= math.sqrt(kappa) / 2)))
        return claims

    def plot(self, results, config):
        kappas = sorted(results["kappa"].unique())
        fig, axes = plt.subplots(1, len(kappas), figsize=(4.2 * len(kappas), 3.6),
                                 squeeze=False, constrained_layout=True)
        colors = {"gd": "C0", "heavy-ball": "C1", "nesterov": "C2"}
        for ax, kappa in zip(axes[0], kappas, strict=True):
            sub = results[(results["kappa"] == kappa) & (results["seed"] == results["seed"].min())]
            kmax = 0
            for method, g in sub.groupby("method"):
                # stop each curve where it reaches the rounding floor of F (about 1e-15)
                above = g["rel_subopt"].to_numpy() > PLOT_FLOOR
                end = int(np.argmin(above)) + 1 if not above.all() else len(g)
                g = g.iloc[:end]
                ax.semilogy(g["iteration"], g["rel_subopt"].clip(lower=PLOT_FLOOR),
                            color=colors.get(method), label=METHOD_LABELS.get(method, method))
                kmax = max(kmax, g["iteration"].max())
            k = np.linspace(0, kmax, 400)
            sk = math.sqrt(kappa)
            ax.semilogy(k, (1 - 1 / kappa) ** (2 * k), "--", color=colors["gd"], lw=1,
                        label="GD bound (1-1/k)^2k")
            ax.semilogy(k, 2 * (1 - 1 / sk) ** k, "--", color=colors["nesterov"], lw=1,
                        label="Nesterov bound 2(1-1/sqrt k)^k")
            ax.semilogy(k, ((sk - 1) / (sk + 1)) ** (2 * k), ":", color=colors["heavy-ball"],
                        lw=1, label="heavy-ball rate ((sqrt k-1)/(sqrt k+1))^2k")
            if "nesterov" in set(sub["method"]):
                plot_pep(ax, np.arange(1, PEP_STEPS + 1), pep.worst_case_curve(
                    "nesterov", L=1.0, mu=1.0 / kappa, n_steps=PEP_STEPS, initial="f0-fstar",
                    function_class="quadratic"),
                    label=f"Nesterov PEP over quadratics, N <= {PEP_STEPS} (tight)")
            ax.set_ylim(PLOT_FLOOR / 10, 10)
            ax.set_xlim(0, kmax)
            ax.set_title(f"kappa = {kappa:g}")
            ax.set_xlabel("iteration k")
        axes[0, 0].set_ylabel("(F(x_k) - F*) / (F(x_0) - F*)")
        axes[0, -1].legend(fontsize=7, loc="upper right")
        return {"suboptimality": fig}


__all__ = ["Config", "QuadraticRates", "theory_factor"]
