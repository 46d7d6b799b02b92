"""Imported once by the fork server that a replay's local workers are forked from (medcom.executors.WorkerPool):
its import does what every worker would otherwise do on its own first messages, so that each starts warm.

A spawned worker spent 1.5-2 s of CPU before it read national-practice messages at full speed: the imports
(~0.35 s), then on its first messages the FHIR stack and fhir.resources' models (~0.8 s), the IG packages and
their profiles compiled, the OIOXML schemas compiled (~0.17 s). This module does the imports and compiles the
shipped OIOXML schemas; `medcom.replay.warm_fhir`, preloaded after it only for a log that looks as if it holds FHIR
(`medcom.replay.partition`), reads the FHIR stack in: the workers are forked only once every preload is done, and
a pure OIOXML log waited for FHIR reading it never needed (5,012 messages with two workers: wall 1.14 of spawned
workers'). No file of the log is read: the server holds nothing of the user's data. A worker's verdicts do not
depend on it (what is remembered is what any worker remembers from its first messages).
"""

from __future__ import annotations

import contextlib
import gc

import medcom.replay.partition  # noqa: F401 - what a worker unpickles its tasks into (pass 1 and pass 2)
import medcom.replay.spool  # noqa: F401


def warm() -> None:
    """Compile the shipped OIOXML schemas."""
    from medcom.formats.oioxml.generations import GENERATIONS
    from medcom.formats.oioxml.schemas import shipped

    for generation in GENERATIONS:
        shipped(generation)


# Warming only saves time (a worker reads the same without it), and the fork server must start: it imports its
# modules with no handler but for ImportError.
with contextlib.suppress(Exception):
    warm()
gc.freeze()  # what the server made is kept for good: the workers' collections never scan it (nor copy its pages)
