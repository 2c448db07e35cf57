"""`plain`: nested settings as JSON-ready values (what configs and estimator parameters store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plain(obj: Any) -> Any:
    """Tuples -> lists and dict keys -> ``str``, recursively; other values unchanged."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` for NumPy scalars/arrays (-> Python values) and paths (-> str)."""
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
