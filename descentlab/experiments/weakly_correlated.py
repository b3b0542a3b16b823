"""Weakly correlated inputs: a ReLU network of width ~ log n interpolates in time ~ n (seed 000).

Seed 000 ("Idea 4: simplify data models", slide "Weakly correlated inputs (Dana, Bach,
and Pillaud-Vivien, 2025)"), quoted:

    - One-hidden layer with square loss; fixed number m of hidden neurons and number n of
      observations; generic initialization.
    - Simplifying assumptions: empirical covariance matrix close to diagonal; random data
      with diagonal population covariance matrix and d >~ n^2; no assumptions on labels.
    - Main result: global exponential convergence to interpolating network as soon as
      m >~ log(n) with characteristic time n (explicit behavior through a local
      Polyak-Lojasiewicz argument). Open problem: results for d >~ n.

(The paper, arXiv 2502.16977, states the rate as 1/n for gradient flow and, for exactly
orthogonal inputs, an asymptotic rate between 1/n and 1/sqrt(n).)

**Model and the choices the slide leaves open** (data ``descentlab.data.sphere``, dynamics
``descentlab.particles.train``):

* network h(x) = sum_j a_j relu(w_j . x), both layers trained, loss
  L = (1/2n) sum_i (h(x_i) - y_i)^2. No 1/m factor (the engine's scale alpha = m): at fixed
  m the mean-field factor only rescales time and the initial scale by constants (the
  claims are about n);
* inputs x_i uniform on the unit sphere of R^d (population covariance I/d, diagonal;
  off-diagonal Gram entries ~ 1/sqrt(d)), labels y_i = +-1 fair random signs independent
  of x (no data model; +-1 rather than Gaussian so that no label is near 0);
* "generic initialisation": balanced random neurons, a_j = +-1 (random signs), w_j uniform
  on the unit sphere (so |a_j| = ||w_j||, a relation the ReLU flow preserves);
* gradient flow, simulated by full-batch GD with a step 0.5 / (a bound on the Hessian's
  norm at the current point, the engine's "curvature" schedule), computed in the span of
  the inputs (r = min(n, d) coordinates, cost m n r per step, any d: d = 10^6 is free);
  times are flow times of L, t = sum of the steps; a network leaves the batch when it
  succeeds or its time runs out (``EarlyStop``), so stuck runs do not slow the others;
* success = the training loss reaches ``tol`` (1e-6) times its initial value before the
  flow time ``budget`` * n (10 n: the slowest success of the paper preset took 2.9 n;
  failed runs sit on a plateau with one or more "dead" points that no active neuron of
  the right sign can reach); convergence time = that flow time.

**Parts** (``part`` column; each task is one (part, n, d, m) with ``reps`` independent
data sets and initialisations trained as one batch):

* ``n``: success probability against n at fixed d and m (``dims_n``, ``width_n``): the
  transition in n. It sits where log n reaches c m, nearly whatever d (paper preset,
  m = 10: d = 4096 and d = 10^6 agree within the binomial noise for n <= 256), i.e. it
  is the width condition m >~ log n read at fixed m, not a condition on n/d. The
  transition is broad (success ~ exp(-c n (3/4)^m)): going from 0.9 to 0.1 takes a factor
  of about 100 in n. Inputs correlated more strongly (d = 64 < n, tried while building)
  succeed *more* often at large n. For exactly orthogonal inputs the success probability
  is known in closed form (``orthogonal_success_probability``: point i is fitted iff one
  neuron of sign y_i is active on x_i at t = 0, probability 1 - 2^-m_+); it is drawn as a
  reference. Weak
  correlations make success *more* likely than that formula (a neuron inactive on x_i is
  moved by the other points through the O(1/sqrt d) correlations, of the same order as its
  initial pre-activation).
* ``m``: success probability against m for several n at d = ``dim_m`` (d >= n^2): the
  width m_50(n) at which half the runs succeed, against log n (a straight line: m ~ log n
  suffices).
* ``time``: convergence time against n with d = ceil(``time_d_factor`` n^2) (the slide's
  regime d >~ n^2) and m = ``width_t`` fixed; log-log slope of the median time over the
  successful runs; loss curves (rep 0) against t / n.

**Claims.** (1) success rate >= 0.9 over the runs with n <= ``low_n`` and (2) <= 0.1 over
the runs with n >= ``high_n``, for each d of part ``n`` with d >= max(ns_n)^2 (the slide's
regime; other d are drawn, not checked); (3) the fitted exponent of the median
convergence time in n is within ``time_tol`` = 0.2 of 1. Tolerance: the bootstrap over
repetitions gives a 95% interval of width about 0.08 (paper) to 0.3 (quick) for the slope
(reported in the claim), and the paper's refined statement allows a rate up to 1/sqrt(n)
late in training, so an exponent somewhat below 1 is not a contradiction; 0.2 covers
both while excluding sqrt(n) (0.5) and n^2. Measured (paper): 0.880, bootstrap 95%
[0.846, 0.920]: the interval excludes 1, t/n drifts from 1.4 (n = 16) to 0.9 (n = 512);
the time is of order n up to a slowly decreasing factor. (4) m_50(n) is non-decreasing in
n and grows at most like log n: its least-squares slope against log2 n is positive and at
most 1 / log2(4/3) (about 2.4, the orthogonal-data value where the failure probability
per point is (3/4)^m).

**Preset ``published``** (``--preset published``): the authors' own protocol instead of
the choices above (inputs x_i = g_i/||g_i|| r_i with r_i ~ U[1, 2], labels +-U[1, 2],
f = (1/p) sum_j a_j relu(w_j . x) with PyTorch's default init and a_j = +-(||w_j|| +
Exp(1)), loss p mean (y - f)^2 / 2, float32 GD with lr 1, the published epochs and early
stop, grids (i) p = 30, d = 10..100 and (ii) d = 30, p = 20..400, 20 runs per point);
settings ``dims``, ``widths``, ``reps``, ``ns``, ``grids`` (module ``weakly_published``:
model, claims, figures, measurements).

Quick preset: claims (1)-(2) pass with thin margins (0.925 >= 0.9 and 0.075 <= 0.1).
Paper preset: claims 0.935, 0.050, slope 0.880, m_50 = 4.5, 8.0, 11.2, 13.3 at n = 4, 16, 64, 256
(slope 1.48 per doubling of n).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._validation import check_int
from ..data.sphere import balanced_neurons, sphere_data
from ..errors import DescentlabError
from ..particles.batch import KEY_INIT, KEY_TRAIN, ParticleBatch, seeded
from ..particles.engine import Dynamics, EarlyStop, train
from ..particles.samples import FixedSample
from ..theory import loglog_slope
from .base import SEED, Choice, Claim, Experiment, Int, Items, Real
from .weakly_published import (
    GRIDS,
    check_config,
    published_claims,
    published_figures,
    published_tasks,
    run_published,
)

PARTS = ("n", "m", "time")
MIN_SUCCESS_LOW = 0.9
MAX_SUCCESS_HIGH = 0.1
CURVE_POINTS = 200
MAX_N, MAX_D = 4096, 10**12
MAX_GRAMS = 1.25 * 10**8  # reps x n^2 floats of the Gram matrices of one task (1 GB)
CURVE_EVERY = 10  # steps between the records of the loss curves
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class Config:
    # part "n": success vs n at fixed d and m
    dims_n: tuple[int, ...] = (4096, 1_000_000)
    ns_n: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)
    width_n: int = 10
    reps_n: int = 100
    low_n: int = 2
    high_n: int = 256
    # part "m": success vs m for several n at d = dim_m
    dim_m: int = 1_000_000
    ns_m: tuple[int, ...] = (4, 16, 64, 256)
    widths_m: tuple[int, ...] = (2, 4, 6, 8, 10, 12, 14, 16, 20, 24)
    # part "time": convergence time vs n, d = time_d_factor n^2, m = width_t
    ns_t: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    time_d_factor: float = 1.0
    width_t: int = 24
    time_tol: float = 0.2
    # common
    reps: int = 40
    budget: float = 10.0
    tol: float = 1e-6
    init_scale: float = 1.0
    step_factor: float = 0.5
    n_boot: int = 500
    seed: int = 0
    # preset "published": the authors' protocol (``weakly_published``); reps, n_boot, seed
    # are shared, the fields above are not used
    protocol: str = "sphere"
    grids: tuple[str, ...] = GRIDS
    dims: tuple[int, ...] = tuple(range(10, 101, 10))  # grid (i), width width_dims
    width_dims: int = 30
    widths: tuple[int, ...] = (20, 50, 100, 200, 400)  # grid (ii), dimension dim_widths
    dim_widths: int = 30
    ns: tuple[int, ...] = ()  # replaces the published n grids when set
    lr: float = 1.0


def orthogonal_success_probability(n: int, m: int) -> float:
    """P(every point is fitted) for exactly orthogonal inputs, balanced init, labels +-1.

    With orthogonal inputs, w_j . x_i moves only through point i and a_j keeps its sign, so
    point i can be fitted iff some neuron has sign(a_j) = y_i and w_j . x_i > 0 at t = 0
    (a neuron of the wrong sign active on x_i is switched off, an inactive one never moves);
    given the m_+ positive neurons this has probability 1 - 2^(-m_+) for a positive label,
    independently over points. Averaging over m_+ ~ Bin(m, 1/2) and n_+ ~ Bin(n, 1/2):

        P = sum_{m+} Bin(m+; m) ((1 - 2^-m+)/2 + (1 - 2^-(m - m+))/2)^n.
    """
    from scipy.stats import binom

    n, m = check_int("n", n, minimum=1), check_int("m", m, minimum=1)
    mp = np.arange(m + 1)
    q = 0.5 * (1 - 0.5 ** mp) + 0.5 * (1 - 0.5 ** (m - mp))
    return float(np.sum(binom.pmf(mp, m, 0.5) * q ** n))


def train_networks(nets, inputs, labels, *, t_max: float, tol: float = 1e-6,
                   step_factor: float = 0.5, step: float | None = None,
                   record_every: int | None = None, max_steps: int = MAX_STEPS):
    """Full-batch GD of the width-m networks ``nets[s] = (a, b)``, each on its own inputs
    (n, r) and labels: h = sum_j a_j relu(b_j . x) (alpha = m), step step_factor / (the
    curvature bound) in the flow time of L (or a fixed ``step``), until loss <= tol x
    initial loss or flow time t_max. Returns the engine's TrainResult (its times are in
    mean-field units: flow time x m)."""
    m = len(nets[0][0])
    batch = ParticleBatch.from_networks([[net] for net in nets], alpha=float(m))
    dynamics = Dynamics(step_factor, schedule="curvature") if step is None else \
        Dynamics(step * m)
    return train(batch, FixedSample(np.stack(inputs), np.stack(labels)), dynamics, max_steps,
                 record_at=record_every or [0], stop=EarlyStop(rtol=tol, max_time=t_max * m),
                 reduction="gram")


def run_batch(task: dict) -> pd.DataFrame:
    """Train the ``reps`` networks of one (part, n, d, m); one row per network, plus the
    loss curve of repetition 0 (rows with kind = "curve") for part "time"."""
    n, d, m, reps, seed = task["n"], task["d"], task["m"], task["reps"], task["seed"]
    nets, inputs, labels = [], [], []
    for rep in range(reps):
        data = sphere_data(n, d, seeded(seed, KEY_TRAIN, n, d, rep))
        nets.append(balanced_neurons(data, m, seeded(seed, KEY_INIT, n, d, rep),
                                     task["init_scale"]))
        inputs.append(data.U)
        labels.append(data.y)
    curve = task["part"] == "time"
    res = train_networks(nets, inputs, labels, t_max=task["budget"] * n, tol=task["tol"],
                         step_factor=task["step_factor"],
                         record_every=CURVE_EVERY if curve else None)
    loss0, loss_end, t_end = res.loss[0, :, 0], res.stop_loss[:, 0], res.time[:, 0] / m
    success = loss_end <= task["tol"] * loss0
    runs = pd.DataFrame({"kind": "run", "part": task["part"], "n": n, "d": d, "m": m,
                         "rep": np.arange(reps), "success": success,
                         "t_conv": np.where(success, t_end, np.nan), "t_end": t_end,
                         "steps": res.stopped_at[:, 0], "loss0": loss0, "loss_end": loss_end})
    if not curve:
        return runs
    before = res.record_steps < res.stopped_at[0, 0]
    t = np.append(res.record_time[before, 0, 0] / m, t_end[0])
    loss = np.append(res.loss[before, 0, 0], loss_end[0])
    keep = np.unique(np.linspace(0, t.size - 1, min(CURVE_POINTS, t.size)).astype(int))
    curve = pd.DataFrame({"kind": "curve", "part": "time", "n": n, "d": d, "m": m, "rep": 0,
                          "t": t[keep], "loss": loss[keep] / loss0[0]})
    return pd.concat([runs, curve], ignore_index=True)


def _rates(runs: pd.DataFrame, keys) -> pd.DataFrame:
    return runs.groupby(keys)["success"].agg(["mean", "size"]).reset_index()


def width_at_half(rate: pd.DataFrame) -> float:
    """m at which the success rate crosses 1/2 (linear interpolation; NaN if never)."""
    m, p = rate["m"].to_numpy(float), rate["mean"].to_numpy(float)
    order = np.argsort(m)
    m, p = m[order], p[order]
    for k in range(m.size):
        if p[k] >= 0.5:
            if k == 0:
                return float(m[0])
            return float(m[k - 1] + (0.5 - p[k - 1]) * (m[k] - m[k - 1]) / (p[k] - p[k - 1]))
    return float("nan")


def time_fit(runs: pd.DataFrame, n_boot: int, seed: int):
    """(slope, (lo, hi) bootstrap 95% interval, medians by n) of median t_conv vs n."""
    ok = runs[runs["success"]]
    med = ok.groupby("n")["t_conv"].median()
    fit = loglog_slope(med.index.to_numpy(float), med.to_numpy())
    rng = np.random.default_rng(seed)
    groups = [g["t_conv"].to_numpy() for _, g in ok.groupby("n")]
    ns = med.index.to_numpy(float)
    boots = []
    for _ in range(n_boot):
        meds = [np.median(rng.choice(g, g.size)) for g in groups]
        boots.append(np.polyfit(np.log(ns), np.log(meds), 1)[0])
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return fit, (float(lo), float(hi)), med


class WeaklyCorrelated(Experiment):
    name = "weakly-correlated"
    title = "Weakly correlated inputs: interpolation with width ~ log n in time ~ n"
    source = ("000 (Bach, COLT 2025 slides: 'Weakly correlated inputs', Dana, Bach and "
              "Pillaud-Vivien 2025)")
    description = ("One-hidden-layer ReLU network, square loss, both layers, balanced random "
                   "init, inputs uniform on the sphere of R^d (d up to 10^6), labels +-1; "
                   "gradient flow. Success probability vs n at fixed d and m (a transition "
                   "where log n ~ m), vs m for several n (m_50 ~ log n), convergence time vs "
                   "n in the regime d = n^2 (log-log slope ~ 1). Preset 'published': the "
                   "authors' protocol (float32 GD, p = 30, d = 10..100; d = 30, p = 20..400; "
                   "logistic fit of the transition n*(d) and its growth exponent).")
    Config = Config
    presets = {
        "quick": Config(dims_n=(1_000_000,), ns_n=(1, 2, 8, 32, 128, 256), reps_n=40,
                        ns_m=(4, 32), widths_m=(2, 4, 8, 12, 16), ns_t=(16, 32, 64, 128),
                        reps=20, n_boot=200),
        "paper": Config(),
        "published": Config(protocol="published", reps=20, n_boot=200),
    }
    # d is free (the flow runs in the span of the inputs); n^2 per data set is not
    limits = {"dims_n": Items(Int(1, MAX_D)), "ns_n": Items(Int(1, MAX_N)), "width_n": Int(1, 1000),
              "reps_n": Int(1, 10_000), "low_n": Int(1, MAX_N), "high_n": Int(1, MAX_N),
              "dim_m": Int(1, MAX_D), "ns_m": Items(Int(1, MAX_N)), "widths_m": Items(Int(1, 1000)),
              # the time claim fits a slope: at least two n
              "ns_t": Items(Int(1, MAX_N), min_len=2, distinct=True),
              "time_d_factor": Real(0.0, 1e6, lo_open=True), "width_t": Int(1, 1000),
              "time_tol": Real(0.0, lo_open=True), "reps": Int(1, 10_000),
              "budget": Real(0.0, 1e4, lo_open=True),
              "tol": Real(0.0, 1.0, lo_open=True, hi_open=True),
              "init_scale": Real(0.0, 1e3, lo_open=True),
              # the step is step_factor / (a bound on the Hessian's norm): below 2
              "step_factor": Real(0.0, 2.0, lo_open=True, hi_open=True),
              "n_boot": Int(1, 100_000), "seed": SEED,
              "protocol": Choice(("sphere", "published")),
              "grids": Items(Choice(GRIDS), distinct=True), "dims": Items(Int(1, 100_000)),
              "width_dims": Int(1, 100_000), "widths": Items(Int(1, 100_000)),
              "dim_widths": Int(1, 100_000),
              "ns": Items(Int(1, 10**7), min_len=0, distinct=True),
              "lr": Real(0.0, 1e3, lo_open=True)}

    def constraints(self, config):
        if config.protocol == "published":
            check_config(config)
            return
        if config.low_n >= config.high_n:
            raise DescentlabError(f"low_n: expected a value below high_n = {config.high_n}, "
                                  f"got {config.low_n}")
        for reps, field, ns in ((config.reps, "ns_t", config.ns_t),
                                (config.reps, "ns_m", config.ns_m),
                                (config.reps_n, "ns_n", config.ns_n)):
            if reps * max(ns) ** 2 > MAX_GRAMS:
                raise DescentlabError(f"{field}: expected repetitions x n^2 <= "
                                      f"{MAX_GRAMS:.3g} (memory of one task), got "
                                      f"{reps} x {max(ns)}^2")
        if math.ceil(config.time_d_factor * max(config.ns_t) ** 2) > MAX_D:
            raise DescentlabError(f"time_d_factor: expected d = time_d_factor n^2 <= "
                                  f"{MAX_D:.0e}, got {config.time_d_factor:g}")

    def tasks(self, config):
        if config.protocol == "published":
            return published_tasks(config)
        common = {"reps": config.reps, "budget": config.budget, "tol": config.tol,
                  "init_scale": config.init_scale, "step_factor": config.step_factor,
                  "seed": config.seed}
        tasks = [{"part": "time", "n": int(n), "d": int(math.ceil(config.time_d_factor * n * n)),
                  "m": config.width_t, **common} for n in config.ns_t]
        tasks += [{"part": "m", "n": int(n), "d": config.dim_m, "m": int(m), **common}
                  for n in config.ns_m for m in config.widths_m]
        tasks += [{"part": "n", "n": int(n), "d": int(d), "m": config.width_n,
                   **common, "reps": config.reps_n}
                  for d in config.dims_n for n in config.ns_n]
        # the largest problems first: the longest tasks start first on the workers
        return sorted(tasks, key=lambda t: -t["n"] ** 2 * t["m"])

    def run_task(self, task):
        if task.get("protocol") == "published":
            return run_published(task)
        return run_batch(task)

    # ------------------------------------------------------------------ analysis
    @staticmethod
    def runs(results: pd.DataFrame, part: str) -> pd.DataFrame:
        return results[(results["kind"] == "run") & (results["part"] == part)]

    def check(self, results, config):
        if config.protocol == "published":
            return published_claims(results, config)
        claims = []
        part_n = self.runs(results, "n")
        for d, g in part_n.groupby("d"):
            if d < max(config.ns_n) ** 2:
                continue  # shown in the figure; the claims are those of the regime d >~ n^2
            low, high = g[g["n"] <= config.low_n], g[g["n"] >= config.high_n]
            if len(low):
                rate = float(low["success"].mean())
                claims.append(Claim(
                    f"d={d}, m={config.width_n}: success well below the transition",
                    f"success rate >= {MIN_SUCCESS_LOW} over the runs with n <= {config.low_n}",
                    f"{rate:.3f} ({int(low['success'].sum())}/{len(low)})",
                    rate >= MIN_SUCCESS_LOW))
            if len(high):
                rate = float(high["success"].mean())
                claims.append(Claim(
                    f"d={d}, m={config.width_n}: failure well above the transition",
                    f"success rate <= {MAX_SUCCESS_HIGH} over the runs with n >= "
                    f"{config.high_n}",
                    f"{rate:.3f} ({int(high['success'].sum())}/{len(high)})",
                    rate <= MAX_SUCCESS_HIGH))
        part_t = self.runs(results, "time")
        if part_t["success"].groupby(part_t["n"]).any().sum() >= 2:
            fit, (lo, hi), med = time_fit(part_t, config.n_boot, config.seed)
            rates = part_t.groupby("n")["success"].mean()
            claims.append(Claim(
                "convergence time ~ n (characteristic time n)",
                f"log-log slope of the median convergence time vs n in [1 - {config.time_tol}, "
                f"1 + {config.time_tol}] (d = {config.time_d_factor:g} n^2, m = "
                f"{config.width_t})",
                f"slope {fit.slope:.3f} (bootstrap 95% [{lo:.3f}, {hi:.3f}]) over n = "
                f"{int(fit.x_first)}..{int(fit.x_last)}; median t/n from "
                f"{(med / med.index).min():.2f} to {(med / med.index).max():.2f}; success "
                f"rates {rates.min():.2f}..{rates.max():.2f}; slowest success at "
                f"t = {(part_t['t_conv'] / part_t['n']).max():.2f} n (budget "
                f"{config.budget:g} n)",
                abs(fit.slope - 1) <= config.time_tol))
        else:
            claims.append(Claim("convergence time ~ n (characteristic time n)",
                                "successful runs at >= 2 values of n", "fewer", False))
        part_m = self.runs(results, "m")
        if part_m["n"].nunique() >= 2:
            rates = _rates(part_m, ["n", "m"])
            m50 = rates.groupby("n").apply(width_at_half, include_groups=False)
            ok = m50.dropna()
            bound = 1 / math.log2(4 / 3)
            slope = (float(np.polyfit(np.log2(ok.index.to_numpy(float)), ok.to_numpy(), 1)[0])
                     if ok.size >= 2 else float("nan"))
            monotone = bool(ok.size == m50.size and np.all(np.diff(ok.to_numpy()) >= 0))
            claims.append(Claim(
                "width needed grows like log n",
                f"m_50(n) (success rate 1/2) non-decreasing in n, slope against log2 n in "
                f"(0, {bound:.2f}]",
                ", ".join(f"m_50({n}) = {v:.1f}" for n, v in m50.items())
                + f"; slope {slope:.2f}",
                monotone and 0 < slope <= bound))
        return claims

    def plot(self, results, config):
        if config.protocol == "published":
            return published_figures(results, config)
        figures = {}
        part_n = self.runs(results, "n")
        if len(part_n):
            fig, ax = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
            rates = _rates(part_n, ["d", "n"])
            for d, g in rates.groupby("d"):
                ax.semilogx(g["n"], g["mean"], "o-", label=f"d = {d}")
            ns = np.unique(np.geomspace(1, max(config.ns_n), 60).astype(int))
            ax.semilogx(ns, [orthogonal_success_probability(n, config.width_n) for n in ns],
                        "k--", lw=1, label="orthogonal inputs (closed form)")
            ax.axhline(MIN_SUCCESS_LOW, color="0.7", lw=0.8, ls=":")
            ax.axhline(MAX_SUCCESS_HIGH, color="0.7", lw=0.8, ls=":")
            ax.set_xlabel("n")
            ax.set_ylabel("P(training loss -> 0)")
            ax.set_ylim(-0.03, 1.03)
            ax.set_title(f"success vs n, m = {config.width_n}, {config.reps_n} runs per point",
                         fontsize=10)
            ax.legend(fontsize=8)
            figures["success_vs_n"] = fig
        part_m = self.runs(results, "m")
        if len(part_m):
            fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
            rates = _rates(part_m, ["n", "m"])
            for n, g in rates.groupby("n"):
                ax.plot(g["m"], g["mean"], "o-", label=f"n = {n}")
            ax.set_xlabel("m")
            ax.set_ylabel("P(training loss -> 0)")
            ax.set_title(f"success vs width, d = {config.dim_m}", fontsize=10)
            ax.legend(fontsize=8)
            m50 = rates.groupby("n").apply(width_at_half, include_groups=False)
            ns = m50.index.to_numpy(float)
            ax2.semilogx(ns, m50.to_numpy(), "o-", label="measured m_50")
            orth = [width_at_half(pd.DataFrame({"m": np.arange(1, 41), "mean": [
                orthogonal_success_probability(int(n), m) for m in range(1, 41)]}))
                for n in ns]
            ax2.semilogx(ns, orth, "k--", lw=1, label="orthogonal inputs (closed form)")
            ax2.set_xlabel("n")
            ax2.set_ylabel("width m_50 with success rate 1/2")
            ax2.set_title("m_50 vs log n", fontsize=10)
            ax2.legend(fontsize=8)
            figures["success_vs_m"] = fig
        part_t = self.runs(results, "time")
        if part_t["success"].any():
            fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
            ok = part_t[part_t["success"]]
            ax.loglog(ok["n"], ok["t_conv"], ".", color="0.6", ms=3, label="runs")
            med = ok.groupby("n")["t_conv"].median()
            ax.loglog(med.index, med.to_numpy(), "ko", label="median")
            if med.size >= 2:
                fit = loglog_slope(med.index.to_numpy(float), med.to_numpy())
                xs = np.array([med.index.min(), med.index.max()], float)
                ax.loglog(xs, np.exp(fit.intercept) * xs ** fit.slope, "r-",
                          label=f"fit: slope {fit.slope:.2f}")
                ax.loglog(xs, med.iloc[0] * xs / xs[0], "b:", label="slope 1")
            ax.set_xlabel("n")
            ax.set_ylabel(f"flow time to loss <= {config.tol:g} L(0)")
            ax.set_title(f"convergence time, d = {config.time_d_factor:g} n^2, m = "
                         f"{config.width_t}", fontsize=10)
            ax.legend(fontsize=8)
            curves = results[(results["kind"] == "curve")]
            for n, g in curves.groupby("n"):
                ax2.semilogy(g["t"] / n, g["loss"], label=f"n = {n}")
            ax2.axhline(config.tol, color="0.6", lw=0.8, ls=":")
            ax2.set_xlabel("t / n")
            ax2.set_ylabel("L(t) / L(0)")
            ax2.set_title("training loss (repetition 0)", fontsize=10)
            ax2.legend(fontsize=8)
            figures["time_vs_n"] = fig
        return figures


__all__ = ["Config", "WeaklyCorrelated", "orthogonal_success_probability", "run_batch",
           "time_fit", "train_networks", "width_at_half"]
