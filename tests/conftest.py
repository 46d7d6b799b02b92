"""Test-suite wide: every whole-log replay is checked against the same replay in partitions (partition_check)."""

from __future__ import annotations

from partition_check import checked

import medcom.replay

medcom.replay.replay = checked(medcom.replay.replay)  # before the tests and the CLI import it
