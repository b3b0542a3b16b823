"""The ``published`` preset of ``weakly-correlated``: the authors' own protocol.

Dana, Bach and Pillaud-Vivien, "Convergence of shallow ReLU networks on weakly interacting
data" (arXiv 2502.16977, NeurIPS 2025; seed 000 quotes its result: global convergence as
soon as m >~ log n, proved for d >~ n^2, "open problem: results for d >~ n"). The protocol
of their released code, exactly (``descentlab.data.weakly``,
``descentlab.particles.float32_gd``):

* data x_i = g_i / ||g_i|| r_i, g_i ~ N(0, I_d), r_i ~ U[1, 2]; y_i = s_i u_i, s_i
  Rademacher, u_i ~ U[1, 2];
* f(x) = (1/p) sum_j a_j relu(w_j . x), no biases; w_j i.i.d. U(-1/sqrt d, 1/sqrt d)
  entries (PyTorch's nn.Linear default), a_j = s_j (||w_j|| + e_j), e_j ~ Exp(1);
* loss p mean_i (y_i - f(x_i))^2 / 2, full-batch GD on (W, a), lr = 1, float32;
* epochs = floor(1.5 sqrt(n p) log(n p) / 4) + 1, stopping as soon as the loss computed
  before the step is below p / (2 n); converged = last loss <= p / (2 n);
* grid (i): p = 30 (``width_dims``), d in ``dims`` = 10, 20, ..., 100, n in {d, 2d, ...,
  30 d - 200}; grid (ii): d = 30 (``dim_widths``), p in ``widths`` = 20, 50, 100, 200, 400,
  n = 20, 30, ..., 450; ``reps`` = 20 runs per point (each its own data and
  initialisation, stream seeded(seed, KEY_TRAIN | KEY_INIT, PUBLISHED_KEY, d, n, p, rep));
  ``ns`` replaces the n grid of both grids, ``grids`` selects them.

One task per (grid, d, n, p): its ``reps`` trainings are one float32 array program
(stacked BLAS products, one compiled pass per epoch; a run that stops leaves the batch).

**Transition.** For each d (each p) the probability of convergence is fitted by a logistic
model in log n, P(converged) = 1 / (1 + exp(k (log n - log n*))), by maximum likelihood on
the individual runs (``logistic_transition``, scipy; the authors fit a logistic curve too),
n* the 50% point; its growth exponent beta is the least-squares slope of log n*(d) against
log d, with a 95% interval from a bootstrap over runs (resampled within each point).

**Claims.** (1) at every d of grid (i) and every p of grid (ii) the convergence rate at the
smallest n is >= 0.9 and (2) at the largest n <= 0.1 (the transition lies inside the grid;
a p whose runs still converge at n = 450 fails (2): the grid does not reach its transition);
(3) n*(d) increasing in d: the fitted n* are in increasing order of d up to the
fit's noise (Spearman rank correlation >= 0.9) and n* at the largest d is above that at
the smallest; the same for n*(p) in p (a p whose runs still converge at the largest n has
n* above the grid, counted as larger than any fitted one); (4) the growth exponent beta:
the theorem (d >~ n^2) guarantees convergence up to n ~ sqrt d, i.e. beta >= 1/2; the
claim is beta >= 1/2 and the measured value is reported beside the open problem's
beta = 1 (d >~ n).

**Measured** (grid (i), the whole published grid: 239 points, 4780 trainings, seed 0,
``descentlab reproduce weakly-correlated --preset published --set grids=i --jobs 2``): 4/4
claims pass. Rate at n = d 0.95-1.00 for every d, 0.00 at n = 30 d - 200 for every d;
n*(d) = 28, 81, 157, 249, 370, 550, 752, 898, 1077, 1092 for d = 10, 20, ..., 100
(Spearman 1.00); growth exponent beta = 1.66 (bootstrap 95% [1.63, 1.71]): n* grows faster
than the open problem's d (n*/d from 2.8 to 11), far beyond the theorem's sqrt d. Near the
transition the runs that fail end just above the threshold (d = 100, n = 1300-1400: median
final loss 1.1-1.7 x p/(2n)) and the converged ones use most of their epochs (691 of 747 at
n = 1200), i.e. under this protocol the transition at large d is where the time to reach
p/(2n) exceeds the epoch budget ~ sqrt(n p) log(n p), not a plateau of dead points; the
flattening of n*(d) from d = 90 to 100 fits that reading.
Cost: 697 s of CPU in all (694 s user, BLAS one thread per worker), i.e. about 6 minutes
of wall time on 2 free cores; the run took 41.6 minutes of wall time with ``--jobs 2`` on
a machine shared with other jobs (load average 10-12 on 2 cores; the sweep got 27% of one
core on average).
Grid (ii) (``--set grids=ii --jobs 2``, 220 points, 4400 trainings): 3/3 claims pass; rate
at n = 20 0.95-1.00 and at n = 450 0.00 for every p; n*(p) = 103, 221, 294, 347, 380 for
p = 20, 50, 100, 200, 400 (Spearman 1.00): increasing, by less and less per doubling of p
(+118, +73, +53, +33), far slower than the exp(c p) that "p ~ log n suffices" allows at
d = 30. Cost 389 s of CPU, 8.7 minutes of wall time (load average 4-6 on 2 cores).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..data.weakly import published_inputs, published_network
from ..errors import DescentlabError
from ..particles.batch import KEY_INIT, KEY_TRAIN, seeded
from ..particles.float32_gd import float32_gd, published_epochs, published_threshold
from ..theory import loglog_slope
from .base import Claim

#: second key of the published protocol's random streams (apart from the sphere protocol's)
PUBLISHED_KEY = 1000
GRIDS = ("i", "ii")
#: floats of one task (reps x n x (d + 2 p)): about 1 GB in float32
MAX_TASK_FLOATS = 2.5 * 10**8
MIN_RATE_LOW, MAX_RATE_HIGH, MIN_SPEARMAN = 0.9, 0.1, 0.9
THEORY_EXPONENT, OPEN_PROBLEM_EXPONENT = 0.5, 1.0


def default_ns(grid: str, d: int) -> list[int]:
    """The published n grid: (i) d, 2d, ..., 30 d - 200; (ii) 20, 30, ..., 450."""
    if grid == "i":
        return list(range(d, 30 * d - 200 + 1, d))
    return list(range(20, 451, 10))


def grid_points(config) -> list[tuple[str, int, int, int]]:
    """(grid, d, n, p) of every point of the published grids of ``config``."""
    points = []
    for grid in config.grids:
        pairs = [(d, config.width_dims) for d in config.dims] if grid == "i" else \
            [(config.dim_widths, p) for p in config.widths]
        for d, p in pairs:
            for n in (config.ns or default_ns(grid, d)):
                points.append((grid, int(d), int(n), int(p)))
    return points


def check_config(config) -> None:
    """The relations the published tasks rely on (raises DescentlabError naming the field)."""
    if not config.ns and "i" in config.grids:
        small = [d for d in config.dims if 30 * d - 200 < d]
        if small:
            raise DescentlabError(f"dims: expected every d >= 7 (the n grid d, 2d, ..., "
                                  f"30 d - 200 is empty below; or set ns), got {small}")
    for grid, d, n, p in grid_points(config):
        if config.reps * n * (d + 2 * p) > MAX_TASK_FLOATS:
            field = "ns" if config.ns else ("dims" if grid == "i" else "widths")
            raise DescentlabError(f"{field}: expected reps x n x (d + 2 p) <= "
                                  f"{MAX_TASK_FLOATS:.3g} (memory of one task), got "
                                  f"{config.reps} x {n} x ({d} + 2 x {p})")


def published_tasks(config) -> list[dict]:
    tasks = [{"protocol": "published", "grid": grid, "d": d, "n": n, "p": p,
              "reps": config.reps, "lr": config.lr, "seed": config.seed}
             for grid, d, n, p in grid_points(config)]
    # the most expensive first (failing runs use all their epochs): n d p epochs
    return sorted(tasks, key=lambda t: -t["n"] * (t["d"] + 2) * t["p"]
                  * published_epochs(t["n"], t["p"]))


def draw_runs(d: int, n: int, p: int, reps: int, seed: int):
    """The stacked float32 (X, y, W, a) of the ``reps`` runs of one point."""
    X, y, W, a = [], [], [], []
    for rep in range(reps):
        Xr, yr = published_inputs(n, d, seeded(seed, KEY_TRAIN, PUBLISHED_KEY, d, n, p, rep))
        Wr, ar = published_network(p, d, seeded(seed, KEY_INIT, PUBLISHED_KEY, d, n, p, rep))
        X.append(Xr)
        y.append(yr)
        W.append(Wr)
        a.append(ar)
    return np.stack(X), np.stack(y), np.stack(W), np.stack(a)


def run_published(task: dict) -> pd.DataFrame:
    """Train the ``reps`` networks of one (grid, d, n, p); one row per training."""
    d, n, p, reps = task["d"], task["n"], task["p"], task["reps"]
    res = float32_gd(*draw_runs(d, n, p, reps, task["seed"]), lr=task["lr"])
    return pd.DataFrame({"grid": task["grid"], "d": d, "n": n, "p": p, "width": p,
                         "rep": np.arange(reps), "converged": res.converged,
                         "final_loss": res.final_loss, "epochs_run": res.epochs_run,
                         "epochs": published_epochs(n, p),
                         "threshold": published_threshold(n, p)})


# ------------------------------------------------------------------ analysis
def logistic_transition(n, converged) -> tuple[float, float]:
    """(n*, k) of the maximum-likelihood fit P(converged) = 1 / (1 + exp(k (log n - log
    n*))) to individual runs; n* = inf when no run fails, nan when none converges or the
    fitted probability does not decrease (k <= 0) or the likelihood has no maximum (runs
    separated perfectly: then n* is the geometric midpoint of the gap, k = inf)."""
    x = np.log(np.asarray(n, dtype=np.float64))
    c = np.asarray(converged, dtype=bool)
    if c.all():
        return math.inf, math.nan
    if not c.any():
        return math.nan, math.nan
    lo, hi = x[~c].min(), x[c].max()  # separated: every success below every failure
    if hi < lo:
        return float(math.exp((hi + lo) / 2)), math.inf
    mu, sd = x.mean(), x.std() or 1.0
    u, t = (x - mu) / sd, c.astype(np.float64)

    def nll(theta):
        s = theta[0] + theta[1] * u             # logit of P(converged)
        loss = np.sum(np.logaddexp(0.0, s) - t * s)
        q = stats.logistic.cdf(s) - t
        return loss, np.array([q.sum(), (q * u).sum()])

    res = optimize.minimize(nll, np.zeros(2), jac=True, method="BFGS",
                            options={"gtol": 1e-10, "maxiter": 1000})
    b0, b1 = res.x
    if b1 >= 0:
        return math.nan, math.nan
    k = -b1 / sd
    return float(math.exp(mu - b0 * sd / b1)), float(k)


def transitions(runs: pd.DataFrame, key: str) -> pd.DataFrame:
    """n* and k of each value of ``key`` ("d" or "p"), with the rates at the extreme n."""
    rows = []
    for value, g in runs.groupby(key):
        n_star, k = logistic_transition(g["n"], g["converged"])
        rate = g.groupby("n")["converged"].mean()
        rows.append({key: int(value), "n_star": n_star, "k": k, "n_min": int(rate.index.min()),
                     "rate_min": float(rate.iloc[0]), "n_max": int(rate.index.max()),
                     "rate_max": float(rate.iloc[-1])})
    return pd.DataFrame(rows)


def growth_exponent(runs: pd.DataFrame, n_boot: int, seed: int):
    """(beta, (lo, hi) bootstrap 95% interval, n* by d) of n*(d) ~ d^beta on grid (i)."""
    fits = transitions(runs, "d")
    ok = fits[np.isfinite(fits["n_star"])]
    beta = loglog_slope(ok["d"], ok["n_star"]).slope if len(ok) >= 2 else math.nan
    rng = np.random.default_rng(seed)
    groups = [(d, [(n, g["converged"].to_numpy()) for n, g in gd.groupby("n")])
              for d, gd in runs.groupby("d")]
    boots = []
    for _ in range(n_boot if np.isfinite(beta) else 0):
        ds, stars = [], []
        for d, points in groups:
            ns = np.concatenate([np.full(c.size, n) for n, c in points])
            cs = np.concatenate([rng.choice(c, c.size) for _, c in points])
            star = logistic_transition(ns, cs)[0]
            if np.isfinite(star):
                ds.append(d)
                stars.append(star)
        if len(ds) >= 2:
            boots.append(np.polyfit(np.log(ds), np.log(stars), 1)[0])
    interval = tuple(map(float, np.percentile(boots, [2.5, 97.5]))) if boots else \
        (math.nan, math.nan)
    return beta, interval, fits


def _ordered(fits: pd.DataFrame, key: str) -> tuple[float, bool]:
    """(Spearman correlation of n* with key, n* at the largest key > at the smallest);
    inf (no failure up to the grid's end) ranks above every fitted n*."""
    stars = fits.sort_values(key)["n_star"].to_numpy()
    if len(stars) < 2 or np.isnan(stars).any():
        return math.nan, False
    rho = stats.spearmanr(fits.sort_values(key)[key], stars).statistic
    return float(rho), bool(stars[-1] > stars[0])


def published_claims(results: pd.DataFrame, config) -> list[Claim]:
    claims = []
    for grid, key, what in (("i", "d", f"p = {config.width_dims}"),
                            ("ii", "p", f"d = {config.dim_widths}")):
        runs = results[results["grid"] == grid]
        if not len(runs):
            continue
        fits = transitions(runs, key)
        low = fits["rate_min"].min()
        claims.append(Claim(
            f"grid ({grid}): convergence at small n for every {key}",
            f"rate at the smallest n >= {MIN_RATE_LOW} for every {key} ({what})",
            "; ".join(f"{key}={int(r[key])}: {r['rate_min']:.2f} at n={int(r['n_min'])}"
                      for _, r in fits.iterrows()),
            bool(low >= MIN_RATE_LOW)))
        high = fits["rate_max"].max()
        claims.append(Claim(
            f"grid ({grid}): no convergence at large n for every {key}",
            f"rate at the largest n <= {MAX_RATE_HIGH} for every {key} ({what})",
            "; ".join(f"{key}={int(r[key])}: {r['rate_max']:.2f} at n={int(r['n_max'])}"
                      for _, r in fits.iterrows()),
            bool(high <= MAX_RATE_HIGH)))
        if len(fits) >= 2:
            rho, up = _ordered(fits, key)
            claims.append(Claim(
                f"grid ({grid}): the transition n* increases with {key}",
                f"Spearman(n*, {key}) >= {MIN_SPEARMAN} and n* at the largest {key} above "
                f"n* at the smallest (logistic fit in log n)",
                "n* = " + ", ".join(f"{r['n_star']:.0f} ({key}={int(r[key])})"
                                    for _, r in fits.iterrows()) + f"; Spearman {rho:.2f}",
                bool(rho >= MIN_SPEARMAN and up)))
    runs = results[results["grid"] == "i"]
    if runs["d"].nunique() >= 2:
        beta, (lo, hi), _ = growth_exponent(runs, config.n_boot, config.seed)
        claims.append(Claim(
            "grid (i): growth exponent of n*(d)",
            f"n*(d) ~ d^beta with beta >= {THEORY_EXPONENT} (the theorem's d >~ n^2 gives "
            f"convergence up to n ~ sqrt d); the open problem d >~ n would mean beta = "
            f"{OPEN_PROBLEM_EXPONENT:g}",
            f"beta = {beta:.3f} (bootstrap 95% [{lo:.3f}, {hi:.3f}]) over d = "
            f"{runs['d'].min()}..{runs['d'].max()}",
            bool(np.isfinite(beta) and beta >= THEORY_EXPONENT)))
    return claims


def _logistic_curve(ns, n_star, k):
    if not (np.isfinite(n_star) and np.isfinite(k)):
        return None
    return 1.0 / (1.0 + np.exp(k * (np.log(ns) - math.log(n_star))))


def published_figures(results: pd.DataFrame, config) -> dict:
    figures = {}
    for grid, key, name in (("i", "d", "published_vs_n_dims"),
                            ("ii", "p", "published_vs_n_widths")):
        runs = results[results["grid"] == grid]
        if not len(runs):
            continue
        fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
        fits = transitions(runs, key).set_index(key)
        colors = plt.cm.viridis(np.linspace(0, 0.9, runs[key].nunique()))
        for color, (value, g) in zip(colors, runs.groupby(key), strict=True):
            rate = g.groupby("n")["converged"].mean()
            ax.plot(rate.index, rate.to_numpy(), "o", ms=3, color=color, label=f"{key} = "
                    f"{value}")
            ns = np.geomspace(rate.index.min(), rate.index.max(), 200)
            curve = _logistic_curve(ns, fits.loc[value, "n_star"], fits.loc[value, "k"])
            if curve is not None:
                ax.plot(ns, curve, "-", lw=1, color=color)
        ax.set_xscale("log")
        ax.set_xlabel("n")
        ax.set_ylabel("P(converged)")
        ax.set_ylim(-0.03, 1.03)
        fixed = f"p = {config.width_dims}" if grid == "i" else f"d = {config.dim_widths}"
        ax.set_title(f"grid ({grid}): {fixed}, {config.reps} runs per point; lines: "
                     "logistic fits", fontsize=9)
        ax.legend(fontsize=7, ncol=2)
        figures[name] = fig
    runs = results[results["grid"] == "i"]
    if runs["d"].nunique() >= 2:
        beta, (lo, hi), fits = growth_exponent(runs, 0, config.seed)
        ok = fits[np.isfinite(fits["n_star"])]
        fig, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
        ax.loglog(ok["d"], ok["n_star"], "ko", label="n*(d), logistic fit")
        if np.isfinite(beta):
            fit = loglog_slope(ok["d"], ok["n_star"])
            ds = np.array([ok["d"].min(), ok["d"].max()], float)
            ax.loglog(ds, np.exp(fit.intercept) * ds ** beta, "r-",
                      label=f"fit: n* ~ d^{beta:.2f}")
            for expo, style in ((THEORY_EXPONENT, ":"), (OPEN_PROBLEM_EXPONENT, "--")):
                ax.loglog(ds, ok["n_star"].iloc[0] * (ds / ds[0]) ** expo, "b" + style, lw=1,
                          label=f"slope {expo:g}")
        ax.set_xlabel("d")
        ax.set_ylabel("n* (50% convergence)")
        ax.set_title(f"transition vs d (p = {config.width_dims})", fontsize=10)
        ax.legend(fontsize=8)
        figures["published_transition"] = fig
    runs = results[results["grid"] == "ii"]
    if runs["p"].nunique() >= 2:
        fits = transitions(runs, "p")
        ok = fits[np.isfinite(fits["n_star"])]
        fig, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
        ax.semilogx(ok["p"], ok["n_star"], "ko-", label="n*(p), logistic fit")
        above = fits[np.isinf(fits["n_star"])]
        if len(above):
            ax.semilogx(above["p"], above["n_max"], "k^", mfc="none",
                        label="every run converged (n* above the grid)")
        ax.set_xlabel("p (width)")
        ax.set_ylabel("n* (50% convergence)")
        ax.set_title(f"transition vs width (d = {config.dim_widths})", fontsize=10)
        ax.legend(fontsize=8)
        figures["published_transition_widths"] = fig
    return figures


__all__ = ["GRIDS", "check_config", "default_ns", "draw_runs", "growth_exponent",
           "grid_points", "logistic_transition", "published_claims", "published_figures",
           "published_tasks", "run_published", "transitions"]
