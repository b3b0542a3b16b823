"""Pictures of the particles, as in Figure 2 of seed 002 (and its published notebook).

A particle w_j = (a_j, b_j) with b_j in R^2 is drawn at

    p_j = |a_j| b_j  mapped to  tanh(|p_j| / 2) p_j / |p_j|,

so the whole plane fits in the unit disk and the unit circle, where the particles start
(|a_j| = |b_j| = 1), is the circle of radius tanh(1/2). Colour: red (C3) for a_j > 0,
blue (C0) for a_j < 0. The teacher's neurons are dashed rays in the directions b*_k,
coloured by the sign of a*_k. ``animate`` writes a GIF of the flow with matplotlib's
PillowWriter.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from ..errors import DescentlabError  # noqa: E402

POSITIVE, NEGATIVE = "C3", "C0"
RADIAL_SCALE = 2.0


def particle_positions(a: np.ndarray, b: np.ndarray, scale: float = RADIAL_SCALE,
                       coords: tuple[int, int] = (0, 1)) -> np.ndarray:
    """tanh(|p|/scale) p/|p| for p = |a| b[..., coords]; shape a.shape + (2,)."""
    b = np.asarray(b, dtype=np.float64)
    if b.shape[-1] < 2:
        raise DescentlabError(f"b: particles need at least 2 input coordinates to be drawn, "
                              f"got {b.shape[-1]}")
    p = np.abs(np.asarray(a, dtype=np.float64))[..., None] * b[..., list(coords)]
    rho = np.linalg.norm(p, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rho > 0, np.tanh(rho / scale) * p / np.where(rho > 0, rho, 1.0), 0.0)


def _frame(ax, teacher, scale: float) -> None:
    t = np.linspace(0, 2 * math.pi, 200)
    r0 = math.tanh(1.0 / scale)
    ax.plot(r0 * np.cos(t), r0 * np.sin(t), color="k", lw=1)
    if teacher is not None:
        for ak, bk in zip(teacher.a, teacher.b, strict=True):
            u = bk[:2] / max(np.linalg.norm(bk[:2]), 1e-300)
            ax.plot([0, 1.2 * u[0]], [0, 1.2 * u[1]], "--", lw=1.2, alpha=0.5,
                    color=POSITIVE if ak > 0 else NEGATIVE)
    ax.plot([0], [0], "o", color="k", ms=3)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_aspect("equal")
    ax.axis("off")


def plot_particles(ax, a_traj: np.ndarray, b_traj: np.ndarray, teacher=None, *,
                   title: str | None = None, scale: float = RADIAL_SCALE,
                   size: float = 1.0) -> None:
    """Trajectories of the particles of one network on ``ax`` (Figure 2 of seed 002).

    a_traj: (T, m) and b_traj: (T, m, 2) along time; lines of width 1.5 size/sqrt(m)
    and a dot at the final position (the published sizes, 3/sqrt(m) and 25/sqrt(m) on a
    7-inch figure, scaled by ``size``/2).
    """
    a_traj, b_traj = np.asarray(a_traj), np.asarray(b_traj)
    if a_traj.ndim != 2 or b_traj.shape[:2] != a_traj.shape:
        raise DescentlabError(f"a_traj, b_traj: expected shapes (T, m) and (T, m, 2), got "
                              f"{a_traj.shape} and {b_traj.shape}")
    m = a_traj.shape[1]
    pos = particle_positions(a_traj, b_traj, scale)  # (T, m, 2)
    sign = a_traj[0] > 0
    colors = [POSITIVE if s else NEGATIVE for s in sign]
    lc = LineCollection(np.swapaxes(pos, 0, 1), colors=colors,
                        linewidths=1.5 * size / math.sqrt(m))
    ax.add_collection(lc)
    ms = 12.5 * size / math.sqrt(m)
    for positive in (True, False):
        sel = sign == positive
        ax.plot(pos[-1, sel, 0], pos[-1, sel, 1], "o", ms=ms, lw=0,
                color=POSITIVE if positive else NEGATIVE)
    _frame(ax, teacher, scale)
    if title:
        ax.set_title(title)


def animate(a_frames: Sequence[np.ndarray], b_frames: Sequence[np.ndarray],
            steps: Sequence[int], path, *, teacher=None, titles: Sequence[str] | None = None,
            fps: int = 12, dpi: int = 80, scale: float = RADIAL_SCALE,
            panel_inches: float = 3.2) -> Path:
    """Write a GIF of the flow: one panel per network, one frame per recorded step.

    a_frames[p]: (K, m_p) and b_frames[p]: (K, m_p, 2) for panel p; ``steps``: the K
    step counts (shown in the title). Particles are dots with their past trajectory as
    a thin trail. Returns the path written.
    """
    panels = len(a_frames)
    if panels == 0 or len(b_frames) != panels:
        raise DescentlabError("a_frames, b_frames: expected one array per panel, as many of each")
    K = len(steps)
    positions, signs = [], []
    for a, b in zip(a_frames, b_frames, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape[0] != K or b.shape[:2] != a.shape:
            raise DescentlabError(f"a_frames, b_frames: expected ({K}, m) and ({K}, m, 2) per "
                                  f"panel, got {a.shape} and {b.shape}")
        positions.append(particle_positions(a, b, scale))
        signs.append(a[0] > 0)
    cols = min(panels, 2 if panels == 4 else panels)
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_inches * cols, panel_inches * rows),
                             squeeze=False)
    axes = axes.ravel()
    trails, dots = [], []
    for p in range(panels):
        ax = axes[p]
        m = positions[p].shape[1]
        colors = [POSITIVE if s else NEGATIVE for s in signs[p]]
        lc = LineCollection([], colors=colors, linewidths=0.8 / math.sqrt(max(m / 20, 1)),
                            alpha=0.5)
        ax.add_collection(lc)
        dot = ax.scatter(positions[p][0, :, 0], positions[p][0, :, 1], s=60 / math.sqrt(m),
                         c=colors, lw=0)
        _frame(ax, teacher, scale)
        if titles is not None:
            ax.set_title(titles[p], fontsize=9)
        trails.append(lc)
        dots.append(dot)
    for ax in axes[panels:]:
        ax.axis("off")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    label = fig.text(0.5, 0.015, "", ha="center", fontsize=9)

    def draw(k):
        for p in range(panels):
            dots[p].set_offsets(positions[p][k])
            trails[p].set_segments(np.swapaxes(positions[p][:k + 1], 0, 1))
        label.set_text(f"step {int(steps[k]):,}")
        return [*dots, *trails, label]

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    anim = FuncAnimation(fig, draw, frames=K, blit=False)
    try:
        anim.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    finally:
        plt.close(fig)
    return path


__all__ = ["NEGATIVE", "POSITIVE", "RADIAL_SCALE", "animate", "particle_positions",
           "plot_particles"]
