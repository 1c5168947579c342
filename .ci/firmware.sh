#!/usr/bin/env bash
# CI for firmware-demo: the vi3nr models on a Cortex-M4F (QEMU mps2-an386) and a Cortex-M0
# (QEMU microbit), checked against the host goldens, and the on-target defmt-test suites.
# Installs what is missing: qemu-system-arm (apt), the two Rust targets, defmt-print.
# Run with VI3NR_REQUIRE_QEMU=1 (as .ci/run does) so that a missing emulator fails instead of
# skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
start=$SECONDS
step() { printf '\n--- %s (%d s)\n' "$*" "$((SECONDS - start))"; }

step "qemu-system-arm"
if ! command -v qemu-system-arm >/dev/null; then
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq qemu-system-arm >/dev/null
fi
qemu-system-arm --version | head -n 1

step "Rust targets"
rustup target add thumbv6m-none-eabi thumbv7em-none-eabihf

step "defmt-print"
if ! command -v defmt-print >/dev/null; then
  cargo install defmt-print --locked
fi
defmt-print --version

cd firmware-demo
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
  step "build, $target"
  cargo build --release --target "$target" --bins --tests
  step "demo, $target"
  cargo run --release --target "$target"
  step "on-target tests, $target"
  cargo test --release --target "$target"
done

step "fmt and clippy"
cargo fmt -p vi3nr-firmware -- --check  # not --all: that reaches into the main workspace
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
  cargo clippy --release --target "$target" --all-targets -- -D warnings
done

step "done"
