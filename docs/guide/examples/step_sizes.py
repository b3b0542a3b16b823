"""Adding an experiment: GD on a quadratic converges for every step below 2/L, diverges above.

This file is the worked example of the user guide ("Adding an experiment"); the test suite
runs it (tests/test_docs.py). As a plugin module it registers the experiment ``gd-step-sizes``:

    DESCENTLAB_PLUGINS=step_sizes descentlab reproduce gd-step-sizes --out runs/steps

(with this file's directory on PYTHONPATH). Run as a script, it reproduces the quick preset.

Theory (seed 004, the descent lemma; exact on quadratics): GD with step s on
F(x) = x^T A x / 2 - b^T x contracts x - x* by max_i |1 - s lambda_i| per iteration, which is
below 1 exactly when s < 2/L.
"""

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from descentlab.errors import DivergenceError
from descentlab.experiments import Claim, Experiment, register
from descentlab.experiments.base import SEEDS, Int, Items, Real
from descentlab.methods import GD
from descentlab.problems import Quadratic
from descentlab.run import run


@dataclass(frozen=True)
class Config:
    """The settings: one field each, with the quick preset's values as defaults."""

    factors: tuple[float, ...] = (0.5, 1.0, 1.5, 1.9, 2.1)   # step = factor / L
    kappa: float = 10.0
    dim: int = 20
    iters: int = 300
    seeds: tuple[int, ...] = (0,)


@register
class StepSizes(Experiment):
    name = "gd-step-sizes"
    title = "GD converges for every step below 2/L and diverges above"
    source = "004 (NYU Foundations of Deep Learning, ch. 4: the descent lemma)"
    description = "GD with steps c/L, c in (0, 2.5), on random quadratics: rate vs c."
    Config = Config
    presets = {"quick": Config(),
               "paper": Config(factors=tuple(np.round(np.linspace(0.1, 2.4, 24), 2)),
                               kappa=100.0, dim=100, iters=2000, seeds=(0, 1, 2))}
    # one rule per setting: a bad value is one clear error before any task runs
    limits = {"factors": Items(Real(0.0, 10.0, lo_open=True)), "kappa": Real(1.0, 1e6),
              "dim": Int(2, 2000), "iters": Int(10, 10**6), "seeds": SEEDS}

    def tasks(self, config):
        # every task is a plain dict that fully determines its computation (seed included)
        return [{"factor": float(c), "kappa": config.kappa, "dim": config.dim,
                 "iters": config.iters, "seed": int(s)}
                for c in config.factors for s in config.seeds]

    def run_task(self, task):
        problem = Quadratic.with_condition_number(task["dim"], task["kappa"], task["seed"])
        step = task["factor"] / problem.L
        # the predicted contraction of ||x - x*||: max over the spectrum of |1 - s lambda|
        rho = float(np.max(np.abs(1.0 - step * problem.eigenvalues)))
        try:
            trace = run(problem, GD(step=step), budget_calls=task["iters"], record="linear",
                        n_records=task["iters"], seed=task["seed"])
            dist = trace.df["dist_to_opt"].to_numpy()
            k = trace.df["iteration"].to_numpy()
            # fit log ||x_k - x*|| on the second half of the records above rounding level,
            # where the slowest eigen-direction dominates
            window = np.flatnonzero(dist > 1e-12 * dist[0])
            window = window[len(window) // 2:]
            slope = np.polyfit(k[window], np.log(dist[window]), 1)[0]
            measured, diverged = float(np.exp(slope)), False
        except DivergenceError:  # the run loop stops a run whose F blows up
            measured, diverged = float("inf"), True
        return pd.DataFrame({"factor": [task["factor"]], "seed": [task["seed"]],
                             "rho_theory": [rho], "rho_measured": [measured],
                             "diverged": [diverged]})

    def check(self, results, config):
        claims = []
        for _, r in results.iterrows():
            if r["factor"] < 2.0:
                claims.append(Claim(
                    f"step {r['factor']:g}/L, seed {r['seed']}: converges at the predicted rate",
                    f"rho = max |1 - s lambda_i| = {r['rho_theory']:.4f}",
                    f"rho = {r['rho_measured']:.4f}",
                    bool(abs(r["rho_measured"] - r["rho_theory"]) <= 0.01)))
            else:
                claims.append(Claim(
                    f"step {r['factor']:g}/L, seed {r['seed']}: diverges",
                    "F blows up (step above 2/L)",
                    "diverged" if r["diverged"] else f"rho = {r['rho_measured']:.4f}",
                    bool(r["diverged"] or r["rho_measured"] > 1)))
        return claims

    def plot(self, results, config):
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ok = results[~results["diverged"]]
        ax.plot(ok["factor"], ok["rho_measured"], "o", label="measured")
        grid = np.linspace(0.05, 2.4, 200)
        mu = 1.0 / config.kappa
        ax.plot(grid, np.maximum(np.abs(1 - grid), np.abs(1 - grid * mu)), "--",
                label="max |1 - s lambda|")
        ax.axvline(2.0, color="grey", lw=0.8)
        ax.set(xlabel="step x L", ylabel="contraction per iteration", ylim=(0, 1.5))
        ax.legend()
        return {"rates": fig}


if __name__ == "__main__":
    import sys
    import tempfile

    from descentlab.experiments import reproduce

    out = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
    rep = reproduce("gd-step-sizes", preset="quick", out=out)
    for claim in rep.claims:
        print("PASS" if claim.passed else "FAIL", claim.name, "|", claim.measured)
    assert rep.passed, "a claim failed"
    assert len(rep.claims) == len(Config().factors)
    print("wrote", out)
