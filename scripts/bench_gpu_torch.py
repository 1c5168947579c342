#!/usr/bin/env python3
"""PyTorch baseline for scripts/gpu-check.sh: training steps per second of a sine network on
the GPU, the same work as `cargo run --release --example train_bench`.

Network 2 -> H x L -> OUT, sin(30 z) after every hidden layer, SIREN initialisation, Adam
(lr 1e-4), MSE, float32, eager PyTorch (what SIREN code bases run). Data: a 512 x 512 grid
of coordinates in [-1, 1]^2 with a smooth target, resident on the GPU; each step draws
--batch indices uniformly with replacement on the GPU. After --warmup untimed steps it times
--steps steps between torch.cuda.synchronize() calls and prints one JSON line.

Usage: python3 scripts/bench_gpu_torch.py [--hidden 64,64,64] [--out 3] [--batch 262144]
       [--steps 100] [--warmup 10]
Exit status 3 (and a message) when torch or a CUDA device is missing.
"""

import argparse
import json
import math
import sys
import time
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

try:
    import torch
    from torch import nn
except ImportError:
    print("PyTorch is not installed: no PyTorch column", file=sys.stderr)
    sys.exit(3)

OMEGA = 30.0


class Siren(nn.Module):
    def __init__(self, widths):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        with torch.no_grad():
            for i, layer in enumerate(self.layers):
                fan_in = layer.in_features
                bound = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / OMEGA
                layer.weight.uniform_(-bound, bound)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.sin(OMEGA * layer(x))
        return self.layers[-1](x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hidden", default="64,64,64")
    p.add_argument("--out", type=int, default=3)
    p.add_argument("--batch", type=int, default=1 << 18)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    a = p.parse_args()
    if not torch.cuda.is_available():
        print("PyTorch sees no CUDA device: no PyTorch column", file=sys.stderr)
        sys.exit(3)
    dev = torch.device("cuda")
    torch.manual_seed(0)
    widths = [2, *map(int, a.hidden.split(",")), a.out]
    side = 512
    lin = torch.arange(side, device=dev, dtype=torch.float32) / 255.5 - 1.0
    y, x = torch.meshgrid(lin, lin, indexing="ij")
    coords = torch.stack([x.reshape(-1), y.reshape(-1)], dim=1)
    chans = [torch.sin(5.0 * coords[:, 0] + c) * torch.cos(4.0 * coords[:, 1]) * 0.8 for c in range(a.out)]
    values = torch.stack(chans, dim=1)
    model = Siren(widths).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        idx = torch.randint(0, coords.shape[0], (a.batch,), device=dev)
        loss = torch.mean((model(coords[idx]) - values[idx]) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    torch.cuda.synchronize()
    secs = time.perf_counter() - start
    print(json.dumps({
        "impl": "pytorch " + torch.__version__,
        "device": torch.cuda.get_device_name(0),
        "widths": "-".join(map(str, widths)),
        "batch": a.batch,
        "steps": a.steps,
        "steps_per_second": round(a.steps / secs, 3),
        "ms_per_step": round(1e3 * secs / a.steps, 4),
        "loss": round(float(loss), 6),
    }))


if __name__ == "__main__":
    main()
