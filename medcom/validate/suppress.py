"""Suppression files: known, accepted findings keyed by rule id, optionally only for some files.

One entry a line: `RULE` (everywhere) or `RULE@GLOB` (files whose reported path matches the glob;
`*` also matches `/`). `#` starts a comment. Suppressed findings leave the exit code alone and are
counted in the report, never dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from medcom.findings import Finding
from medcom.safe_files import read_regular

MAX_FILE_BYTES = 10_000_000

_ENTRY = re.compile(r"^(?P<rule>[A-Z]+(?:-[A-Z0-9]+)+)(?:@(?P<glob>\S+))?$")


class SuppressionError(ValueError):
    """A suppression file line that cannot be read; names file and line."""


@dataclass(frozen=True)
class Suppressions:
    entries: tuple[tuple[str, str | None], ...] = ()

    def matches(self, finding: Finding) -> bool:
        return any(rule == finding.rule and (glob is None or fnmatchcase(finding.file, glob))
                   for rule, glob in self.entries)

    @classmethod
    def load(cls, path: Path) -> Suppressions:
        entries = []
        try:
            data = read_regular(path, MAX_FILE_BYTES)
        except OSError as exc:
            raise SuppressionError(f"{path}: cannot read suppression file: {exc.strerror or exc}") from None
        for number, raw_bytes in enumerate(data.splitlines(), start=1):
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SuppressionError(f"{path}:{number}: not UTF-8 (byte 0x{raw_bytes[exc.start]:02x})") from None
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            match = _ENTRY.match(line)
            if not match:
                raise SuppressionError(f"{path}:{number}: expected RULE or RULE@GLOB, got {line!r}")
            entries.append((match["rule"], match["glob"]))
        return cls(tuple(entries))
