"""PyTorch helpers: initialise ``nn.Linear`` layers from the VI3NR plan, and turn a ``.vi3``
model into an ``nn.Sequential``. torch is imported here only (an optional dependency)."""

from __future__ import annotations

from typing import Any, Iterable, List, Optional, Union

import torch
from torch import nn

from . import Model, Plan, plan


class Activation(nn.Module):
    """A vi3nr activation as a module: ``relu``, ``tanh``, ``sigmoid``, ``sine:ω``
    (``sin(ωz)``), ``gaussian:a`` (``exp(−z²/(2a²))``), ``sinc`` (``sin z / z``),
    ``wavelet:ω,s`` (``cos(ωz)·exp(−(z/s)²)``), with the defaults of vi3nr's parser."""

    def __init__(self, spec: str):
        super().__init__()
        name, _, params = spec.partition(":")
        values = [float(p) for p in params.split(",")] if params else []
        self.spec, self.name, self.values = spec, name.strip().lower(), values

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        n, v = self.name, self.values
        if n == "relu":
            return torch.relu(z)
        if n == "tanh":
            return torch.tanh(z)
        if n == "sigmoid":
            return torch.sigmoid(z)
        if n in ("sine", "sin"):
            return torch.sin((v[0] if v else 30.0) * z)
        if n in ("gaussian", "gauss"):
            a = v[0] if v else 0.05
            return torch.exp(-z * z / (2 * a * a))
        if n == "sinc":
            return torch.where(z == 0, torch.ones_like(z), torch.sin(z) / z)
        if n == "wavelet":
            w = v[0] if v else 1.0
            s = v[1] if len(v) > 1 else 1.0
            return torch.cos(w * z) * torch.exp(-(z / s) ** 2)
        raise ValueError(f"unknown activation {self.spec!r}")

    def extra_repr(self) -> str:
        return self.spec


def _linears(module: Union[nn.Module, Iterable[nn.Linear]]) -> List[nn.Linear]:
    mods = module.modules() if isinstance(module, nn.Module) else module
    layers = [m for m in mods if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("init_: no nn.Linear layers found")
    for a, b in zip(layers, layers[1:]):
        if a.out_features != b.in_features:
            raise ValueError(
                f"init_: consecutive nn.Linear layers do not chain ({a.out_features} outputs "
                f"into {b.in_features} inputs)"
            )
    return layers


@torch.no_grad()
def init_(
    module: Union[nn.Module, Iterable[nn.Linear]],
    activation: str = "sine:30",
    generator: Optional[torch.Generator] = None,
    verbose: bool = False,
    **plan_options: Any,
) -> Plan:
    """Initialises the ``nn.Linear`` layers of ``module`` (an ``nn.Sequential``, any module,
    or a list of ``nn.Linear``) in place from :func:`vi3nr.plan`: weights ``U(±bound)``, biases
    as the plan says, drawn with ``generator`` when given. ``plan_options``: sigma_p,
    first_sigma, bias, input (see :func:`vi3nr.plan`). Returns the plan (printed when
    ``verbose``)."""
    layers = _linears(module)
    widths = [layers[0].in_features] + [l.out_features for l in layers]
    p = plan(activation, widths, **plan_options)
    for layer, lp in zip(layers, p.layers):
        b = lp["bound"]
        layer.weight.uniform_(-b, b, generator=generator)
        if layer.bias is not None:
            spec = lp["bias"]
            if spec["kind"] == "zero":
                layer.bias.zero_()
            else:
                layer.bias.uniform_(-spec["bound"], spec["bound"], generator=generator)
    if verbose:
        print(p)
    return p


def to_torch(model: Model) -> nn.Sequential:
    """The network of a :class:`vi3nr.Model` as ``nn.Sequential`` (linear layers at even
    indices, the activation between them), weights copied."""
    mods: List[nn.Module] = []
    n = len(model.weights)
    for i, (w, b) in enumerate(zip(model.weights, model.biases)):
        lin = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w.copy()))
            lin.bias.copy_(torch.from_numpy(b.copy()))
        mods.append(lin)
        if i != n - 1:
            mods.append(Activation(model.activation))
    return nn.Sequential(*mods)
