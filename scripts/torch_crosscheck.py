#!/usr/bin/env python3
"""Trains the exact initial weights of a `vi3nr fit` with PyTorch's Adam and prints both PSNRs.

    pip install ./vi3nr-cuda/python torch          # the vi3nr package gives the activations
    cargo build --release
    python scripts/torch_crosscheck.py [IMAGE] [-- vi3nr fit flags]

The script runs `vi3nr fit IMAGE --save-init OUT/init.safetensors --out OUT FLAGS`, reads the
fit's settings from OUT/metrics.json (activation, learning rate, schedule, warm-up, steps of the
final fit: after `--sigma-p search` the network it saved is the search's winner, which the final
fit continues from), and trains those weights in PyTorch with `torch.optim.Adam` on the same
points: the image's pixels at coordinates in [-1, 1]² (x across, y down, pixel centres at the
ends), values 2v/255 - 1, the full image per step (or random batches of `--batch`), the learning
rate set before step s to lr × vi3nr's schedule factor of s. It prints vi3nr's PSNR (its f32
export) and PyTorch's (10 log10(4 / MSE) on the same points).

`--check-init SCHEME` (pytorch or siren) instead compares vi3nr's initial weights and biases of
that scheme with `torch.nn.init`'s, layer by layer, by a two-sample Kolmogorov-Smirnov test.
Exit status 1 when a layer's p-value is below 0.001 or the two PSNRs differ by more than
`--tolerance` dB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file
from torch import nn
from vi3nr.torch import Activation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUNDLED = os.path.join(ROOT, "vi3nr-cuda", "assets", "chelsea_128.png")
FULL_LIMIT = 1 << 16  # vi3nr's largest full batch (train::Batch::FULL_LIMIT)


def factor(step: int, steps: int, kind: str, warmup: int) -> float:
    """vi3nr's learning-rate factor of step `step` (1-based) of `steps` (train/schedule.rs)."""
    if step <= warmup:
        return step / warmup
    p = (step - warmup - 1) / max(steps - warmup, 1)
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * p))
    if kind == "step":
        return 0.01 if p >= 0.75 else 0.1 if p >= 0.5 else 1.0
    return 1.0


def image_points(path: str):
    """vi3nr's points of an 8-bit grey or RGB image: (coords n×2, values n×channels)."""
    img = Image.open(path)
    img = img.convert("L" if img.mode in ("L", "LA", "I;16", "I") else "RGB")
    v = np.asarray(img, dtype=np.float64)
    if v.ndim == 2:
        v = v[:, :, None]
    h, w, c = v.shape
    xs = np.linspace(-1.0, 1.0, w) if w > 1 else np.zeros(1)
    ys = np.linspace(-1.0, 1.0, h) if h > 1 else np.zeros(1)
    gx, gy = np.meshgrid(xs, ys)
    coords = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    values = (2.0 * v / 255.0 - 1.0).reshape(h * w, c).astype(np.float32)
    return torch.from_numpy(coords), torch.from_numpy(values)


def network(tensors: dict, activation: str) -> nn.Sequential:
    """The nn.Sequential of a vi3nr safetensors file (linear layers at even indices)."""
    layers = []
    count = len([k for k in tensors if k.endswith(".weight")])
    for i in range(count):
        w = tensors[f"{2 * i}.weight"]
        linear = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(w)
            linear.bias.copy_(tensors[f"{2 * i}.bias"])
        layers.append(linear)
        if i + 1 < count:
            layers.append(Activation(activation))
    return nn.Sequential(*layers)


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    mse = torch.mean((pred.double() - target.double()) ** 2).item()
    return math.inf if mse == 0 else 10.0 * math.log10(4.0 / mse)


def fit(vi3nr: str, image: str | None, flags: list[str], out: str) -> dict:
    """Runs `vi3nr fit` with --save-init; returns its metrics.json."""
    cmd = [vi3nr, "fit"] + ([image] if image else []) + flags
    cmd += ["--save-init", os.path.join(out, "init.safetensors"), "--out", out]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited with {done.returncode}: {done.stderr.strip()}")
    with open(os.path.join(out, "metrics.json")) as f:
        return json.load(f)


def redraw(net: nn.Sequential, scheme: str, activation: str, seed: int) -> None:
    """Replaces the weights by torch's own draws of `scheme` (pytorch: nn.Linear's default;
    siren: SIREN's), seeded by `seed`."""
    omega = float(activation.partition(":")[2] or 30.0)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    for i, linear in enumerate(linears):
        w, b = torch_reference(scheme, linear.in_features, linear.out_features, i == 0, omega, 1000 * seed + i)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w).view_as(linear.weight))
            linear.bias.copy_(torch.from_numpy(b))


def train(tensors: dict, metrics: dict, coords, values, seed: int, torch_init: bool = False) -> float:
    """PyTorch's Adam on the saved weights (or, with `torch_init`, torch's own draws of the
    fit's baseline scheme) with the fit's settings; the final PSNR."""
    c = metrics["config"]
    torch.manual_seed(seed)
    net = network(tensors, c["activation"])
    if torch_init:
        redraw(net, c["init"], c["activation"], seed)
    opt = torch.optim.Adam(net.parameters(), lr=c["lr"])
    steps = int(metrics["steps"])
    batch = c.get("batch") or (None if len(coords) <= FULL_LIMIT else FULL_LIMIT)
    for step in range(1, steps + 1):
        for g in opt.param_groups:
            g["lr"] = c["lr"] * factor(step, steps, c.get("lr_schedule", "constant"), c.get("warmup", 0))
        if batch is None:
            x, y = coords, values
        else:
            idx = torch.randint(0, len(coords), (batch,))
            x, y = coords[idx], values[idx]
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((net(x) - y) ** 2)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return psnr(net(coords), values)


def ks_pvalue(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value."""
    a, b = np.sort(a), np.sort(b)
    both = np.concatenate([a, b])
    d = np.max(np.abs(np.searchsorted(a, both, side="right") / len(a)
                      - np.searchsorted(b, both, side="right") / len(b)))
    n = len(a) * len(b) / (len(a) + len(b))
    lam = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
    p = 2.0 * sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101))
    return float(d), float(min(max(p, 0.0), 1.0))


def torch_reference(scheme: str, fan_in: int, fan_out: int, first: bool, omega: float, seed: int):
    """torch.nn.Linear's default initialisation, or SIREN's (Sitzmann et al. 2020)."""
    torch.manual_seed(seed)
    linear = nn.Linear(fan_in, fan_out)
    if scheme == "siren":
        bound = 1.0 / fan_in if first else math.sqrt(6.0 / fan_in) / omega
        with torch.no_grad():
            nn.init.uniform_(linear.weight, -bound, bound)
    return linear.weight.detach().numpy().ravel(), linear.bias.detach().numpy().ravel()


def check_init(args, out: str) -> int:
    flags = ["--init", args.check_init, "--steps", "1", "--hidden", args.hidden, "-a", args.activation]
    metrics = fit(args.vi3nr, args.image, flags, out)
    tensors = load_file(os.path.join(out, "init.safetensors"))
    omega = float(args.activation.partition(":")[2] or 30.0)
    worst = 1.0
    count = len([k for k in tensors if k.endswith(".weight")])
    for i in range(count):
        w, b = tensors[f"{2 * i}.weight"].numpy(), tensors[f"{2 * i}.bias"].numpy()
        ws, bs = [], []
        for rep in range(max(1, 20000 // w.size)):  # enough reference draws for small layers
            tw, tb = torch_reference(args.check_init, w.shape[1], w.shape[0], i == 0, omega, 1000 * i + rep)
            ws.append(tw)
            bs.append(tb)
        dw, pw = ks_pvalue(w.ravel(), np.concatenate(ws))
        db, pb = ks_pvalue(b.ravel(), np.concatenate(bs))
        worst = min(worst, pw, pb)
        print(f"layer {i} ({w.shape[1]}→{w.shape[0]}): weights KS D {dw:.4f} p {pw:.3f}; "
              f"biases KS D {db:.4f} p {pb:.3f}")
    print(f"{args.check_init} ({metrics['config']['activation']}): smallest p-value {worst:.3f}")
    return 0 if worst >= 1e-3 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     usage="%(prog)s [options] [IMAGE] [-- vi3nr fit flags]")
    parser.add_argument("image", nargs="?", help="PNG or JPEG (default: the bundled photograph)")
    parser.add_argument("--vi3nr", default=os.environ.get("VI3NR_BIN", os.path.join(ROOT, "target", "release", "vi3nr")))
    parser.add_argument("--out", help="output directory (default: a temporary one)")
    parser.add_argument("--tolerance", type=float, default=1.0, help="largest PSNR difference in dB")
    parser.add_argument("--check-init", choices=["pytorch", "siren"])
    parser.add_argument("--torch-init", action="store_true",
                        help="also train torch's own draws of the fit's scheme (--init pytorch or siren)")
    parser.add_argument("--activation", default="sine:30", help="with --check-init")
    parser.add_argument("--hidden", default="128,128,128", help="with --check-init")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args, flags = parser.parse_args(argv[:cut]), argv[cut + 1:]
    out = args.out or tempfile.mkdtemp(prefix="vi3nr-crosscheck-")
    if args.check_init:
        return check_init(args, out)
    metrics = fit(args.vi3nr, args.image, flags, out)
    coords, values = image_points(args.image or BUNDLED)
    tensors = load_file(os.path.join(out, "init.safetensors"))
    c = metrics["config"]
    ours = metrics["final_psnr"]["f32"]
    theirs = train(tensors, metrics, coords, values, c["seed"])
    print(f"{c['activation']}, init {c.get('init')}, {metrics['steps']} steps, lr {c['lr']:.3g} "
          f"{c.get('lr_schedule')} (warm-up {c.get('warmup')}): vi3nr {ours:.2f} dB, "
          f"PyTorch from the same weights {theirs:.2f} dB (difference {theirs - ours:+.2f})")
    if args.torch_init:
        if c.get("init") not in ("pytorch", "siren"):
            sys.exit("error: --torch-init needs a fit with --init pytorch or --init siren")
        own = train(tensors, metrics, coords, values, c["seed"], torch_init=True)
        print(f"PyTorch from its own {c['init']} draws (seed {c['seed']}): {own:.2f} dB")
    return 0 if abs(theirs - ours) <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
