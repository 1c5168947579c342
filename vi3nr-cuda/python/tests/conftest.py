"""Shared fixtures. Ray and torch are optional: their tests skip loudly without them, and CI
sets VI3NR_REQUIRE_PY_EXTRAS=1 so a skip there is a failure."""

import os
import shutil
import subprocess

import numpy as np
import pytest


def require(module: str):
    try:
        return __import__(module)
    except ImportError:
        if os.environ.get("VI3NR_REQUIRE_PY_EXTRAS") == "1":
            raise
        pytest.skip(f"{module} is not installed (CI requires it: VI3NR_REQUIRE_PY_EXTRAS=1)")


@pytest.fixture(scope="session")
def vi3nr_bin():
    """The `vi3nr` binary: $VI3NR_BIN, or on PATH."""
    path = os.environ.get("VI3NR_BIN") or shutil.which("vi3nr")
    if not path:
        if os.environ.get("VI3NR_REQUIRE_PY_EXTRAS") == "1":
            raise RuntimeError("VI3NR_BIN is not set")
        pytest.skip("no vi3nr binary (set VI3NR_BIN)")
    return path


def write_png(path, h=16, w=16, seed=0):
    """A small smooth RGB test image, written with the vi3nr extension-free PNG encoder of
    numpy+zlib (no Pillow needed)."""
    import struct
    import zlib

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    f = rng.uniform(1, 4, 3)
    img = np.stack([(np.sin(2 * np.pi * f[c] * (x + y * c)) + 1) / 2 for c in range(3)], -1)
    data = (img * 255).astype(np.uint8)
    raw = b"".join(b"\x00" + data[r].tobytes() for r in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path, "wb") as fh:
        fh.write(png)
    return data


def run_json(args):
    import json

    return json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
