"""Bad input: every error is a DescentlabError (a ValueError) whose message names the
argument at fault."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import make_design, make_targets

import descentlab
from descentlab import DatasetNotFoundError, DescentlabError, get_method
from descentlab.problems import LeastSquares, Logistic, Quadratic, ScalarNetwork

LINEAR = [LeastSquares, Logistic]


def data(loss="logistic", n=20, d=4, sparse=False):
    return make_design(n, d, sparse=sparse, seed=41), make_targets(n, loss=loss, seed=41)


def test_errors_are_value_errors():
    assert issubclass(DescentlabError, ValueError)
    assert issubclass(DatasetNotFoundError, DescentlabError)
    assert issubclass(DatasetNotFoundError, FileNotFoundError)
    assert issubclass(descentlab.DivergenceError, DescentlabError)


# ---------------------------------------------------------------------------------------
# data


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("cls", LINEAR)
def test_non_finite_design(cls, sparse, bad):
    X, y = data(sparse=sparse)
    X = X.copy()
    if sparse:
        X.data[3] = bad
    else:
        X[2, 1] = bad
    with pytest.raises(DescentlabError, match=r"X: .*finite"):
        cls(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("cls", LINEAR)
def test_non_finite_target(cls, bad):
    X, y = data()
    y = y.copy()
    y[5] = bad
    with pytest.raises(DescentlabError, match=r"y: .*finite"):
        cls(X, y)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("cls", LINEAR)
def test_length_mismatch_between_X_and_y(cls, sparse):
    X, y = data(sparse=sparse)
    with pytest.raises(DescentlabError, match=r"y: expected length 20 .*got 19"):
        cls(X, y[:-1])


@pytest.mark.parametrize("cls", LINEAR)
def test_design_must_be_two_dimensional(cls):
    with pytest.raises(DescentlabError, match=r"X: expected a 2-D"):
        cls(np.ones(5), np.ones(5))


def test_target_must_be_one_dimensional():
    X, _ = data("least-squares")
    with pytest.raises(DescentlabError, match=r"y: expected a 1-D"):
        LeastSquares(X, np.ones((20, 2)))


@pytest.mark.parametrize("labels", [(0.0, 1.0), (1.0, 2.0), (-1.0, 0.5)])
def test_logistic_labels_outside_minus_one_plus_one(labels):
    X, y = data()
    y = np.where(y > 0, labels[1], labels[0])
    with pytest.raises(DescentlabError, match=r"y: .*\{-1, \+1\}"):
        Logistic(X, y)


@pytest.mark.parametrize("label", [-1.0, 1.0])
def test_logistic_single_class(label):
    X, _ = data()
    with pytest.raises(DescentlabError, match=r"y: expected two classes"):
        Logistic(X, np.full(20, label))


def test_multiclass_dataset_needs_positive_class():
    # (least squares keeps the targets as they are: tests/test_hardening_data.py)
    with pytest.raises(DescentlabError, match=r"two classes.*20 labels.*positive_class"):
        Logistic.from_libsvm("news20", reg="l2", lam=1e-3)


def test_positive_class_must_be_a_label():
    with pytest.raises(DescentlabError, match=r"positive_class: 7 is not a label"):
        Logistic.from_libsvm("a1a", positive_class=7)


def test_unknown_dataset_name():
    with pytest.raises(DatasetNotFoundError, match=r"no dataset named 'a10a'.*a9a"):
        Logistic.from_libsvm("a10a")


def test_missing_dataset_path(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no file at"):
        Logistic.from_libsvm(tmp_path / "missing" / "data.svm")


def test_unreadable_dataset_file(tmp_path):
    path = tmp_path / "garbage.svm"
    path.write_text("this is not : a libsvm file\n")
    with pytest.raises(DescentlabError, match="not a readable LIBSVM file"):
        Logistic.from_libsvm(path)


# ---------------------------------------------------------------------------------------
# problem arguments


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"reg": "l3", "lam": 0.1}, r"reg: expected one of"),
    ({"reg": "l2", "lam": -0.1}, r"lam: expected a non-negative"),
    ({"reg": "l2", "lam": np.nan}, r"lam: "),
    ({"reg": None, "lam": 0.1}, r"lam: .*reg=None"),
    ({"reg": "elasticnet", "lam": 0.1}, r"l1_ratio: expected a number in \[0, 1\]"),
    ({"reg": "elasticnet", "lam": 0.1, "l1_ratio": 1.5}, r"l1_ratio: expected a number"),
    ({"reg": "elasticnet", "lam": 0.1, "l1_ratio": -0.5}, r"l1_ratio: "),
    ({"reg": "l2", "lam": 0.1, "l1_ratio": 0.5}, r"l1_ratio: only used with"),
])
@pytest.mark.parametrize("cls", LINEAR)
def test_bad_regularization(cls, kwargs, pattern):
    X, y = data()
    with pytest.raises(DescentlabError, match=pattern):
        cls(X, y, **kwargs)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("idx", [
    pytest.param(np.array([], dtype=int), id="empty"),
    pytest.param(np.array([[0, 1]]), id="2-D"),
    pytest.param(np.array([3, 20]), id="out-of-range"),
    pytest.param(np.array([0.0, 1.5]), id="float"),
    # a boolean mask is not a list of indices; accepted, it silently divides the sum over
    # the selected rows by the mask length instead of the number of selected rows
    pytest.param(np.arange(20) < 3, id="boolean-mask"),
])
def test_batch_grad_rejects_bad_indices(sparse, idx):
    X, y = data(sparse=sparse)
    problem = Logistic(X, y)
    with pytest.raises(DescentlabError, match=r"idx: "):
        problem.batch_grad(np.zeros(4), idx)


@pytest.mark.parametrize(("A", "pattern"), [
    (np.ones((2, 3)), r"A: expected a square"),
    (np.array([[1.0, 2.0], [0.0, 1.0]]), r"A: expected a finite symmetric"),
    (np.array([[1.0, 0.0], [0.0, -1.0]]), r"A: expected a positive definite"),
])
def test_bad_quadratic(A, pattern):
    with pytest.raises(DescentlabError, match=pattern):
        Quadratic(A, np.ones(A.shape[0]))


def test_bad_quadratic_vector_and_condition_number():
    with pytest.raises(DescentlabError, match=r"b: "):
        Quadratic(np.eye(3), np.ones(2))
    with pytest.raises(DescentlabError, match=r"kappa: "):
        Quadratic.with_condition_number(4, 0.5)
    with pytest.raises(DescentlabError, match=r"dim: "):
        Quadratic.with_condition_number(1, 10.0)


def test_bad_scalar_network():
    with pytest.raises(DescentlabError, match=r"a0: "):
        ScalarNetwork(np.ones(3), a0=0.0)
    with pytest.raises(DescentlabError, match=r"y_star: "):
        ScalarNetwork(np.array([1.0, np.nan]))


# ---------------------------------------------------------------------------------------
# methods


STEP_METHODS = ["gd", "heavy-ball", "nesterov", "ista", "fista"]


@pytest.mark.parametrize("step", [-1, 0, 0.0, np.nan, np.inf, "big", True])
@pytest.mark.parametrize("name", STEP_METHODS)
def test_bad_step(name, step):
    with pytest.raises(DescentlabError, match=rf"{name}: step: expected a positive"):
        get_method(name, step=step)


@pytest.mark.parametrize("momentum", [-0.1, 1.0, 2.0])
def test_bad_momentum(momentum):
    with pytest.raises(DescentlabError, match=r"heavy-ball: momentum: expected a momentum"):
        get_method("heavy-ball", momentum=momentum)


def test_bad_choices():
    with pytest.raises(DescentlabError, match=r"nesterov: variant: expected one of"):
        get_method("nesterov", variant="fast")
    with pytest.raises(DescentlabError, match=r"fista: restart: expected one of"):
        get_method("fista", restart="sometimes")


def test_unknown_method_name():
    with pytest.raises(DescentlabError, match=r"method: unknown method 'adamw'.*fista.*gd"):
        get_method("adamw")
    problem = Quadratic.with_condition_number(3, 2.0)
    with pytest.raises(DescentlabError, match=r"method: unknown method 'sgdr'"):
        descentlab.run(problem, "sgdr", budget_epochs=1)


def test_unknown_hyperparameter():
    with pytest.raises(DescentlabError,
                       match=r"gd: unknown hyperparameter\(s\) momentum; valid ones are step"):
        get_method("gd", momentum=0.9)
    with pytest.raises(DescentlabError, match=r"heavy-ball: unknown hyperparameter\(s\) lr"):
        get_method("hb", lr=0.1)


def test_smooth_method_on_nonsmooth_problem():
    X, y = data()
    problem = Logistic(X, y, reg="l1", lam=0.01)
    for name in ("gd", "heavy-ball", "nesterov"):
        with pytest.raises(DescentlabError, match=rf"{name}: the problem has a non-smooth"):
            descentlab.run(problem, name, budget_epochs=1, f_star=0.0)


def test_strongly_convex_nesterov_needs_mu():
    X, y = data()
    problem = Logistic(X, y)  # mu = 0 without regularization
    with pytest.raises(DescentlabError, match=r"nesterov: variant='strongly-convex' needs mu"):
        descentlab.run(problem, get_method("nesterov", variant="strongly-convex"),
                       budget_epochs=1, f_star=0.0)


# ---------------------------------------------------------------------------------------
# run arguments


@pytest.fixture(scope="module")
def quad():
    return Quadratic.with_condition_number(4, 10.0)


BAD_RUN_ARGUMENTS = {
    "budget_epochs=0": ({"budget_epochs": 0}, r"budget_epochs: expected a positive"),
    "budget_epochs<0": ({"budget_epochs": -3}, r"budget_epochs: expected a positive"),
    "budget_epochs=inf": ({"budget_epochs": np.inf}, r"budget_epochs: "),
    "budget_calls=0": ({"budget_calls": 0}, r"budget_calls: expected an integer >= 1"),
    "budget_calls=2.5": ({"budget_calls": 2.5}, r"budget_calls: expected an integer"),
    "tol=0": ({"tol": 0}, r"tol: expected a positive"),
    "tol<0": ({"tol": -1e-6}, r"tol: expected a positive"),
    "time_limit<0": ({"time_limit": -1}, r"time_limit: expected a positive"),
    "record": ({"record": "log"}, r"record: expected one of"),
    "n_records=0": ({"n_records": 0}, r"n_records: expected an integer >= 1"),
    "seed<0": ({"seed": -1}, r"seed: expected an integer >= 0"),
    "x0-length": ({"x0": np.ones(3)}, r"x0: expected a vector of length 4"),
    "x0-nan": ({"x0": [0.0, np.nan, 0.0, 0.0]}, r"x0: expected finite"),
    "x0-string": ({"x0": "origin"}, r"x0: "),
}


@pytest.mark.parametrize(("kwargs", "pattern"), list(BAD_RUN_ARGUMENTS.values()),
                         ids=list(BAD_RUN_ARGUMENTS))
def test_bad_run_arguments(quad, kwargs, pattern):
    with pytest.raises(DescentlabError, match=pattern):
        descentlab.run(quad, "gd", **{"budget_epochs": 1, **kwargs})


def test_run_needs_a_problem_and_a_method(quad):
    with pytest.raises(DescentlabError, match=r"problem: expected a descentlab Problem"):
        descentlab.run(np.eye(3), "gd", budget_epochs=1)
    with pytest.raises(DescentlabError, match=r"method: expected a descentlab Method"):
        descentlab.run(quad, 42, budget_epochs=1)


def test_starting_point_with_infinite_objective():
    X = sp.csr_matrix(np.array([[1.0], [-1.0]]))
    problem = Logistic(X, np.array([1.0, -1.0]))
    with pytest.raises(DescentlabError, match=r"x0: "):
        descentlab.run(problem, "gd", x0=[np.inf], budget_epochs=1, f_star=0.0)
