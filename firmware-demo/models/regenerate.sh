#!/usr/bin/env bash
# Regenerates the firmware demo's models and their golden outputs. Run from anywhere:
#   bash firmware-demo/models/regenerate.sh
# 1. The input: the bundled photograph in grey, 64×43 (Pillow, Lanczos). Committed as
#    chelsea_grey_64.png; only rerun this line with REGENERATE_IMAGE=1 (another Pillow
#    version may resample differently).
# 2. Two 2-32-32-32-1 networks (sine ω=30 and Gaussian a=0.05), 2000 full-batch Adam steps on
#    the CPU with seed 0 (bit-reproducible), each exported in f32, f16, q15 and i8.
# 3. The SDF models: a torus (R = 0.6, r = 0.25, 64 × 32 quads; `mesh_bench -- torus`) fitted
#    by a 3-32-32-32-1 sine ω=30 network on 50,000 signed-distance samples, 500 steps on the CPU
#    with seed 0 (bit-reproducible), exported in f32, q15 and i8.
# 4. The budget-fitted model: the grey photograph fitted into a 2 KiB file by `--budget 2K`
#    (the trials choose depth, width and format; quantisation-aware training; 2000 steps on the
#    CPU, seed 0), which the device renders at every pixel of a 64×64 image.
# 5. The golden outputs (16×16 grid; the SDF models at 256 query points in [−1, 1]³; the budget
#    model at every pixel of a 64×64 image) and the
#    host init plan, by the vi3nr-core evaluator:
#    cargo run --release -p vi3nr-tests --example firmware_goldens
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
dir=firmware-demo/models
if [[ "${REGENERATE_IMAGE:-0}" == 1 ]]; then
  python3 -c "from PIL import Image; Image.open('vi3nr-cuda/assets/chelsea_128.png').convert('L').resize((64, 43), Image.Resampling.LANCZOS).save('$dir/chelsea_grey_64.png', optimize=True)"
fi
cargo build --release -q -p vi3nr-cuda --bin vi3nr --example mesh_bench
vi3nr="${CARGO_TARGET_DIR:-$root/target}/release/vi3nr"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for act in sine:30 gaussian:0.05; do
  name="${act%%:*}"
  for precision in f32 f16 q15 i8; do
    "$vi3nr" fit "$dir/chelsea_grey_64.png" --activation "$act" --first-sigma default \
      --hidden 32,32,32 --steps 2000 --device cpu --seed 0 --precision "$precision" \
      --out "$tmp/$name-$precision" 2>&1 | tail -n 1
    cp "$tmp/$name-$precision/model.vi3" "$dir/$name-$precision.vi3"
  done
done
"$vi3nr" fit "$dir/chelsea_grey_64.png" --budget 2K --steps 2000 --device cpu --seed 0 \
  --out "$tmp/budget-2k" 2>&1 | tail -n 1
cp "$tmp/budget-2k/model.vi3" "$dir/budget-2k.vi3"
"${CARGO_TARGET_DIR:-$root/target}/release/examples/mesh_bench" torus "$tmp/torus.obj"
for precision in f32 q15 i8; do
  "$vi3nr" fit "$tmp/torus.obj" --activation sine:30 --first-sigma default --hidden 32,32,32 \
    --steps 500 --samples 50000 --device cpu --seed 0 --precision "$precision" \
    --out "$tmp/sdf-torus-$precision" 2>&1 | tail -n 2
  cp "$tmp/sdf-torus-$precision/model.vi3" "$dir/sdf-torus-$precision.vi3"
done
cargo run --release -q -p vi3nr-tests --example firmware_goldens
