"""Fitting many signals: one Ray task per input, each written atomically under
``out_dir/<name>/``; finished inputs (``out_dir/<name>/metrics.json`` present) are skipped,
so a rerun resumes; a failing input is reported and the others go on.

The skip-if-done rule is the one of ``vi3nr fit-many``: an output directory is complete when
its ``metrics.json`` exists, and it only ever appears by a rename of a finished directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Union


@dataclass
class Row:
    """One input's outcome: ``status`` is ``done``, ``skipped`` or ``failed`` (``error``)."""

    name: str
    input: str
    status: str
    psnr: Optional[float] = None
    bytes: Optional[int] = None
    seconds: Optional[float] = None
    error: Optional[str] = None


class Summary(list):
    """The rows of :func:`fit_many`, printable as a table; ``wall_seconds`` the whole run."""

    wall_seconds: float = 0.0

    def table(self) -> str:
        lines = [f"{'name':<24} {'status':<8} {'PSNR dB':>8} {'bytes':>8} {'seconds':>8}"]
        for r in self:
            psnr = f"{r.psnr:.2f}" if r.psnr is not None else "-"
            size = str(r.bytes) if r.bytes is not None else "-"
            secs = f"{r.seconds:.1f}" if r.seconds is not None else "-"
            lines.append(f"{r.name:<24} {r.status:<8} {psnr:>8} {size:>8} {secs:>8}")
            if r.error:
                lines.append(f"    error: {r.error}")
        done = sum(r.status == "done" for r in self)
        skipped = sum(r.status == "skipped" for r in self)
        failed = sum(r.status == "failed" for r in self)
        lines.append(f"{done} fitted, {skipped} skipped (done before), {failed} failed; wall {self.wall_seconds:.1f} s")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


def output_name(path: str) -> str:
    """The output directory name of an input: its file name without the extension."""
    return os.path.splitext(os.path.basename(path))[0]


def _read_row(name: str, path: str, out: str, status: str) -> Row:
    import json

    with open(os.path.join(out, "metrics.json")) as f:
        m = json.load(f)
    prec = m["config"]["precision"]
    return Row(name, path, status, psnr=m["final_psnr"][prec], bytes=m["model_bytes"], seconds=m["wall_seconds"])


def fit_one(path: str, out_dir: str, options: Dict[str, Any]) -> Row:
    """Fits one input into ``out_dir/<name>/`` atomically (a temporary sibling directory
    renamed into place); returns its row. Never raises for a bad input."""
    from . import fit

    name = output_name(path)
    final = os.path.join(out_dir, name)
    if os.path.exists(os.path.join(final, "metrics.json")):
        return _read_row(name, path, final, "skipped")
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir)
    start = time.perf_counter()
    try:
        fit(path, out=tmp, **options)
        if os.path.exists(final):  # an incomplete earlier attempt
            shutil.rmtree(final)
        os.replace(tmp, final)
    except Exception as e:  # noqa: BLE001 — reported in the summary, the others go on
        shutil.rmtree(tmp, ignore_errors=True)
        return Row(name, path, "failed", seconds=time.perf_counter() - start, error=f"{type(e).__name__}: {e}")
    return _read_row(name, path, final, "done")


def fit_many(
    inputs: Union[str, Iterable[str]],
    out_dir: Union[str, os.PathLike],
    address: Optional[str] = None,
    num_cpus: Optional[int] = None,
    cpus_per_task: float = 1.0,
    verbose: bool = True,
    **options: Any,
) -> Summary:
    """Fits every input (a list of paths, or a directory: its PNG, JPEG and WAV files) as one
    Ray task each, writing ``out_dir/<name>/`` (``vi3nr fit``'s outputs). Uses the running
    Ray connection if ``ray.init`` was called, else ``ray.init(address=address)`` (a local
    cluster of ``num_cpus`` when ``address`` is None). ``options``: those of
    :func:`vi3nr.fit`. Returns the :class:`Summary` (printed when ``verbose``)."""
    import ray

    if isinstance(inputs, (str, os.PathLike)) and os.path.isdir(inputs):
        d = os.fspath(inputs)
        paths = sorted(
            os.path.join(d, f) for f in os.listdir(d) if f.lower().endswith((".png", ".jpg", ".jpeg", ".wav"))
        )
    else:
        paths = [os.fspath(p) for p in inputs]
    names = [output_name(p) for p in paths]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"fit_many: inputs share output names: {', '.join(sorted(dupes))}")
    out = os.path.abspath(os.fspath(out_dir))
    os.makedirs(out, exist_ok=True)
    from . import _DEFAULTS

    unknown = set(options) - set(_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown fit options: {', '.join(sorted(unknown))}")
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address)
    start = time.perf_counter()
    task = ray.remote(num_cpus=cpus_per_task)(fit_one)
    futures = []
    rows: List[Optional[Row]] = [None] * len(paths)
    for i, p in enumerate(paths):
        if os.path.exists(os.path.join(out, names[i], "metrics.json")):
            rows[i] = _read_row(names[i], p, os.path.join(out, names[i]), "skipped")
        else:
            futures.append((i, task.remote(os.path.abspath(p), out, options)))
    for i, f in futures:
        try:
            rows[i] = ray.get(f)
        except Exception as e:  # noqa: BLE001 — a lost worker: report, go on
            rows[i] = Row(names[i], paths[i], "failed", error=f"{type(e).__name__}: {e}")
    summary = Summary(rows)
    summary.wall_seconds = time.perf_counter() - start
    if verbose:
        print(summary.table())
    return summary
