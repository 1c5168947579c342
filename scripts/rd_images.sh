#!/usr/bin/env bash
# Quality per byte on three scikit-image photographs at their native sizes (astronaut 512×512,
# coffee 400×600, chelsea 300×451): `vi3nr rd` at 0.05–0.5 bpp against JPEG and WebP.
#   pip install scikit-image pillow   # the photographs ship inside the wheel (not committed)
#   bash scripts/rd_images.sh [OUT]   # OUT defaults to rd-images/
#   python3 scripts/rd_table.py OUT/*/rd.json
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-rd-images}"
mkdir -p "$out"
cargo build --release -q -p vi3nr-cuda --bin vi3nr --manifest-path "$root/Cargo.toml"
vi3nr="${CARGO_TARGET_DIR:-$root/target}/release/vi3nr"
for name in chelsea coffee astronaut; do
  python3 -c "import skimage.data as d; from PIL import Image; Image.fromarray(getattr(d, '$name')()).save('$out/$name.png')"
  "$vi3nr" rd "$out/$name.png" --bpp 0.05,0.1,0.2,0.3,0.5 --out "$out/$name" 2>"$out/$name.err"
done
