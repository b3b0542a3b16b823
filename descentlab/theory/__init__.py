"""Theory instruments: constants, PL ratios, semilocal-PL certificates, rate fits, bounds.

* ``constants``: smoothness, strong convexity (exact for linear models and quadratics, power
  iteration on Hessian-vector products otherwise), PL constant on points or trajectories.
* ``semilocal``: the semilocal PL certificate of seed 003 for f = l o H, the flow and GD
  radii, and the toy network H(a, w) = a w.
* ``rates``: linear (per iteration, per oracle call) and power-law fits with their range,
  crossing times, log-log slopes.
* ``complexity``: the complexity table of seed 000 (oracle calls to reach eps).
* ``bounds``: bound curves of GD, Nesterov, SGD, SAGA and SVRG, ``plot_with_bound``, ``plot_pep``.
* ``pep``: tight worst cases by performance estimation (PEPit), imported on demand
  (``from descentlab.theory import pep``: it loads cvxpy).
"""

from .bounds import (
    PEP_STYLE,
    gd_convex_bound,
    gd_nonconvex_bound,
    linear_bound,
    nesterov_bound,
    nesterov_strongly_convex_bound,
    plot_pep,
    plot_with_bound,
    saga_bound,
    saga_rate,
    sgd_nonconvex_bound,
    sgd_optimal_step,
    svrg_bound,
    svrg_factor,
)
from .complexity import COMPLEXITY_FORMULAS, COMPLEXITY_ROWS, oracle_complexity
from .constants import (
    ConstantEstimate,
    PLEstimate,
    PowerIteration,
    hessian_extremes,
    hessian_matrix,
    hessian_norm,
    hessian_vector_product,
    pl_constant,
    pl_constant_from_trace,
    pl_ratio,
    power_iteration,
    smoothness,
    strong_convexity,
)
from .rates import (
    LinearRateFit,
    PowerLawFit,
    SlopeFit,
    TraceRateFit,
    calls_to_reach,
    fit_linear_rate,
    fit_power_law,
    fit_trace_linear_rate,
    fit_trace_power_law,
    loglog_slope,
    running_min,
)
from .semilocal import (
    SCALAR_NETWORK_JAC_LIPSCHITZ,
    SemilocalCertificate,
    flow_radius,
    gd_radius,
    sample_ball,
    scalar_network_certificate,
    scalar_network_flow_limit,
    scalar_network_map,
    scalar_network_smoothness_bound,
    semilocal_certificate,
    sigma_min,
    sigma_min_on_ball,
)

__all__ = [
    "PEP_STYLE", "plot_pep",
    "COMPLEXITY_FORMULAS", "COMPLEXITY_ROWS", "oracle_complexity",
    "SCALAR_NETWORK_JAC_LIPSCHITZ", "ConstantEstimate", "LinearRateFit", "PLEstimate",
    "PowerIteration", "PowerLawFit", "SemilocalCertificate", "SlopeFit", "TraceRateFit",
    "calls_to_reach", "fit_linear_rate", "fit_power_law", "fit_trace_linear_rate",
    "fit_trace_power_law", "flow_radius", "gd_convex_bound", "gd_nonconvex_bound", "gd_radius",
    "hessian_extremes", "hessian_matrix", "hessian_norm", "hessian_vector_product", "linear_bound",
    "loglog_slope", "nesterov_bound", "nesterov_strongly_convex_bound", "pl_constant",
    "pl_constant_from_trace", "pl_ratio",
    "plot_with_bound", "power_iteration", "running_min", "saga_bound", "saga_rate",
    "sample_ball", "scalar_network_certificate", "scalar_network_flow_limit",
    "scalar_network_map", "scalar_network_smoothness_bound", "semilocal_certificate",
    "sgd_nonconvex_bound", "sgd_optimal_step", "sigma_min", "sigma_min_on_ball",
    "smoothness", "strong_convexity", "svrg_bound", "svrg_factor",
]
