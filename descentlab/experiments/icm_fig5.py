"""Implicit bias in two dimensions: both layers vs output layer (seed 002, Figure 5).

Setting (section 5.5 of the ICM review; the published code's ``illustration``): d = 2, the
clustered data of ``descentlab.data.clusters`` (k = 3), n training points, a constant bias
coordinate, a ReLU network of width m = 1000 trained by unregularized full-batch GD on the
soft-min objective with step lr / sqrt(t + 1), lr = 0.5 (the output-only step times
max(1, ||a||/sqrt m)), in both regimes (``descentlab.particles.margins``), for four
random training sets (each its own cluster labelling). The published illustration used
k = 4, n = 100, m = 500, lr = 0.5 for both regimes and 3 10^5 steps; the paper preset uses
the section 5.5 data model (k = 3), n = 100, m = 1000, the same 3 10^5 steps, and
lr_output = 2 for the output layer (same schedule, 4 times the constant): with 0.5 the
output layer is still far from its max-margin limit after 3 10^5 steps (on the second
training set: relative distance 0.59 to the kernel SVM and 0.44 to the SVM on its own
features, against 0.22 and 0.06 with lr_output = 2; 1.0 gives 0.22 and 0.05), and the
claims are about that limit. ``--set lr_output=0.5`` runs the published constant. With
10^5 steps the second set is at 0.37 (lr_output = 2). The quick preset (n = 32, m = 1000,
2 sets, 10^5 steps) runs in about 15 s.

Stability: with the published schedule the output step lr max(1, ||a||/sqrt m)/sqrt(t+1)
*grows* once ||a|| > sqrt(m) (||a|| grows like exp(c sqrt t)), so a long run ends at the
edge of stability, where rounding differences are amplified (two float64 implementations
agree to 1e-16 after 10^3 steps and differ by ~1% after 3 10^4 with lr = 4). In direction
it is a subgradient method on the min-margin with step ~ lr / sqrt(m t): the distance to
the max-margin predictor shrinks slowly and depends on the rounding path, so one training
set can lag (set 2 above).

Figures (as Figure 5 of 002): for each training set, the decision function (tanh(1000 f)
in colour, as the published code draws it) and its zero level set, top both layers,
bottom output layer only, with the zero level set of the kernel max-margin predictor
(``descentlab.theory.kernels``: hard-margin SVM without intercept on the limit
arc-cosine kernel, Theorem 4) dashed on the output-layer panels; a third row shows the
particles of the both-layer network: |a_j| b_j restricted to (x1, x2), divided by
(1/m) sum_j |a_j| |b_j| and drawn at radius tanh(|.|/2) (red a_j > 0, blue a_j < 0), the
point size proportional to the particle's mass |a_j| |b_j|.

Measured (per training set, on 2000 fresh test points and on a grid of [-1/2, 1/2]^2):

* output layer vs kernel SVM: fraction of points where the signs agree, and the relative
  distance ||g - g*|| / ||g*|| between the normalized outputs g = f / (||a|| / sqrt m)
  (f / ||theta_2||, see ``implicit_bias``) and g* = f*/||f*||_k; the same against the SVM
  on the network's own m features (``empirical_kernel``), which is the exact limit of the
  finite network as t -> infinity;
* both layers: the particles are grouped by direction (sign of a_j and b_j/|b_j| within
  ``cluster_angle_deg`` of the heaviest particle of the group, greedily by mass) and the
  smallest number of groups carrying ``mass_fraction`` = 90% of sum_j |a_j| |b_j| is
  reported: a few directions, i.e. a piecewise-linear predictor with a few pieces
  (the variation-norm max-margin solution is sparse, section 5.4).

Claims: (1) output layer vs kernel SVM: sign agreement >= 0.95 on the test points of every
training set; (2) relative distance of the normalized outputs <= ``max_rel_distance``
(0.35: with the published step schedule the output layer is still converging after
3 10^5 steps; the distance to the m-feature SVM, its own limit, is reported beside it); (3) both
layers: at most ``max_directions`` = 30 direction groups carry 90% of the mass (m = 1000
particles); (4) both layers and output layer separate the training set (normalized margin
> 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._validation import check_choice
from ..data.clusters import RADIUS_LAWS, ClusterData, cluster_centers
from ..data.teacher import add_bias
from ..errors import DescentlabError
from ..particles.batch import KEY_INIT, KEY_TEACHER, KEY_TEST, KEY_TRAIN, ParticleBatch, seeded
from ..particles.engine import MATMUL_DTYPES, train
from ..particles.margins import B_INITS, init_margin, margin_gd, margin_records, recorded_margins
from ..particles.plotting import NEGATIVE, POSITIVE, particle_positions
from ..particles.samples import FixedSample
from ..theory.kernels import empirical_kernel, hard_margin_svm, limit_kernel
from .base import SEED, Choice, Claim, Experiment, Int, Real

D = 2
MIN_SIGN_AGREEMENT = 0.95
HEAT_SCALE = 1000.0  # tanh(1000 f), as the published figure
MAX_PREDICTIONS = 10**8  # 800 MB of float64


@dataclass(frozen=True)
class Config:
    k: int = 3
    n: int = 100
    width: int = 1000
    sets: int = 4
    steps: int = 300_000
    lr: float = 0.5
    lr_output: float = 2.0
    n_test: int = 2000
    grid: int = 121
    extent: float = 0.8
    b_init: str = "gaussian"
    radius_law: str = "area"
    mass_fraction: float = 0.9
    cluster_angle_deg: float = 10.0
    max_directions: int = 30
    max_rel_distance: float = 0.35
    seed: int = 0
    matmul_dtype: str = "float64"


def direction_groups(a: np.ndarray, b: np.ndarray, angle_deg: float) -> np.ndarray:
    """Masses (sorted, descending) of the groups of particles of the same sign of a_j whose
    directions b_j/|b_j| are within ``angle_deg`` of the group's heaviest particle."""
    mass = np.abs(a) * np.linalg.norm(b, axis=1)
    u = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-300)
    cos_max = np.cos(np.radians(angle_deg))
    free = np.ones(len(a), bool)
    groups = []
    for j in np.argsort(-mass):
        if not free[j]:
            continue
        members = free & (np.sign(a) == np.sign(a[j])) & (u @ u[j] >= cos_max)
        members[j] = True
        groups.append(mass[members].sum())
        free &= ~members
    return np.sort(np.asarray(groups))[::-1]


def directions_for(masses: np.ndarray, fraction: float) -> int:
    """Smallest number of groups (heaviest first) carrying ``fraction`` of the mass."""
    cum = np.cumsum(masses) / masses.sum()
    return int(np.searchsorted(cum, fraction - 1e-12) + 1)


def run_set(task: dict) -> pd.DataFrame:
    """One training set: both regimes, the kernel SVM, the grid, the particles, the metrics."""
    seed, i, k, n, m = task["seed"], task["set"], task["k"], task["n"], task["width"]
    dist = ClusterData.draw(k, D, seeded(seed, KEY_TEACHER, i), radius_law=task["radius_law"])
    X, y = dist.sample(n, seeded(seed, KEY_TRAIN, i))
    Xt, yt = dist.sample(task["n_test"], seeded(seed, KEY_TEST, i))
    X, Xt = add_bias(X), add_bias(Xt)
    g = np.linspace(-task["extent"], task["extent"], task["grid"])
    G1, G2 = np.meshgrid(g, g)
    Xg = add_bias(np.stack([G1.ravel(), G2.ravel()], axis=1))
    inside = np.all(np.abs(Xg[:, :2]) <= 0.5, axis=1)
    nets, margins, sample = {}, {}, FixedSample(X, y, loss="softmin")
    for code, regime in enumerate(("both", "output")):
        gd = margin_gd(task["lr"] if regime == "both" else task["lr_output"], regime=regime)
        batch = ParticleBatch.init([m], D + 1, lambda _s, _r, code=code: seeded(
            seed, KEY_INIT, i, code), init=init_margin, regime=regime, b_init=task["b_init"])
        nets[regime] = train(batch, sample, gd, task["steps"], observe=margin_records(regime),
                             matmul_dtype=task["matmul_dtype"], reduction="blas")
        margins[regime] = recorded_margins(nets[regime])[-1, 0, 0]
    svm = hard_margin_svm(limit_kernel(X, b_init=task["b_init"]), y)
    a_out, b_out = nets["output"].batch.network(0, 0)
    svm_m = hard_margin_svm(empirical_kernel(b_out, X), y)
    theta = np.linalg.norm(a_out) / np.sqrt(m)

    def out_norm(Z):
        return nets["output"].batch.predict(Z)[0, :, 0] / theta

    g_out, g_out_grid = out_norm(Xt), out_norm(Xg)
    g_svm = svm.normalized(limit_kernel(Xt, X, b_init=task["b_init"]))
    g_svm_grid = svm.normalized(limit_kernel(Xg, X, b_init=task["b_init"]))
    g_svm_m = svm_m.normalized(empirical_kernel(b_out, Xt, X))
    a_b, b_b = nets["both"].batch.network(0, 0)
    masses = direction_groups(a_b, b_b, task["cluster_angle_deg"])
    f_both_t = nets["both"].batch.predict(Xt)[0, :, 0]
    summary = {
        "kind": "summary", "set": i,
        "sign_agreement": float(np.mean(np.sign(g_out) == np.sign(g_svm))),
        "sign_agreement_grid": float(np.mean(np.sign(g_out_grid[inside])
                                             == np.sign(g_svm_grid[inside]))),
        "rel_distance": float(np.linalg.norm(g_out - g_svm) / np.linalg.norm(g_svm)),
        "rel_distance_m": float(np.linalg.norm(g_out - g_svm_m) / np.linalg.norm(g_svm_m)),
        "rkhs_margin": float(margins["output"] / np.sqrt(m)),
        "svm_margin": svm.margin, "svm_m_margin": svm_m.margin,
        "margin_both": float(margins["both"]), "margin_output": float(margins["output"]),
        "error_both": float(np.mean(yt * f_both_t <= 0)),
        "error_output": float(np.mean(yt * g_out <= 0)),
        "error_svm": float(np.mean(yt * g_svm <= 0)),
        "directions": directions_for(masses, task["mass_fraction"]),
        "groups": len(masses),
    }
    frames = [pd.DataFrame([summary]),
              pd.DataFrame({"kind": "grid", "set": i, "x1": Xg[:, 0], "x2": Xg[:, 1],
                            "f_both": nets["both"].batch.predict(Xg)[0, :, 0],
                            "f_output": g_out_grid, "f_svm": g_svm_grid}),
              pd.DataFrame({"kind": "train", "set": i, "x1": X[:, 0], "x2": X[:, 1], "y": y}),
              pd.DataFrame({"kind": "particle", "set": i, "a": a_b, "b1": b_b[:, 0],
                            "b2": b_b[:, 1], "b3": b_b[:, 2]})]
    return pd.concat(frames, ignore_index=True)


class IcmFig5(Experiment):
    name = "icm-fig5"
    title = "Implicit bias in 2D: both layers vs output layer (ICM Figure 5)"
    source = "002 (Bach and Chizat, ICM 2022 review: section 5.5, Figure 5)"
    description = ("Soft-min GD of an m = 1000 ReLU network on 9 labelled disks (d = 2), "
                   "both layers vs output layer, 4 training sets; decision functions, the "
                   "kernel max-margin SVM and the particles. Claims: the output layer is "
                   "close to the kernel SVM, the both-layer predictor uses few directions.")
    Config = Config
    presets = {"quick": Config(n=32, sets=2, steps=100_000, grid=61),
               "paper": Config()}
    # sizes: hard-margin SVMs on n points; predictions of width neurons on grid^2 and
    # n_test points (at most MAX_PREDICTIONS values at a time)
    limits = {"k": Int(2, 20), "n": Int(2, 2000), "width": Int(1, 10_000), "sets": Int(1, 100),
              "steps": Int(1, 10**7), "lr": Real(0.0, 100.0, lo_open=True),
              "lr_output": Real(0.0, 100.0, lo_open=True), "n_test": Int(1, 100_000),
              "grid": Int(2, 1001), "extent": Real(0.0, 10.0, lo_open=True),
              "b_init": Choice(B_INITS), "radius_law": Choice(RADIUS_LAWS),
              "mass_fraction": Real(0.0, 1.0, lo_open=True),
              "cluster_angle_deg": Real(0.0, 180.0, lo_open=True),
              "max_directions": Int(1, 10_000), "max_rel_distance": Real(0.0, lo_open=True),
              "seed": SEED, "matmul_dtype": Choice(MATMUL_DTYPES)}

    def constraints(self, config):
        points = max(config.grid ** 2, config.n_test)
        if points * config.width > MAX_PREDICTIONS:
            raise DescentlabError(f"width: expected width x max(grid^2, n_test) <= "
                                  f"{MAX_PREDICTIONS:.0e} (memory of the predictions), got "
                                  f"{config.width} x {points}")
    version = "1"

    def tasks(self, config):
        check_choice("matmul_dtype", config.matmul_dtype, MATMUL_DTYPES)
        check_choice("radius_law", config.radius_law, RADIUS_LAWS)
        return [{"set": i, "seed": config.seed, "k": config.k, "n": config.n,
                 "width": config.width, "steps": config.steps, "lr": config.lr,
                 "lr_output": config.lr_output,
                 "n_test": config.n_test, "grid": config.grid, "extent": config.extent,
                 "b_init": config.b_init, "radius_law": config.radius_law,
                 "mass_fraction": config.mass_fraction,
                 "cluster_angle_deg": config.cluster_angle_deg,
                 "matmul_dtype": config.matmul_dtype} for i in range(config.sets)]

    def run_task(self, task):
        return run_set(task)

    def check(self, results, config):
        s = results[results["kind"] == "summary"].sort_values("set")

        def each(col, fmt):
            return ", ".join(f"{v:{fmt}}" for v in s[col])

        return [
            Claim("output layer vs kernel SVM: same decisions",
                  f"sign agreement with the kernel max-margin SVM >= {MIN_SIGN_AGREEMENT} on "
                  f"{config.n_test} test points, every set",
                  f"{each('sign_agreement', '.3f')} (grid in [-1/2,1/2]^2: "
                  f"{each('sign_agreement_grid', '.3f')})",
                  bool((s["sign_agreement"] >= MIN_SIGN_AGREEMENT).all())),
            Claim("output layer vs kernel SVM: close normalized outputs",
                  f"||g - g*|| / ||g*|| <= {config.max_rel_distance} on the test points "
                  f"(g = f/||theta_2||, g* = f*/||f*||_k), every set",
                  f"{each('rel_distance', '.3f')} (vs the SVM on the network's own "
                  f"features: {each('rel_distance_m', '.3f')}; RKHS margins "
                  f"{each('rkhs_margin', '.4f')} vs SVM {each('svm_margin', '.4f')})",
                  bool((s["rel_distance"] <= config.max_rel_distance).all())),
            Claim("both layers: few directions (piecewise linear)",
                  f"<= {config.max_directions} direction groups ({config.cluster_angle_deg:g} "
                  f"deg) carry {config.mass_fraction:.0%} of sum |a_j||b_j| "
                  f"(m = {config.width})",
                  f"{each('directions', '.0f')} groups (of {each('groups', '.0f')})",
                  bool((s["directions"] <= config.max_directions).all())),
            Claim("both regimes separate the training set",
                  "normalized margin > 0 after training, both regimes, every set",
                  f"both: {each('margin_both', '.4f')}; output: {each('margin_output', '.3f')}",
                  bool((s["margin_both"] > 0).all() and (s["margin_output"] > 0).all())),
        ]

    def plot(self, results, config):
        sets = sorted(results.loc[results["kind"] == "summary", "set"].unique())
        fig, axes = plt.subplots(3, len(sets), figsize=(2.8 * len(sets), 8.6),
                                 constrained_layout=True, squeeze=False)
        centers = cluster_centers(config.k)
        for col, i in enumerate(sets):
            grid = results[(results["kind"] == "grid") & (results["set"] == i)]
            train = results[(results["kind"] == "train") & (results["set"] == i)]
            size = int(round(np.sqrt(len(grid))))
            x1 = grid["x1"].to_numpy().reshape(size, size)
            x2 = grid["x2"].to_numpy().reshape(size, size)
            for row, (key, label) in enumerate((("f_both", "both layers"),
                                                ("f_output", "output layer"))):
                ax = axes[row, col]
                f = grid[key].to_numpy().reshape(size, size)
                scale = HEAT_SCALE if key == "f_both" else HEAT_SCALE / np.abs(f).max()
                ax.pcolormesh(x1, x2, np.tanh(scale * f), cmap="coolwarm", vmin=-1, vmax=1,
                              shading="gouraud")
                ax.contour(x1, x2, f, levels=[0], colors="k", linewidths=1.5)
                if key == "f_output":
                    ax.contour(x1, x2, grid["f_svm"].to_numpy().reshape(size, size),
                               levels=[0], colors="lime", linewidths=1.2, linestyles="--")
                pos, neg = train[train["y"] > 0], train[train["y"] < 0]
                ax.plot(pos["x1"], pos["x2"], "+k", ms=4)
                ax.plot(neg["x1"], neg["x2"], "_k", ms=4)
                ax.plot(centers[:, 0], centers[:, 1], ".", color="0.3", ms=2)
                ax.set_aspect("equal")
                ax.set_xticks([])
                ax.set_yticks([])
                if col == 0:
                    ax.set_ylabel(label + ("\n(dashed: kernel SVM)" if row else ""))
            part = results[(results["kind"] == "particle") & (results["set"] == i)]
            a = part["a"].to_numpy()
            b = part[["b1", "b2", "b3"]].to_numpy()
            mass = np.abs(a) * np.linalg.norm(b, axis=1)
            q = particle_positions(a / mass.mean(), b)  # |a_j| b_j on (x1, x2), tanh scale
            ax = axes[2, col]
            t = np.linspace(0, 2 * np.pi, 200)
            ax.plot(np.tanh(0.5) * np.cos(t), np.tanh(0.5) * np.sin(t), color="k", lw=0.6)
            ax.scatter(q[:, 0], q[:, 1], s=40 * mass / mass.max() + 0.5,
                       c=[POSITIVE if v > 0 else NEGATIVE for v in a], alpha=0.6, lw=0)
            ax.set_xlim(-1.08, 1.08)
            ax.set_ylim(-1.08, 1.08)
            ax.set_aspect("equal")
            ax.axis("off")
            s = results[(results["kind"] == "summary") & (results["set"] == i)].iloc[0]
            ax.set_title(f"{int(s['directions'])} directions carry "
                         f"{config.mass_fraction:.0%}", fontsize=8)
        fig.suptitle(f"both layers (top) vs output layer (middle); particles of the both-layer "
                     f"network (bottom)\nd = 2, n = {config.n}, m = {config.width}, "
                     f"{config.steps} steps", fontsize=9)
        return {"decision": fig}


__all__ = ["Config", "IcmFig5", "direction_groups", "directions_for", "run_set"]
