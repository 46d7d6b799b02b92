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
    """The input line of each element path, where the input format tells it: a map made as the input is read
    (XML), or `locate` working out one path's line when it is first asked for (JSON: most documents have no finding
    that needs one, and those that have need a few)."""

    _lines: dict[Path, int] = field(default_factory=dict)
    locate: Callable[[Path], int | None] | None = None

    def line(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one (a missing element: its parent)."""
        find = self._lines.get if self.locate is None else self.locate
        while True:
            found = find(path)
            if found is not None:
                return found
            if not path:
                return None
            last = path[-1]
            if isinstance(last, str) and not last.startswith("_"):  # a primitive's `_name` sibling
                twin = find(path[:-1] + ("_" + last,))
                if twin is not None:
                    return twin
            path = path[:-1]
