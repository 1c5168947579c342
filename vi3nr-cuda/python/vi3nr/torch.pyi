from typing import Any, Iterable, Optional, Union

import torch
from torch import nn

from . import Model, Plan

class Activation(nn.Module):
    def __init__(self, spec: str) -> None: ...
    def forward(self, z: torch.Tensor) -> torch.Tensor: ...

def init_(
    module: Union[nn.Module, Iterable[nn.Linear]],
    activation: str = "sine:30",
    generator: Optional[torch.Generator] = None,
    verbose: bool = False,
    **plan_options: Any,
) -> Plan: ...
def to_torch(model: Model) -> nn.Sequential: ...
