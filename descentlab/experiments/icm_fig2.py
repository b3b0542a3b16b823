"""Particles of a two-layer ReLU network converging to a teacher's neurons (seed 002, Fig. 2).

Setting (section 4.4 and Figure 2 of the ICM review, with the published code's
convention): d = 2, x ~ N(0, I_2), a teacher with m0 = 4 unit neurons and output weights
+-1, y = sum_k a*_k relu(b*_k . x); students of width m in {5, 20, 100, 1000} with
A_j = +-1/m (a_j = m A_j = +-1) and B_j uniform on the unit circle, trained by 2 10^5
steps of SGD on fresh batches of 100 points with lr = 0.002 in the published form
(``descentlab.particles.published_sgd``). The figure draws each particle's trajectory
|a_j| b_j at radius tanh(|.|/2) in its direction (red a_j > 0, blue a_j < 0), the
teacher's directions as dashed rays and the unit circle (where the particles start) at
radius tanh(1/2) (``descentlab.particles.plot_particles``); ``extra_files`` writes an
animated GIF of the flow.

Seeds. The published notebook selected both of its seeds: the teacher "looking for a
case where the global minimizers are aligned with the teacher (this is not systematic)"
and the students "looking for an example where m = 5 does not converge globally". We
did the same with our generators, and say so. ``teacher_seed = 2`` is the first of
0, 1, 2 whose m = 100 student ends aligned with the teacher (at least half of every
teacher neuron's weight within 5 degrees); with teachers 0 and 1 the risk vanishes as
well (5.6e-9 and 5.5e-6) but part of the teacher is represented by other combinations
of neurons (e.g. relu(u.x) - relu(-u.x) = u.x), which the global optimum allows.
``seed = 9`` is a student seed (of 0..11) whose m = 5 run stops at a bad stationary
point (risk 0.22, two particles sharing one teacher neuron); seed 2 also fails (all
five particles die), seeds 7, 10, 11 end at risk 5.6e-4 with two teacher neurons
missed, the others converge. Every width shares the teacher and the stream of fresh
batches; a task is one width.

Claims (m >= 100; Theorems 2-3: many particles reach the global optimum): the final
population risk, computed exactly in closed form, is below 10^-3; every teacher neuron
k has particles within 5 degrees of b*_k, with the sign of a*_k, carrying at least half
of its weight ((1/m) sum |a_j| |b_j| >= |a*_k| / 2; at initialisation a 10-degree window
holds about 3% of the weight). Widths below 100 are reported, not checked (the paper
shows m = 5 can fail).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..data.teacher import Teacher
from ..particles.batch import KEY_INIT, KEY_TEACHER, KEY_TRAIN, ParticleBatch, seeded
from ..particles.engine import published_sgd, snapshot, train
from ..particles.plotting import animate, plot_particles
from ..particles.samples import FreshSamples
from ..theory.kernels import population_risk
from .base import SEED, Claim, Experiment, Int, Items, Real

D = 2
MIN_CHECKED_WIDTH = 100
MIN_ALIGNED_WEIGHT = 0.5
GIF_FRAMES = 48
RISK_CURVE_POINTS = 60


@dataclass(frozen=True)
class Config:
    m0: int = 4
    widths: tuple[int, ...] = (5, 20, 100, 1000)
    steps: int = 200_000
    batch_size: int = 100
    lr: float = 0.002
    teacher_seed: int = 2
    seed: int = 9
    snapshots: int = 300
    angle_deg: float = 5.0
    threshold: float = 1e-3


def snapshot_steps(steps: int, count: int) -> np.ndarray:
    """About ``count`` step counts in [0, steps]: half geometric (the fast start), half linear."""
    geo = np.geomspace(1, max(steps, 1), max(count // 2, 1))
    lin = np.linspace(0, steps, max(count - count // 2, 2))
    return np.unique(np.round(np.concatenate([[0], geo, lin])).astype(np.int64))


def draw_teacher(m0: int, teacher_seed: int) -> Teacher:
    return Teacher.draw(m0, D, seeded(teacher_seed, KEY_TEACHER, D))


def run_width(task: dict) -> pd.DataFrame:
    """Train one width; its particles at the snapshot steps, one row per (step, neuron)."""
    m, seed = task["m"], task["seed"]
    teacher = draw_teacher(task["m0"], task["teacher_seed"])
    batch = ParticleBatch.init((m,), D, lambda _s, _r: seeded(seed, KEY_INIT, D, m))
    data = FreshSamples(teacher, [seeded(seed, KEY_TRAIN, D)], task["batch_size"])
    snaps = snapshot_steps(task["steps"], task["snapshots"])
    res = train(batch, data, published_sgd(task["lr"], task["batch_size"]), task["steps"],
                record_at=snaps, observe=snapshot)
    K = snaps.size
    return pd.DataFrame({
        "m": np.full(K * m, m, dtype=np.int64),
        "step": np.repeat(snaps, m),
        "neuron": np.tile(np.arange(m, dtype=np.int64), K),
        "a": res.records["a"][:, 0].ravel(),
        "b0": res.records["b"][:, 0, :, 0].ravel(),
        "b1": res.records["b"][:, 0, :, 1].ravel()})


def trajectories(results: pd.DataFrame, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps (K,), a (K, m), b (K, m, 2)) of width m from the results table."""
    sub = results[results["m"] == m].sort_values(["step", "neuron"])
    steps = np.unique(sub["step"].to_numpy())
    K = steps.size
    a = sub["a"].to_numpy().reshape(K, m)
    b = np.stack([sub["b0"].to_numpy(), sub["b1"].to_numpy()], axis=-1).reshape(K, m, 2)
    return steps, a, b


def aligned_weights(a: np.ndarray, b: np.ndarray, teacher: Teacher,
                    angle_deg: float) -> np.ndarray:
    """For each teacher neuron k: (1/m) sum |a_j| |b_j| over the particles j with
    sign(a_j) = sign(a*_k) and angle(b_j, b*_k) <= angle_deg, divided by |a*_k| |b*_k|."""
    m = a.shape[0]
    nb = np.linalg.norm(b, axis=1)
    weight = np.abs(a) * nb / m
    out = np.empty(teacher.m0)
    for k in range(teacher.m0):
        u = teacher.b[k] / np.linalg.norm(teacher.b[k])
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = np.clip((b @ u) / nb, -1.0, 1.0)
        near = (np.degrees(np.arccos(cos)) <= angle_deg) & (np.sign(a) == np.sign(teacher.a[k]))
        out[k] = weight[near].sum() / (abs(teacher.a[k]) * np.linalg.norm(teacher.b[k]))
    return out


class IcmFig2(Experiment):
    name = "icm-fig2"
    title = "Particles of a ReLU network converge to the teacher's neurons (ICM Figure 2)"
    source = "002 (Bach and Chizat, ICM 2022 review: section 4.4, Figure 2); 001, 000"
    description = ("SGD on fresh samples (2 10^5 steps, batch 100, lr 0.002, published "
                   "convention) for students of width 5, 20, 100, 1000 of a teacher with "
                   "m0 = 4 ReLU neurons in d = 2; particle trajectories |a_j| b_j on a tanh "
                   "radial scale. Claims: for m >= 100 the population risk vanishes and the "
                   "particles gather on every teacher neuron.")
    Config = Config
    presets = {"quick": Config(widths=(5, 20, 100), steps=30_000, snapshots=120),
               "paper": Config()}
    # sizes: snapshots x width rows of results, batches of batch_size x 2 points
    limits = {"m0": Int(1, 100), "widths": Items(Int(1, 10_000)), "steps": Int(1, 10**7),
              "batch_size": Int(1, 100_000), "lr": Real(0.0, 100.0, lo_open=True),
              "teacher_seed": SEED, "seed": SEED, "snapshots": Int(2, 10_000),
              "angle_deg": Real(0.0, 180.0, lo_open=True),
              "threshold": Real(0.0, lo_open=True)}
    version = "2"

    def tasks(self, config):
        return [{"m": int(m), "m0": config.m0, "steps": config.steps,
                 "batch_size": config.batch_size, "lr": config.lr,
                 "teacher_seed": config.teacher_seed, "seed": config.seed,
                 "snapshots": config.snapshots}
                for m in sorted(config.widths, reverse=True)]

    def run_task(self, task):
        return run_width(task)

    # ------------------------------------------------------------------ analysis
    def final_state(self, results: pd.DataFrame, config) -> pd.DataFrame:
        """Per width: exact final population risk and the aligned weight per teacher neuron."""
        teacher = draw_teacher(config.m0, config.teacher_seed)
        rows = []
        for m in sorted(results["m"].unique()):
            steps, a, b = trajectories(results, int(m))
            w = aligned_weights(a[-1], b[-1], teacher, config.angle_deg)
            rows.append({"m": int(m), "step": int(steps[-1]),
                         "risk": population_risk(a[-1], b[-1], teacher),
                         "aligned": w, "min_aligned": float(w.min())})
        return pd.DataFrame(rows)

    def check(self, results, config):
        claims = []
        for _, r in self.final_state(results, config).iterrows():
            m = r["m"]
            weights = ", ".join(f"{v:.2f}" for v in r["aligned"])
            if m < MIN_CHECKED_WIDTH:
                claims.append(Claim(
                    f"m={m}: reported, not checked",
                    f"no claim below m = {MIN_CHECKED_WIDTH} (the paper shows m = 5 stopping "
                    "at a bad stationary point and m = 20 reaching the optimum)",
                    f"population risk {r['risk']:.2e} after {r['step']:,} steps; aligned "
                    f"weights {weights}", True))
                continue
            claims.append(Claim(
                f"m={m}: population risk vanishes",
                f"exact population risk < {config.threshold:g} after {r['step']:,} steps",
                f"{r['risk']:.2e}", bool(r["risk"] < config.threshold)))
            claims.append(Claim(
                f"m={m}: particles gather on every teacher neuron",
                f"weight within {config.angle_deg:g} deg of each b*_k (sign of a*_k) >= "
                f"{MIN_ALIGNED_WEIGHT} of |a*_k|",
                f"{weights}", bool(r["min_aligned"] >= MIN_ALIGNED_WEIGHT)))
        return claims

    def plot(self, results, config):
        teacher = draw_teacher(config.m0, config.teacher_seed)
        widths = sorted(int(m) for m in results["m"].unique())
        fig, axes = plt.subplots(1, len(widths), figsize=(3.4 * len(widths), 3.8),
                                 squeeze=False)
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.9, wspace=0.04)
        risk_fig, ax_r = plt.subplots(figsize=(5.5, 3.8), constrained_layout=True)
        for ax, m in zip(axes[0], widths, strict=True):
            steps, a, b = trajectories(results, m)
            plot_particles(ax, a, b, teacher, title=f"m = {m}", size=2.0)
            pick = np.unique(np.linspace(0, steps.size - 1, RISK_CURVE_POINTS).astype(int))
            risks = [population_risk(a[k], b[k], teacher) for k in pick]
            ax_r.loglog(steps[pick] + 1, np.maximum(risks, 1e-16), label=f"m = {m}")
        ax_r.axhline(config.threshold, color="0.6", lw=0.8, ls=":")
        ax_r.set_xlabel("SGD step + 1")
        ax_r.set_ylabel("population risk (exact)")
        ax_r.legend(fontsize=8)
        ax_r.grid(alpha=0.3)
        return {"particles": fig, "risk": risk_fig}

    def extra_files(self, results: pd.DataFrame, config, out_dir) -> list[Path]:
        """The animated GIF of the flow, OUT/icm-fig2-flow.gif."""
        return [write_animation(results, config, Path(out_dir) / f"{self.name}-flow.gif")]


def write_animation(results: pd.DataFrame, config, path, frames: int = GIF_FRAMES) -> Path:
    """A GIF with one panel per width, ``frames`` frames spread over the snapshots."""
    teacher = draw_teacher(config.m0, config.teacher_seed)
    widths = sorted(int(m) for m in results["m"].unique())
    a_frames, b_frames, steps = [], [], None
    for m in widths:
        s, a, b = trajectories(results, m)
        pick = np.unique(np.linspace(0, s.size - 1, frames).astype(int))
        a_frames.append(a[pick])
        b_frames.append(b[pick])
        steps = s[pick]
    return animate(a_frames, b_frames, steps, path, teacher=teacher,
                   titles=[f"m = {m}" for m in widths], dpi=72)


__all__ = ["Config", "IcmFig2", "aligned_weights", "run_width", "snapshot_steps",
           "trajectories", "write_animation"]
