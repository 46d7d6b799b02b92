"""Imported once by the fork server that a replay's local workers are forked from (medcom.executors.WorkerPool):
its import reads what every worker would otherwise read on its own first messages, so that each starts warm.

A spawned worker spent 1.5-2 s of CPU before it read national-practice messages at full speed: the imports
(~0.35 s), then on its first messages the FHIR stack and fhir.resources' models (~0.8 s), the IG packages and
their profiles compiled, the OIOXML schemas compiled (~0.17 s). Here that is done once for all workers, by
reading MedCom's own example Bundles (shipped in the IG packages) as a worker reads a message, and compiling the
shipped schemas. No file of the log is read: the server holds nothing of the user's data. A worker's verdicts do
not depend on it (what is remembered from the examples is what any worker remembers from its first messages).
"""

from __future__ import annotations

import contextlib
import gc

import medcom.replay.partition  # noqa: F401 - what a worker unpickles its tasks into (pass 1 and pass 2)
import medcom.replay.spool  # noqa: F401


def warm() -> None:
    """Read each example message Bundle of the newest shipped IGs, and compile the shipped OIOXML schemas."""
    from medcom.formats.fhir.igpackages import example_bundles
    from medcom.formats.oioxml.generations import GENERATIONS
    from medcom.formats.oioxml.schemas import shipped
    from medcom.formats.read import DEFAULT_OPTIONS, read_document
    from medcom.replay.load import read_of

    for name, raw in sorted(example_bundles().items()):
        read_of(read_document(raw, name, DEFAULT_OPTIONS))
    for generation in GENERATIONS:
        shipped(generation)


# Warming only saves time (a worker reads the same without it), and the fork server must start: it imports its
# modules with no handler but for ImportError.
with contextlib.suppress(Exception):
    warm()
gc.freeze()  # what the server made is kept for good: the workers' collections never scan it (nor copy its pages)
