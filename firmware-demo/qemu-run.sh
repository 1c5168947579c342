#!/usr/bin/env bash
# Cargo runner: runs a firmware ELF under QEMU and decodes its defmt log.
#
#   qemu-run.sh ELF
#
# The board follows from the ELF's target directory: thumbv6m-none-eabi → `microbit`
# (Cortex-M0), anything else → `mps2-an386` (Cortex-M4F). QEMU runs with `-icount shift=0`
# (deterministic instruction counts on SysTick) under `timeout` (VI3NR_QEMU_TIMEOUT seconds,
# default 120); the exit status is QEMU's (the firmware's), 124 on a timeout.
#
# Without qemu-system-arm: a loud SKIP and status 0, unless VI3NR_REQUIRE_QEMU=1 (CI), then 1.
# Without defmt-print: the firmware still runs and its status counts, but the log is not decoded
# (a SKIP unless VI3NR_REQUIRE_QEMU=1).
set -uo pipefail

elf="${1:?usage: qemu-run.sh ELF}"
require="${VI3NR_REQUIRE_QEMU:-0}"

skip() {
  if [[ "$require" == 1 ]]; then
    echo "qemu-run.sh: FAIL: $1 (VI3NR_REQUIRE_QEMU=1)" >&2
    exit 1
  fi
  echo "" >&2
  echo "######################################################################" >&2
  echo "SKIP: $1: not running ${elf##*/}" >&2
  echo "      (install it, see firmware-demo/README.md; set VI3NR_REQUIRE_QEMU=1 to fail instead)" >&2
  echo "######################################################################" >&2
  exit 0
}

command -v qemu-system-arm >/dev/null 2>&1 || skip "qemu-system-arm not found"
decode=1
if ! command -v defmt-print >/dev/null 2>&1; then
  [[ "$require" == 1 ]] && { echo "qemu-run.sh: FAIL: defmt-print not found (VI3NR_REQUIRE_QEMU=1)" >&2; exit 1; }
  echo "WARNING: defmt-print not found (cargo install defmt-print --locked): the log is not decoded" >&2
  decode=0
fi

case "$elf" in
  */thumbv6m-none-eabi/*) machine=microbit; cpu=cortex-m0 ;;
  *) machine=mps2-an386; cpu=cortex-m4 ;;
esac

qemu=(timeout --kill-after=5 "${VI3NR_QEMU_TIMEOUT:-120}"
  qemu-system-arm -machine "$machine" -cpu "$cpu" -icount shift=0
  -display none -serial null -monitor none
  -semihosting-config enable=on,target=native -kernel "$elf")

if [[ "$decode" == 1 ]]; then
  "${qemu[@]}" </dev/null | defmt-print -e "$elf"
  status=("${PIPESTATUS[@]}")
  qemu_status=${status[0]}
  print_status=${status[1]}
else
  "${qemu[@]}" </dev/null >/dev/null
  qemu_status=$?
  print_status=0
fi

if [[ "$qemu_status" == 124 || "$qemu_status" == 137 ]]; then
  echo "qemu-run.sh: ${elf##*/} timed out on $machine" >&2
elif [[ "$qemu_status" != 0 ]]; then
  echo "qemu-run.sh: ${elf##*/} exited with status $qemu_status on $machine" >&2
fi
if [[ "$qemu_status" == 0 && "$print_status" != 0 ]]; then
  echo "qemu-run.sh: defmt-print failed with status $print_status" >&2
  exit "$print_status"
fi
exit "$qemu_status"
