"""Clustered binary classification in [-1/2, 1/2]^d (seed 002, section 5.5, Figure 6(a)).

The data model of the implicit-bias experiments of the ICM review (Figures 5-6):

* in the first two coordinates, a mixture with equal weights of k^2 uniform distributions on
  disks of radius Delta = 1/(3k - 1) centred on the grid

      c_(p, q) = (Delta (1 + 3 p) - 1/2, Delta (1 + 3 q) - 1/2),   p, q = 0..k-1,

  i.e. a grid with step 3 Delta inside [-1/2, 1/2]^2 (two clusters are at least Delta apart);
* the other d - 2 coordinates uniform on [-1/2, 1/2], independent of the label;
* each cluster carries a label in {-1, +1}: ``ClusterData.draw`` assigns -1 to
  floor(k^2 / 2) clusters chosen at random and +1 to the others, as the published code does
  (``randperm``), so that both classes are present.

The classifier only needs the first two coordinates; a method that adapts to this
low-dimensional structure should see its test error grow slowly with d.

Two details of the published Julia code (lchizat/2020-implicit-bias-wide-2NN) differ from
the text of the review, and the text is followed by default:

* the code draws the radius uniformly on [0, Delta] (denser near the centres); the text
  says *uniform on the disk*, radius Delta sqrt(U). ``radius_law="radius"`` gives the code's
  law, ``"area"`` (default) the text's;
* the code's ``d`` counts the constant bias coordinate (``d - 3`` noise coordinates); here
  ``d`` is the dimension of x in [-1/2, 1/2]^d (``d - 2`` noise coordinates), as in the
  text and the issue. The bias is added by the model (``add_bias``), not by this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_choice, check_int
from ..errors import DescentlabError

RADIUS_LAWS = ("area", "radius")


def cluster_centers(k: int) -> np.ndarray:
    """The k^2 centres (k^2, 2), cluster p + k q at (Delta (1 + 3p) - 1/2, Delta (1 + 3q) - 1/2)."""
    k = check_int("k", k, minimum=1)
    delta = 1.0 / (3 * k - 1)
    grid = delta * (1 + 3 * np.arange(k)) - 0.5
    p, q = np.meshgrid(np.arange(k), np.arange(k), indexing="xy")
    return np.stack([grid[p.ravel()], grid[q.ravel()]], axis=1)


@dataclass(frozen=True)
class ClusterData:
    """The distribution of section 5.5: ``labels`` (k^2,) in {-1, +1}, dimension ``d``."""

    k: int
    d: int
    labels: np.ndarray
    radius_law: str = "area"

    def __post_init__(self):
        check_int("k", self.k, minimum=1)
        check_int("d", self.d, minimum=2)
        check_choice("radius_law", self.radius_law, RADIUS_LAWS)
        labels = np.asarray(self.labels, dtype=np.float64)
        if labels.shape != (self.k ** 2,) or not np.all(np.abs(labels) == 1):
            raise DescentlabError(f"labels: expected {self.k ** 2} values in {{-1, +1}}, got "
                                  f"{labels!r}")
        object.__setattr__(self, "labels", labels)

    @property
    def delta(self) -> float:
        return 1.0 / (3 * self.k - 1)

    @classmethod
    def draw(cls, k: int, d: int, rng: np.random.Generator, *,
             radius_law: str = "area") -> ClusterData:
        """floor(k^2/2) clusters labelled -1 at random (one permutation from ``rng``)."""
        k = check_int("k", k, minimum=1)
        labels = np.ones(k * k)
        labels[rng.permutation(k * k)[: (k * k) // 2]] = -1.0
        return cls(k, d, labels, radius_law)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(X (n, d), y (n,)): cluster, angle, radius, then the d - 2 noise coordinates."""
        n = check_int("n", n, minimum=0)
        cluster = rng.integers(0, self.k ** 2, size=n)
        angle = 2 * np.pi * rng.random(n)
        u = rng.random(n)
        radius = self.delta * (np.sqrt(u) if self.radius_law == "area" else u)
        X = np.empty((n, self.d))
        X[:, :2] = cluster_centers(self.k)[cluster]
        X[:, 0] += radius * np.cos(angle)
        X[:, 1] += radius * np.sin(angle)
        X[:, 2:] = rng.random((n, self.d - 2)) - 0.5
        return X, self.labels[cluster].copy()


__all__ = ["RADIUS_LAWS", "ClusterData", "cluster_centers"]
