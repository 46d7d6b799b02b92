"""Test-suite wide: every whole-log replay is checked against the same replay in partitions (partition_check), and
every JSON report a test reads against the schema it names (report_schemas)."""

from __future__ import annotations

import report_schemas
from partition_check import checked

import medcom.replay

medcom.replay.replay = checked(medcom.replay.replay)  # before the tests and the CLI import it
report_schemas.install()  # every JSON report a test parses is validated against its shipped schema
