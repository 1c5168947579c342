from os import PathLike
from typing import Any, Dict, Iterable, List, Optional, Union

class Row:
    name: str
    input: str
    status: str
    psnr: Optional[float]
    bytes: Optional[int]
    seconds: Optional[float]
    error: Optional[str]

class Summary(List[Row]):
    wall_seconds: float
    def table(self) -> str: ...

def output_name(path: str) -> str: ...
def fit_one(path: str, out_dir: str, options: Dict[str, Any]) -> Row: ...
def fit_many(
    inputs: Union[str, Iterable[str]],
    out_dir: Union[str, PathLike[str]],
    address: Optional[str] = None,
    num_cpus: Optional[int] = None,
    cpus_per_task: float = 1.0,
    verbose: bool = True,
    **options: Any,
) -> Summary: ...
