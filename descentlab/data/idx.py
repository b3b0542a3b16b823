"""The idx format of MNIST and Fashion-MNIST: read (and write) n-dimensional arrays.

An idx file (LeCun, Cortes and Burges, "The MNIST database", file formats section) is

    bytes 0-1   0x00 0x00                      (magic, first half)
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                           0x0D float32, 0x0E float64
    byte  3     ndim, the number of dimensions
    then ndim   sizes, each a big-endian unsigned 32-bit integer
    then        prod(sizes) values of the type, big-endian, C (row-major) order.

Debian's ``dataset-fashion-mnist`` ships them gzip-compressed (``*-idx3-ubyte.gz``);
``load_idx`` recognises gzip by its magic bytes (1f 8b), whatever the file name, and
returns a writable array in the native byte order. ``save_idx`` writes the same format
(gzip when the name ends with ``.gz``).
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from ..errors import DatasetNotFoundError, DescentlabError

#: type code -> big-endian numpy dtype
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DescentlabError(f"idx: {path} looks gzip-compressed but does not "
                                  f"decompress ({exc})") from exc
    return raw


def parse_idx(raw: bytes, *, source: str = "idx data") -> np.ndarray:
    """The array held by the (uncompressed) bytes of an idx file."""
    if len(raw) < 4:
        raise DescentlabError(f"idx: {source} is too short for an idx header "
                              f"({len(raw)} bytes, expected at least 4)")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DescentlabError(
            f"idx: {source} does not start with an idx magic number (expected 00 00 <type> "
            f"<ndim> with type in {known}, got {raw[:4].hex(' ')}); is it an idx file?")
    if ndim == 0:
        raise DescentlabError(f"idx: {source} declares 0 dimensions; expected at least 1")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DescentlabError(f"idx: {source} is truncated inside its header (ndim = {ndim} "
                              f"needs {header} bytes, the data has {len(raw)})")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise DescentlabError(f"idx: {source} is {what}: shape {shape} of {dtype.name} needs "
                              f"{expected} bytes of data, found {found}")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))  # native order, a writable copy


def load_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an idx file, gzip-compressed or not (see the module docstring)."""
    path = Path(os.fspath(path)).expanduser()
    if not path.is_file():
        raise DatasetNotFoundError(f"idx: no file at {path}")
    return parse_idx(_read_bytes(path), source=str(path))


def save_idx(path: str | os.PathLike, array) -> Path:
    """Write ``array`` as an idx file (gzip-compressed when ``path`` ends with ``.gz``)."""
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): c for c, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        names = ", ".join(dt.newbyteorder("=").name for dt in IDX_DTYPES.values())
        raise DescentlabError(f"array: the idx format stores {names}; got {array.dtype}")
    if array.ndim == 0 or array.ndim > 255:
        raise DescentlabError(f"array: expected 1 to 255 dimensions, got {array.ndim}")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    path = Path(os.fspath(path)).expanduser()
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path
