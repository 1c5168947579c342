"""The PyO3 extension module (vi3nr-py's src/lib.rs); use the ``vi3nr`` package instead."""

from os import PathLike
from typing import Any, Dict, List, Optional, Tuple, Union

def solve_sigma_p(activation: str, ratio: float) -> str: ...
def plan(
    activation: str,
    widths: List[int],
    sigma_p: str,
    first_sigma: Optional[str],
    bias: str,
    input: Tuple[float, float],
) -> str: ...
def load_bytes(bytes: bytes) -> Tuple[str, List[List[float]], List[List[float]]]: ...
def load_raw(bytes: bytes) -> str: ...
def save_bytes(
    widths: List[int],
    activation: str,
    weights: List[List[float]],
    biases: List[List[float]],
    affine: List[Tuple[float, float]],
    fourier: List[float],
    precision: str,
) -> bytes: ...
def fit(
    path: Optional[Union[str, PathLike[str]]],
    array: Optional[Tuple[List[float], int, int, int]],
    out: Union[str, PathLike[str]],
    options: Dict[str, Any],
) -> Tuple[str, bytes]: ...
