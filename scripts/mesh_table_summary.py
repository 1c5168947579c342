#!/usr/bin/env python3
"""Summarises scripts/mesh_table.sh's JSON lines as the README's markdown table: per mesh,
activation, scheme and loss the mean ± standard deviation over seeds of Chamfer-L1 (in mesh units and
in ‰ of the mesh's longest half-extent), IoU, Hausdorff, and the training (+ σ_p search)
and wall seconds of the fit.

    python3 scripts/mesh_table_summary.py table.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

rows = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    # Lines from before `--loss` were MSE fits.
    rows[(r["mesh"].rsplit("/", 1)[-1], r["activation"], r["scheme"], r.get("loss", "mse"))].append(r)


def cell(values, fmt):
    if not values:
        return "–"
    if len(values) == 1:
        return fmt.format(values[0])
    return (fmt + " ± " + fmt).format(statistics.mean(values), statistics.stdev(values))


# The loss column only when the lines hold more than one loss.
several = len({k[3] for k in rows}) > 1
loss_head, loss_rule = ("loss | ", "---|") if several else ("", "")
print(f"| mesh | activation | init | {loss_head}seeds | Chamfer-L1 (mesh units) | Chamfer-L1 ‰ of half-extent | IoU | Hausdorff | train + search s | wall s |")
print(f"|---|---|---|{loss_rule}---:|---:|---:|---:|---:|---:|---:|")
order = {"vi3nr-search": 0, "vi3nr": 1, "siren": 2, "pytorch": 3}
for key in sorted(rows, key=lambda k: (k[0], ["sine:30", "gaussian:0.05", "sinc", "wavelet:1,1"].index(k[1]), order[k[2]], k[3])):
    rs = rows[key]
    ch = [r["chamfer_l1"] for r in rs if r["chamfer_l1"] is not None]
    rel = [1000 * r["chamfer_l1"] / (0.9 * r["scale"]) for r in rs if r["chamfer_l1"] is not None]
    ha = [r["hausdorff"] for r in rs if r["hausdorff"] is not None]
    missing = len(rs) - len(ch)
    note = f" ({missing} empty)" if missing else ""
    loss = f"{key[3]} | " if several else ""
    print(f"| {key[0]} | {key[1]} | {key[2]} | {loss}{len(rs)} | {cell(ch, '{:.4f}')}{note} | {cell(rel, '{:.2f}')} | "
          f"{cell([r['iou'] for r in rs], '{:.4f}')} | {cell(ha, '{:.3f}')} | "
          f"{cell([r['train_seconds'] + r['search_seconds'] for r in rs], '{:.1f}')} | {cell([r['wall_seconds'] for r in rs], '{:.1f}')} |")
