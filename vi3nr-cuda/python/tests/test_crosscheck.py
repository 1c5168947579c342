"""scripts/torch_crosscheck.py: PyTorch's trainer agrees with vi3nr's on the same initial
weights, and vi3nr's baselines draw from torch.nn.init's distributions."""

import os
import subprocess
import sys

from conftest import require, write_png

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "torch_crosscheck.py")


def run(vi3nr_bin, *args):
    env = dict(os.environ, VI3NR_BIN=vi3nr_bin)
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, env=env)


def test_same_weights_same_psnr(vi3nr_bin, tmp_path):
    require("torch")
    png = tmp_path / "a.png"
    write_png(png, h=12, w=20)
    flags = ["--hidden", "32,32", "--steps", "40", "--warmup", "5", "--device", "cpu"]
    for extra in (["--fast"], ["-a", "gaussian:0.1", "--init", "pytorch"]):
        done = run(vi3nr_bin, "--tolerance", "0.3", "--out", str(tmp_path / "o"), str(png), "--", *flags, *extra)
        assert done.returncode == 0, done.stdout + done.stderr
        line = done.stdout.strip().splitlines()[-1]
        assert "vi3nr" in line and "PyTorch from the same weights" in line, line


def test_baselines_match_torch_init(vi3nr_bin, tmp_path):
    require("torch")
    for scheme in ("pytorch", "siren"):
        done = run(vi3nr_bin, "--check-init", scheme, "--hidden", "64,64", "--out", str(tmp_path / scheme))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "smallest p-value" in done.stdout
