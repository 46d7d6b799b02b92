"""Where a finding is: an element's path inside a resource, written as FHIRPath, and its line in the input.

A path is a tuple of JSON keys and list indexes from the root resource, e.g. ('entry', 2, 'resource', 'class');
as FHIRPath that is `Bundle.entry[2].resource.class`. A primitive's id and extensions (JSON's `_name`) are
located at the primitive itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Path = tuple[str | int, ...]


def fhirpath(root: str, path: Path) -> str:
    """`Bundle` + ('entry', 2, 'resource', 'class') -> `Bundle.entry[2].resource.class`."""
    parts = [root]
    for step in path:
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
        else:
            parts.append(step[1:] if step.startswith("_") and len(step) > 1 else step)
    return ".".join(parts)


@dataclass
class LineMap:
    """The input line of each element path, where the input format tells it; `scan` works the lines out when the
    first is asked for (most documents have no finding that needs one)."""

    _lines: dict[Path, int] | None = field(default_factory=dict)
    scan: Callable[[], dict[Path, int]] | None = None

    @property
    def lines(self) -> dict[Path, int]:
        if self._lines is None or self.scan is not None:
            self._lines = self.scan() if self.scan is not None else {}
            self.scan = None
        return self._lines

    def line(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one (a missing element: its parent)."""
        lines = self.lines
        while True:
            found = lines.get(path)
            if found is not None:
                return found
            if not path:
                return None
            last = path[-1]
            if isinstance(last, str) and not last.startswith("_"):  # a primitive's `_name` sibling
                twin = lines.get(path[:-1] + ("_" + last,))
                if twin is not None:
                    return twin
            path = path[:-1]
