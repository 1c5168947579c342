#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and driver: build in release mode, run the CUDA parity
# tests with VI3NR_REQUIRE_GPU=1 (a missing GPU fails them), then time training steps at
# batch 2^18 for 2->64x3->3 and 2->256x3->3 sine networks with vi3nr and with PyTorch on the
# same GPU, and print one table. Budget: under 8 minutes (each stage has its own timeout).
# Usage: scripts/gpu-check.sh [STEPS]   (timed steps per network, default 100)
set -uo pipefail
cd "$(dirname "$0")/.."
steps=${1:-100}
status=0

echo "=== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null \
  || echo "nvidia-smi not found"
date -u +%Y-%m-%dT%H:%MZ

echo "=== build (release)"
timeout 300 cargo build --release -p vi3nr-cuda --examples --tests -q || { echo "build failed"; exit 1; }

echo "=== parity tests on the GPU (VI3NR_REQUIRE_GPU=1)"
if ! VI3NR_REQUIRE_GPU=1 timeout 180 cargo test --release -q -p vi3nr-cuda --test cuda_parity -- --test-threads 1; then
  echo "PARITY FAILED"; status=1
fi

echo "=== training steps per second, batch 2^18, sine ω=30, Adam"
results=$(mktemp)
for hidden in 64,64,64 256,256,256; do
  kernels=fused
  [[ $hidden == 64,64,64 ]] && kernels="fused layered"
  for k in $kernels; do
    timeout 120 cargo run --release -q -p vi3nr-cuda --example train_bench -- \
      --device cuda --hidden "$hidden" --out 3 --steps "$steps" --kernels "$k" >>"$results" \
      || { echo "vi3nr bench failed ($hidden, $k)"; status=1; }
  done
  timeout 120 python3 scripts/bench_gpu_torch.py --hidden "$hidden" --out 3 --steps "$steps" >>"$results"
  rc=$?; [[ $rc -eq 3 ]] && echo "(PyTorch column skipped: see message above)"
done
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
torch = {r["widths"]: r for r in rows if r["impl"].startswith("pytorch")}
print(f"{'network':<16} {'kernels':<8} {'vi3nr steps/s':>14} {'PyTorch steps/s':>16} {'ratio':>7}   device")
for v in (r for r in rows if r["impl"] == "vi3nr"):
    t = torch.get(v["widths"])
    ts = f"{t['steps_per_second']:.1f}" if t else "-"
    ratio = f"{v['steps_per_second'] / t['steps_per_second']:.2f}x" if t else "-"
    kernels = "layered" if "layered" in v["device"] else "fused"
    print(f"{v['widths']:<16} {kernels:<8} {v['steps_per_second']:>14.1f} {ts:>16} {ratio:>7}   {v['device']}")
for w, t in torch.items():
    print(f"PyTorch {w}: {t['ms_per_step']} ms/step on {t['device']} ({t['impl']})")
PY
rm -f "$results"
exit $status
