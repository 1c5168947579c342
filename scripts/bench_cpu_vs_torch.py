#!/usr/bin/env python3
"""CPU training throughput: PyTorch baseline vs. `vi3nr fit`.

Trains two SIREN-style MLPs with Adam (lr 1e-4), MSE loss and float32 on the CPU and
reports training steps per second:

  rgb256  2 -> 256 -> 256 -> 256 -> 3, sin(30 z) on every hidden layer
  grey64  2 -> 64  -> 64  -> 64  -> 1, sin(30 z) on every hidden layer

PyTorch side: nn.Linear layers with SIREN initialisation, torch.sin(30 * x) after each
hidden layer, torch.set_num_threads(os.cpu_count()) (or --threads). The data set is a fixed
random one of S*S points (coordinates in [-1,1]^2, targets in [-1,1], seeded); each step
draws a minibatch of --batch points from it uniformly with replacement. After --warmup
steps (default 10, untimed) it times --steps steps (default 200), index drawing included.

vi3nr side (only with --vi3nr PATH): for each network the script writes a S x S 8-bit PNG
(RGB for rgb256, greyscale for grey64; standard library only) and runs

  PATH fit INPUT --activation sine:30 --init siren --hidden H,H,H --steps N --batch B
       --lr 1e-4 --device cpu --precision f32 --out TMPDIR

then reads "steps_per_second" from TMPDIR/metrics.json. The Rust CLI times every step it
runs (no warm-up) and leaves its evaluations out. If the binary fails, its stderr is
printed and the table keeps the PyTorch column only. The vi3nr runs go first, before
PyTorch starts its thread pool, so the two never compete for cores.

Usage:
  python3 scripts/bench_cpu_vs_torch.py                       # PyTorch only, defaults
  python3 scripts/bench_cpu_vs_torch.py --steps 100
  python3 scripts/bench_cpu_vs_torch.py --vi3nr target/release/vi3nr
  python3 scripts/bench_cpu_vs_torch.py --vi3nr target/release/vi3nr --json > bench.json

Options: --steps N (200), --batch B (16384), --image-size S (128, so S*S = 16384 points),
--warmup W (10), --threads T (os.cpu_count()), --networks rgb256,grey64, --seed (0),
--vi3nr PATH, --vi3nr-timeout SECONDS (1800), --keep DIR (keep the PNGs and vi3nr outputs
there), --json (machine-readable output on stdout; diagnostics go to stderr).

Needs Python 3.11+ and torch; nothing else beyond the standard library.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

# torch warns at import when NumPy is absent; this script does not use NumPy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - environment problem, reported plainly
    sys.exit("bench_cpu_vs_torch.py needs PyTorch: pip install torch")

OMEGA = 30.0
LR = 1e-4


@dataclass(frozen=True)
class Network:
    name: str
    hidden: tuple[int, ...]
    out_dim: int

    @property
    def layers(self) -> list[int]:
        return [2, *self.hidden, self.out_dim]

    @property
    def shape(self) -> str:
        return "\u2192".join(str(w) for w in self.layers)


NETWORKS = {
    "rgb256": Network("rgb256", (256, 256, 256), 3),
    "grey64": Network("grey64", (64, 64, 64), 1),
}


# ---------------------------------------------------------------------------------------
# PNG writing (standard library only)
# ---------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def write_png(path: Path, width: int, height: int, channels: int, pixels: bytes) -> None:
    """Writes an 8-bit greyscale (channels=1) or RGB (channels=3) PNG; `pixels` is row-major."""
    colour_type = {1: 0, 3: 2}[channels]
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError("pixel buffer does not match the image size")
    raw = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    png = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )
    path.write_bytes(png)


def make_image(path: Path, size: int, channels: int, seed: int) -> None:
    """A smooth pattern plus seeded noise: a fixed, non-trivial signal to fit."""
    rng = random.Random(seed * 1000 + channels)
    buf = bytearray(size * size * channels)
    i = 0
    for y in range(size):
        v = 2.0 * y / (size - 1) - 1.0
        for x in range(size):
            u = 2.0 * x / (size - 1) - 1.0
            for c in range(channels):
                s = 0.5 + 0.35 * math.sin(6.0 * u + 2.0 * c) * math.cos(5.0 * v - c)
                s += rng.uniform(-0.15, 0.15)
                buf[i] = max(0, min(255, round(255.0 * s)))
                i += 1
    write_png(path, size, size, channels, bytes(buf))


# ---------------------------------------------------------------------------------------
# PyTorch side
# ---------------------------------------------------------------------------------------


class Sine(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(OMEGA * x)


def siren(net: Network) -> nn.Sequential:
    """nn.Linear layers, sin(30 z) after every hidden one, SIREN initialisation."""
    mods: list[nn.Module] = []
    dims = net.layers
    for k, (fan_in, fan_out) in enumerate(zip(dims[:-1], dims[1:])):
        lin = nn.Linear(fan_in, fan_out)
        bound = 1.0 / fan_in if k == 0 else math.sqrt(6.0 / fan_in) / OMEGA
        with torch.no_grad():
            lin.weight.uniform_(-bound, bound)
        mods.append(lin)
        if k < len(dims) - 2:
            mods.append(Sine())
    return nn.Sequential(*mods)


def bench_torch(net: Network, points: int, batch: int, steps: int, warmup: int, seed: int) -> dict:
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    coords = torch.rand(points, 2, generator=gen, dtype=torch.float32) * 2.0 - 1.0
    targets = torch.rand(points, net.out_dim, generator=gen, dtype=torch.float32) * 2.0 - 1.0
    model = siren(net).to(torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()

    def step() -> torch.Tensor:
        idx = torch.randint(points, (batch,), generator=gen)
        x, y = coords[idx], targets[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    seconds = time.perf_counter() - start
    final_loss = float(loss.detach()) if steps > 0 else float("nan")
    return {
        "steps_per_second": steps / seconds if seconds > 0 else None,
        "seconds": seconds,
        "final_loss": final_loss,
    }


# ---------------------------------------------------------------------------------------
# vi3nr side
# ---------------------------------------------------------------------------------------


def run_vi3nr(
    binary: str, net: Network, workdir: Path, size: int, batch: int, steps: int, seed: int,
    timeout: float,
) -> dict:
    """Runs `vi3nr fit`; returns {"steps_per_second": float} or {"error": str}."""
    channels = net.out_dim
    image = workdir / f"{net.name}.png"
    make_image(image, size, channels, seed)
    out = workdir / f"{net.name}-out"
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        binary, "fit", str(image),
        "--activation", "sine:30",
        "--init", "siren",
        "--hidden", ",".join(str(h) for h in net.hidden),
        "--steps", str(steps),
        "--batch", str(batch),
        "--lr", "1e-4",
        "--device", "cpu",
        "--precision", "f32",
        "--out", str(out),
    ]
    shown = " ".join(cmd)
    try:
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        wall = time.perf_counter() - start
    except FileNotFoundError:
        return {"error": f"no such binary: {binary}", "command": shown}
    except PermissionError:
        return {"error": f"not executable: {binary}", "command": shown}
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return {"error": f"timed out after {timeout:g} s", "stderr": err, "command": shown}
    except OSError as e:
        return {"error": f"could not run {binary}: {e}", "command": shown}
    if proc.returncode != 0:
        return {"error": f"exit status {proc.returncode}", "stderr": proc.stderr, "command": shown}
    metrics_path = out / "metrics.json"
    try:
        metrics = json.loads(metrics_path.read_text())
    except FileNotFoundError:
        return {"error": f"{metrics_path} was not written", "stderr": proc.stderr, "command": shown}
    except (OSError, ValueError) as e:
        return {"error": f"cannot read {metrics_path}: {e}", "stderr": proc.stderr, "command": shown}
    sps = metrics.get("steps_per_second") if isinstance(metrics, dict) else None
    if isinstance(sps, bool) or not isinstance(sps, (int, float)) or not math.isfinite(sps):
        keys = sorted(metrics) if isinstance(metrics, dict) else type(metrics).__name__
        return {
            "error": f'{metrics_path} has no numeric "steps_per_second" (found: {keys})',
            "stderr": proc.stderr,
            "command": shown,
        }
    return {"steps_per_second": float(sps), "wall_seconds": wall, "command": shown}


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def print_table(meta: dict, rows: list[dict]) -> None:
    print(
        f"torch {meta['torch_version']}, {meta['torch_threads']} thread(s) "
        f"(os.cpu_count() = {meta['cpu_count']}), {meta['platform']}; "
        f"{meta['warmup']} untimed warm-up steps, dataset {meta['points']} points"
    )
    head = ["network", "batch", "steps", "torch steps/s", "vi3nr steps/s", "ratio (vi3nr/torch)"]
    body = [
        [
            f"{r['network']} ({r['shape']})",
            str(r["batch"]),
            str(r["steps"]),
            fmt(r["torch_steps_per_second"]),
            fmt(r["vi3nr_steps_per_second"]),
            fmt(r["ratio"], 3),
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    line = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
    )
    print(line(head))
    print("  ".join("-" * w for w in widths))
    for b in body:
        print(line(b))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="CPU training steps/s: PyTorch baseline vs. `vi3nr fit`.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--steps", type=int, default=200, help="timed training steps")
    p.add_argument("--batch", type=int, default=16384, help="points per step")
    p.add_argument("--warmup", type=int, default=10, help="untimed PyTorch warm-up steps")
    p.add_argument("--image-size", type=int, default=128, help="S: S*S points in the data set")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads")
    p.add_argument("--networks", default="rgb256,grey64", help="comma-separated subset")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vi3nr", metavar="PATH", help="vi3nr binary; without it, PyTorch only")
    p.add_argument("--vi3nr-timeout", type=float, default=1800.0, help="seconds per vi3nr run")
    p.add_argument("--keep", metavar="DIR", help="keep the PNGs and vi3nr outputs in DIR")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    args = p.parse_args(argv)

    if args.steps < 1 or args.batch < 1 or args.warmup < 0 or args.threads < 1:
        p.error("--steps, --batch and --threads must be positive, --warmup non-negative")
    if args.image_size < 2:
        p.error("--image-size must be at least 2")
    names = [n.strip() for n in args.networks.split(",") if n.strip()]
    unknown = [n for n in names if n not in NETWORKS]
    if unknown or not names:
        p.error(f"--networks: unknown {unknown}; choose from {', '.join(NETWORKS)}")
    nets = [NETWORKS[n] for n in names]
    points = args.image_size * args.image_size

    # vi3nr first: PyTorch's thread pool does not exist yet, so nothing competes for cores.
    vi3nr_results: dict[str, dict] = {}
    if args.vi3nr:
        binary = args.vi3nr
        if os.sep in binary or (os.altsep and os.altsep in binary):
            binary = str(Path(binary).resolve())
        if args.keep:
            workdir = Path(args.keep)
            workdir.mkdir(parents=True, exist_ok=True)
            cleanup = None
        else:
            workdir = Path(tempfile.mkdtemp(prefix="bench_vi3nr_"))
            cleanup = workdir
        try:
            for net in nets:
                print(f"vi3nr fit {net.name} ({net.shape}) ...", file=sys.stderr, flush=True)
                res = run_vi3nr(
                    binary, net, workdir, args.image_size, args.batch, args.steps, args.seed,
                    args.vi3nr_timeout,
                )
                if "error" in res:
                    print(f"vi3nr failed for {net.name}: {res['error']}", file=sys.stderr)
                    print(f"  command: {res['command']}", file=sys.stderr)
                    if res.get("stderr"):
                        print("  stderr:", file=sys.stderr)
                        for ln in res["stderr"].rstrip().splitlines():
                            print(f"    {ln}", file=sys.stderr)
                    print("  continuing with the PyTorch column only", file=sys.stderr)
                vi3nr_results[net.name] = res
        finally:
            if cleanup is not None:
                shutil.rmtree(cleanup, ignore_errors=True)

    torch.set_num_threads(args.threads)
    meta = {
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "warmup": args.warmup,
        "points": points,
        "image_size": args.image_size,
        "seed": args.seed,
        "vi3nr": args.vi3nr,
    }

    rows = []
    for net in nets:
        print(f"torch {net.name} ({net.shape}) ...", file=sys.stderr, flush=True)
        t = bench_torch(net, points, args.batch, args.steps, args.warmup, args.seed)
        v = vi3nr_results.get(net.name, {})
        v_sps = v.get("steps_per_second")
        t_sps = t["steps_per_second"]
        rows.append(
            {
                "network": net.name,
                "shape": net.shape,
                "layers": net.layers,
                "batch": args.batch,
                "steps": args.steps,
                "torch_steps_per_second": t_sps,
                "torch_seconds": t["seconds"],
                "torch_final_loss": t["final_loss"],
                "vi3nr_steps_per_second": v_sps,
                "vi3nr_error": v.get("error"),
                "vi3nr_command": v.get("command"),
                "ratio": (v_sps / t_sps) if (v_sps is not None and t_sps) else None,
            }
        )

    if args.json:
        json.dump({"meta": meta, "results": rows}, sys.stdout, indent=2)
        print()
    else:
        print_table(meta, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
