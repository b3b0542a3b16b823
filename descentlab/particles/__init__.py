"""Batched particle dynamics of wide two-layer networks (seed 002, sections 3-5; seeds 000, 001).

A network is an average of particles w_j = (a_j, b_j), h(x) = (alpha/m) sum_j a_j
sigma(b_j . x); gradient descent on the particles with the step multiplied by m (Eq. 3.3)
approximates the Wasserstein gradient flow of Eq. (3.7), and with many particles it finds
the global optimum (Theorems 2-3). Mean-field (alpha = 1) and lazy (alpha large) scalings,
the losses, per-layer rates, schedules, temperature and batches are parameters of one
engine, which trains many networks at once:

* ``ParticleBatch``, ``seeded`` (batch.py): R networks of any widths x S data streams;
* ``FreshSamples``, ``FixedSample``, ``PopulationRisk`` (samples.py): what is descended;
* ``Dynamics``, ``published_sgd``, ``EarlyStop``, ``train``, ``velocity``, ``evaluate``
  (engine.py; the reductions of a step in steps.py): SGD/GD/Langevin dynamics, the
  published convention of Figures 2-3, the vector field;
* ``float32_gd`` (float32_gd.py): the published float32 full-batch GD of the
  weakly-interacting protocol (f = (1/p) sum_j a_j relu(w_j . x), loss p mean / 2, the
  published epochs and early stop), many networks at once;
* ``gradient_flow``, ``polar_flow`` (flow.py): Eq. (3.4) and Eq. (4.1), small steps or
  scipy's solve_ivp;
* ``margin_gd``, ``init_margin``, normalized margins (margins.py): the implicit bias of
  section 5;
* ``plot_particles``, ``animate`` (plotting.py): |a_j| b_j at radius tanh(|.|/2), teacher
  rays, the unit circle at tanh(1/2), GIF animations of the flow.

The model itself (activations, losses, initialisations, ``TwoLayerProblem``) is
``descentlab.problems.twolayer``; the compiled passes ``descentlab._compiled.particles``.
"""

from .batch import KEY_INIT, KEY_TEACHER, KEY_TEST, KEY_TRAIN, ParticleBatch, seeded
from .engine import (
    Dynamics,
    EarlyStop,
    TrainResult,
    evaluate,
    published_sgd,
    snapshot,
    train,
    velocity,
)
from .float32_gd import GDResult, float32_gd, published_epochs
from .flow import FlowResult, from_polar, gradient_flow, polar_flow, polar_velocity, to_polar
from .plotting import animate, particle_positions, plot_particles
from .samples import FixedSample, FreshSamples, PopulationRisk

__all__ = ["KEY_INIT", "KEY_TEACHER", "KEY_TEST", "KEY_TRAIN", "Dynamics", "EarlyStop",
           "FixedSample", "FlowResult", "FreshSamples", "GDResult", "ParticleBatch",
           "PopulationRisk", "TrainResult", "animate", "evaluate", "float32_gd", "from_polar",
           "gradient_flow", "particle_positions", "plot_particles", "polar_flow",
           "polar_velocity", "published_epochs", "published_sgd", "seeded", "snapshot",
           "to_polar", "train", "velocity"]
