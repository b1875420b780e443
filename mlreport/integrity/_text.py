"""How integrity messages write shares, values, row counts, lists and onset periods."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__: list[str] = []


def _pct(share: float) -> str:
    if share is None or not np.isfinite(share):
        return "n/a"
    if share == 0 or share >= 0.001:
        return f"{share:.1%}"
    return f"{share * 100:.2g}%"


def _value_text(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.6g}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    return repr(value.item() if isinstance(value, np.generic) else value)


def _rows(count: float) -> str:
    count = int(count)
    return f"{count:,} row{'' if count == 1 else 's'}"


def _listing(items: Sequence[str], total: int, limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {total - limit:,} more" if total > limit else "")


def _since(label: str | None) -> str:
    """' since <period>' (at the current window's start: since at least then)."""
    return "" if label is None else f" since {label}"
