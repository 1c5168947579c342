#!/usr/bin/env bash
# Assembles every PTX module of the CUDA backend with ptxas for sm_80 and sm_90 (no GPU
# needed) and prints registers, shared memory and spills. Fails on any ptxas error or spill.
# ptxas: $PTXAS, else `ptxas` on PATH, else the PyPI package nvidia-cuda-nvcc-cu12 (installed
# with pip when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

find_ptxas() {
  if [[ -n "${PTXAS:-}" ]]; then echo "$PTXAS"; return; fi
  if command -v ptxas >/dev/null; then command -v ptxas; return; fi
  python3 - <<'PY'
import glob, site, sys
dirs = site.getsitepackages() + [site.getusersitepackages()]
hits = [p for d in dirs for p in glob.glob(d + "/nvidia/cuda_nvcc/bin/ptxas")]
print(hits[0] if hits else "")
PY
}

ptxas=$(find_ptxas)
if [[ -z "$ptxas" ]]; then
  python3 -m pip install --quiet nvidia-cuda-nvcc-cu12
  ptxas=$(find_ptxas)
fi
[[ -x "$ptxas" ]] || { echo "error: ptxas not found" >&2; exit 1; }
"$ptxas" --version | tail -n 1

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo run -q -p vi3nr-cuda --example ptx_modules -- "$dir"
status=0
for arch in sm_80 sm_90; do
  for ptx in "$dir"/*.ptx; do
    log="$dir/log"
    if ! "$ptxas" -arch="$arch" -v --warn-on-spills "$ptx" -o /dev/null >"$log" 2>&1; then
      echo "FAIL $(basename "$ptx") $arch"; cat "$log"; status=1; continue
    fi
    # One line per kernel: registers, barriers, shared memory; spills if any.
    awk -v f="$(basename "$ptx")" -v a="$arch" '
      /Compiling entry function/ { k = $0; sub(/.*function .'"'"'?/, "", k); sub(/'"'"'.*/, "", k) }
      /spill/ && / [1-9][0-9]* bytes spill/ { spill = 1; print "SPILL " f " " k ": " $0 }
      /Used [0-9]+ registers/ { u = $0; sub(/.*Used /, "", u); printf "%-16s %-6s %-22s %s\n", f, a, k, u }
      END { exit spill }' "$log" || status=1
    if grep -q "warning" "$log" && grep "warning" "$log" | grep -qv "multiple return values"; then
      grep "warning" "$log" | grep -v "multiple return values"; status=1
    fi
  done
done
if [[ $status -ne 0 ]]; then echo "ptxas check failed"; else echo "ptxas check: all modules assemble for sm_80 and sm_90, no spills"; fi
exit $status
