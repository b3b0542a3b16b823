"""Success rate of SGD against width in the teacher-student setting (seed 002, Figure 3).

Setting (section 4.4 and Figure 3 of the ICM review, with the published code's
convention): x ~ N(0, I_d), a teacher with m0 = 10 unit neurons and output weights +-1,
y = sum_k a*_k relu(b*_k . x); students of width m = 1..30 with A_j = +-1/m and B_j
uniform on the unit sphere, trained by 10^4 steps of SGD on fresh batches of 100 points
with lr = 0.005 in the published form (``descentlab.particles.published_sgd``: mean-field
SGD whose hidden layer has a learning rate batch-size times the output layer's); risk =
mean (f - y)^2 / 2 on 1000 fresh points; success = risk <= 10^-3; 30 repetitions, the
teacher redrawn per repetition. The paper shows d = 100 (its notebook also ran d = 20).

Layout: a task is one (d, repetition). Its teacher, its training stream (the fresh
batches) and its 1000 test points are shared by all its widths, and the 30 widths
train as one array program (``descentlab.particles.train``, 465 particles). The published
notebook drew new batches for each width; sharing them changes nothing in distribution
and makes a repetition's widths comparable on the same data. Each network's
initialisation has its own seed (seed, init, d, rep, m), so a network trained alone
gives the same result (``tests/test_particles.py``).

Precision: the particles, the sums and the updates are float64; the two matrix products
of each step (b X^T and Q X, 60% of the work at d = 100) run in float32 by default
(``matmul_dtype``), which saves about a quarter of the paper preset's CPU time (timings in
NOTES.md). On the whole paper grid
(1800 trainings) the success flags were identical to full float64; the risks of the 739
failed runs differ by 5e-9 (relative) at the median and 31% at most.
``--set matmul_dtype=float64`` runs everything in double precision.

Claims (for each d): (1) no success for m < m0 (a width-m ReLU network with m < m0 cannot
represent m0 generic neurons); (2) the success rate rises with m: Spearman rank
correlation between m and the success rate >= 0.7; (3) success rate >= 0.9 for m >= 2 m0,
over all the runs with m >= 2 m0 (the lowest rate of a single width is reported too: with
30 repetitions a width's rate has a binomial standard error of about 0.04 at 0.95, so
"every width >= 0.9" would fail by chance). ``risk_exact`` (the closed-form population
risk of the trained network, an extra column) shows how far the 1000-point estimate is
from the true risk.

The quick preset (d = 20, 10 repetitions, widths 4..40) runs in about 10 s; it goes past
30 so that the widths >= 2 m0 are not only the hardest one.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .._validation import check_choice
from ..data.teacher import Teacher
from ..particles.batch import KEY_INIT, KEY_TEACHER, KEY_TEST, KEY_TRAIN, ParticleBatch, seeded
from ..particles.engine import MATMUL_DTYPES, evaluate, published_sgd, train
from ..particles.samples import FreshSamples
from ..theory.kernels import population_risk
from .base import SEED, Choice, Claim, Experiment, Int, Items, Real

MIN_RANK_CORRELATION = 0.7
MIN_SUCCESS_LARGE = 0.9
RISK_FLOOR = 1e-11  # added to the risks on the log axis, as in the published figure


@dataclass(frozen=True)
class Config:
    dims: tuple[int, ...] = (20, 100)
    m0: int = 10
    widths: tuple[int, ...] = tuple(range(1, 31))
    reps: int = 30
    steps: int = 10_000
    batch_size: int = 100
    lr: float = 0.005
    n_test: int = 1000
    threshold: float = 1e-3
    seed: int = 0
    matmul_dtype: str = "float32"


def run_repetition(task: dict) -> pd.DataFrame:
    """Train every width of one (d, rep) on the same teacher and data; one row per width."""
    d, rep, seed = task["d"], task["rep"], task["seed"]
    widths = tuple(task["widths"])
    teacher = Teacher.draw(task["m0"], d, seeded(seed, KEY_TEACHER, d, rep))
    batch = ParticleBatch.init(widths, d, lambda _s, r: seeded(seed, KEY_INIT, d, rep,
                                                                widths[r]))
    data = FreshSamples(teacher, [seeded(seed, KEY_TRAIN, d, rep)], task["batch_size"])
    test = data.test_set(task["n_test"], [seeded(seed, KEY_TEST, d, rep)])
    result = train(batch, data, published_sgd(task["lr"], task["batch_size"]), task["steps"],
                   record_at=[task["steps"]], observe=lambda b: {"risk": evaluate(b, test)[0]},
                   matmul_dtype=task["matmul_dtype"])
    risk = result.records["risk"][-1, 0]
    exact = [population_risk(*result.batch.network(0, r), teacher) for r in range(len(widths))]
    return pd.DataFrame({"d": d, "m": np.asarray(widths, dtype=np.int64), "rep": rep,
                         "risk": risk, "success": risk <= task["threshold"],
                         "risk_exact": exact})


class IcmFig3(Experiment):
    name = "icm-fig3"
    title = "Teacher-student SGD: risk and success rate against width (ICM Figure 3)"
    source = "002 (Bach and Chizat, ICM 2022 review: section 4.4, Figure 3)"
    description = ("SGD on fresh samples (10^4 steps, batch 100, lr 0.005, published "
                   "convention) for students of width 1..30 of a teacher with m0 = 10 ReLU "
                   "neurons, 30 repetitions; success = risk <= 1e-3 on 1000 fresh points. "
                   "Claims: no success below m0, success rises with m, >= 90% from 2 m0.")
    Config = Config
    presets = {"quick": Config(dims=(20,), widths=(4, 8, 12, 16, 20, 30, 40), reps=10),
               "paper": Config()}
    # sizes: batches of batch_size x d and n_test x d floats, sum(widths) particles of d
    limits = {"dims": Items(Int(1, 1000)), "m0": Int(1, 1000), "widths": Items(Int(1, 10_000)),
              "reps": Int(1, 10_000), "steps": Int(1, 10**7), "batch_size": Int(1, 10_000),
              "lr": Real(0.0, 100.0, lo_open=True), "n_test": Int(1, 100_000),
              "threshold": Real(0.0, lo_open=True), "seed": SEED,
              "matmul_dtype": Choice(MATMUL_DTYPES)}
    version = "2"

    def tasks(self, config):
        check_choice("matmul_dtype", config.matmul_dtype, MATMUL_DTYPES)
        # the larger d first: the longest tasks start first on the workers
        return [{"d": int(d), "rep": rep, "m0": config.m0, "widths": list(config.widths),
                 "steps": config.steps, "batch_size": config.batch_size, "lr": config.lr,
                 "n_test": config.n_test, "threshold": config.threshold, "seed": config.seed,
                 "matmul_dtype": config.matmul_dtype}
                for d in sorted(config.dims, reverse=True) for rep in range(config.reps)]

    def run_task(self, task):
        return run_repetition(task)

    # ------------------------------------------------------------------ analysis
    @staticmethod
    def success_rates(results: pd.DataFrame) -> pd.DataFrame:
        return (results.groupby(["d", "m"])["success"].mean().rename("rate").reset_index())

    def check(self, results, config):
        claims = []
        rates = self.success_rates(results)
        for d, g in rates.groupby("d"):
            below = g[g["m"] < config.m0]
            if len(below):
                n_runs = int((results["d"].eq(d) & results["m"].lt(config.m0)).sum())
                wins = int(results.loc[results["d"].eq(d) & results["m"].lt(config.m0),
                                       "success"].sum())
                claims.append(Claim(
                    f"d={d}: no success below m0 = {config.m0}",
                    "success rate 0 for every m < m0",
                    f"{wins} successes in {n_runs} runs with m in "
                    f"{below['m'].min()}..{below['m'].max()}", wins == 0))
            if g["rate"].nunique() > 1:
                rho = float(spearmanr(g["m"], g["rate"]).statistic)
            else:
                rho = float("nan")
            claims.append(Claim(
                f"d={d}: success rate rises with m",
                f"Spearman rank correlation(m, success rate) >= {MIN_RANK_CORRELATION}",
                f"rho = {rho:.3f} over {len(g)} widths", bool(rho >= MIN_RANK_CORRELATION)))
            large = g[g["m"] >= 2 * config.m0]
            if len(large):
                runs = results[results["d"].eq(d) & results["m"].ge(2 * config.m0)]
                pooled = float(runs["success"].mean())
                worst = large.loc[large["rate"].idxmin()]
                claims.append(Claim(
                    f"d={d}: success from m >= 2 m0 = {2 * config.m0}",
                    f"success rate >= {MIN_SUCCESS_LARGE} over the runs with m >= "
                    f"{2 * config.m0}",
                    f"{pooled:.3f} ({int(runs['success'].sum())}/{len(runs)}); lowest width "
                    f"{worst['rate']:.3f} at m = {int(worst['m'])}",
                    bool(pooled >= MIN_SUCCESS_LARGE)))
        return claims

    def plot(self, results, config):
        figures = {}
        rates = self.success_rates(results)
        for d in sorted(results["d"].unique()):
            sub = results[results["d"] == d]
            fig, (ax_r, ax_s) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
            ax_r.semilogy(sub["m"], sub["risk"] + RISK_FLOOR, ".k", ms=4)
            ax_r.axhline(config.threshold, color="0.6", lw=0.8, ls=":")
            ax_r.set_xlabel("m")
            ax_r.set_ylabel("Square error after training")
            ax_r.set_title(f"risk after training, d = {d} ({sub['rep'].nunique()} repetitions)",
                           fontsize=10)
            rd = rates[rates["d"] == d]
            lo, hi = min(config.widths), max(config.widths)
            ax_s.bar(np.arange(lo, hi + 1), np.ones(hi - lo + 1), color="r", alpha=0.1)
            ax_s.bar(rd["m"], rd["rate"], color="g")
            ax_s.axis([lo - 0.5, hi + 0.5, 0, 1])
            ax_s.set_xlabel("m")
            ax_s.set_ylabel("Success rate")
            ax_s.set_title(f"success (risk <= {config.threshold:g}), d = {d}, m0 = {config.m0}",
                           fontsize=10)
            figures[f"d{d}"] = fig
        return figures


__all__ = ["Config", "IcmFig3", "run_repetition"]
