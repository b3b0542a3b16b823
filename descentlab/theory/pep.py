"""Tight worst cases by performance estimation (PEP), for descentlab's own iterations.

A performance-estimation problem asks: over every function of a class (L-smooth and
mu-strongly convex, mu >= 0; or quadratics with spectrum in [mu, L]; or L-smooth mu-PL) and
every starting point with ``initial`` <= 1, how large can the ``performance`` measure be after
``n_steps`` iterations of a fixed method? Its value is an SDP on the Gram matrix of the
iterates and gradients (Drori and Teboulle 2014; Taylor, Hendrickx, Glineur 2017, "Smooth
strongly convex interpolation and exact worst-case performance of first-order methods").
PEPit (Goujaud, Moucer, Glineur, Hendrickx, Taylor, Dieuleveut) builds that SDP from the
iteration written on its symbolic points; the solver is Clarabel (interior point, through
cvxpy). The worst cases scale: f-f* and grad2 by L (with ||x0 - x*||^2 <= 1), so the value
for ||x0 - x*||^2 <= R^2 is R^2 times the returned one.

Iterations written here from ``descentlab.methods`` (same defaults, computed by the methods'
own ``resolve`` on the constants L, mu, n):

* ``gd``          x+ = x - h grad f(x) (any constant h; default 1/L);
* ``ista``        x+ = prox_{h g}(x - h grad f(x)), F = f + g, g closed convex (composite);
* ``heavy-ball``  x+ = x - a grad f(x) + b (x - x-), x_{-1} = x0 (defaults of ``HeavyBall``);
* ``nesterov``    y = x + beta_k (x - x-), x+ = y - h grad f(y), beta_k = (k - 1)/(k + 2)
  for k = 1, 2, ... (convex variant) or the constant (sqrt kappa - 1)/(sqrt kappa + 1)
  (strongly convex variant), x_{-1} = x0;
* ``fista``       x_k = prox_{h g}(y_k - h grad f(y_k)), t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2,
  y_{k+1} = x_k + ((t_k - 1)/t_{k+1}) (x_k - x_{k-1}), t_1 = 1, y_1 = x_0 (FISTA without
  restart: an adaptive restart is a test on the iterates that a PEP cannot fix in advance;
  the name "fista" means ``FISTA(restart=None)`` here, an instance must have restart=None);
* ``saga``        one iteration's contraction E V1 <= tau V0 of Defazio, Bach and
  Lacoste-Julien's (2014, Thm 1) Lyapunov function V = (1/n) sum_i [f_i(phi_i) - f_i(x*) -
  <grad f_i(x*), phi_i - x*>] + c ||x - x*||^2, c = 1/(2 h (1 - h mu) n), over n L-smooth
  mu-strongly convex f_i plus a closed convex g (PEPit's SAGA example; n = ``n_functions``,
  default 3); the default step 1/(3 L) is ``SAGA``'s (L plays L_max here). Measures:
  performance = initial = "lyapunov", n_steps = 1.

Measures: ``performance`` "f-fstar" (F(x_N) - F*), "grad2" (||grad f(x_N)||^2, smooth
methods only), "dist2" (||x_N - x*||^2); ``initial`` "dist2" (||x0 - x*||^2 <= 1) or
"f0-fstar" (F(x0) - F* <= 1). ``function_class``: "smooth" (L-smooth, mu-strongly convex;
mu = 0 is convex), "quadratic" (x^T A x / 2 with mu I <= A <= L I: heavy ball's and
Nesterov's spectral worst cases), "pl" (L-smooth functions with ||grad f||^2 >= 2 mu (f - f*),
seed 004's PL condition, through the necessary conditions of Rubbens, Hendrickx, Taylor 2025,
Prop. 3.4, PEPit's ``SmoothQuadraticLojasiewiczFunctionExpensive``: an upper bound that need
not be tight; GD only). SVRG has no PEP formulation in PEPit (its snapshot loop is random in
length): asking for it is an error.

Values are cached on disk (``descentlab.cache.memory("pep")``), keyed by the method's
resolved parameters, the class and the measures. Solve times (Clarabel, this machine): GD
N = 4 0.05 s, Nesterov N = 10 ~0.3 s, N = 30 a few seconds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import numpy as np

from .._validation import check_choice, check_int
from ..cache import memory
from ..errors import DescentlabError
from ..methods import (
    FISTA,
    GD,
    SAGA,
    SVRG,
    HeavyBall,
    Method,
    Nesterov,
    ProximalGradient,
    get_method,
)

PERFORMANCES = ("f-fstar", "grad2", "dist2", "lyapunov")
INITIALS = ("dist2", "f0-fstar", "lyapunov")
FUNCTION_CLASSES = ("smooth", "quadratic", "pl")
#: the methods with a PEP here (registry names)
PEP_METHODS = ("gd", "ista", "heavy-ball", "nesterov", "fista", "saga")
#: the largest number of steps (the SDP grows like n_steps^2 constraints)
MAX_STEPS = 200
#: the largest number of component functions for SAGA's Lyapunov PEP
MAX_FUNCTIONS = 20


@dataclasses.dataclass(frozen=True)
class _Constants:
    """What ``Method.resolve`` reads from a problem: constants only, no data."""

    L: float
    mu: float
    n: int = 1
    nonsmooth: bool = False

    @property
    def L_max(self) -> float:
        return self.L

    def component_smoothness(self) -> None:
        """Every component is L-smooth (no per-component constants): uniform sampling."""
        return None


def _number(name: str, value, *, positive: bool) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    if isinstance(value, bool) or not math.isfinite(out) or out < 0 or (positive and out == 0):
        what = "a positive number" if positive else "a number >= 0"
        raise DescentlabError(f"{name}: expected {what}, got {value!r}")
    return out


def _as_method(method, hyper: dict) -> Method:
    if isinstance(method, str):
        key = method.lower()
        if key in ("fista",) and "restart" not in hyper:
            hyper = {**hyper, "restart": None}
        return get_method(key, **hyper)
    if isinstance(method, Method):
        if hyper:
            raise DescentlabError(f"hyper: give the hyperparameters in the method instance, "
                                  f"got extra {', '.join(sorted(hyper))}")
        return method
    raise DescentlabError(f"method: expected a method name or a descentlab Method, got "
                          f"{method!r}")


def pep_spec(method, *, L: float, mu: float = 0.0, step: float | None = None,
             n_functions: int = 3, **hyper) -> tuple[str, tuple]:
    """(kind, parameters) of the PEP iteration of ``method`` with its defaults resolved."""
    m = _as_method(method, hyper)
    if step is not None:
        if not hasattr(m, "step"):
            raise DescentlabError(f"step: {m.name} has no step")
        m = dataclasses.replace(m, step=_number("step", step, positive=True))
    if isinstance(m, SVRG):
        raise DescentlabError("method: svrg has no performance-estimation formulation "
                              "(PEPit has none: its snapshot loop has a random length); "
                              f"supported methods are {', '.join(PEP_METHODS)}")
    if type(m) not in (GD, ProximalGradient, HeavyBall, Nesterov, FISTA, SAGA):
        raise DescentlabError(f"method: no performance-estimation formulation for {m.name}; "
                              f"supported methods are {', '.join(PEP_METHODS)}")
    n = 1
    if isinstance(m, SAGA):
        n = check_int("n_functions", n_functions, minimum=2)
        if n > MAX_FUNCTIONS:
            raise DescentlabError(f"n_functions: expected an integer <= {MAX_FUNCTIONS}, "
                                  f"got {n}")
    if isinstance(m, FISTA) and m.restart is not None:
        raise DescentlabError(f"fista: restart: the PEP models FISTA without restart "
                              f"(restart=None), got {m.restart!r}")
    r = m.resolve(_Constants(L=L, mu=mu, n=n, nonsmooth=m.handles_prox))
    if isinstance(r, HeavyBall):
        return "heavy-ball", (float(r.step), float(r.momentum))
    if isinstance(r, Nesterov):
        beta = None if r.momentum is None else float(r.momentum)
        return "nesterov", (float(r.step), beta)
    if isinstance(r, FISTA):
        return "fista", (float(r.step),)
    if isinstance(r, SAGA):
        return "saga", (float(r.step), n)
    if isinstance(r, GD):
        return "gd", (float(r.step),)
    return "ista", (float(r.step),)


def _check_measures(kind: str, performance: str, initial: str, function_class: str,
                    n_steps: int, mu: float) -> None:
    check_choice("performance", performance, PERFORMANCES)
    check_choice("initial", initial, INITIALS)
    check_choice("function_class", function_class, FUNCTION_CLASSES)
    composite = kind in ("ista", "fista", "saga")
    if kind == "saga":
        if performance != "lyapunov" or initial != "lyapunov" or n_steps != 1:
            raise DescentlabError(
                f"performance, initial, n_steps: saga's PEP is the one-step Lyapunov "
                f"contraction (performance='lyapunov', initial='lyapunov', n_steps=1), got "
                f"{performance!r}, {initial!r}, {n_steps}")
    elif "lyapunov" in (performance, initial):
        raise DescentlabError(f"performance: 'lyapunov' is SAGA's measure; {kind} has "
                              f"'f-fstar', 'grad2', 'dist2', got {performance!r}/{initial!r}")
    if composite and performance == "grad2":
        raise DescentlabError(f"performance: {kind} is composite (smooth + closed convex), "
                              "its gradient is not defined; use 'f-fstar' or 'dist2'")
    if composite and function_class != "smooth":
        raise DescentlabError(f"function_class: {kind} is modelled on the smooth (strongly) "
                              f"convex class only, got {function_class!r}")
    if function_class == "pl":
        if kind != "gd":
            raise DescentlabError(f"function_class: the PL class is modelled for gd only, "
                                  f"got {kind}")
        if mu <= 0 or initial != "f0-fstar" or performance != "f-fstar":
            raise DescentlabError(
                "function_class: the PL class needs mu > 0 (the PL constant), "
                "initial='f0-fstar' and performance='f-fstar' (distances to a minimizer are "
                f"not controlled by PL), got mu={mu:g}, {initial!r}, {performance!r}")


def _solve(kind: str, params: tuple, L: float, mu: float, n_steps: int, performance: str,
           initial: str, function_class: str) -> float:
    """Build and solve the PEP (uncached)."""
    from PEPit import PEP
    from PEPit.functions import (
        ConvexFunction,
        SmoothQuadraticLojasiewiczFunctionExpensive,
        SmoothStronglyConvexFunction,
        SmoothStronglyConvexQuadraticFunction,
    )
    from PEPit.primitive_steps import proximal_step

    pep = PEP()
    if kind == "saga":
        return _saga(pep, params, L, mu)
    if function_class == "quadratic":
        f = pep.declare_function(SmoothStronglyConvexQuadraticFunction, mu=mu, L=L)
    elif function_class == "pl":
        f = pep.declare_function(SmoothQuadraticLojasiewiczFunctionExpensive, mu=mu, L=L)
    else:
        f = pep.declare_function(SmoothStronglyConvexFunction, mu=mu, L=L)
    composite = kind in ("ista", "fista")
    if composite:
        g = pep.declare_function(ConvexFunction)
        F = f + g
    else:
        F = f
    xs = F.stationary_point()
    Fs = F(xs)
    x0 = pep.set_initial_point()
    pep.set_initial_condition((x0 - xs) ** 2 <= 1 if initial == "dist2" else F(x0) - Fs <= 1)

    x = iterate(kind, params, x0, n_steps, f.gradient,
                (lambda y, h: proximal_step(y, g, h)[0]) if composite else None)
    if performance == "f-fstar":
        pep.set_performance_metric(F(x) - Fs)
    elif performance == "dist2":
        pep.set_performance_metric((x - xs) ** 2)
    else:
        pep.set_performance_metric(f.gradient(x) ** 2)
    return _run(pep)


def iterate(kind: str, params: tuple, x0, n_steps: int, grad, prox=None):
    """x_N of the iteration ``kind`` (from :func:`pep_spec`) started at ``x0``.

    The one copy of the iterations: the PEP runs it on PEPit's symbolic points, the tests on
    numpy arrays against ``descentlab.methods``. ``grad(x)`` is the smooth part's gradient,
    ``prox(y, h)`` = prox_{h g}(y) for the composite methods (ista, fista).
    """
    x = x0
    if kind == "gd":
        (h,) = params
        for _ in range(n_steps):
            x = x - h * grad(x)
    elif kind == "ista":
        (h,) = params
        for _ in range(n_steps):
            x = prox(x - h * grad(x), h)
    elif kind == "heavy-ball":
        a, b = params
        x_prev = x0
        for _ in range(n_steps):
            x, x_prev = x - a * grad(x) + b * (x - x_prev), x
    elif kind == "nesterov":
        h, beta = params
        x_prev = x0
        for k in range(1, n_steps + 1):
            b = (k - 1.0) / (k + 2.0) if beta is None else beta
            y = x if b == 0 else x + b * (x - x_prev)
            x, x_prev = y - h * grad(y), x
    elif kind == "fista":
        (h,) = params
        t, y = 1.0, x0
        for _ in range(n_steps):
            x_new = prox(y - h * grad(y), h)
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            coef = (t - 1.0) / t_new
            y = x_new if coef == 0 else x_new + coef * (x_new - x)
            x, t = x_new, t_new
    else:
        raise DescentlabError(f"kind: expected one of gd, ista, heavy-ball, nesterov, fista, "
                              f"got {kind!r}")
    return x


def _saga(pep, params: tuple, L: float, mu: float) -> float:
    """SAGA's one-step Lyapunov contraction (Defazio et al. 2014, Thm 1; PEPit's example)."""
    from PEPit.functions import ConvexFunction, SmoothStronglyConvexFunction
    from PEPit.primitive_steps import proximal_step

    h_step, n = params
    g = pep.declare_function(ConvexFunction)
    fs_ = [pep.declare_function(SmoothStronglyConvexFunction, L=L, mu=mu) for _ in range(n)]
    F = g + np.mean(fs_)
    xs = F.stationary_point()
    phi = [pep.set_initial_point() for _ in range(n)]
    x0 = pep.set_initial_point()
    c = 1.0 / (2.0 * h_step * (1.0 - h_step * mu) * n)
    grad_s = [fi.gradient(xs) for fi in fs_]
    val_s = [fi(xs) for fi in fs_]
    grad_phi = [fi.gradient(p) for fi, p in zip(fs_, phi, strict=True)]

    def bregman(i, point, value):
        return (value - val_s[i] - grad_s[i] * (point - xs)) / n

    v0 = c * (x0 - xs) ** 2
    for i in range(n):
        v0 = v0 + bregman(i, phi[i], fs_[i](phi[i]))
    pep.set_initial_condition(v0 <= 1)
    mean_phi = grad_phi[0] / n
    for i in range(1, n):
        mean_phi = mean_phi + grad_phi[i] / n
    expected = None
    for j in range(n):  # the sampled index j, each with probability 1/n
        w = x0 - h_step * (fs_[j].gradient(x0) - grad_phi[j] + mean_phi)
        x1 = proximal_step(w, g, h_step)[0]
        v1 = c * (x1 - xs) ** 2
        for i in range(n):
            point = x0 if i == j else phi[i]
            v1 = v1 + bregman(i, point, fs_[i](point))
        expected = v1 / n if expected is None else expected + v1 / n
    pep.set_performance_metric(expected)
    return _run(pep)


def _run(pep) -> float:
    """Solve with Clarabel; when it fails or reports an inaccurate solution (it does on some
    ill-conditioned PEPs, e.g. heavy ball over quadratics at N = 9, 0.2% off), again with
    SCS at tight tolerances."""
    import warnings

    from cvxpy.error import SolverError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = pep.solve(wrapper="cvxpy", solver="CLARABEL", verbose=0)
        ok = not any("inaccurate" in str(w.message) for w in caught)
    except SolverError:
        ok = False
    if not ok:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*inaccurate.*")
            value = pep.solve(wrapper="cvxpy", solver="SCS", verbose=0, eps_abs=1e-10,
                              eps_rel=1e-10, max_iters=500_000)
    if value is None or not np.isfinite(value):
        raise DescentlabError(f"pep: the SDP solver returned {value!r} (unbounded worst case?)")
    return float(value)


def _cached_solve(*args) -> float:
    return memory("pep").cache(_solve)(*args)


def _prepare(method, L, mu, step, n_steps, performance, initial, function_class, hyper):
    L = _number("L", L, positive=True)
    mu = _number("mu", mu, positive=False)
    if mu >= L:
        raise DescentlabError(f"mu: expected a number in [0, L) = [0, {L:g}), got {mu!r}")
    kind, params = pep_spec(method, L=L, mu=mu, step=step, **hyper)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    if n_steps > MAX_STEPS:
        raise DescentlabError(f"n_steps: expected an integer <= {MAX_STEPS}, got {n_steps}")
    _check_measures(kind, performance, initial, function_class, n_steps, mu)
    return kind, params, L, mu, n_steps


def worst_case(method, *, L: float, mu: float = 0.0, step: float | None = None, n_steps: int,
               performance: str = "f-fstar", initial: str = "dist2",
               function_class: str = "smooth", **hyper) -> float:
    """The tight worst-case ``performance`` after ``n_steps`` of ``method`` (module docstring).

    ``method`` is a registered name ("gd", "ista", "heavy-ball", "nesterov", "fista", "saga")
    or a Method instance; ``step`` overrides its step; ``hyper`` are further hyperparameters
    for a name (e.g. ``momentum=0.5``, ``variant="convex"``, ``n_functions=4`` for SAGA).
    Example: ``worst_case("gd", L=3, n_steps=4)`` = L / (4 N L h + 2) = 3/18.
    """
    kind, params, L, mu, n_steps = _prepare(method, L, mu, step, n_steps, performance, initial,
                                            function_class, hyper)
    return _cached_solve(kind, params, L, mu, n_steps, performance, initial, function_class)


def worst_case_curve(method, *, L: float, mu: float = 0.0, step: float | None = None,
                     n_steps: int | Iterable[int], performance: str = "f-fstar",
                     initial: str = "dist2", function_class: str = "smooth",
                     **hyper) -> np.ndarray:
    """``worst_case`` at N = 1..n_steps (an int) or at each N of a grid (an iterable).

    The function the study figures use: (method, L, mu, step, N-grid) -> the PEP curve.
    """
    grid = range(1, check_int("n_steps", n_steps, minimum=1) + 1) \
        if isinstance(n_steps, (int, np.integer)) else list(n_steps)
    if not grid:
        raise DescentlabError("n_steps: expected a positive integer or a non-empty grid, "
                              "got an empty grid")
    return np.array([worst_case(method, L=L, mu=mu, step=step, n_steps=int(k),
                                performance=performance, initial=initial,
                                function_class=function_class, **hyper) for k in grid])


def is_cached(method, *, L: float, mu: float = 0.0, step: float | None = None, n_steps: int,
              performance: str = "f-fstar", initial: str = "dist2",
              function_class: str = "smooth", **hyper) -> bool:
    """Whether ``worst_case`` with these arguments is already in the on-disk cache."""
    kind, params, L, mu, n_steps = _prepare(method, L, mu, step, n_steps, performance, initial,
                                            function_class, hyper)
    return memory("pep").cache(_solve).check_call_in_cache(
        kind, params, L, mu, n_steps, performance, initial, function_class)


__all__ = ["FUNCTION_CLASSES", "INITIALS", "PEP_METHODS", "PERFORMANCES", "is_cached",
           "iterate", "pep_spec", "worst_case", "worst_case_curve"]
