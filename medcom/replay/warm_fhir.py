"""Preloaded by the fork server after `medcom.replay.warm` when a replay's log looks as if it holds FHIR: reads
MedCom's own example Bundles of the shipped IGs as a worker reads a message, so that the FHIR stack, fhir.resources'
models, the IG packages and their compiled profiles (~0.4 s of CPU, ~0.8 s for a spawned worker) are read once for
all workers. No file of the log is read."""

from __future__ import annotations

import contextlib
import gc

import medcom.replay.warm  # noqa: F401 - the imports and schemas first


def warm_fhir() -> None:
    """Read each example message Bundle of the newest shipped IGs."""
    from medcom.formats.fhir.igpackages import example_bundles
    from medcom.formats.read import DEFAULT_OPTIONS, read_document
    from medcom.replay.load import read_of

    for name, raw in sorted(example_bundles().items()):
        read_of(read_document(raw, name, DEFAULT_OPTIONS))


with contextlib.suppress(Exception):  # (as medcom.replay.warm: only time is at stake, and the server must start)
    warm_fhir()
gc.freeze()
