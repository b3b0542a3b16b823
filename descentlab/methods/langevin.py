"""Langevin dynamics: gradient descent plus Gaussian noise (seed 000, "Idea 1").

Seed 000 ("Idea 1: adding noise to the dynamics"; Mei, Montanari, Nguyen 2018; Chizat 2022;
Nitanda, Wu, Suzuki 2022) writes the noisy dynamics as

    W_k = W_{k-1} - gamma grad F(W_{k-1}) + sqrt(2 gamma tau) N(0, I),

the unadjusted Langevin algorithm (ULA), i.e. the Euler-Maruyama discretisation with time
step gamma of the SDE dW = -grad E(W) dt + sqrt(2 tau) dB, whose stationary law is the Gibbs
measure proportional to exp(-E/tau). ``Langevin`` runs it on any descentlab problem with

    E(x) = scale * F(x) + (lam / 2) ||x||^2,
    x_{k+1} = x_k - gamma (scale grad F(x_k) + lam x_k) + sqrt(2 gamma tau_k) xi_k,
    xi_k ~ N(0, I) drawn from the Generator handed to ``init``.

The L2 term (``weight_decay`` lam, the "confinement") makes exp(-E/tau) integrable when F
alone is not confining, so that the entropy-regularized objective has a minimizer.

**Mean-field scaling** (``scale="mean-field"``, for ``TwoLayerProblem``). A width-m network
is the average of particles w_j, F = G(W) = R((1/m) sum_j Psi(w_j)), and the particle
gradient descent of Eq. (3.3) of seed 002 moves each particle with the step gamma m. The
noisy version discretises, for every particle, dw_j = -(m grad_{w_j} G + lam w_j) dt +
sqrt(2 tau) dB_j (mean-field Langevin dynamics, Mei et al. 2018 and Chizat 2022): with
scale = m the drift is gamma m grad G + gamma lam w_j and the noise stays sqrt(2 gamma tau)
per coordinate, *not* sqrt(2 gamma m tau). Its m -> infinity limit minimizes the free energy
G(mu) + (lam/2) int ||w||^2 dmu + tau int mu log mu, and the particle system samples
exp(-m (G + (lam/2m) ||W||^2) / tau). ``scale`` may also be any positive number.

**Temperature schedules** (k = iterations done, tau0 = ``temperature``):

* ``constant``  tau_k = tau0;
* ``log``       tau_k = tau0 / log(e + k) (the logarithmic annealing of simulated annealing,
  the schedule of Chizat 2022, Theorem on annealing: tau_t ~ c / log t);
* ``geometric`` tau_k = max(tau_min, tau0 decay^k).

**Cost.** With ``batch_size=None`` a step uses the full gradient (n oracle calls); with a
batch size b it uses ``problem.batch_grad`` on b indices drawn with replacement (stochastic
gradient Langevin dynamics, Welling and Teh 2011), b calls. Index batches and noise come
from the same Generator: per iteration one batch (if any), then one N(0, I) vector.

**Defaults.** step gamma = 1 / (2 (scale L + lam)) (half the stability limit of the drift
on the problem's smoothness estimate L), temperature 1e-3, no weight decay.

**The chain on a quadratic** (the statistical test of ``tests/test_langevin.py``): for
E(x) = c x^2 / 2 the chain is x+ = (1 - gamma c) x + sqrt(2 gamma tau) xi, and its stationary
variance is exactly 2 gamma tau / (1 - (1 - gamma c)^2) = tau / (c (1 - gamma c / 2)):
the Gibbs variance tau / c up to the O(gamma) bias of ULA.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._validation import check_choice, check_int, check_positive
from ..errors import DescentlabError
from .base import Method, State, check_unit_interval, iterations_for
from .sampling import BatchStream, check_batch_size, check_rng

TEMPERATURE_SCHEDULES = ("constant", "log", "geometric")


def temperature_at(schedule: str, tau0: float, k, *, decay: float = 0.999,
                   tau_min: float = 0.0):
    """tau_k of ``schedule`` after k iterations (k may be an array); see the module docstring."""
    check_choice("schedule", schedule, TEMPERATURE_SCHEDULES)
    k = np.asarray(k, dtype=np.float64)
    if schedule == "constant":
        out = np.full_like(k, tau0)
    elif schedule == "log":
        out = tau0 / np.log(math.e + k)
    else:
        out = np.maximum(tau_min, tau0 * decay ** k)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True, kw_only=True, eq=False)
class LangevinState(State):
    """The batch stream (None: full gradients) and the temperature after the last step."""

    stream: BatchStream | None = None
    temperature_now: float | None = None
    reported: ClassVar[tuple[str, ...]] = ("temperature_now",)


@dataclass(frozen=True, kw_only=True)
class Langevin(Method):
    """Unadjusted Langevin algorithm x+ = x - step (scale grad F + lam x) + sqrt(2 step tau) xi.

    ``step`` gamma, ``temperature`` tau0, ``weight_decay`` lam, ``scale`` (a number, or
    "mean-field" for the width m of a ``TwoLayerProblem``), ``schedule`` of the temperature
    ('constant', 'log', 'geometric' with ``decay`` and ``temperature_min``), ``batch_size``
    (None: full gradient). See the module docstring for the update and its SDE.
    """

    step: float | None = None
    temperature: float = 1e-3
    weight_decay: float = 0.0
    scale: float | str = 1.0
    schedule: str = "constant"
    decay: float = 0.999
    temperature_min: float = 0.0
    batch_size: int | None = None
    name: ClassVar[str] = "langevin"
    samples: ClassVar[bool] = True

    def __post_init__(self):
        super().__post_init__()
        check_choice("langevin: schedule", self.schedule, TEMPERATURE_SCHEDULES)
        if isinstance(self.scale, str):
            check_choice("langevin: scale", self.scale, ("mean-field",))
        else:
            self._set(scale=check_positive("langevin: scale", self.scale))
        if self.batch_size is not None:
            self._set(batch_size=check_int("langevin: batch_size", self.batch_size, minimum=1))
        self._set(temperature=check_positive("langevin: temperature", self.temperature,
                                             strict=False),
                  weight_decay=check_positive("langevin: weight_decay", self.weight_decay,
                                              strict=False),
                  temperature_min=check_positive("langevin: temperature_min",
                                                 self.temperature_min, strict=False),
                  decay=check_unit_interval("langevin: decay", self.decay, open_left=True,
                                            closed_right=True))

    def resolve(self, problem):
        self.check_problem(problem)
        scale = self.scale
        if scale == "mean-field":
            scale = getattr(problem, "m", None)
            if scale is None:
                raise DescentlabError(f"langevin: scale='mean-field' needs a problem with a "
                                      f"width m (a TwoLayerProblem), got "
                                      f"{type(problem).__name__}; pass a number instead")
        scale, step = float(scale), self.step
        if step is None:
            L_E = scale * float(problem.L) + self.weight_decay
            if not (np.isfinite(L_E) and L_E > 0):
                raise DescentlabError(f"langevin: cannot derive a default step from "
                                      f"scale L + lam = {L_E!r}; pass step=")
            step = 0.5 / L_E
        b = self.batch_size
        return dataclasses.replace(self, scale=scale, step=float(step),
                                   batch_size=None if b is None else
                                   check_batch_size(self.name, b, problem.n))

    def temperature_at(self, k):
        """tau_k of the method's schedule after k iterations."""
        return temperature_at(self.schedule, self.temperature, k, decay=self.decay,
                              tau_min=self.temperature_min)

    def init(self, problem, x0, rng):
        check_rng(self.name, rng)
        b = self.batch_size
        return LangevinState(x=np.array(x0, dtype=np.float64),
                             stream=None if b is None else BatchStream(problem.n, b))

    def advance(self, problem, state, rng, calls):
        s, lam, scale, b = self.step, self.weight_decay, self.scale, self.batch_size
        batches = None if b is None else state.stream.batches(rng)
        cost = problem.n if b is None else b
        k = iterations_for(calls, cost)
        x = state.x
        for t in range(state.iteration, state.iteration + k):
            tau = self.temperature if self.schedule == "constant" else self.temperature_at(t)
            g = problem.grad(x) if b is None else problem.batch_grad(x, batches.next())
            drift = scale * g + lam * x if lam else scale * g
            x = x - s * drift
            if tau > 0:
                x = x + math.sqrt(2.0 * s * tau) * rng.standard_normal(x.shape)
        return state.after(k, k * cost, x=x, stream=None if b is None else batches.stream(),
                           temperature_now=float(self.temperature_at(state.iteration + k)))


__all__ = ["TEMPERATURE_SCHEDULES", "Langevin", "temperature_at"]
