"""Loaders of the data a user has: idx (and Fashion-MNIST on idx files written here),
svmlight, NumPy and CSV, each against an independent reader (a hand-written idx encoder
and parser, scikit-learn's svmlight parser, numpy's load/loadtxt)."""

from __future__ import annotations

import bz2
import gzip
import struct

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

from descentlab.data import (
    FASHION_MNIST_CLASSES,
    load_csv,
    load_fashion_mnist,
    load_idx,
    load_numpy,
    load_svmlight,
    save_idx,
)
from descentlab.errors import DatasetNotFoundError, DescentlabError

# ------------------------------------------------------------------ idx, by hand
# type codes of the idx format, written out here independently of descentlab.data.idx
CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D,
         "float64": 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode by hand: 00 00 <type> <ndim>, big-endian uint32 sizes, big-endian values."""
    code = CODES[array.dtype.name]
    header = bytes([0, 0, code, array.ndim])
    header += b"".join(struct.pack(">I", s) for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def parse_by_hand(raw: bytes) -> np.ndarray:
    code, ndim = raw[2], raw[3]
    shape = tuple(struct.unpack(">I", raw[4 + 4 * k: 8 + 4 * k])[0] for k in range(ndim))
    name = {v: k for k, v in CODES.items()}[code]
    return np.frombuffer(raw[4 + 4 * ndim:], dtype=np.dtype(name).newbyteorder(">")
                         ).reshape(shape)


def sample_array(dtype: str, shape, rng) -> np.ndarray:
    info = np.iinfo(dtype) if dtype.startswith(("int", "uint")) else None
    if info is not None:
        return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", list(CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_idx_reads_hand_written_files(tmp_path, dtype, compress):
    rng = np.random.default_rng(len(dtype))
    for shape in [(7,), (3, 5), (2, 3, 4)]:
        A = sample_array(dtype, shape, rng)
        raw = idx_bytes(A)
        path = tmp_path / f"a-{len(shape)}{'.gz' if compress else ''}"
        path.write_bytes(gzip.compress(raw) if compress else raw)
        B = load_idx(path)
        assert B.shape == A.shape and B.dtype == A.dtype
        assert B.dtype.isnative and B.flags.writeable
        np.testing.assert_array_equal(B, A)


def test_idx_gzip_is_detected_by_content_not_name(tmp_path):
    A = np.arange(12, dtype=np.int16).reshape(3, 4) - 6
    path = tmp_path / "no-extension"
    path.write_bytes(gzip.compress(idx_bytes(A)))
    np.testing.assert_array_equal(load_idx(path), A)


@pytest.mark.parametrize("dtype", list(CODES))
def test_save_idx_writes_what_the_hand_parser_reads(tmp_path, dtype):
    A = sample_array(dtype, (4, 6), np.random.default_rng(1))
    save_idx(tmp_path / "a.idx", A)
    np.testing.assert_array_equal(parse_by_hand((tmp_path / "a.idx").read_bytes()), A)
    save_idx(tmp_path / "a.idx.gz", A)
    raw = gzip.decompress((tmp_path / "a.idx.gz").read_bytes())
    np.testing.assert_array_equal(parse_by_hand(raw), A)


def test_idx_bad_files_give_clear_errors(tmp_path):
    good = idx_bytes(np.arange(6, dtype=np.uint8).reshape(2, 3))
    cases = {
        "magic": b"\x12\x34" + good[2:],          # not 00 00
        "type": good[:2] + b"\x07" + good[3:],    # unknown type code
        "short": good[:3],                        # no full magic number
        "header": good[:9],                       # ndim 2, one size only
        "truncated": good[:-1],                   # a value missing
        "trailing": good + b"\x00",               # a byte too many
    }
    messages = {"magic": "magic number", "type": "magic number", "short": "too short",
                "header": "header", "truncated": "truncated", "trailing": "longer"}
    for name, raw in cases.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(DescentlabError, match=messages[name]):
            load_idx(tmp_path / name)
    (tmp_path / "badgz").write_bytes(b"\x1f\x8b" + b"garbage")
    with pytest.raises(DescentlabError, match="gzip"):
        load_idx(tmp_path / "badgz")
    with pytest.raises(DatasetNotFoundError, match="no file"):
        load_idx(tmp_path / "missing")
    with pytest.raises(DescentlabError, match="idx format stores"):
        save_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


# ------------------------------------------------------------------ Fashion-MNIST
def write_fake_fashion_mnist(directory, n: int, rng, *, gz: bool = True):
    """Four idx files with Fashion-MNIST's names: n random 28 x 28 images, labels 0-9."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for subset, prefix in (("train", "train"), ("test", "t10k")):
        images = rng.integers(0, 256, size=(n, 28, 28)).astype(np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        suffix = ".gz" if gz else ""
        for name, A in ((f"{prefix}-images-idx3-ubyte", images),
                        (f"{prefix}-labels-idx1-ubyte", labels)):
            raw = idx_bytes(A)
            (directory / (name + suffix)).write_bytes(gzip.compress(raw) if gz else raw)
        out[subset] = images, labels
    return out


@pytest.mark.parametrize("gz", [True, False])
def test_fashion_mnist_loader_on_written_files(tmp_path, gz):
    truth = write_fake_fashion_mnist(tmp_path / "fm", 40, np.random.default_rng(3), gz=gz)
    for subset in ("train", "test"):
        images, labels = truth[subset]
        X, y = load_fashion_mnist(subset, path=tmp_path / "fm")
        assert X.shape == (40, 784) and X.dtype == np.float64
        np.testing.assert_array_equal(y, labels.astype(np.int64))
        np.testing.assert_allclose(X, images.reshape(40, -1) / 255.0, rtol=0, atol=0)
        raw, _ = load_fashion_mnist(subset, path=tmp_path / "fm", scale=False)
        np.testing.assert_array_equal(raw.reshape(-1, 28, 28), images)
    images, labels = truth["train"]
    # classes by name (any case) and by number select the same rows, in file order
    X2, y2 = load_fashion_mnist("train", classes=("pullover", "Coat"), path=tmp_path / "fm")
    X3, y3 = load_fashion_mnist("train", classes=[4, 2], path=tmp_path / "fm")
    keep = np.isin(labels, [2, 4])
    np.testing.assert_array_equal(y2, labels[keep])
    np.testing.assert_array_equal(X2, images[keep].reshape(keep.sum(), -1) / 255.0)
    np.testing.assert_array_equal(X3, X2)
    np.testing.assert_array_equal(y3, y2)
    assert FASHION_MNIST_CLASSES[2] == "Pullover" and FASHION_MNIST_CLASSES[4] == "Coat"


def test_fashion_mnist_environment_variable_and_errors(tmp_path, monkeypatch):
    write_fake_fashion_mnist(tmp_path / "env", 20, np.random.default_rng(4))
    monkeypatch.setenv("DESCENTLAB_FASHION_MNIST", str(tmp_path / "env"))
    X, y = load_fashion_mnist("test")
    assert X.shape == (20, 784) and set(y) <= set(range(10))
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("train", path=tmp_path / "nowhere")
    with pytest.raises(DescentlabError, match="unknown Fashion-MNIST class"):
        load_fashion_mnist("train", classes=["Hat"])
    with pytest.raises(DescentlabError, match="class numbers 0-9"):
        load_fashion_mnist("train", classes=[10])
    with pytest.raises(DescentlabError, match="subset"):
        load_fashion_mnist("validation")
    # images whose label file disagrees in length
    bad = tmp_path / "bad"
    write_fake_fashion_mnist(bad, 10, np.random.default_rng(5))
    (bad / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(9, dtype=np.uint8))))
    with pytest.raises(DescentlabError, match="do not hold"):
        load_fashion_mnist("train", path=bad)


# ------------------------------------------------------------------------ svmlight
def random_sparse(n, d, rng, density=0.3):
    X = sp.random(n, d, density=density, format="csr", random_state=rng,
                  data_rvs=lambda k: rng.standard_normal(k))
    y = rng.choice([-1.0, 1.0], size=n)
    return X, y


@pytest.mark.parametrize("suffix", ["", ".gz", ".bz2"])
def test_svmlight_matches_scikit_learn(tmp_path, suffix, monkeypatch):
    rng = np.random.default_rng(6)
    X, y = random_sparse(30, 12, rng)
    plain = tmp_path / "data.svm"
    dump_svmlight_file(X, y, str(plain), zero_based=False)
    path = tmp_path / f"data.svm{suffix}"
    if suffix == ".gz":
        path.write_bytes(gzip.compress(plain.read_bytes()))
    elif suffix == ".bz2":
        path.write_bytes(bz2.compress(plain.read_bytes()))
    X_ref, y_ref = load_svmlight_file(str(plain))
    X_got, y_got = load_svmlight(path)
    assert sp.isspmatrix_csr(X_got) and X_got.indices.dtype == np.int32
    np.testing.assert_array_equal(X_got.toarray(), X_ref.toarray())
    np.testing.assert_array_equal(y_got, y_ref)
    # a bare relative file name is a path (not a dataset name)
    monkeypatch.chdir(tmp_path)
    X_rel, _ = load_svmlight("data.svm")
    np.testing.assert_array_equal(X_rel.toarray(), X_ref.toarray())


def test_svmlight_n_features_and_errors(tmp_path):
    rng = np.random.default_rng(7)
    X, y = random_sparse(10, 5, rng, density=0.5)
    X = X.tolil()
    X[:, 4] = 0  # the last feature never appears in the file
    dump_svmlight_file(X.tocsr(), y, str(tmp_path / "d"), zero_based=False)
    X_ref, _ = load_svmlight_file(str(tmp_path / "d"), n_features=9)
    X_got, _ = load_svmlight(tmp_path / "d", n_features=9)
    assert X_got.shape == (10, 9)
    np.testing.assert_array_equal(X_got.toarray(), X_ref.toarray())
    (tmp_path / "bad").write_text("1 a:b c\n")
    with pytest.raises(DescentlabError, match="not a readable svmlight"):
        load_svmlight(tmp_path / "bad")
    with pytest.raises(DatasetNotFoundError, match="no file"):
        load_svmlight(tmp_path / "absent")


# --------------------------------------------------------------------------- numpy
def test_numpy_npz_and_npy_match_numpy(tmp_path):
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((15, 4)), rng.integers(0, 3, 15).astype(float)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    X_got, y_got = load_numpy(tmp_path / "d.npz")
    with np.load(tmp_path / "d.npz") as ref:
        np.testing.assert_array_equal(X_got, ref["X"])
        np.testing.assert_array_equal(y_got, ref["y"])
    np.savez(tmp_path / "k.npz", features=X, labels=y[:, None])
    X_k, y_k = load_numpy(tmp_path / "k.npz", X_key="features", y_key="labels")
    np.testing.assert_array_equal(X_k, X)
    np.testing.assert_array_equal(y_k, y)
    A = np.column_stack([y, X])
    np.save(tmp_path / "a.npy", A)
    ref = np.load(tmp_path / "a.npy")
    X_a, y_a = load_numpy(tmp_path / "a.npy", target_column=0)
    np.testing.assert_array_equal(X_a, ref[:, 1:])
    np.testing.assert_array_equal(y_a, ref[:, 0])
    X_last, y_last = load_numpy(tmp_path / "a.npy")  # default: the last column
    np.testing.assert_array_equal(y_last, ref[:, -1])
    np.testing.assert_array_equal(X_last, ref[:, :-1])
    X_all, y_none = load_numpy(tmp_path / "a.npy", target_column=None)
    np.testing.assert_array_equal(X_all, ref)
    assert y_none is None


def test_numpy_errors(tmp_path):
    np.savez(tmp_path / "d.npz", A=np.zeros((3, 2)))
    with pytest.raises(DescentlabError, match="no array named 'X'.*holds A"):
        load_numpy(tmp_path / "d.npz")
    np.savez(tmp_path / "s.npz", X=np.zeros((3, 2)), y=np.zeros(4))
    with pytest.raises(DescentlabError, match="one label per row"):
        load_numpy(tmp_path / "s.npz")
    A = np.ones((4, 3))
    A[1, 1] = np.nan
    np.save(tmp_path / "nan.npy", A)
    with pytest.raises(DescentlabError, match="missing or infinite"):
        load_numpy(tmp_path / "nan.npy")
    X, _ = load_numpy(tmp_path / "nan.npy", allow_missing=True)
    assert np.isnan(X[1, 1])
    np.save(tmp_path / "v.npy", np.zeros(5))
    with pytest.raises(DescentlabError, match="2-D"):
        load_numpy(tmp_path / "v.npy")
    with pytest.raises(DescentlabError, match="out of range"):
        load_numpy(tmp_path / "nan.npy", target_column=3)
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(DescentlabError, match="not a readable"):
        load_numpy(tmp_path / "junk.npy")


# ----------------------------------------------------------------------------- csv
def test_csv_matches_numpy_loadtxt(tmp_path):
    rng = np.random.default_rng(9)
    A = np.column_stack([rng.standard_normal((12, 3)), rng.integers(0, 2, 12)])
    np.savetxt(tmp_path / "h.csv", A, delimiter=",", header="f1,f2,f3,label", comments="")
    np.savetxt(tmp_path / "n.csv", A, delimiter=",")
    np.savetxt(tmp_path / "t.tsv.gz", A, delimiter="\t")
    ref = np.loadtxt(tmp_path / "h.csv", delimiter=",", skiprows=1)
    for path, kwargs in ((tmp_path / "h.csv", {}), (tmp_path / "n.csv", {}),
                         (tmp_path / "t.tsv.gz", {"delimiter": "\t"}),
                         (tmp_path / "h.csv", {"target_column": "label"})):
        X, y = load_csv(path, **kwargs)
        np.testing.assert_allclose(X, ref[:, :3], rtol=1e-15)
        np.testing.assert_allclose(y, ref[:, 3], rtol=1e-15)
    X, y = load_csv(tmp_path / "h.csv", target_column=0)
    np.testing.assert_allclose(X, ref[:, 1:], rtol=1e-15)
    np.testing.assert_allclose(y, ref[:, 0], rtol=1e-15)
    X, y = load_csv(tmp_path / "n.csv", target_column=None)
    np.testing.assert_allclose(X, ref, rtol=1e-15)
    assert y is None


def test_csv_string_labels_and_errors(tmp_path):
    (tmp_path / "s.csv").write_text("x1,x2,species\n1.5,2,setosa\n0.5,1,virginica\n")
    X, y = load_csv(tmp_path / "s.csv")
    np.testing.assert_array_equal(X, [[1.5, 2.0], [0.5, 1.0]])
    assert list(y) == ["setosa", "virginica"]
    with pytest.raises(DescentlabError, match="column 'species' is not numeric"):
        load_csv(tmp_path / "s.csv", target_column=0)
    (tmp_path / "m.csv").write_text("a,b,y\n1,,0\n2,3,1\n")
    with pytest.raises(DescentlabError, match="missing"):
        load_csv(tmp_path / "m.csv")
    X, _ = load_csv(tmp_path / "m.csv", allow_missing=True)
    assert np.isnan(X[0, 1])
    with pytest.raises(DescentlabError, match="no column named 'label'"):
        load_csv(tmp_path / "m.csv", target_column="label")
    with pytest.raises(DescentlabError, match="out of range"):
        load_csv(tmp_path / "m.csv", target_column=5)
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DescentlabError, match="empty|not a readable"):
        load_csv(tmp_path / "e.csv")
    with pytest.raises(DatasetNotFoundError):
        load_csv(tmp_path / "absent.csv")


# ------------------------------------------------- the Fashion-MNIST example, end to end
def test_fashion_mnist_example_runs_on_written_files(tmp_path):
    """examples/fashion_mnist_twolayer.py on idx files where class 0 inks the top half of
    the image and class 1 the bottom half: the network must separate them."""
    import importlib.util
    import json
    from pathlib import Path

    rng = np.random.default_rng(10)
    data = tmp_path / "fm"
    data.mkdir()
    for prefix, n in (("train", 120), ("t10k", 60)):
        labels = (np.arange(n) % 2).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
        images[labels == 0, :14] += 150
        images[labels == 1, 14:] += 150
        for name, A in ((f"{prefix}-images-idx3-ubyte.gz", images),
                        (f"{prefix}-labels-idx1-ubyte.gz", labels)):
            (data / name).write_bytes(gzip.compress(idx_bytes(A)))
    path = Path(__file__).resolve().parents[1] / "examples" / "fashion_mnist_twolayer.py"
    spec = importlib.util.spec_from_file_location("fashion_mnist_twolayer", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    out = tmp_path / "out"
    summary = example.main(["--classes", "0", "Trouser", "--n", "100", "--width", "40",
                            "--steps", "60", "--batch-size", "20", "--records", "4",
                            "--data", str(data), "--out", str(out)])
    assert summary["classes"] == ["T-shirt/top", "Trouser"]
    assert summary["n_train"] == 100 and summary["n_test"] == 60
    assert summary["test_accuracy"] >= 0.95
    losses = summary["history"]["test_loss"]  # log 2 at the start (h ~ 0): it must drop
    assert losses[0] == pytest.approx(np.log(2.0), abs=0.05) and losses[-1] < 0.5 * losses[0]
    for name in ("learning_curve.png", "particles.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "summary.json").read_text())["width"] == 40
