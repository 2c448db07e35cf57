"""`plain`: nested settings as JSON-ready values (what configs and estimator parameters store)."""

from __future__ import annotations

from typing import Any


def plain(obj: Any) -> Any:
    """Tuples -> lists and dict keys -> ``str``, recursively; other values unchanged."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj
