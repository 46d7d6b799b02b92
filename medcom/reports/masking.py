"""CPR numbers masked at the output boundary: every string of a report, whatever field it sits in."""

from __future__ import annotations

from typing import Any

from medcom.identifiers import mask_cprs


def mask_data(value: Any) -> Any:
    """`value` (a report: dicts, lists, strings, numbers) with every CPR-shaped value in its strings and keys
    masked (see medcom.identifiers.mask_cprs); numbers are left alone."""
    if isinstance(value, str):
        return mask_cprs(value)
    if isinstance(value, dict):
        return {mask_data(k): mask_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_data(v) for v in value]
    return value
