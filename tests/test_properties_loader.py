"""Property-based tests of the LIBSVM loaders (``load_libsvm``, ``load_svmlight``) on
generated files: a random sparse matrix with random labels, written by a small writer
(with the format's liberties: several blanks, tabs, comments, blank lines, CRLF), loads
back to the same values, shape and labels as canonical CSR (int32 indices, sorted, no
duplicates); a file broken in a way the format forbids, and any text or bytes at all, end
in the matrix or in a ``DescentlabError``, never in another exception.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from descentlab.data import load_libsvm, load_svmlight
from descentlab.errors import DescentlabError

# modest budgets, no deadline: a busy machine must not fail these tests
SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def sparse_data(draw, max_rows: int = 8, max_cols: int = 16):
    """(rows, labels, d): rows[i] maps column -> value; at least one stored entry."""
    d = draw(st.integers(1, max_cols))
    n = draw(st.integers(1, max_rows))
    rows = [draw(st.dictionaries(st.integers(0, d - 1), finite, max_size=d)) for _ in range(n)]
    if not any(rows):
        rows[draw(st.integers(0, n - 1))][draw(st.integers(0, d - 1))] = draw(finite)
    labels = draw(st.lists(finite, min_size=n, max_size=n))
    return rows, labels, d


@st.composite
def layouts(draw):
    """How the writer spaces a line: separators, comments, blank lines, line ending."""
    return {
        "sep": draw(st.sampled_from([" ", "  ", "\t", " \t "])),
        "comment": draw(st.booleans()),
        "blank": draw(st.booleans()),
        "eol": draw(st.sampled_from(["\n", "\r\n"])),
        "lead": draw(st.sampled_from(["", " "])),
    }


def write_libsvm(rows, labels, layout) -> str:
    """LIBSVM text: one-based indices in increasing order, values and labels by repr."""
    sep, eol = layout["sep"], layout["eol"]
    lines = ["# written by test_properties_loader"] if layout["comment"] else []
    for row, label in zip(rows, labels, strict=True):
        fields = [repr(label)] + [f"{j + 1}:{row[j]!r}" for j in sorted(row)]
        line = layout["lead"] + sep.join(fields)
        lines.append(line + (" # a comment" if layout["comment"] else ""))
        if layout["blank"]:
            lines.append("")
    return eol.join(lines) + eol


def dense(rows, d: int) -> np.ndarray:
    A = np.zeros((len(rows), d))
    for i, row in enumerate(rows):
        for j, v in row.items():
            A[i, j] = v
    return A


def assert_canonical(X) -> None:
    assert sp.isspmatrix_csr(X) and X.dtype == np.float64
    assert X.indices.dtype == np.int32 and X.indptr.dtype == np.int32
    assert X.has_sorted_indices and X.has_canonical_format
    for i in range(X.shape[0]):  # no duplicates, strictly increasing, within the shape
        cols = X.indices[X.indptr[i]:X.indptr[i + 1]]
        assert np.all(np.diff(cols) > 0)
        assert cols.size == 0 or (cols[0] >= 0 and cols[-1] < X.shape[1])


def load_text(loader, payload: bytes | str, **kwargs):
    """Write ``payload`` to a fresh file (a fresh path: no stale cache) and load it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.svm"
        if isinstance(payload, str):
            payload = payload.encode()
        path.write_bytes(payload)
        return loader(path, **kwargs)


@SETTINGS
@given(data=sparse_data(), layout=layouts())
def test_load_libsvm_round_trips_generated_files(data, layout):
    rows, labels, d = data
    X, y = load_text(load_libsvm, write_libsvm(rows, labels, layout))
    used = max(j for row in rows for j in row) + 1  # the width is the largest index
    assert X.shape == (len(rows), used)
    assert_canonical(X)
    np.testing.assert_array_equal(X.toarray(), dense(rows, d)[:, :used])
    np.testing.assert_array_equal(y, np.array(labels))
    assert X.nnz == sum(len(row) for row in rows)


@SETTINGS
@given(data=sparse_data(), layout=layouts())
def test_load_svmlight_round_trips_with_the_declared_width(data, layout):
    rows, labels, d = data
    X, y = load_text(load_svmlight, write_libsvm(rows, labels, layout), n_features=d)
    assert X.shape == (len(rows), d)
    assert_canonical(X)
    np.testing.assert_array_equal(X.toarray(), dense(rows, d))
    np.testing.assert_array_equal(y, np.array(labels))


# ------------------------------------------------------------------- broken files
#: numbers that are not finite floats, and indices that are not positive int64s
BAD_NUMBERS = ["nan", "inf", "-inf", "1e999", "abc", "", "1.2.3", "0x1p3", "--1", "1e"]
BAD_INDICES = ["99999999999999999999", "9223372036854775807", "-3", "1.5", "x", ""]


def _replace(fields: list[str], k: int, *new: str) -> list[str]:
    return fields[:k] + list(new) + fields[k + 1:]


def _break(kind: str, draw, fields: list[str], k: int) -> list[str]:
    """``fields`` (label, "j:v", ...) broken at position k >= 1 in a way the format forbids."""
    index, value = fields[k].split(":")
    if kind == "value":  # a feature value that is not a finite number
        return _replace(fields, k, f"{index}:{draw(st.sampled_from(BAD_NUMBERS))}")
    if kind == "label":  # a label that is not a finite number
        return [draw(st.sampled_from([b for b in BAD_NUMBERS if b]))] + fields[1:]
    if kind == "index":  # negative, fractional, text, or too large for an int64
        return _replace(fields, k, f"{draw(st.sampled_from(BAD_INDICES))}:{value}")
    if kind == "pair":  # a pair without its colon, or without its value
        return _replace(fields, k, draw(st.sampled_from([f"{index} {value}", f"{index}:"])))
    assert kind == "order"  # the same index twice
    return _replace(fields, k, fields[k], fields[k])


BREAKS = ["value", "label", "index", "pair", "order"]


@st.composite
def broken_files(draw, kind: str):
    """A valid file with one line broken (``kind`` of break) as the format forbids."""
    rows, labels, _ = draw(sparse_data())
    layout = draw(layouts())
    i = draw(st.sampled_from([i for i, row in enumerate(rows) if row]))
    fields = [repr(labels[i])] + [f"{j + 1}:{rows[i][j]!r}" for j in sorted(rows[i])]
    broken = _break(kind, draw, fields, draw(st.integers(1, len(fields) - 1)))
    lines = write_libsvm(rows, labels, layout).split(layout["eol"])
    lines[(1 if layout["comment"] else 0) + i * (2 if layout["blank"] else 1)] = \
        layout["sep"].join(broken)
    return layout["eol"].join(lines)


@pytest.mark.parametrize("loader", [load_libsvm, load_svmlight])
@pytest.mark.parametrize("kind", BREAKS)
def test_broken_files_end_in_a_descentlab_error(loader, kind):
    @settings(SETTINGS, max_examples=25)
    @given(text=broken_files(kind))
    @example(text="1 1:1\n-1 99999999999999999999:1\n")  # past int64: an OverflowError
    @example(text="1 1:1\n-1 9223372036854775807:1\n")
    @example(text="nan 1:1\n")
    def check(text):
        with pytest.raises(DescentlabError, match=r"^(data|svmlight): .*data\.svm"):
            load_text(loader, text)

    check()


@SETTINGS
@given(payload=st.one_of(st.binary(max_size=200),
                         st.text(alphabet=st.sampled_from(list("0123456789-+.:eE #\n\tnaif")),
                                 max_size=120)))
@pytest.mark.parametrize("loader", [load_libsvm, load_svmlight])
def test_any_content_loads_or_ends_in_a_descentlab_error(loader, payload):
    try:
        X, y = load_text(loader, payload)
    except DescentlabError:
        return
    assert_canonical(X)
    assert X.shape[0] == y.shape[0] >= 1 and X.nnz >= 1
    assert np.all(np.isfinite(X.data)) and np.all(np.isfinite(y))
