#!/usr/bin/env bash
# Instructions per function and per translation block of one model's evaluation, from QEMU's
# execution log (exact counts, unlike the SysTick timings):
#
#   ./qemu-trace.sh [MODEL_INDEX [TARGET [PATTERN]]]
#
# MODEL_INDEX into the goldens' MODELS (0 sine-f32, 1 sine-f16, 2 sine-q15, 3 sine-i8, 4–7 the
# Gaussian ones; default 2), TARGET thumbv7em-none-eabihf (default) or thumbv6m-none-eabi,
# PATTERN: also list the translation blocks of the functions whose name contains it.
set -euo pipefail
cd "$(dirname "$0")"
model="${1:-2}"
target="${2:-thumbv7em-none-eabihf}"
VI3NR_TRACE_MODEL="$model" cargo build -q --release --target "$target" --bin trace
elf="target/$target/release/trace"
case "$target" in
  thumbv6m-*) machine=(-machine microbit) ;;
  *) machine=(-machine mps2-an386 -cpu cortex-m4) ;;
esac
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
timeout 300 qemu-system-arm "${machine[@]}" -icount shift=0 -display none -serial null \
  -monitor none -semihosting-config enable=on,target=native \
  -d in_asm,exec,nochain -D "$log" -kernel "$elf" < /dev/null > /dev/null
python3 qemu-trace.py "$elf" "$log" ${3:+"$3"}
