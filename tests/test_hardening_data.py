"""Issue 13, data inputs: a file declaring far more features than it holds (item 1), empty
input (item 7) and silent coercions (item 10) end in one clear error raised before any
expensive work, or in the correct behaviour."""

from __future__ import annotations

import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner

import descentlab as dl
from descentlab import _validation
from descentlab.cli import main
from descentlab.data import (
    binarize_labels,
    files,
    libsvm,
    load_csv,
    load_libsvm,
    load_numpy,
    load_svmlight,
)
from descentlab.errors import DescentlabError
from descentlab.estimators import Ridge
from descentlab.particles.samples import FixedSample
from descentlab.problems import (
    DiagonalNetwork,
    LeastSquares,
    LinearModel,
    Logistic,
    TwoLayerProblem,
)

ENV = _validation.MAX_FEATURES_ENV
GIB = 2**30


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch):
    """The default rule, on a machine of 8 GiB, whatever this one has or its environment says."""
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setattr(_validation, "physical_memory", lambda: 8 * GIB)


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def solve(*args: str):
    """``descentlab solve`` in-process: (exit code, output with the wrapping undone)."""
    result = CliRunner().invoke(main, ["solve", "--method", "gd", *args])
    return result.exit_code, " ".join(result.output.split())


# ------------------------------------------------------------ 1. the number of features
HUGE = "1 1:1\n-1 2000000000:1\n"


def test_cli_refuses_a_tiny_file_declaring_two_billion_features(tmp_path, monkeypatch):
    def no_problem(*args, **kwargs):  # were the guard gone: fail here, not allocate 15 GiB
        raise AssertionError("the data reached the problem's constructor")

    monkeypatch.setattr(LinearModel, "__init__", no_problem)
    path = write(tmp_path, "h.svm", HUGE)
    code, out = solve("--problem", "logistic", "--data", str(path))
    assert code == 2, out
    assert "h.svm declares 2000000000 features for 2 stored entries" in out
    assert "14.9 GiB" in out and f"{ENV}=2000000000" in out


@pytest.mark.parametrize("index", [100_000_000, 2_000_000_000])
def test_loaders_refuse_before_allocating_anything_of_that_size(tmp_path, index):
    path = write(tmp_path, "h.svm", f"1 1:1\n-1 {index}:1\n")
    load_libsvm(write(tmp_path, "warm.svm", "1 1:1\n-1 2:1\n"))  # imports, parser warm-up
    tracemalloc.start()
    try:
        for call, prefix in [(lambda: load_libsvm(path), "data"),
                             (lambda: load_svmlight(path), "svmlight"),
                             (lambda: Logistic.from_libsvm(path), "data")]:
            with pytest.raises(DescentlabError, match=rf"^{prefix}: .*h\.svm declares {index} "
                                                      r"features for 2 stored entries.*"
                                                      r"max_features="):
                call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # a dense vector of 1e8 float64 would be 800 MB


def test_the_limit_is_documented_and_can_be_lifted(tmp_path, monkeypatch):
    path = write(tmp_path, "h.svm", HUGE)
    X, y = load_libsvm(path, max_features=2_000_000_000)
    assert X.shape == (2, 2_000_000_000) and X.nnz == 2
    with pytest.raises(DescentlabError, match=r"more than max_features=1999999999"):
        load_libsvm(path, max_features=1_999_999_999)
    X, _ = load_svmlight(path, n_features=2_000_000_000)  # a declared width is allowed
    assert X.shape == (2, 2_000_000_000)
    monkeypatch.setenv(ENV, "2000000000")
    assert load_svmlight(path)[0].shape == (2, 2_000_000_000)
    monkeypatch.setenv(ENV, "lots")
    with pytest.raises(DescentlabError, match=rf"{ENV}: expected an integer >= 1, got 'lots'"):
        load_libsvm(path)
    with pytest.raises(DescentlabError, match=r"max_features: expected an integer >= 1"):
        load_svmlight(tmp_path / "absent: the limit is checked first", max_features=0)
    for module in (libsvm, files):
        assert ENV in module.__doc__ and "max_features" in module.__doc__
    assert ENV in (Path(__file__).parents[1] / "README.md").read_text()


def test_indices_past_int32_are_kept_exactly():
    # (scikit-learn's parser stops at 2^31 - 1, but a matrix given to canonical_csr may not)
    X = sp.csr_matrix(([1.0, 2.0], ([0, 0], [3, 2_999_999_999])), shape=(1, 3_000_000_000))
    X = libsvm.canonical_csr(X)
    assert X.indices.dtype == np.int64 and X.indices.max() == 2_999_999_999  # not wrapped
    small = libsvm.canonical_csr(sp.csr_matrix(([2.0, 1.0], ([0, 0], [5, 1])), shape=(1, 9)))
    assert small.indices.dtype == np.int32 and small.indices.tolist() == [1, 5]


def test_proportionate_files_load_without_any_flag(tmp_path):
    # the rule itself, for news20 (1.35 million features, 9 million entries)
    _validation.check_n_features("data", "news20", 1_355_191, 9_097_916)
    # a small file may use indices up to 10^7 whatever its number of entries
    X, _ = load_libsvm(write(tmp_path, "s.svm", "1 1:1\n-1 10000000:1\n"))
    assert X.shape == (2, 10_000_000)


def test_the_memory_share_is_checked_too(tmp_path, monkeypatch):
    monkeypatch.setattr(_validation, "physical_memory", lambda: 16 * 2**20)  # 16 MiB
    path = write(tmp_path, "m.svm", "1 1:1\n-1 200000:1\n")  # 1.5 MiB > 16 MiB / 16
    with pytest.raises(DescentlabError, match=r"m\.svm declares 200000 features.*a dense "
                                              r"iterate under 1\.0 MiB, 1/16 of this "
                                              r"machine's memory"):
        load_libsvm(path)
    assert load_libsvm(path, max_features=200_000)[0].shape == (2, 200_000)


def test_problems_refuse_a_sparse_design_whose_iterate_cannot_fit(monkeypatch):
    monkeypatch.setattr(_validation, "physical_memory", lambda: 2**20)  # 1 MiB
    X = sp.csr_matrix(([1.0, 2.0], ([0, 1], [0, 99_999])), shape=(2, 100_000))  # 0.8 MB
    with pytest.raises(DescentlabError, match=r"X: expected a number of columns whose dense "
                                              r"float64 iterate fits in memory, got 100000"):
        LeastSquares(X, np.zeros(2))
    monkeypatch.setenv(ENV, "100000")
    assert LeastSquares(X, np.zeros(2)).dim == 100_000


# ------------------------------------------------------------------------- 7. empty input
@pytest.mark.parametrize(("text", "reason"), [("", "has no samples"),
                                              ("# only a comment\n\n", "has no samples"),
                                              ("1\n-1\n", "has 2 samples but no feature values")])
def test_cli_and_loaders_refuse_empty_files(tmp_path, text, reason):
    path = write(tmp_path, "e.svm", text)
    code, out = solve("--problem", "logistic", "--data", str(path))
    assert code == 2 and f"e.svm {reason}" in out, out
    assert "Traceback" not in out and "ZeroDivision" not in out
    with pytest.raises(DescentlabError, match=rf"^data: .*e\.svm {reason}"):
        LeastSquares.from_libsvm(path)
    with pytest.raises(DescentlabError, match=rf"^svmlight: .*e\.svm {reason}"):
        load_svmlight(path)


@pytest.mark.parametrize("shape", [(0, 5), (3, 0), (0, 0)])
@pytest.mark.parametrize("cls", [LeastSquares, Logistic])
@pytest.mark.parametrize("kind", [sp.csr_matrix, sp.csc_matrix, sp.csr_array])
def test_empty_sparse_designs_are_refused(cls, shape, kind):
    with pytest.raises(DescentlabError, match=rf"X: expected a non-empty matrix, got shape "
                                              rf"\({shape[0]}, {shape[1]}\)"):
        dl.run(cls(kind(shape), np.ones(shape[0])), "gd")


@pytest.mark.parametrize("shape", [(0, 5), (3, 0)])
def test_other_constructors_refuse_empty_data(shape):
    y = np.ones(shape[0])
    for build in (lambda: DiagonalNetwork(np.zeros(shape), y),
                  lambda: TwoLayerProblem(np.zeros(shape), y, m=3)):
        with pytest.raises(DescentlabError, match=r"X: expected a non-empty matrix"):
            build()
    with pytest.raises(DescentlabError, match=r"X: expected a non-empty sample"):
        FixedSample(np.zeros(shape), y)
    # the estimators use scikit-learn's validation (its ValueError, before any problem)
    with pytest.raises(ValueError, match=r"Found array with 0 (sample|feature)"):
        Ridge().fit(sp.csr_matrix(shape), y)


# ---------------------------------------------------------------------- 10. coercions
def test_a_nan_label_is_refused_not_made_negative(tmp_path):
    path = write(tmp_path, "n.svm", "1 1:1\nnan 2:1\n2 1:3\n")
    code, out = solve("--problem", "logistic", "--data", str(path), "--positive-class", "1")
    assert code == 2 and "n.svm has a non-finite label (nan) at sample 1" in out, out
    y = np.array([1.0, np.nan, 2.0])
    for positive_class in (1.0, None):
        with pytest.raises(DescentlabError, match=r"y: expected finite labels, got nan at "
                                                  r"sample 1"):
            binarize_labels(y, positive_class)
    with pytest.raises(DescentlabError, match=r"y: expected finite labels, got inf"):
        binarize_labels(np.array([1.0, np.inf]))


def test_non_finite_values_in_a_libsvm_file_name_the_sample(tmp_path):
    path = write(tmp_path, "v.svm", "1 1:1\n-1 2:1e999\n")
    with pytest.raises(DescentlabError, match=r"v\.svm has a non-finite value \(inf\) at "
                                              r"sample 1"):
        load_libsvm(path)
    X, _ = load_svmlight(path, allow_missing=True)  # the message's advice exists
    assert np.isinf(X[1, 1])


@pytest.mark.parametrize("sparse", [False, True])
def test_complex_designs_and_targets_are_refused_without_a_warning(sparse):
    X = np.ones((4, 2)) + 1j
    X = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning: an error instead
        with pytest.raises(DescentlabError, match=r"X: expected real numbers, got complex128"):
            LeastSquares(X, np.zeros(4))
        with pytest.raises(DescentlabError, match=r"y: expected real numbers, got complex128"):
            LeastSquares(np.ones((4, 2)), np.zeros(4) + 1j)
        if not sparse:
            for build in (lambda: DiagonalNetwork(X, np.zeros(4)),
                          lambda: TwoLayerProblem(X, np.zeros(4), m=2),
                          lambda: FixedSample(X, np.zeros(4))):
                with pytest.raises(DescentlabError, match=r"X: expected real numbers"):
                    build()


def test_least_squares_keeps_regression_targets_from_a_libsvm_file(tmp_path):
    many = write(tmp_path, "r.svm", "1 1:1\n2 2:1\n3 1:1 2:1\n7 1:2\n")
    assert LeastSquares.from_libsvm(many).y.tolist() == [1.0, 2.0, 3.0, 7.0]
    two = write(tmp_path, "t.svm", "0 1:1\n5 2:1\n5 1:1 2:1\n")
    assert LeastSquares.from_libsvm(two).y.tolist() == [0.0, 5.0, 5.0]
    assert LeastSquares.from_libsvm(many, positive_class=3).y.tolist() == [-1, -1, 1, -1]
    assert Logistic.from_libsvm(two).y.tolist() == [-1.0, 1.0, 1.0]  # classes stay mapped


def test_targets_beyond_the_design_precision_are_refused():
    with pytest.raises(DescentlabError, match=r"y: expected values within the range of "
                                              r"float32, got 1e\+300"):
        LeastSquares(np.ones((3, 2), dtype=np.float32), np.array([1e300, 0.0, 0.0]))


def test_text_labels_are_shown_not_formatted_as_numbers():
    with pytest.raises(DescentlabError, match=r"y: expected two classes, got 3 labels "
                                              r"\(a, b, c\)"):
        binarize_labels(np.array(["a", "b", "c"]))


def test_load_numpy_refuses_complex_arrays(tmp_path):
    np.save(tmp_path / "c.npy", np.ones((3, 3)) + 1j)
    with pytest.raises(DescentlabError, match=r"c\.npy: expected real numbers .* for X, got "
                                              r"dtype complex128"):
        load_numpy(tmp_path / "c.npy")
    np.savez(tmp_path / "c.npz", X=np.ones((3, 2)), y=np.ones(3) + 1j)
    with pytest.raises(DescentlabError, match=r"for y, got dtype complex128"):
        load_numpy(tmp_path / "c.npz")


def test_load_csv_keeps_a_first_sample_with_a_text_label(tmp_path):
    X, y = load_csv(write(tmp_path, "s.csv", "1.0,2.0,cat\n3.0,4.0,dog\n5,6,cat\n"))
    assert X.tolist() == [[1, 2], [3, 4], [5, 6]] and y.tolist() == ["cat", "dog", "cat"]
    X, y = load_csv(write(tmp_path, "h.csv", "x1,x2,label\n1.0,2.0,cat\n3.0,4.0,dog\n"))
    assert X.tolist() == [[1, 2], [3, 4]] and y.tolist() == ["cat", "dog"]
