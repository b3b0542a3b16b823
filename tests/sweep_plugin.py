"""Plugin module registering the test-only experiments (``DESCENTLAB_PLUGINS=sweep_plugin``).

Used by the subprocess tests; in-process tests use ``sweep_experiments.registered()``.
"""

from sweep_experiments import TEST_EXPERIMENTS

from descentlab.experiments import register

for _cls in TEST_EXPERIMENTS:
    register(_cls)
