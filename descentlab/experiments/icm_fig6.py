"""Test error of wide two-layer ReLU networks: both layers vs output layer (seed 002, Figure 6).

Setting (section 5.5 of the ICM review and the published code, lchizat/2020-implicit-bias-
wide-2NN): the clustered data of ``descentlab.data.clusters`` (k = 3, 9 disks of radius
1/8 in the first two coordinates, d - 2 uniform noise coordinates, a constant bias
coordinate), width m = 1000, unregularized full-batch GD on the soft-min objective
log((1/n) sum_i exp(-y_i f(x_i))) with step lr / sqrt(t + 1), lr = 0.5, the output-only
step multiplied by max(1, ||a|| / sqrt(m)) (``descentlab.particles.margins``).
Test error = fraction of 4000 fresh points with y f(x) <= 0, after training; (b) vs n in
{32, ..., 512} at d = 15, (c) vs d in {5, ..., 25} at n = 256; 20 seeds (each seed: a random
labelling of the clusters, one training sample of 512 points per d whose first n points
are the training sets, as the published code does). Margins vs m: the normalized margins
(``normalized_margin``) after training at d = 15, n = 256, m in {8, ..., 1024} (one
network per width, batched in one array program).

Iterations. The published notebook ran 5 10^4 steps with lr = 0.5 (its function default is
5 10^5 steps, lr = 1) and needed ~20-30 minutes per seed; the paper preset runs the same
5 10^4 steps with lr = 0.5. The figure ``curves`` (test error and normalized margin against
the step, mean over seeds, at d = 15, n = 256) shows where they stand. Measured on the
paper grid with 10 seeds (mean test error at 2 10^4 / 3.2 10^4 / 5 10^4 steps, n = 256):
both layers 0.005 / 0.003 / 0.003 (d = 5), 0.059 / 0.033 / 0.026 (d = 10), 0.130 / 0.117 /
0.107 (d = 15), 0.173 / 0.169 / 0.164 (d = 20), 0.204 / 0.202 / 0.202 (d = 25): flat at
d = 5 and 25, still slowly improving at d = 10-20. The output layer is *not* converged at
5 10^4 steps: its normalized margin is still negative for d <= 10 (the training set is not
yet separated) and its test error still falls at small d (0.192 / 0.163 / 0.139 at
d = 5, where its limit is 0.032). Its limit as t, m -> infinity is the max-margin
predictor of the limit kernel (Theorem 4), computed directly (``descentlab.theory.
kernels``, hard-margin SVM without intercept on the arc-cosine kernel) and drawn as a
third curve, ``kernel SVM``: the comparison both layers vs output layer is checked against
it as well.

The quick preset (width 200, 3000 steps, 4 seeds, d in {5, 15}, n in {32, 128}) uses
``lr_output = 2`` (4 times the published step for the output layer) so that the output
layer moves within its budget; the paper preset uses the published 0.5 for both layers.

Precision: the matrix products of a step (b X^T, the per-network products with relu(b X^T)
and Q X) run in float32 (``matmul_dtype``), the frozen features of the output layer are
stored in float32; the objective, its derivatives, the records and the parameters are
float64.

Claims: (1) both layers have a lower mean test error than the output layer for every
d >= 10 of the d sweep, and (2) than the kernel-SVM limit; (3) the least-squares slope of
the mean test error against d is smaller for both layers than for the output layer; (4)
the mean test error decreases with n for both regimes (Spearman correlation <= -0.8 and
error at the largest n below the smallest n's). Reported, not checked: the margins vs m
and how far the runs are from their limit.

Outcome (paper preset, 20 seeds; mean test
error, n = 256, d = 5/10/15/20/25): both layers 0.004/0.041/0.126/0.180/0.214, output layer
0.163/0.217/0.247/0.271/0.290, kernel SVM 0.040/0.176/0.236/0.265/0.282; vs n at d = 15
(n = 32 ... 512): both 0.341 -> 0.036, output 0.351 -> 0.226. Claims (1), (2), (4) hold
with wide margins; claim (3) does *not*: both layers start near 0 and grow by 0.0112 per
dimension, the output layer (already at 0.16 at d = 5, far from its limit 0.04) by 0.0061
and its kernel limit by 0.0115, all heading for the chance level. The gap output - both
shrinks from 0.18 (d = 10) to 0.08 (d = 25). The same holds with the published code's
radius law (5 seeds: both 0.012 / 0.172 at d = 10 / 25, output 0.192 / 0.309).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .._validation import check_choice
from ..data.clusters import RADIUS_LAWS, ClusterData
from ..data.teacher import add_bias
from ..errors import DescentlabError
from ..particles.batch import KEY_INIT, KEY_TEACHER, KEY_TEST, KEY_TRAIN, ParticleBatch, seeded
from ..particles.engine import MATMUL_DTYPES, train
from ..particles.margins import (
    B_INITS,
    init_margin,
    margin_gd,
    margin_records,
    recorded_margins,
    rkhs_margin,
)
from ..particles.samples import FixedSample
from ..theory.kernels import hard_margin_svm, limit_kernel
from .base import MAX_SEED, SEED, Choice, Claim, Experiment, Flag, Int, Items, Real

REGIME_CODE = {"both": 0, "output": 1}
MARGIN_LOSSES = ("softmin", "exponential", "logistic")
MARGIN_SCHEDULES = ("sqrt", "constant")
MIN_N_CORRELATION = -0.8
COLORS = {"both": "C0", "output": "C1", "kernel SVM": "C2"}
MAX_ACTIVATIONS = 10**8  # networks x width x points of one task (800 MB of float64)


@dataclass(frozen=True)
class Config:
    k: int = 3
    n_values: tuple[int, ...] = (32, 64, 128, 256, 512)
    d_for_n: int = 15
    d_values: tuple[int, ...] = (5, 10, 15, 20, 25)
    n_for_d: int = 256
    width: int = 1000
    seeds: int = 20
    seeds_per_task: int = 5
    steps: int = 50_000
    lr: float = 0.5
    lr_output: float = 0.5
    loss: str = "softmin"
    schedule: str = "sqrt"
    records: int = 25
    n_test: int = 4000
    b_init: str = "gaussian"
    radius_law: str = "area"
    margin_widths: tuple[int, ...] = (8, 16, 32, 64, 128, 256, 512, 1024)
    margin_seeds: int = 5
    margin_n: int = 256
    margin_d: int = 15
    kernel_svm: bool = True
    seed: int = 0
    matmul_dtype: str = "float32"


def distribution(seed: int, k: int, d: int, radius_law: str) -> ClusterData:
    """The seed's cluster labelling (the same for every d), in dimension d."""
    return ClusterData.draw(k, d, seeded(seed, KEY_TEACHER, k), radius_law=radius_law)


def training_sets(task: dict, seeds: list[int], n: int, d: int):
    """(X (S, n, d+1), y (S, n)): the first n of the seed's 512-point sample at dimension d."""
    nmax = task["n_max"]
    Xs, ys = [], []
    for s in seeds:
        dist = distribution(s, task["k"], d, task["radius_law"])
        X, y = dist.sample(nmax, seeded(s, KEY_TRAIN, d))
        Xs.append(add_bias(X[:n]))
        ys.append(y[:n])
    return np.stack(Xs), np.stack(ys)


def _train(task: dict, regime: str, batch, X, y, record_at=None, X_test=None, y_test=None):
    """Soft-min (or the configured loss) GD of one regime on the training sets X, y."""
    lr = task["lr"] if regime == "both" else task.get("lr_output", task["lr"])
    return train(batch, FixedSample(X, y, loss=task["loss"]),
                 margin_gd(lr, regime=regime, schedule=task["schedule"]), task["steps"],
                 record_at=record_at, observe=margin_records(regime, X_test, y_test),
                 matmul_dtype=task["matmul_dtype"], reduction="blas")


def run_errors(task: dict) -> pd.DataFrame:
    """Both regimes on the training sets (d, n) of the task's seeds; curves + final rows."""
    d, n, seeds = task["d"], task["n"], list(task["seeds"])
    X, y = training_sets(task, seeds, n, d)
    tests = [distribution(s, task["k"], d, task["radius_law"]).sample(
        task["n_test"], seeded(s, KEY_TEST, d)) for s in seeds]
    Xt = np.stack([add_bias(t[0]) for t in tests])
    yt = np.stack([t[1] for t in tests])
    steps = task["steps"]
    rec = np.unique(np.concatenate([[0], np.geomspace(1, steps, task["records"]).astype(int)]))
    frames = []
    for regime in ("both", "output"):
        batch = ParticleBatch.init([task["width"]], d + 1, lambda s, _r, regime=regime: seeded(
            seeds[s], KEY_INIT, d, n, REGIME_CODE[regime]), streams=len(seeds),
            init=init_margin, regime=regime, b_init=task["b_init"])
        res = _train(task, regime, batch, X, y, rec, Xt, yt)
        T, S = len(res.record_steps), len(seeds)
        frames.append(pd.DataFrame({
            "kind": "curve", "d": d, "n": n, "m": task["width"],
            "seed": np.tile(seeds, T), "regime": regime,
            "step": np.repeat(res.record_steps, S),
            "test_error": res.records["test_error"][:, :, 0].ravel(),
            "margin": recorded_margins(res)[:, :, 0].ravel(),
            "raw_margin": res.margin[:, :, 0].ravel(),
            "objective": res.loss[:, :, 0].ravel()}))
    if task["kernel_svm"]:
        rows = []
        for i, s in enumerate(seeds):
            svm = hard_margin_svm(limit_kernel(X[i], b_init=task["b_init"]), y[i])
            pred = svm.decision(limit_kernel(Xt[i], X[i], b_init=task["b_init"]))
            rows.append({"kind": "curve", "d": d, "n": n, "m": 0, "seed": s,
                         "regime": "kernel SVM", "step": steps,
                         "test_error": float(np.mean(yt[i] * pred <= 0)),
                         "margin": svm.margin, "raw_margin": 1.0, "objective": np.nan})
        frames.append(pd.DataFrame(rows))
    return pd.concat(frames, ignore_index=True)


def run_margins(task: dict) -> pd.DataFrame:
    """Normalized margins after training for every width (batched), both regimes."""
    d, n, seeds, widths = task["d"], task["n"], list(task["seeds"]), tuple(task["widths"])
    X, y = training_sets(task, seeds, n, d)
    rows = []
    for regime in ("both", "output"):
        batch = ParticleBatch.init(widths, d + 1, lambda s, r, regime=regime: seeded(
            seeds[s], KEY_INIT, d, n, REGIME_CODE[regime], widths[r]), streams=len(seeds),
            init=init_margin, regime=regime, b_init=task["b_init"])
        res = _train(task, regime, batch, X, y)
        margin = recorded_margins(res)
        rk = rkhs_margin(res.batch, X, y)
        for i, s in enumerate(seeds):
            for r, m in enumerate(widths):
                rows.append({"kind": "margin", "d": d, "n": n, "m": m, "seed": s,
                             "regime": regime, "step": task["steps"],
                             "margin": margin[-1, i, r], "rkhs_margin": rk[i, r],
                             "objective": res.loss[-1, i, r]})
    return pd.DataFrame(rows)


def _blocks(values: int, size: int) -> list[list[int]]:
    return [list(range(i, min(i + size, values))) for i in range(0, values, size)]


class IcmFig6(Experiment):
    name = "icm-fig6"
    title = "Both layers vs output layer: test error against n and d (ICM Figure 6)"
    source = "002 (Bach and Chizat, ICM 2022 review: section 5.5, Figure 6)"
    description = ("Soft-min GD (step 0.5/sqrt(t+1)) of m = 1000 ReLU networks on 9 labelled "
                   "disks + d - 2 noise coordinates, both layers vs output layer only, 20 "
                   "seeds; test error vs n (d = 15) and vs d (n = 256), margins vs m. "
                   "Claims: both layers better for d >= 10, error grows more slowly with d.")
    Config = Config
    presets = {"quick": Config(n_values=(32, 128), d_values=(5, 15), n_for_d=128, width=200,
                               seeds=4, seeds_per_task=4, steps=3000, records=8, lr_output=2.0,
                               n_test=1000, margin_widths=(16, 64, 256), margin_seeds=2,
                               margin_n=64),
               "paper": Config()}
    # sizes: hard-margin SVMs on n points; seeds_per_task networks of width neurons on the
    # training and test points at once (MAX_ACTIVATIONS)
    limits = {"k": Int(2, 20), "n_values": Items(Int(2, 4096)), "d_for_n": Int(2, 1000),
              "d_values": Items(Int(2, 1000)), "n_for_d": Int(2, 4096),
              "width": Int(1, 10_000), "seeds": Int(1, 1000), "seeds_per_task": Int(1, 1000),
              "steps": Int(1, 10**7), "lr": Real(0.0, 100.0, lo_open=True),
              "lr_output": Real(0.0, 100.0, lo_open=True), "loss": Choice(MARGIN_LOSSES),
              "schedule": Choice(MARGIN_SCHEDULES), "records": Int(1, 10_000),
              "n_test": Int(1, 100_000), "b_init": Choice(B_INITS),
              "radius_law": Choice(RADIUS_LAWS),
              # no margin widths (or margin_seeds = 0) leaves the margins out
              "margin_widths": Items(Int(1, 10_000), min_len=0), "margin_seeds": Int(0, 1000),
              "margin_n": Int(2, 4096), "margin_d": Int(2, 1000), "kernel_svm": Flag(),
              "seed": SEED, "matmul_dtype": Choice(MATMUL_DTYPES)}

    def constraints(self, config):
        if config.seed + max(config.seeds, config.margin_seeds) > MAX_SEED:
            raise DescentlabError(f"seed: expected seed + seeds <= {MAX_SEED} (the seeds are "
                                  f"seed, seed + 1, ...), got {config.seed}")
        points = max(*config.n_values, config.n_for_d, config.n_test)
        size = min(config.seeds, config.seeds_per_task) * config.width * points
        if size > MAX_ACTIVATIONS:
            raise DescentlabError(f"seeds_per_task: expected seeds_per_task x width x points "
                                  f"<= {MAX_ACTIVATIONS:.0e} (memory of one task), got "
                                  f"{size:.3g}; lower seeds_per_task, width or n_test")
        margins = (sum(config.margin_widths) * min(config.margin_seeds,
                   max(1, config.seeds_per_task // 2)) * config.margin_n)
        if margins > MAX_ACTIVATIONS:
            raise DescentlabError(f"margin_widths: expected sum(margin_widths) x seeds x "
                                  f"margin_n <= {MAX_ACTIVATIONS:.0e} (memory of one task), "
                                  f"got {margins:.3g}")
    version = "1"

    def tasks(self, config):
        check_choice("matmul_dtype", config.matmul_dtype, MATMUL_DTYPES)
        check_choice("loss", config.loss, MARGIN_LOSSES)
        check_choice("schedule", config.schedule, MARGIN_SCHEDULES)
        check_choice("radius_law", config.radius_law, RADIUS_LAWS)
        pairs = {(config.d_for_n, n) for n in config.n_values}
        pairs |= {(d, config.n_for_d) for d in config.d_values}
        common = {"k": config.k, "steps": config.steps, "lr": config.lr,
                  "lr_output": config.lr_output, "loss": config.loss,
                  "schedule": config.schedule, "b_init": config.b_init,
                  "radius_law": config.radius_law, "matmul_dtype": config.matmul_dtype,
                  "n_max": max(max(config.n_values), config.n_for_d, config.margin_n)}
        out = []
        for d, n in sorted(pairs, key=lambda p: -p[1] * (p[0] + 1)):  # longest first
            for block in _blocks(config.seeds, config.seeds_per_task):
                out.append({"kind": "error", "d": int(d), "n": int(n), "width": config.width,
                            "seeds": [config.seed + s for s in block],
                            "records": config.records, "n_test": config.n_test,
                            "kernel_svm": config.kernel_svm, **common})
        if config.margin_widths and config.margin_seeds:
            for block in _blocks(config.margin_seeds, max(1, config.seeds_per_task // 2)):
                out.insert(0, {"kind": "margin", "d": config.margin_d, "n": config.margin_n,
                               "widths": list(config.margin_widths),
                               "seeds": [config.seed + s for s in block], **common})
        return out

    def run_task(self, task):
        return run_errors(task) if task["kind"] == "error" else run_margins(task)

    # ------------------------------------------------------------------ analysis
    @staticmethod
    def final_errors(results: pd.DataFrame) -> pd.DataFrame:
        """One row per (d, n, regime, seed): the error and margin after training."""
        cur = results[results["kind"] == "curve"]
        last = cur.groupby(["d", "n", "regime", "seed"])["step"].transform("max")
        return cur[cur["step"] == last]

    def _sweep(self, results, config, axis: str) -> pd.DataFrame:
        fin = self.final_errors(results)
        if axis == "d":
            fin = fin[fin["n"] == config.n_for_d]
        else:
            fin = fin[fin["d"] == config.d_for_n]
        return (fin.groupby([axis, "regime"])["test_error"].agg(["mean", "std", "count"])
                .reset_index())

    def check(self, results, config):
        claims = []
        by_d = self._sweep(results, config, "d")
        table = by_d.pivot(index="d", columns="regime", values="mean")
        high = table[table.index >= 10]
        if len(high) and "both" in table and "output" in table:
            ok = bool((high["both"] < high["output"]).all())
            claims.append(Claim(
                "both layers beat the output layer for d >= 10",
                "mean test error (both) < mean test error (output) at every d >= 10",
                "; ".join(f"d={d}: {r['both']:.3f} vs {r['output']:.3f}"
                          for d, r in high.iterrows()), ok))
            if "kernel SVM" in table:
                ok = bool((high["both"] < high["kernel SVM"]).all())
                claims.append(Claim(
                    "both layers beat the kernel limit of the output layer for d >= 10",
                    "mean test error (both) < mean test error (kernel max-margin SVM)",
                    "; ".join(f"d={d}: {r['both']:.3f} vs {r['kernel SVM']:.3f}"
                              for d, r in high.iterrows()), ok))
        if len(table) >= 2 and "both" in table and "output" in table:
            ds = table.index.to_numpy(float)
            slopes = {reg: float(np.polyfit(ds, table[reg].to_numpy(), 1)[0])
                      for reg in table.columns}
            claims.append(Claim(
                "the error of both layers grows more slowly with d",
                "slope of mean test error vs d: both < output",
                ", ".join(f"{k}: {v:.4f}/dim" for k, v in slopes.items()),
                slopes["both"] < slopes["output"]))
        by_n = self._sweep(results, config, "n")
        for regime, g in by_n.groupby("regime"):
            if regime == "kernel SVM" or len(g) < 2:
                continue
            g = g.sort_values("n")
            rho = float(spearmanr(g["n"], g["mean"]).statistic) if g["mean"].nunique() > 1 \
                else float("nan")
            first, last = float(g["mean"].iloc[0]), float(g["mean"].iloc[-1])
            claims.append(Claim(
                f"{regime}: test error decreases with n (d = {config.d_for_n})",
                f"Spearman(n, mean error) <= {MIN_N_CORRELATION} and error(n max) < "
                f"error(n min)",
                f"rho = {rho:.2f}; {first:.3f} at n = {int(g['n'].iloc[0])} -> {last:.3f} at "
                f"n = {int(g['n'].iloc[-1])}",
                bool(rho <= MIN_N_CORRELATION and last < first)))
        return claims

    def plot(self, results, config):
        figures = {}
        fin = self.final_errors(results)
        for axis, fixed, label in (("n", config.d_for_n, "d"), ("d", config.n_for_d, "n")):
            sub = fin[fin["d"] == fixed] if axis == "n" else fin[fin["n"] == fixed]
            if sub[axis].nunique() < 2:
                continue
            fig, ax = plt.subplots(figsize=(5, 3.8), constrained_layout=True)
            for regime, g in sub.groupby("regime"):
                col = COLORS.get(regime, "k")
                for _, gs in g.groupby("seed"):
                    gs = gs.sort_values(axis)
                    ax.plot(gs[axis], gs["test_error"], "--", color=col, alpha=0.15, lw=0.8)
                err = g.groupby(axis)["test_error"]
                mean, q1, q3 = err.mean(), err.quantile(0.25), err.quantile(0.75)
                name = {"both": "both layers", "output": "output layer"}.get(regime, regime)
                # mean (thick, as the published figure) and the interquartile band; a
                # +- std bar would cross zero on the log axis
                ax.fill_between(mean.index, q1, q3, color=col, alpha=0.15, lw=0)
                ax.plot(mean.index, mean.to_numpy(), color=col, lw=3, label=name)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ticks = np.sort(sub[axis].unique())
            ax.set_xticks(ticks, [str(int(t)) for t in ticks])
            ax.minorticks_off()
            ax.set_xlabel(axis)
            ax.set_ylabel("Test error")
            ax.set_title(f"test error vs {axis} ({label} = {fixed}, m = {config.width}, "
                         f"{sub['seed'].nunique()} seeds: mean, quartiles)", fontsize=9)
            ax.legend(fontsize=8)
            figures[f"error_vs_{axis}"] = fig
        cur = results[(results["kind"] == "curve") & (results["regime"] != "kernel SVM")]
        probe_n = config.n_for_d
        probe_d = config.d_for_n if (config.d_for_n, probe_n) in set(
            zip(cur["d"], cur["n"], strict=True)) else int(cur["d"].max())
        cur = cur[(cur["d"] == probe_d) & (cur["n"] == probe_n) & (cur["step"] > 0)]
        if len(cur):
            fig, (ax_e, ax_m) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
            for regime, g in cur.groupby("regime"):
                stats = g.groupby("step")[["test_error", "margin"]].mean()
                ax_e.semilogx(stats.index, stats["test_error"], color=COLORS[regime],
                              label=regime)
                scale = 1.0 if regime == "both" else 1.0 / np.sqrt(config.width)
                ax_m.semilogx(stats.index, stats["margin"] * scale, color=COLORS[regime],
                              label=regime + ("" if regime == "both" else " (/sqrt m)"))
            ax_m.axhline(0, color="0.6", lw=0.8)
            ax_m.set_yscale("symlog", linthresh=1e-2)
            ax_e.set_xlabel("step")
            ax_e.set_ylabel("mean test error")
            ax_m.set_xlabel("step")
            ax_m.set_ylabel("mean normalized margin")
            for ax in (ax_e, ax_m):
                ax.legend(fontsize=8)
            ax_e.set_title(f"training curves, d = {probe_d}, n = {probe_n}", fontsize=9)
            figures["curves"] = fig
        mar = results[results["kind"] == "margin"]
        if len(mar):
            fig, (ax_b, ax_o) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
            for ax, regime, col, lab in ((ax_b, "both", "margin", "F1 (variation-norm) margin"),
                                         (ax_o, "output", "rkhs_margin", "RKHS margin")):
                g = mar[mar["regime"] == regime]
                ax.semilogx(g["m"], g[col], "+", color=COLORS[regime])
                mean = g.groupby("m")[col].mean()
                ax.semilogx(mean.index, mean.to_numpy(), "k", lw=3)
                ax.axhline(0, color="0.6", lw=0.8)
                ax.set_xlabel("m")
                ax.set_ylabel(lab)
                ax.set_title(f"{regime}: normalized margin after {config.steps} steps "
                             f"(d = {config.margin_d}, n = {config.margin_n})", fontsize=9)
            figures["margins_vs_m"] = fig
        return figures


__all__ = ["Config", "IcmFig6", "distribution", "run_errors", "run_margins", "training_sets"]
