"""Every compiled (numba) kernel of descentlab, in one private package.

Nothing outside descentlab imports from here; inside descentlab, the problems, methods and
the particle engine call these kernels through their public Python wrappers. Kernels take
plain arrays and integer codes (``losses.LossCode``), never Python objects, and are compiled
with ``cache=True`` and ``error_model="numpy"`` (no fastmath: results are deterministic).

* ``losses``: the loss codes and the numerically stable scalar logistic pieces.
* ``linear``: the loss derivative of the linear models and their CSR batch gradient.
* ``variance_reduced``: the per-sample loops of SAG, SAGA, SVRG and SARAH on linear models
  (scalar memory, lazy sparse updates).
* ``sampling``: the alias table of importance sampling.
* ``float32_gd``: the residual pass of the published float32 GD of two-layer networks.
"""
