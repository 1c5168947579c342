#!/usr/bin/env python3
"""Would a 4-bit weight format win on the rate–distortion curve? A measurement in PyTorch
before building it into vi3nr-core.

At each byte budget, the widest sine network (2 → W^depth → 3, ω = 30, SIREN's initialisation)
whose file fits is trained with weights quantised per output row to i8 (|q| ≤ 127, what the
`.vi3` i8 format stores) or to a hypothetical 4-bit format (|q| ≤ 7, two weights per byte,
otherwise the i8 layout: f32 row scales, i32 biases). The file sizes follow FORMAT.md exactly
(header, layer table, output map, padding, blocks, CRC). Both formats get the same procedure:
Adam at 1e-3, 5 % linear warm-up then cosine, full batches, quantisation-aware training with
straight-through gradients over the last half of the steps, random batches of `--batch` pixels
(the whole image with 0), and the PSNR of the quantised network on the whole 8-bit image.

    pip install torch pillow scikit-image
    python3 scripts/int4_vs_i8.py [--image chelsea] [--bpp 0.1,0.3] [--depths 2,3] [--steps 2000]
                                  [--batch 16384] [--seeds 3]
"""
import argparse
import math
import time

import numpy as np
import torch


def ceil_to(n, k):
    return (n + k - 1) // k * k


def file_bytes(widths, bits):
    """Bytes of a .vi3 file (raw coordinates) whose weight blocks hold `bits`-bit weights with
    one f32 scale per row and i32 biases (bits = 8: the i8 format of FORMAT.md)."""
    layers = len(widths) - 1
    head = ceil_to(32 + 16 * layers + 8 * widths[-1], 16)
    blocks = sum(
        4 * fo + ceil_to(math.ceil(fi * fo * bits / 8), 4) + 4 * fo
        for fi, fo in zip(widths, widths[1:])
    )
    return head + blocks + 4


def widest(budget, depth, bits, out_dim=3):
    w = 1
    while file_bytes([2] + [w + 1] * depth + [out_dim], bits) <= budget:
        w += 1
    return w


class Siren(torch.nn.Module):
    def __init__(self, widths, omega=30.0):
        super().__init__()
        self.omega = omega
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(widths, widths[1:])
        )
        with torch.no_grad():
            for i, l in enumerate(self.layers):
                bound = 1 / l.in_features if i == 0 else math.sqrt(6 / l.in_features) / omega
                l.weight.uniform_(-bound, bound)
        self.qmax = None

    def weight(self, l):
        w = l.weight
        if self.qmax is None:
            return w
        scale = w.abs().amax(dim=1, keepdim=True).clamp_min(1e-12) / self.qmax
        q = torch.clamp(torch.round(w / scale), -self.qmax, self.qmax) * scale
        return w + (q - w).detach()  # straight-through

    def forward(self, x):
        for i, l in enumerate(self.layers):
            x = torch.nn.functional.linear(x, self.weight(l), l.bias)
            if i < len(self.layers) - 1:
                x = torch.sin(self.omega * x)
        return x


def fit(image, widths, bits, steps, seed, batch):
    torch.manual_seed(seed)
    h, w, c = image.shape
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
    coords = torch.stack([xs, ys], -1).reshape(-1, 2)
    target = torch.from_numpy(image.reshape(-1, c)).float() / 127.5 - 1
    net = Siren(widths)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / (steps - warm))),
    )
    for step in range(steps):
        if step == steps // 2:
            net.qmax = 127 if bits == 8 else 2 ** (bits - 1) - 1
        opt.zero_grad()
        idx = torch.randint(0, coords.shape[0], (batch,)) if batch else slice(None)
        loss = torch.mean((net(coords[idx]) - target[idx]) ** 2)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        out = ((net(coords).clamp(-1, 1) + 1) * 127.5).round().numpy()
    mse = np.mean((out - image.reshape(-1, c).astype(np.float64)) ** 2)
    return 10 * math.log10(255**2 / mse)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--image", default="chelsea")
    p.add_argument("--bpp", default="0.1,0.3")
    p.add_argument("--depths", default="2,3")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=16384)
    p.add_argument("--seeds", type=int, default=3)
    a = p.parse_args()
    import skimage.data

    image = getattr(skimage.data, a.image)()
    h, w = image.shape[:2]
    torch.set_num_threads(2)
    print(f"{a.image} {w}x{h}, {a.steps} steps of {a.batch or 'all'} pixels, seeds 0..{a.seeds - 1}, torch {torch.__version__}")
    print("| bpp | budget B | depth | format | widths | bytes | PSNR dB (mean ± sd) | per seed | s/fit |")
    print("|---:|---:|---:|---|---|---:|---:|---|---:|")
    for bpp in map(float, a.bpp.split(",")):
        budget = int(bpp * w * h / 8)
        for depth in map(int, a.depths.split(",")):
            for bits, name in ((8, "i8"), (4, "4-bit")):
                width = widest(budget, depth, bits)
                widths = [2] + [width] * depth + [3]
                start = time.time()
                ps = [fit(image, widths, bits, a.steps, s, a.batch) for s in range(a.seeds)]
                secs = (time.time() - start) / a.seeds
                sd = float(np.std(ps, ddof=1)) if len(ps) > 1 else 0.0
                print(
                    f"| {bpp} | {budget} | {depth} | {name} | {'→'.join(map(str, widths))} | "
                    f"{file_bytes(widths, bits)} | {np.mean(ps):.2f} ± {sd:.2f} | "
                    f"{', '.join(f'{x:.2f}' for x in ps)} | {secs:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
