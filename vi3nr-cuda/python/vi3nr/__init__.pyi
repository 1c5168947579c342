from os import PathLike
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from .many import Summary

def solve_sigma_p(activation: str, ratio: float = 1.0) -> Dict[str, Any]: ...

class Plan:
    activation: str
    widths: List[int]
    sigma_p: float
    first_sigma: float
    status: str
    layers: List[Dict[str, Any]]
    raw: Dict[str, Any]

def plan(
    activation: str,
    widths: Sequence[int],
    sigma_p: Union[str, float] = "auto",
    first_sigma: Union[None, str, float] = None,
    bias: Union[str, float] = "zero",
    input: Tuple[float, float] = (0.0, 1.0 / 3.0),
) -> Plan: ...

class Model:
    widths: List[int]
    activation: str
    weights: List[np.ndarray]
    biases: List[np.ndarray]
    affine: np.ndarray
    fourier: np.ndarray
    format: str
    in_dim: int
    raw: Optional[List[Dict[str, Any]]]
    def __init__(
        self,
        widths: List[int],
        activation: str,
        weights: List[np.ndarray],
        biases: List[np.ndarray],
        affine: np.ndarray,
        fourier: np.ndarray,
        format: str = "f32",
        in_dim: int = 0,
        raw: Optional[List[Dict[str, Any]]] = None,
    ) -> None: ...
    @property
    def encoding(self) -> Optional[Dict[str, Any]]: ...
    def to_torch(self) -> Any: ...

def load(path: Union[str, PathLike[str], bytes], raw: bool = False) -> Model: ...
def save(model: Model, path: Union[str, PathLike[str], None] = None, precision: Optional[str] = None) -> bytes: ...

class FitResult:
    metrics: Dict[str, Any]
    model_bytes: bytes
    @property
    def psnr(self) -> float: ...
    def model(self) -> Model: ...

def fit(signal: Union[str, PathLike[str], np.ndarray], out: Union[str, PathLike[str], None] = None, **options: Any) -> FitResult: ...
def fit_many(inputs: Union[str, Iterable[str]], out_dir: Union[str, PathLike[str]], **kwargs: Any) -> Summary: ...
