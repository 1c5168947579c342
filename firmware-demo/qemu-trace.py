"""Counts instructions per function between the `marker` calls of the `trace` binary, from
QEMU's `-d in_asm,exec,nochain` log: each executed translation block (a `Trace` line) counts
the instructions `in_asm` listed for it. Usage: qemu-trace.py ELF LOG [PATTERN]."""
import bisect
import collections
import re
import subprocess
import sys

elf, log = sys.argv[1], sys.argv[2]
pattern = sys.argv[3] if len(sys.argv) > 3 else None

symbols = []
nm = subprocess.run(["llvm-nm", "-C", "--defined-only", "-n", elf], capture_output=True,
                    text=True, check=True).stdout
for line in nm.splitlines():
    parts = line.split(None, 2)
    if len(parts) == 3 and parts[1] in "tT":
        name = re.sub(r"::h[0-9a-f]{16}$", "", parts[2])
        name = re.sub(r"_\$LT\$impl\$u20\$.*?\$GT\$", "impl", name)
        symbols.append((int(parts[0], 16) & ~1, name.replace("$u7b$$u7b$closure$u7d$$u7d$", "{closure}")))
starts = [a for a, _ in symbols]


def symbol(pc):
    i = bisect.bisect_right(starts, pc) - 1
    return symbols[i][1] if i >= 0 else "?"


block_size, executed, current = {}, [], None
for line in open(log, errors="replace"):
    if line.startswith("IN:"):
        current = None
        continue
    m = re.match(r"^0x([0-9a-f]{8}):", line)
    if m:
        address = int(m.group(1), 16)
        if current is None:
            current = address
            block_size[current] = 0
        block_size[current] += 1
        continue
    if line.startswith("Trace"):
        current = None
        m = re.search(r"\[[0-9a-f]+/([0-9a-f]+)/", line)
        if m:
            executed.append(int(m.group(1), 16))

markers = {a for a, name in symbols if name.endswith("trace::marker")}
per_symbol, per_block, runs = collections.Counter(), collections.Counter(), collections.Counter()
inside, points = False, 0
for pc in executed:
    if pc in markers:
        inside = not inside
        points += inside
        continue
    if inside:
        n = block_size.get(pc, 0)
        per_symbol[symbol(pc)] += n
        per_block[pc] += n
        runs[pc] += 1
points = max(points, 1)
print(f"{points} points, {sum(per_symbol.values()) / points:.0f} instructions per point")
for name, n in per_symbol.most_common(20):
    print(f"{n / points:9.0f}  {name[:110]}")
if pattern:
    for pc in sorted(per_block):
        if pattern in symbol(pc):
            print(f"  block {pc:08x}: {block_size[pc]:3d} instructions x {runs[pc] / points:6.1f}"
                  f" per point = {per_block[pc] / points:6.0f}")
