"""vi3nr.plan (exact solver, Rust) against the paper's reference: the gain from 10⁶ Monte
Carlo samples with autograd for f', σ_p by the grid 0.001…10 (step 0.001).

    python bench/plan_vs_monte_carlo.py [--grid-points N]

The reference grid evaluates cond(σ_p) = σ_p²·E[f'²]/E[f²] at every grid point, each with 10⁶
samples; --grid-points N times N points and extrapolates to the reference's 10,000 (printed as
such). Needs torch.
"""

import argparse
import time

import torch

import vi3nr

A = 0.05


def gaussian(z):
    return torch.exp(-z * z / (2 * A * A))


def mc_gain2_and_cond(f, sigma_p, n=1_000_000, generator=None):
    """The reference's Monte Carlo: z ~ N(0, σ_p²), E[f²] and E[f'²] by autograd."""
    z = (torch.randn(n, generator=generator, dtype=torch.float64) * sigma_p).requires_grad_(True)
    y = f(z)
    (g,) = torch.autograd.grad(y.sum(), z)
    ef2 = (y.detach() ** 2).mean().item()
    efp2 = (g**2).mean().item()
    return sigma_p**2 / ef2, sigma_p**2 * efp2 / ef2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid-points", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(2)
    widths = [2, 256, 256, 256, 3]
    vi3nr.plan("gaussian:0.05", widths)  # warm-up
    reps = 1000
    t = time.perf_counter()
    for _ in range(reps):
        p = vi3nr.plan("gaussian:0.05", widths)
    plan_us = (time.perf_counter() - t) / reps * 1e6

    gen = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    gain2, _ = mc_gain2_and_cond(gaussian, p.sigma_p, generator=gen)
    one_s = time.perf_counter() - t

    grid = torch.arange(1, 10001, dtype=torch.float64) * 1e-3
    step = max(1, len(grid) // args.grid_points)
    pts = grid[::step][: args.grid_points]
    t = time.perf_counter()
    best = min(((abs(mc_gain2_and_cond(gaussian, s.item(), generator=gen)[1] - 1), s.item()) for s in pts))
    grid_s = (time.perf_counter() - t) / len(pts) * len(grid)

    hidden = p.layers[1]["gain2"]
    print(f"gaussian:0.05 on {'-'.join(map(str, widths))}")
    print(f"vi3nr.plan (exact): σ_p = {p.sigma_p:.10f}, hidden gain² = {hidden:.10f}, {plan_us:.1f} µs per call")
    print(f"Monte Carlo gain² at that σ_p (10⁶ samples + autograd): {gain2:.10f} "
          f"(rel. error {abs(gain2 - hidden) / hidden:.2e}), {one_s:.3f} s")
    print(f"reference grid σ_p search: best of {len(pts)} points σ_p = {best[1]:.3f}; "
          f"{grid_s:.0f} s extrapolated to the 10,000-point grid")


if __name__ == "__main__":
    main()
