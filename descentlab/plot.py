"""Figures shared by the CLI and the experiments."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless by default; figures are written to files
import matplotlib.pyplot as plt  # noqa: E402


def convergence_figure(traces, labels=None, x: str = "epochs"):
    """Relative suboptimality and gradient norm against ``x`` for a list of Traces."""
    labels = labels or [t.meta.get("method", {}).get("name", "?") for t in traces]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    for trace, label in zip(traces, labels, strict=True):
        df = trace.df
        if df["rel_subopt"].notna().any():
            axes[0].semilogy(df[x], df["rel_subopt"].clip(lower=1e-17), label=label)
        axes[1].semilogy(df[x], df["grad_norm"].clip(lower=1e-300), label=label)
    axes[0].set_ylabel("(F - F*) / |F*|")
    axes[1].set_ylabel("gradient-mapping norm")
    for ax in axes:
        ax.set_xlabel(x.replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0].legend()
    return fig
