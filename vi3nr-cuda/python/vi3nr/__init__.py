"""vi3nr: variance-informed initialisation (VI3NR) of implicit neural representations.

The exact σ_p solver and per-layer plan of vi3nr-core, ``.vi3`` models as numpy arrays, and
the Rust trainer, from Python. ``vi3nr.torch`` initialises PyTorch networks (torch optional);
``vi3nr.fit_many`` spreads fits over a Ray cluster (ray optional).

Errors are Python exceptions carrying the Rust messages: ``ValueError`` for bad input,
``OSError`` for files, ``RuntimeError`` for a failed fit.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _vi3nr

__all__ = ["solve_sigma_p", "plan", "Plan", "Model", "load", "save", "fit", "FitResult", "fit_many"]


def solve_sigma_p(activation: str, ratio: float = 1.0) -> Dict[str, Any]:
    """The root of the backward condition ``cond(σ_p) = 1`` for ``activation``.

    ``ratio`` is ``M_{i+1}/M_i``. Returns ``{"status": "root", "sigma_p": …}``, or
    ``status`` ``"no_root"`` (with the closest point) or ``"any"`` (``cond ≡ 1``) and
    ``sigma_p`` None.
    """
    return json.loads(_vi3nr.solve_sigma_p(activation, float(ratio)))


def _opt(value: Any) -> Optional[str]:
    return None if value is None else str(value)


@dataclass
class Plan:
    """A VI3NR initialisation plan: ``layers`` per linear layer (``fan_in``, ``fan_out``,
    ``gain2``, ``std``, ``bound``, ``bias`` = ``{"kind": "zero"}`` or
    ``{"kind": "uniform", "bound": b}``, ``condition``), and the plan's σ_p, σ_0, status."""

    activation: str
    widths: List[int]
    sigma_p: float
    first_sigma: float
    status: str
    layers: List[Dict[str, Any]]
    raw: Dict[str, Any] = field(repr=False)

    def __str__(self) -> str:
        lines = [
            f"VI3NR plan: {self.activation} on {'-'.join(map(str, self.widths))}, "
            f"σ_p = {self.sigma_p:.6g} ({self.status}), σ_0 = {self.first_sigma:.6g}",
            f"{'layer':>5} {'fan_in':>6} {'fan_out':>7} {'gain²':>10} {'std':>10} {'bound':>10}  bias",
        ]
        for i, l in enumerate(self.layers):
            b = l["bias"]
            bias = "zero" if b["kind"] == "zero" else f"U(±{b['bound']:.4g})"
            lines.append(
                f"{i:>5} {l['fan_in']:>6} {l['fan_out']:>7} {l['gain2']:>10.5g} "
                f"{l['std']:>10.5g} {l['bound']:>10.5g}  {bias}"
            )
        return "\n".join(lines)


def plan(
    activation: str,
    widths: Sequence[int],
    sigma_p: Union[str, float] = "auto",
    first_sigma: Union[None, str, float] = None,
    bias: Union[str, float] = "zero",
    input: Tuple[float, float] = (0.0, 1.0 / 3.0),
) -> Plan:
    """The VI3NR plan of a network (``vi3nr init --json``, the same Rust function).

    - ``widths``: input first, output last, e.g. ``[2, 256, 256, 3]``;
    - ``sigma_p``: ``"auto"`` (the backward-condition root, or the activation's default),
      ``"grid"`` (the paper's grid) or a value;
    - ``first_sigma``: None (σ_p), ``"default"`` (the activation's recommendation) or a value;
    - ``bias``: ``"zero"``, ``"pytorch"`` or a fraction ρ of the pre-activation variance;
    - ``input``: ``(mean, variance)`` of every input dimension (default: uniform on [−1, 1]).
    """
    raw = json.loads(
        _vi3nr.plan(
            activation,
            [int(w) for w in widths],
            str(sigma_p),
            _opt(first_sigma),
            str(bias),
            (float(input[0]), float(input[1])),
        )
    )
    return Plan(
        activation=raw["activation"],
        widths=raw["widths"],
        sigma_p=raw["sigma_p"],
        first_sigma=raw["first_sigma"],
        status=raw["status"],
        layers=raw["layers"],
        raw=raw,
    )


@dataclass
class Model:
    """A ``.vi3`` model, dequantised to float32: ``weights[i]`` is ``(fan_out, fan_in)``
    (``nn.Linear`` layout), ``biases[i]`` ``(fan_out,)``; ``affine`` ``(out_dim, 2)`` maps each
    network output ``y`` to ``scale·y + offset``; ``fourier`` ``(m, in_dim)`` frequencies or
    empty; ``format`` the number format it was stored in (f32, f16, q15, i8)."""

    widths: List[int]
    activation: str
    weights: List[np.ndarray]
    biases: List[np.ndarray]
    affine: np.ndarray
    fourier: np.ndarray
    format: str = "f32"
    in_dim: int = 0
    #: With ``load(…, raw=True)``: per layer the stored numbers, not dequantised: ``kind``
    #: (f32, f16, q15, i8), ``w`` ``(fan_out, fan_in)`` (float32, or int16/int8), ``b``
    #: (float32, or int32 accumulator units), ``scales`` (q15: one, i8: one per row).
    raw: Optional[List[Dict[str, Any]]] = None

    @property
    def encoding(self) -> Optional[Dict[str, Any]]:
        """``{"kind": "fourier", "frequencies": (m, in_dim) array}`` or None (raw coordinates)."""
        if self.fourier.size == 0:
            return None
        return {"kind": "fourier", "frequencies": self.fourier}

    def to_torch(self):
        """An ``nn.Sequential`` of ``nn.Linear`` and the activation (``vi3nr.torch``); the
        Fourier encoding and output affine map are not part of it."""
        from . import torch as vt

        return vt.to_torch(self)


def load(path: Union[str, os.PathLike, bytes], raw: bool = False) -> Model:
    """Reads a ``.vi3`` file (a path, or its bytes) into a :class:`Model`, dequantised to
    float32; with ``raw``, also the stored integers and scales (``Model.raw``)."""
    if isinstance(path, (bytes, bytearray, memoryview)):
        data = bytes(path)
    else:
        with open(path, "rb") as f:
            data = f.read()
    header, weights, biases = _vi3nr.load_bytes(data)
    h = json.loads(header)
    widths = h["widths"]
    ws = [np.asarray(w, dtype=np.float32).reshape(widths[i + 1], widths[i]) for i, w in enumerate(weights)]
    bs = [np.asarray(b, dtype=np.float32) for b in biases]
    fourier = np.asarray(h["fourier"], dtype=np.float32)
    if fourier.size:
        fourier = fourier.reshape(-1, h["in_dim"])
    raw_layers = None
    if raw:
        raw_layers = []
        int_w = {"f32": np.float32, "f16": np.float32, "q15": np.int16, "i8": np.int8}
        for i, l in enumerate(json.loads(_vi3nr.load_raw(data))):
            k = l["kind"]
            raw_layers.append({
                "kind": k,
                "w": np.asarray(l["w"], dtype=int_w[k]).reshape(widths[i + 1], widths[i]),
                "b": np.asarray(l["b"], dtype=np.float32 if k in ("f32", "f16") else np.int32),
                "scales": np.asarray(l["scales"], dtype=np.float32),
            })
    return Model(
        raw=raw_layers,
        widths=widths,
        activation=h["activation"],
        weights=ws,
        biases=bs,
        affine=np.asarray(h["affine"], dtype=np.float32).reshape(-1, 2),
        fourier=fourier,
        format=h["format"],
        in_dim=h["in_dim"],
    )


def save(model: Model, path: Union[str, os.PathLike, None] = None, precision: Optional[str] = None) -> bytes:
    """Encodes ``model`` as ``.vi3`` in ``precision`` (default: ``model.format``), written
    atomically to ``path`` when given; returns the bytes."""
    data = _vi3nr.save_bytes(
        [int(w) for w in model.widths],
        model.activation,
        [np.asarray(w, dtype=np.float32).ravel().tolist() for w in model.weights],
        [np.asarray(b, dtype=np.float32).ravel().tolist() for b in model.biases],
        [tuple(map(float, r)) for r in np.asarray(model.affine, dtype=np.float32).reshape(-1, 2)],
        np.asarray(model.fourier, dtype=np.float32).ravel().tolist(),
        precision or model.format,
    )
    if path is not None:
        _atomic_write(os.fspath(path), data)
    return data


def _atomic_write(path: str, data: bytes) -> None:
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@dataclass
class FitResult:
    """A fit's metrics (metrics.json as a dict), its model bytes (model.vi3) and its PSNR at
    the export precision."""

    metrics: Dict[str, Any]
    model_bytes: bytes

    @property
    def psnr(self) -> float:
        return float(self.metrics["final_psnr"][self.metrics["config"]["precision"]])

    def model(self) -> Model:
        return load(self.model_bytes)


_DEFAULTS: Dict[str, Any] = dict(
    activation="sine:30",
    init="vi3nr",
    sigma_p=None,
    first_sigma=None,
    bias="pytorch",
    hidden=[128, 128, 128],
    steps=500,
    lr=1e-3,
    lr_schedule="cosine",
    warmup=None,
    clip_grad=None,
    loss=None,
    batch=None,
    seed=0,
    device="auto",
    precision="f32",
    fourier=None,
    qat="auto",
    budget=None,
    bpp=None,
)


def _options(options: Dict[str, Any]) -> Dict[str, Any]:
    unknown = set(options) - set(_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown fit options: {', '.join(sorted(unknown))} (known: {', '.join(_DEFAULTS)})")
    o = dict(_DEFAULTS, **options)
    o["sigma_p"] = _opt(o["sigma_p"])
    o["lr_schedule"] = str(o["lr_schedule"])
    o["warmup"] = None if o["warmup"] is None else int(o["warmup"])
    o["clip_grad"] = None if o["clip_grad"] is None else float(o["clip_grad"])
    o["loss"] = _opt(o["loss"])
    o["first_sigma"] = _opt(o["first_sigma"])
    o["bias"] = str(o["bias"])
    o["hidden"] = [int(w) for w in o["hidden"]]
    o["steps"] = int(o["steps"])
    o["lr"] = float(o["lr"])
    o["seed"] = int(o["seed"])
    o["qat"] = str(o["qat"])
    o["budget"] = None if o["budget"] is None else int(o["budget"])
    o["bpp"] = None if o["bpp"] is None else float(o["bpp"])
    return o


def fit(signal: Union[str, os.PathLike, np.ndarray], out: Union[str, os.PathLike, None] = None, **options: Any) -> FitResult:
    """Fits an INR with the Rust trainer (the GIL released) and returns metrics and model bytes.

    ``signal``: an image or WAV path, or an image array ``(H, W)`` / ``(H, W, C)`` with C in
    {1, 3} (uint8, uint16, or floats in [0, 1]). ``out``: the directory for ``vi3nr fit``'s
    outputs (model.vi3, metrics.json, …; a temporary one when None). ``options``: those of
    ``vi3nr fit``, with its defaults: activation, init, sigma_p (None: ``"search"`` for
    VI3NR, ``"auto"`` is the textbook plan), first_sigma, bias, hidden, steps, lr, lr_schedule
    (``"constant"``, ``"cosine"``, ``"step"``), warmup (None: 5 % of the steps), clip_grad
    (the gradient's largest L2 norm; None: no clipping), loss (``"mse"`` or
    ``"clamped-l1[:delta]"``; None: MSE, the mesh default for meshes), batch, seed, device, precision,
    fourier ``(m, scale)``, qat (``"auto"``, ``"on"``, ``"off"``), budget (bytes of the whole
    ``.vi3`` file: the network and format are chosen to fit) or bpp (the same in bits per pixel).
    """
    o = _options(options)
    path, array = None, None
    if isinstance(signal, np.ndarray):
        a = signal
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3:
            raise ValueError(f"array: expected (H, W) or (H, W, C), got shape {signal.shape}")
        if a.dtype == np.uint8:
            v = a.astype(np.float64) / 255.0
        elif a.dtype == np.uint16:
            v = a.astype(np.float64) / 65535.0
        else:
            v = np.clip(a.astype(np.float64), 0.0, 1.0)
        values = (2.0 * v - 1.0).astype(np.float32)
        h, w, c = values.shape
        array = (values.ravel().tolist(), int(h), int(w), int(c))
    else:
        path = os.fspath(signal)
    if out is None:
        with tempfile.TemporaryDirectory(prefix="vi3nr-fit-") as tmp:
            metrics, data = _vi3nr.fit(path, array, tmp, o)
    else:
        metrics, data = _vi3nr.fit(path, array, os.fspath(out), o)
    return FitResult(metrics=json.loads(metrics), model_bytes=bytes(data))


def fit_many(inputs, out_dir, **kwargs):
    """See :func:`vi3nr.many.fit_many` (one Ray task per input)."""
    from .many import fit_many as _fit_many

    return _fit_many(inputs, out_dir, **kwargs)
