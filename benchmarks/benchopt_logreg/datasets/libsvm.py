"""Binary LIBSVM datasets through descentlab's loader (labels mapped to -1/+1).

``dataset`` is a dataset known to descentlab (a1a, a9a, w8a, mushrooms, looked for in
DESCENTLAB_DATA or ../shared/datasets) or any path to a svmlight/LIBSVM file.
"""

import numpy as np
from benchopt import BaseDataset

from descentlab.data import binarize_labels, load_libsvm


class Dataset(BaseDataset):
    name = "libsvm"

    parameters = {"dataset": ["a1a"]}  # not "name": benchopt reserves it

    def get_data(self):
        X, y = load_libsvm(self.dataset)
        return dict(X=X.copy(), y=binarize_labels(y).astype(np.float64))
