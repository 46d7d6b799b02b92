"""CPR numbers masked at the output boundary: every string of a report, whatever field it sits in."""

from __future__ import annotations

import io
import threading
from typing import Any

from medcom.identifiers import cpr_prefix_at_end, mask_cprs


def mask_data(value: Any) -> Any:
    """`value` (a report: dicts, lists, strings, numbers) with every CPR-shaped value in its strings and keys
    masked (see medcom.identifiers.mask_cprs); numbers are left alone."""
    return _masked(value, {})


def _masked(value: Any, seen: dict[str, str]) -> Any:
    """`mask_data`, each distinct string masked once (`seen`): a validate report of 5,000 messages holds about
    84,000 strings, 10,000 of them distinct (its keys, families, schemas, rules repeat on every file)."""
    if isinstance(value, str):
        masked = seen.get(value)
        if masked is None:
            masked = seen[value] = mask_cprs(value)
        return masked
    if isinstance(value, dict):
        return {_masked(k, seen): _masked(v, seen) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v, seen) for v in value]
    return value


class MaskedStream(io.TextIOBase):
    """A text stream (stdout, stderr) that masks CPR numbers in all that is written to it, whoever writes (the
    command's report and lines, click's usage errors, the progress bar, a library's warning): the one output path
    of a command, so a new message cannot forget masking. Text is masked a line at a time (a CPR number never
    spans a line); `flush` passes on what is written so far but a tail that could be the start of a CPR number,
    which waits for the rest of its line. `reveal()` turns masking off (--show-cpr on stdout). Threads may write
    at once (the counterpart's transport, clock and engine each print live lines): a lock keeps the pending tail
    whole, which two unlocked writers lost lines of."""

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self.stream = stream
        self.masking = True
        self._pending = ""
        self._lock = threading.RLock()

    def reveal(self) -> None:
        with self._lock:
            self._emit(self._pending)
            self._pending = ""
            self.masking = False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.stream, "errors", None)

    def isatty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            if not self.masking:
                return self.stream.write(text)
            whole = self._pending + text
            cut = max(whole.rfind("\n"), whole.rfind("\r")) + 1
            self._pending = whole[cut:]
            if cut:
                self._emit(whole[:cut])
            return len(text)

    def flush(self) -> None:
        with self._lock:
            tail = cpr_prefix_at_end(self._pending)
            if len(tail) < len(self._pending):
                self._emit(self._pending[:len(self._pending) - len(tail)])
                self._pending = tail
            self.stream.flush()

    def close_masking(self) -> None:
        """Pass on all that is left (at the end of the command)."""
        with self._lock:
            self._emit(self._pending)
            self._pending = ""
            self.stream.flush()

    def _emit(self, text: str) -> None:
        if text:
            self.stream.write(mask_cprs(text) if self.masking else text)

