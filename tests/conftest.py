"""Test-suite wide: every JSON report a test reads is checked against the schema it names (report_schemas)."""

from __future__ import annotations

import report_schemas

report_schemas.install()  # every JSON report a test parses is validated against its shipped schema
