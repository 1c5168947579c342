#!/usr/bin/env bash
# The README's mesh table: `vi3nr fit` on each mesh for sine, Gaussian, sinc and wavelet
# networks with VI3NR searched, VI3NR's textbook plan, SIREN (sine) and PyTorch's default, for
# several seeds; one JSON line per fit (Chamfer-L1, Hausdorff, IoU, RMS SDF error, seconds).
#
#   scripts/mesh_table.sh OUT.jsonl SEEDS MESH...      e.g. scripts/mesh_table.sh t.jsonl "0 1 2" nut.ply ant.ply
#
# Settings (sized for a 2-core machine): 3→64→64→64→1, 300 Adam steps at lr 1e-3, random
# batches of 16,384 of 100,000 SDF samples, surfaces extracted at 64³. The environment may
# narrow or vary it: ACTS (activations), SCHEMES (of vi3nr-search, vi3nr, pytorch, siren; siren
# runs for sine only), LOSS (--loss; absent: the mesh default), RES (--mesh-resolution).
set -euo pipefail
out=$1; seeds=$2; shift 2
bin=${VI3NR:-target/release/vi3nr}
acts=${ACTS:-"sine:30 gaussian:0.05 sinc wavelet:1,1"}
wanted=${SCHEMES:-"vi3nr-search vi3nr pytorch siren"}
res=${RES:-64}
loss=()
[[ -n ${LOSS:-} ]] && loss=(--loss "$LOSS")
tmp=$(mktemp -d)
for seed in $seeds; do
  for mesh in "$@"; do
    for act in $acts; do
      schemes="vi3nr-search vi3nr pytorch"
      [[ $act == sine:* ]] && schemes="$schemes siren"
      for scheme in $schemes; do
        [[ " $wanted " == *" $scheme "* ]] || continue
        flags=(--init "${scheme%-search}")
        # fit's default for --init vi3nr is the search: the textbook row asks for the plan.
        [[ $scheme == vi3nr-search ]] && flags+=(--sigma-p search)
        [[ $scheme == vi3nr ]] && flags+=(--fast)
        "$bin" fit "$mesh" -a "$act" "${flags[@]}" "${loss[@]}" --seed "$seed" --hidden 64,64,64 --steps 300 \
          --batch 16384 --samples 100000 --mesh-resolution "$res" --device cpu --out "$tmp/fit" \
          >/dev/null 2>"$tmp/log" || { echo "failed: $mesh $act $scheme $seed" >&2; cat "$tmp/log" >&2; continue; }
        python3 - "$tmp/fit/metrics.json" "$mesh" "$act" "$scheme" "$seed" >>"$out" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); s = m["mesh"]
print(json.dumps({"mesh": sys.argv[2], "activation": sys.argv[3], "scheme": sys.argv[4], "seed": int(sys.argv[5]),
                  "loss": m["config"]["loss"], "resolution": s["resolution"],
                  "chamfer_l1": s["chamfer_l1"], "hausdorff": s["hausdorff"], "iou": s["iou"],
                  "rms_sdf_error": s["rms_sdf_error"], "scale": s["normalisation"]["scale"],
                  "train_seconds": m["train_seconds"], "wall_seconds": m["wall_seconds"],
                  "search_seconds": m["search_seconds"]}))
PY
      done
    done
  done
done
rm -rf "$tmp"
