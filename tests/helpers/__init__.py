"""What the tests share: where things are (ROOT, defined once), running the command line (`helpers.cli`), scenario
files built over medcom's own scenario reader (`helpers.scenarios`), small timelines (`helpers.timelines`), one
message of each family (`helpers.samples`), the FHIR examples (`helpers.fhir`) and a watched FIFO
(`helpers.fifo`)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
TESTS = ROOT / "tests"
EXAMPLES = ROOT / "examples"
SCENARIOS = ROOT / "scenarios"
