"""fit_many (a local Ray cluster) against fitting the same images one by one with vi3nr.fit.

    python bench/fit_many_vs_sequential.py FOLDER OUT_DIR [--workers 2] [--steps 300]
"""

import argparse
import os
import shutil
import time

import vi3nr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("out")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    opts = dict(hidden=[64, 64], steps=args.steps, device="cpu")
    paths = sorted(os.path.join(args.folder, f) for f in os.listdir(args.folder) if f.endswith(".png"))
    shutil.rmtree(args.out, ignore_errors=True)
    t = time.perf_counter()
    for p in paths:
        vi3nr.fit(p, **opts)
    seq = time.perf_counter() - t
    import ray

    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    summary = vi3nr.fit_many(args.folder, args.out, **opts)
    print(f"one by one (vi3nr.fit in a loop): {seq:.1f} s; fit_many on {args.workers} Ray workers: "
          f"{summary.wall_seconds:.1f} s")
    t = time.perf_counter()
    again = vi3nr.fit_many(args.folder, args.out, verbose=False, **opts)
    print(f"rerun (all skipped): {time.perf_counter() - t:.2f} s, {sum(r.status == 'skipped' for r in again)} skipped")


if __name__ == "__main__":
    main()
