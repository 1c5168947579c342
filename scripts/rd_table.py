#!/usr/bin/env python3
"""Markdown tables from `vi3nr rd`'s rd.json files: one row per budget, the model and each codec
side by side (bytes, bpp, PSNR on 8-bit RGB, seconds).

    python3 scripts/rd_table.py rd-images/*/rd.json
"""
import json
import os
import sys


def main(paths):
    for path in paths:
        rd = json.load(open(path))
        w, h = rd["size"]
        name = os.path.basename(rd["input"])
        print(f"\n**{name}** ({w}×{h})\n")
        print("| budget (bpp) | vi3nr: network, format | bytes | bpp | PSNR | fit s | JPEG q | bytes | PSNR | WebP q | bytes | PSNR |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        budgets = sorted({p["budget"] for p in rd["points"]})
        for b in budgets:
            at = {p["codec"].split("-")[0]: p for p in rd["points"] if p["budget"] == b}
            m = at.get("vi3nr")
            cells = [f"{b} ({8 * b / (w * h):.3f})"]
            if m:
                widths = m["setting"]["widths"]
                fmt = m["codec"].split("-", 1)[1]
                cells += ["→".join(map(str, widths)) + f", {fmt}", str(m["bytes"]), f"{m['bpp']:.4f}",
                          f"{m['psnr']:.2f}", f"{m['seconds']:.0f}"]
            else:
                cells += ["–"] * 5
            for codec in ("jpeg", "webp"):
                p = at.get(codec)
                cells += [str(p["setting"]["quality"]), str(p["bytes"]), f"{p['psnr']:.2f}"] if p else ["–", "none fits", "–"]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
