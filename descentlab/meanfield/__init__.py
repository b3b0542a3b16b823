"""Wide two-layer networks in the mean-field regime (seed 002, sections 3-4; seed 001).

A network is an average of particles w_j = (a_j, b_j); gradient descent on the particles
with the step multiplied by m (Eq. 3.3) approximates the Wasserstein gradient flow of
Eq. (3.7), and with many particles it finds the global optimum (Theorems 2-3). This
package trains many networks at once and lets one watch them:

* ``ParticleBatch`` (particles.py): R networks of any widths x S data streams as arrays;
* ``FreshSamples``, ``FixedSample``, ``PopulationRisk`` (data.py): what is descended;
* ``ParticleSGD``, ``published_sgd``, ``train`` (dynamics.py): mean-field (S)GD,
  per-layer learning rates, the published convention of Figures 2-3;
* ``gradient_flow``, ``polar_flow`` (flow.py): Eq. (3.4) and Eq. (4.1), small steps or
  scipy's solve_ivp;
* ``plot_particles``, ``animate`` (plotting.py): |a_j| b_j at radius tanh(|.|/2), teacher
  rays, the unit circle at tanh(1/2), GIF animations of the flow.

The model itself (activations, losses, initialisations, teacher, closed-form population
risk, ``TwoLayerProblem``) is ``descentlab.problems.twolayer``.
"""

from .data import FixedSample, FreshSamples, PopulationRisk
from .dynamics import ParticleSGD, TrainResult, batch_velocity, published_sgd, sample_risk, train
from .flow import FlowResult, from_polar, gradient_flow, polar_flow, polar_velocity, to_polar
from .particles import ParticleBatch, seeded
from .plotting import animate, particle_positions, plot_particles

__all__ = ["FixedSample", "FlowResult", "FreshSamples", "ParticleBatch", "ParticleSGD",
           "PopulationRisk", "TrainResult", "animate", "batch_velocity", "from_polar",
           "gradient_flow", "particle_positions", "plot_particles", "polar_flow",
           "polar_velocity", "published_sgd", "sample_risk", "seeded", "to_polar", "train"]
